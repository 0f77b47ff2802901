//! Chrome trace-event JSON, for Perfetto (<https://ui.perfetto.dev>) and
//! `chrome://tracing`.
//!
//! Written by hand (no serde): the format is small, and every dependency costs
//! each notebook cell compile time.

use super::snapshot::{Snapshot, TaskState};
use crate::fmt::json_string;
use std::io;
use std::path::Path;

impl Snapshot {
    /// The snapshot as Chrome trace-event JSON: `{"traceEvents":[...]}`.
    ///
    /// One complete event (`"ph":"X"`) per span and per poll (a poll is named by
    /// its task's label, with the task number in `args`), an instant event
    /// (`"ph":"i"`) per mark, a pair of async events (`"b"`/`"e"`, category
    /// `task`) per task lifetime, and a `thread_name` metadata event per thread.
    /// `tid` is the thread's number (`2` for `T2`); times are in microseconds
    /// since the timeline was created.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("say \"hi\""));
    /// let json = tl.snapshot().to_chrome_trace();
    /// assert!(json.starts_with("{\"traceEvents\":["));
    /// assert!(json.contains(r#""name":"say \"hi\"""#));
    /// assert!(json.contains(r#""args":{"name":"T1 main"}"#));
    /// ```
    pub fn to_chrome_trace(&self) -> String {
        let mut events: Vec<String> = Vec::new();
        events.push(r#"{"ph":"M","name":"process_name","pid":1,"tid":0,"args":{"name":"timeline"}}"#.to_string());
        for t in 0..self.threads.len() {
            events.push(format!(
                r#"{{"ph":"M","name":"thread_name","pid":1,"tid":{},"args":{{"name":{}}}}}"#,
                t + 1,
                json_string(&self.thread_label(t))
            ));
            events.push(format!(
                r#"{{"ph":"M","name":"thread_sort_index","pid":1,"tid":{},"args":{{"sort_index":{}}}}}"#,
                t + 1,
                t + 1
            ));
        }
        for s in &self.spans {
            events.push(format!(
                r#"{{"ph":"X","cat":"span","name":{},"pid":1,"tid":{},"ts":{},"dur":{}}}"#,
                json_string(&s.label),
                s.thread + 1,
                us(s.start),
                us(s.end - s.start)
            ));
        }
        for q in &self.polls {
            let task = &self.tasks[q.task];
            events.push(format!(
                r#"{{"ph":"X","cat":"poll","name":{},"pid":1,"tid":{},"ts":{},"dur":{},"args":{{"task":{}}}}}"#,
                json_string(&task.label),
                q.thread + 1,
                us(q.start),
                us(q.end - q.start),
                task.id
            ));
        }
        for t in &self.tasks {
            let outcome = match t.state {
                TaskState::Completed => "completed",
                TaskState::Cancelled => "cancelled",
                TaskState::Running => "running",
            };
            let common = format!(
                r#""cat":"task","name":{},"id":{},"pid":1,"tid":{}"#,
                json_string(&t.label),
                t.id,
                t.thread + 1
            );
            events.push(format!(r#"{{"ph":"b",{common},"ts":{}}}"#, us(t.start)));
            events.push(format!(
                r#"{{"ph":"e",{common},"ts":{},"args":{{"outcome":"{outcome}"}}}}"#,
                us(t.end)
            ));
        }
        for m in &self.marks {
            events.push(format!(
                r#"{{"ph":"i","cat":"mark","s":"t","name":{},"pid":1,"tid":{},"ts":{}}}"#,
                json_string(&m.label),
                m.thread + 1,
                us(m.at)
            ));
        }
        let mut out = String::from("{\"traceEvents\":[\n");
        out.push_str(&events.join(",\n"));
        out.push_str("\n],\"displayTimeUnit\":\"ms\"}\n");
        out
    }

    /// Writes [`to_chrome_trace`](Snapshot::to_chrome_trace) to a file, creating
    /// its folder if needed (a notebook writes into `../target/timelines/`, which a
    /// fresh clone does not have); open it at <https://ui.perfetto.dev>.
    ///
    /// # Errors
    ///
    /// Any error from creating the folder or writing the file.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("work"));
    /// let dir = std::env::temp_dir().join(format!("helpers_doc_{}", std::process::id()));
    /// let path = dir.join("timelines").join("work.trace.json");
    /// tl.snapshot().write_chrome_trace(&path).unwrap();
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("\"ph\":\"X\""));
    /// std::fs::remove_dir_all(dir).unwrap();
    /// ```
    pub fn write_chrome_trace(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, self.to_chrome_trace())
    }
}

/// Nanoseconds as microseconds, exactly: `12.345`.
fn us(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}
