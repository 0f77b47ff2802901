//! Unit tests. Facts and pictures are checked on snapshots built from explicit
//! times (real clocks make exact expectations impossible); the recorder is
//! checked with real threads and a hand-written executor.

mod facts;
mod pictures;
mod recorder;

use super::drawing::nice_step;
use super::snapshot::{
    MarkRec, Parts, SpanRec, TaskEnd, TaskPoll, TaskStart, max_overlap, union,
};
use super::*;
use crate::threads::ThreadInfo;
use std::sync::atomic::AtomicUsize;
use std::task::{Wake, Waker};

const MS: u64 = 1_000_000;

/// Builds a snapshot from explicit times. Threads are given by number (1 = T1).
struct Build(Parts);

impl Build {
    fn new(threads: &[&str]) -> Build {
        let mut p = Parts::default();
        for (i, name) in threads.iter().enumerate() {
            p.threads.push(ThreadInfo {
                os_id: 1000 + i as u64,
                name: name.to_string(),
            });
        }
        Build(p)
    }

    fn span(mut self, label: &str, thread: usize, start: u64, end: u64) -> Build {
        self.0.spans.push(SpanRec {
            label: Cow::Owned(label.to_string()),
            thread: thread - 1,
            start,
            end,
        });
        self
    }

    /// A task created on T1 at `start`; `end` is `(at, completed)` or running.
    fn task(
        mut self,
        id: u64,
        label: &str,
        start: u64,
        end: Option<(u64, bool)>,
    ) -> Build {
        self.0.task_starts.push(TaskStart {
            task: id,
            label: Cow::Owned(label.to_string()),
            thread: 0,
            at: start,
        });
        if let Some((at, completed)) = end {
            self.0.task_ends.push(TaskEnd {
                task: id,
                at,
                completed,
            });
        }
        self
    }

    fn poll(mut self, id: u64, thread: usize, start: u64, end: u64) -> Build {
        self.0.polls.push(TaskPoll {
            task: id,
            thread: thread - 1,
            start,
            end,
        });
        self
    }

    fn mark(mut self, label: &str, thread: usize, at: u64) -> Build {
        self.0.marks.push(MarkRec {
            label: Cow::Owned(label.to_string()),
            thread: thread - 1,
            at,
        });
        self
    }

    fn taken_at(mut self, at: u64) -> Build {
        self.0.taken_at = at;
        self
    }

    fn build(self) -> Snapshot {
        Snapshot::from_parts(self.0)
    }
}

/// Five timers joined on one thread: each task is polled once when created and
/// once when its timer fires.
fn five_timers() -> Snapshot {
    let mut b = Build::new(&["main"]);
    for i in 0..5u64 {
        let label = format!("timer {i}");
        b = b
            .task(i + 1, &label, 0, Some((100 * MS + i * MS + 10, true)))
            .poll(i + 1, 1, i * 10, i * 10 + 5)
            .poll(i + 1, 1, 100 * MS + i * MS, 100 * MS + i * MS + 10);
    }
    b.build()
}
