//! The immutable copy of a timeline, and the facts notebooks assert on.

use super::Label;
use crate::threads::ThreadInfo;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

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
    pub polls: Vec<RawPoll>,
    pub marks: Vec<MarkRec>,
    pub task_starts: Vec<TaskStart>,
    pub task_ends: Vec<TaskEnd>,
    pub taken_at: u64,
}

/// A poll of the task numbered `task` (a task id, not yet an index).
pub(super) struct RawPoll {
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

    /// Indices of the threads that ran spans or polls, ascending.
    fn working_threads(&self) -> Vec<usize> {
        let mut used = vec![false; self.threads.len()];
        for s in &self.spans {
            used[s.thread] = true;
        }
        for q in &self.polls {
            used[q.thread] = true;
        }
        (0..used.len()).filter(|&t| used[t]).collect()
    }

    /// For each thread, the union of its span and poll intervals, as sorted
    /// disjoint half-open intervals (nested spans count once).
    pub(super) fn busy_intervals(&self) -> Vec<Vec<(u64, u64)>> {
        let mut per: Vec<Vec<(u64, u64)>> = vec![Vec::new(); self.threads.len()];
        for s in &self.spans {
            per[s.thread].push((s.start, s.end));
        }
        for q in &self.polls {
            per[q.thread].push((q.start, q.end));
        }
        for v in &mut per {
            *v = union(std::mem::take(v));
        }
        per
    }

    /// Which tasks have this label (indexed like `tasks`), or `None` if none has.
    fn task_mask(&self, label: &str) -> Option<Vec<bool>> {
        let mask: Vec<bool> = self.tasks.iter().map(|t| t.label == label).collect();
        mask.contains(&true).then_some(mask)
    }

    /// Like `task_mask`, but panics with the known labels when no task has it.
    fn expect_tasks(&self, label: &str) -> Vec<bool> {
        let found = self.task_mask(label);
        if found.is_none() {
            let mut known: Vec<&str> =
                self.tasks.iter().map(|t| t.label.as_ref()).collect();
            known.dedup();
            known.truncate(20);
            panic!(
                "no task labelled {label:?} in this timeline (tasks come from \
                 Timeline::instrument; labels seen: {known:?})"
            );
        }
        found.unwrap_or_default()
    }

    /// The number of distinct OS threads that ran spans or polls.
    ///
    /// Marks do not count, and neither does the thread that created the timeline
    /// unless it ran something.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// tl.mark("start"); // marks do not count
    /// std::thread::scope(|s| {
    ///     s.spawn(|| drop(tl.span("a")));
    ///     s.spawn(|| drop(tl.span("b")));
    /// });
    /// assert_eq!(tl.snapshot().threads_used(), 2);
    /// ```
    pub fn threads_used(&self) -> usize {
        self.working_threads().len()
    }

    /// Labels (`"T2 tokio-rt-worker"`) of the threads that ran spans or polls, in
    /// thread order; as many as [`Snapshot::threads_used`].
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// std::thread::Builder::new()
    ///     .name("worker".into())
    ///     .spawn({
    ///         let tl = tl.clone();
    ///         move || drop(tl.span("job"))
    ///     })
    ///     .unwrap()
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(tl.snapshot().thread_names(), ["T2 worker"]);
    /// ```
    pub fn thread_names(&self) -> Vec<String> {
        self.working_threads()
            .into_iter()
            .map(|t| self.thread_label(t))
            .collect()
    }

    /// Time from the first start to the last end, over spans, polls and task
    /// lifetimes (marks do not count). Zero when nothing was recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let tl = helpers::timeline::Timeline::new();
    /// for _ in 0..2 {
    ///     let _g = tl.span("step");
    ///     std::thread::sleep(Duration::from_millis(2));
    /// }
    /// assert!(tl.snapshot().wall() >= Duration::from_millis(4));
    /// ```
    pub fn wall(&self) -> Duration {
        let ivs = self.spans.iter().map(|s| (s.start, s.end));
        let ivs = ivs.chain(self.polls.iter().map(|q| (q.start, q.end)));
        let ivs = ivs.chain(self.tasks.iter().map(|t| (t.start, t.end)));
        let (lo, hi) =
            ivs.fold((u64::MAX, 0), |(lo, hi), (s, e)| (lo.min(s), hi.max(e)));
        Duration::from_nanos(hi.saturating_sub(lo))
    }

