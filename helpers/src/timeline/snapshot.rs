//! The immutable copy of a timeline, and the facts notebooks assert on.

use super::Label;
use crate::threads::ThreadInfo;
use std::collections::HashMap;
use std::fmt;

/// Everything recorded by a [`Timeline`](super::Timeline) up to one moment,
/// sorted by time: the facts to assert on and the pictures to look at.
///
/// Threads are numbered `T1`, `T2`, ... in order of first appearance; `T1` is the
/// thread that created the timeline. Times are measured from the timeline's own
/// epoch (the moment it was created).
///
/// Facts that take a label look at every span or task with that label (sums,
/// unions, "any"): give units distinct labels to ask about one of them.
///
/// # Examples
///
/// ```
/// use helpers::timeline::{Layout, Timeline};
///
/// let tl = Timeline::new();
/// drop(tl.span("setup"));
/// let snap = tl.snapshot();
/// assert_eq!(snap.span_count(), 1);
/// assert!(snap.to_svg(Layout::ByTask).starts_with("<svg"));
/// ```
#[derive(Clone)]
pub struct Snapshot {
    pub(super) threads: Vec<ThreadInfo>,
    pub(super) spans: Vec<SpanRec>,
    pub(super) tasks: Vec<TaskRec>,
    pub(super) polls: Vec<PollRec>,
    pub(super) marks: Vec<MarkRec>,
}

#[derive(Clone, Debug)]
pub(super) struct SpanRec {
    pub label: Label,
    pub thread: usize,
    pub start: u64,
    pub end: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TaskState {
    Completed,
    Cancelled,
    Running,
}

#[derive(Clone, Debug)]
pub(super) struct TaskRec {
    pub id: u64,
    pub label: Label,
    /// The thread that created the task.
    pub thread: usize,
    pub start: u64,
    /// End of the lifetime; for a running task, the snapshot's time.
    pub end: u64,
    pub state: TaskState,
}

#[derive(Clone, Debug)]
pub(super) struct PollRec {
    /// Index into `Snapshot::tasks`.
    pub task: usize,
    pub thread: usize,
    pub start: u64,
    pub end: u64,
}

#[derive(Clone, Debug)]
pub(super) struct MarkRec {
    pub label: Label,
    pub thread: usize,
    pub at: u64,
}

/// Raw material for a snapshot: events in any order, threads by index, times
/// in nanoseconds since the timeline's epoch.
#[derive(Default)]
pub(super) struct Parts {
    pub threads: Vec<ThreadInfo>,
    pub spans: Vec<SpanRec>,
    pub polls: Vec<TaskPoll>,
    pub marks: Vec<MarkRec>,
    pub task_starts: Vec<TaskStart>,
    pub task_ends: Vec<TaskEnd>,
    pub taken_at: u64,
}

/// A poll of the task numbered `task` (a task id, not yet an index).
pub(super) struct TaskPoll {
    pub task: u64,
    pub thread: usize,
    pub start: u64,
    pub end: u64,
}

/// A task created, by `Timeline::instrument`, on `thread`.
pub(super) struct TaskStart {
    pub task: u64,
    pub label: Label,
    pub thread: usize,
    pub at: u64,
}

/// A task that completed, or was dropped before completing.
pub(super) struct TaskEnd {
    pub task: u64,
    pub at: u64,
    pub completed: bool,
}

impl Snapshot {
    pub(super) fn from_parts(p: Parts) -> Snapshot {
        let mut starts = p.task_starts;
        starts.sort_by_key(|t| (t.at, t.task));
        let index: HashMap<u64, usize> = starts
            .iter()
            .enumerate()
            .map(|(i, t)| (t.task, i))
            .collect();
        let mut ends: Vec<Option<&TaskEnd>> = vec![None; starts.len()];
        for end in &p.task_ends {
            // A reader copies one buffer after another, so it may see the end of a
            // task whose start it missed: such events wait for the next snapshot.
            if let Some(&i) = index.get(&end.task) {
                ends[i].get_or_insert(end);
            }
        }
        let mut polls: Vec<PollRec> = p
            .polls
            .into_iter()
            .filter_map(|q| {
                Some(PollRec {
                    task: *index.get(&q.task)?,
                    thread: q.thread,
                    start: q.start,
                    end: q.end,
                })
            })
            .collect();
        let mut spans = p.spans;
        let mut marks = p.marks;
        let taken_at = spans
            .iter()
            .map(|s| s.end)
            .chain(polls.iter().map(|q| q.end))
            .chain(marks.iter().map(|m| m.at))
            .chain(ends.iter().flatten().map(|e| e.at))
            .fold(p.taken_at, u64::max);
        // Tasks are in their final order already, so poll indices stay valid.
        let tasks: Vec<TaskRec> = starts
            .into_iter()
            .zip(ends)
            .map(|(start, end)| {
                let (end, state) = match end {
                    Some(e) if e.completed => (e.at, TaskState::Completed),
                    Some(e) => (e.at, TaskState::Cancelled),
                    None => (taken_at, TaskState::Running),
                };
                TaskRec {
                    id: start.task,
                    label: start.label,
                    thread: start.thread,
                    start: start.at,
                    end: end.max(start.at),
                    state,
                }
            })
            .collect();
        spans.sort_by_key(|s| (s.start, s.end, s.thread));
        polls.sort_by_key(|q| (q.start, q.end, q.thread));
        marks.sort_by_key(|m| (m.at, m.thread));
        Snapshot {
            threads: p.threads,
            spans,
            tasks,
            polls,
            marks,
        }
    }

    /// `"T2 tokio-rt-worker"`: the thread's number and name.
    pub(super) fn thread_label(&self, thread: usize) -> String {
        let name = self.threads.get(thread).map_or("?", |t| t.name.as_str());
        format!("T{} {name}", thread + 1)
    }
}

impl fmt::Debug for Snapshot {
    /// Counts and the main facts, in one line.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("a"));
    /// let s = format!("{:?}", tl.snapshot());
    /// assert!(s.starts_with("Snapshot { threads_used: 1, spans: 1, tasks: 0"));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("threads_used", &self.threads_used())
            .field("spans", &self.spans.len())
            .field("tasks", &self.tasks.len())
            .field("polls", &self.polls.len())
            .field("marks", &self.marks.len())
            .field("wall", &self.wall())
            .field("max_concurrent", &self.max_concurrent())
            .field("max_parallel", &self.max_parallel())
            .finish()
    }
}

/// Merges intervals into sorted, disjoint half-open intervals. Empty intervals
/// vanish; touching ones merge (the thread was busy throughout).
pub(super) fn union(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    v.retain(|&(s, e)| e > s);
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// The most half-open intervals covering one instant, by a sweep over sorted
/// endpoints. At equal times ends come before starts, so touching intervals do
/// not overlap; empty intervals cover no instant.
pub(super) fn max_overlap(intervals: impl Iterator<Item = (u64, u64)>) -> usize {
    let mut points: Vec<(u64, i8)> = Vec::new();
    for (s, e) in intervals {
        if e > s {
            points.push((s, 1));
            points.push((e, -1));
        }
    }
    points.sort_unstable();
    let (mut now, mut max) = (0i64, 0i64);
    for (_, d) in points {
        now += i64::from(d);
        max = max.max(now);
    }
    max as usize
}
