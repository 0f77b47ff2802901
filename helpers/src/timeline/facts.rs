//! The facts a notebook asserts on: how many threads ran work, how many units
//! were in progress at once, how many ran in parallel, and what one task or
//! span did.

use super::snapshot::{Snapshot, TaskState, max_overlap, union};
use std::collections::HashMap;
use std::time::Duration;

impl Snapshot {
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