    /// The most *units in progress* at the same instant, where a unit is a span or
    /// a task's lifetime (from `instrument` to completion or drop): concurrency.
    ///
    /// Intervals are half-open: one ending exactly when another starts does not
    /// overlap it. On a single-threaded executor, five joined timers give
    /// `max_concurrent() == 5` but [`max_parallel`](Snapshot::max_parallel)` == 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// let a = tl.instrument("a", async {});
    /// let b = tl.instrument("b", async {});
    /// drop((a, b)); // both existed at once, neither ever ran
    /// let snap = tl.snapshot();
    /// assert_eq!(snap.max_concurrent(), 2);
    /// assert_eq!(snap.max_parallel(), 0);
    /// ```
    pub fn max_concurrent(&self) -> usize {
        let ivs = self.spans.iter().map(|s| (s.start, s.end));
        max_overlap(ivs.chain(self.tasks.iter().map(|t| (t.start, t.end))))
    }

    /// The most threads *executing* spans or polls at the same instant:
    /// parallelism. Nested spans on one thread count once, so this never exceeds
    /// [`threads_used`](Snapshot::threads_used).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let tl = helpers::timeline::Timeline::new();
    /// let barrier = std::sync::Barrier::new(2);
    /// std::thread::scope(|s| {
    ///     for name in ["left", "right"] {
    ///         let (tl, barrier) = (&tl, &barrier);
    ///         s.spawn(move || {
    ///             let _g = tl.span(name);
    ///             barrier.wait(); // both spans are open here
    ///         });
    ///     }
    /// });
    /// assert_eq!(tl.snapshot().max_parallel(), 2);
    /// ```
    pub fn max_parallel(&self) -> usize {
        max_overlap(self.busy_intervals().into_iter().flatten())
    }

    /// Time thread `T<thread>` spent in spans or polls (nested spans count once),
    /// or `None` if the timeline has no such thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let tl = helpers::timeline::Timeline::new();
    /// {
    ///     let _g = tl.span("work");
    ///     std::thread::sleep(Duration::from_millis(2));
    /// }
    /// let snap = tl.snapshot();
    /// assert!(snap.busy(1).unwrap() >= Duration::from_millis(2));
    /// assert_eq!(snap.busy(9), None);
    /// ```
    pub fn busy(&self, thread: usize) -> Option<Duration> {
        let t = thread.checked_sub(1)?;
        let busy = self.busy_intervals().into_iter().nth(t)?;
        Some(Duration::from_nanos(busy.iter().map(|(s, e)| e - s).sum()))
    }

    /// `(thread label, busy time)` for each thread that ran spans or polls.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("work"));
    /// let busy = tl.snapshot().busy_per_thread();
    /// assert_eq!(busy.len(), 1);
    /// assert_eq!(busy[0].0, "T1 main");
    /// ```
    pub fn busy_per_thread(&self) -> Vec<(String, Duration)> {
        let busy = self.busy_intervals();
        self.working_threads()
            .into_iter()
            .map(|t| {
                let ns = busy[t].iter().map(|(s, e)| e - s).sum();
                (self.thread_label(t), Duration::from_nanos(ns))
            })
            .collect()
    }

    /// `(thread label, number of spans and polls it ran)` for each thread that ran
    /// any: how the work was spread over the threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// for _ in 0..3 {
    ///     drop(tl.span("tick"));
    /// }
    /// assert_eq!(tl.snapshot().count_per_thread(), [("T1 main".to_string(), 3)]);
    /// ```
    pub fn count_per_thread(&self) -> Vec<(String, usize)> {
        let mut n = vec![0; self.threads.len()];
        for s in &self.spans {
            n[s.thread] += 1;
        }
        for q in &self.polls {
            n[q.thread] += 1;
        }
        self.working_threads()
            .into_iter()
            .map(|t| (self.thread_label(t), n[t]))
            .collect()
    }

    /// How many times tasks with this label were polled (the segments of the
    /// picture), or `None` if no task has this label.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let tl = helpers::timeline::Timeline::new();
    /// let mut yielded = false;
    /// let once = std::future::poll_fn(|_| {
    ///     if yielded { Poll::Ready(()) } else { yielded = true; Poll::Pending }
    /// });
    /// let mut task = Box::pin(tl.instrument("twice", once));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// while task.as_mut().poll(&mut cx).is_pending() {}
    /// let snap = tl.snapshot();
    /// assert_eq!(snap.segments("twice"), Some(2));
    /// assert_eq!(snap.segments("no such task"), None);
    /// ```
    pub fn segments(&self, task_label: &str) -> Option<usize> {
        let tasks = self.task_mask(task_label)?;
        Some(self.polls.iter().filter(|q| tasks[q.task]).count())
    }

    /// Whether a task with this label was resumed on a different OS thread than
    /// the one that polled it before (it moved between threads at an `.await`).
    ///
    /// # Panics
    ///
    /// If no task has this label (so a typo cannot pass an `assert!`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Waker};
    ///
    /// let tl = helpers::timeline::Timeline::new();
    /// let mut task = Box::pin(tl.instrument("stays", std::future::pending::<()>()));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let _ = task.as_mut().poll(&mut cx);
    /// let _ = task.as_mut().poll(&mut cx);
    /// assert!(!tl.snapshot().resumed_on_other_thread("stays"));
    /// ```
    pub fn resumed_on_other_thread(&self, task_label: &str) -> bool {
        let tasks = self.expect_tasks(task_label);
        let mut last: HashMap<usize, usize> = HashMap::new();
        for q in self.polls.iter().filter(|q| tasks[q.task]) {
            if let Some(prev) = last.insert(q.task, q.thread) {
                if prev != q.thread {
                    return true;
                }
            }
        }
        false
    }

    /// Labels of the threads that polled tasks with this label, in order of first
    /// poll (empty if never polled).
    ///
    /// # Panics
    ///
    /// If no task has this label.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Waker};
    ///
    /// let tl = helpers::timeline::Timeline::new();
    /// let mut task = Box::pin(tl.instrument("t", async {}));
    /// let _ = task.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    /// assert_eq!(tl.snapshot().threads_of("t"), ["T1 main"]);
    /// ```
    pub fn threads_of(&self, task_label: &str) -> Vec<String> {
        let tasks = self.expect_tasks(task_label);
        let mut seen: Vec<usize> = Vec::new();
        for q in self.polls.iter().filter(|q| tasks[q.task]) {
            if !seen.contains(&q.thread) {
                seen.push(q.thread);
            }
        }
        seen.into_iter().map(|t| self.thread_label(t)).collect()
    }

    /// Whether a task with this label was dropped before it completed.
    ///
    /// # Panics
    ///
    /// If no task has this label.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.instrument("abandoned", async {}));
    /// assert!(tl.snapshot().was_cancelled("abandoned"));
    /// ```
    pub fn was_cancelled(&self, task_label: &str) -> bool {
        let tasks = self.expect_tasks(task_label);
        self.tasks
            .iter()
            .zip(tasks)
            .any(|(t, mine)| mine && t.state == TaskState::Cancelled)
    }

    /// Total duration of the spans with this label, or `None` if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let tl = helpers::timeline::Timeline::new();
    /// {
    ///     let _g = tl.span("nap");
    ///     std::thread::sleep(Duration::from_millis(3));
    /// }
    /// let snap = tl.snapshot();
    /// assert!(snap.span_duration("nap").unwrap() >= Duration::from_millis(3));
    /// assert_eq!(snap.span_duration("other"), None);
    /// ```
    pub fn span_duration(&self, label: &str) -> Option<Duration> {
        let mut found = false;
        let mut ns = 0;
        for s in self.spans.iter().filter(|s| s.label == label) {
            found = true;
            ns += s.end - s.start;
        }
        found.then(|| Duration::from_nanos(ns))
    }

    /// Total lifetime (creation to completion or drop) of the tasks with this
    /// label, or `None` if there is none. A task still alive counts until the
    /// snapshot was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let tl = helpers::timeline::Timeline::new();
    /// let task = tl.instrument("waiting", async {});
    /// std::thread::sleep(Duration::from_millis(2));
    /// drop(task);
    /// let life = tl.snapshot().task_lifetime("waiting").unwrap();
    /// assert!(life >= Duration::from_millis(2));
    /// ```
    pub fn task_lifetime(&self, task_label: &str) -> Option<Duration> {
        let tasks = self.task_mask(task_label)?;
        let mine = self.tasks.iter().zip(tasks).filter(|(_, mine)| *mine);
        Some(Duration::from_nanos(
            mine.map(|(t, _)| t.end - t.start).sum(),
        ))
    }

    /// Number of spans, tasks and marks recorded (polls are parts of tasks).
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("a"));
    /// tl.mark("b");
    /// assert_eq!(tl.snapshot().len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.spans.len() + self.tasks.len() + self.marks.len()
    }

    /// Whether nothing at all was recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// assert!(tl.snapshot().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of spans.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("a"));
    /// assert_eq!(tl.snapshot().span_count(), 1);
    /// ```
    pub fn span_count(&self) -> usize {
        self.spans.len()
    }

    /// Number of instrumented tasks (completed, cancelled or still running).
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// let _t = tl.instrument("t", async {});
    /// assert_eq!(tl.snapshot().task_count(), 1);
    /// ```
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Number of polls of all tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// let tl = helpers::timeline::Timeline::new();
    /// let mut t = Box::pin(tl.instrument("t", async {}));
    /// let _ = t.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    /// assert_eq!(tl.snapshot().poll_count(), 1);
    /// ```
    pub fn poll_count(&self) -> usize {
        self.polls.len()
    }

    /// Number of marks.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// tl.mark("now");
    /// assert_eq!(tl.snapshot().mark_count(), 1);
    /// ```
    pub fn mark_count(&self) -> usize {
        self.marks.len()
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
