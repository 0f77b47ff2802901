//! Records what ran where and when: spans, marks and every poll of a future.
//!
//! A [`Timeline`] is the course's microscope. Threads record *spans* ("this thread
//! worked on `job 3` from here to here"), *marks* (instants) and *tasks* (futures
//! wrapped with [`Timeline::instrument`], whose every poll is recorded with the OS
//! thread that ran it). A [`Snapshot`] then answers exact questions the notebooks
//! `assert!` on (how many threads ran work, how many units were in progress at
//! once, how many ran in parallel) and draws the picture: an SVG Gantt chart inline
//! in Jupyter, an ASCII chart in a terminal, or a Chrome trace for Perfetto.
//!
//! # Why per-thread buffers
//!
//! A recorder must not change what it measures. If every thread appended to one
//! shared `Mutex<Vec<Event>>`, the threads under observation would queue on that
//! lock and the picture would show the recorder's serialisation, not the program's
//! parallelism. So each OS thread appends to its *own* buffer, guarded by its own
//! lock that only a reader (a [`Timeline::snapshot`]) ever contends for. The shared
//! registry of buffers is locked once per thread, on its first event; after that a
//! span costs two clock reads, an uncontended lock and a push onto a chunked list
//! (one allocation per 4096 events, and never a copy of what was recorded).
//! Converting times to nanoseconds is left to the reader. Nothing is ever dropped:
//! the buffers grow as needed. The `recorder` benchmark checks that a span costs
//! at most 1.5 times its two clock reads, and that two threads recording at once
//! do not slow each other down.
//!
//! # How it survives evcxr cells
//!
//! evcxr links a fresh copy of this crate into every notebook cell, so a `static` or
//! a `thread_local!` starts empty in each cell. A `Timeline` made in one cell and
//! used in the next must still find the buffer of a thread that recorded before.
//! Therefore the buffers are owned by the timeline itself (an `Arc` shared by its
//! clones) in a registry keyed by the OS thread id from
//! [`ThreadInfo`](crate::threads::ThreadInfo), and
//! threads are numbered `T1`, `T2`, ... in that registry, in order of first
//! appearance. A per-thread cache
//! only makes the lookup fast; when it is empty (a new cell, or evicted) the
//! thread finds its buffer again through the registry. The cache is keyed by the
//! address of the timeline's shared state and holds a `Weak` to it, so that address
//! cannot be reused by another timeline while the entry exists.
//!
//! OS thread ids are only reused after the kernel's id counter wraps, so two
//! threads sharing one row is not a practical concern.

#![forbid(unsafe_code)]

mod drawing;
mod facts;
mod recorder;
mod snapshot;
mod svg;
mod text;
mod trace;

pub use drawing::Layout;
pub use snapshot::Snapshot;
pub use svg::Chart;

use recorder::Inner;
#[doc(hidden)]
pub use recorder::clear_thread_cache;

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A label for a span, mark or task: `&'static str` costs nothing, `String` and
/// `format!` work too.
type Label = Cow<'static, str>;

/// Records spans, marks and instrumented futures from any number of threads.
///
/// Cloning is cheap (an `Arc`): every clone records into the same timeline. The
/// thread that calls [`Timeline::new`] is registered as `T1`, so a notebook's own
/// thread reads as `T1 main`.
///
/// # Examples
///
/// ```
/// use helpers::timeline::Timeline;
///
/// let tl = Timeline::new();
/// std::thread::scope(|s| {
///     for i in 0..2 {
///         let tl = &tl;
///         s.spawn(move || {
///             let _g = tl.span(format!("job {i}"));
///             std::thread::sleep(std::time::Duration::from_millis(5));
///         });
///     }
/// });
/// let snap = tl.snapshot();
/// assert_eq!(snap.threads_used(), 2);
/// assert_eq!(snap.max_parallel(), 2);
/// ```
#[derive(Clone)]
pub struct Timeline {
    inner: Arc<Inner>,
}

impl Timeline {
    /// Starts an empty timeline whose clock starts now, and registers the calling
    /// thread as `T1`.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// assert!(tl.snapshot().is_empty());
    /// ```
    pub fn new() -> Timeline {
        let inner = Inner::new();
        inner.buffer_of_current_thread();
        Timeline { inner }
    }

    /// Starts a span on the calling thread; it ends when the guard is dropped.
    ///
    /// The span is recorded when it ends, on the thread that drops the guard. A
    /// span measures a stretch of work on one thread: to follow a future across
    /// `.await`s and threads, use [`Timeline::instrument`].
    ///
    /// In an evcxr notebook, open the span inside a block `{ ... }`: the guard
    /// borrows the timeline, so evcxr refuses to keep it alive past the cell (and
    /// a span that silently stayed open across cells would be wrong anyway).
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// {
    ///     let _g = tl.span("parse");
    ///     std::thread::sleep(std::time::Duration::from_millis(2));
    /// }
    /// let took = tl.snapshot().span_duration("parse").unwrap();
    /// assert!(took >= std::time::Duration::from_millis(2));
    /// ```
    #[must_use = "the span ends when the guard is dropped: bind it with `let _g = ...`"]
    pub fn span(&self, label: impl Into<Cow<'static, str>>) -> SpanGuard<'_> {
        SpanGuard {
            timeline: self,
            label: label.into(),
            start: Instant::now(),
        }
    }

    /// Records an instant event on the calling thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// tl.mark("request sent");
    /// assert_eq!(tl.snapshot().mark_count(), 1);
    /// ```
    pub fn mark(&self, label: impl Into<Cow<'static, str>>) {
        let label = label.into();
        self.inner.record_mark(label, Instant::now());
    }

    /// Wraps a future so that its lifetime and every poll are recorded.
    ///
    /// The task's lifetime starts *now*, when `instrument` is called (a task
    /// created but not yet polled is already in progress: it exists and waits),
    /// and ends when the future returns `Ready` (completed) or when the wrapper is
    /// dropped before that (cancelled). Each call to `poll` is recorded as a
    /// segment with the OS thread that ran it, so the picture shows when the task
    /// ran, when it was suspended at an `.await`, and where it resumed.
    ///
    /// The future is boxed once so that the wrapper needs no `unsafe` pin
    /// projection; the wrapper is `Send` when the future is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let tl = helpers::timeline::Timeline::new();
    /// let mut task = std::pin::pin!(tl.instrument("answer", async { 42 }));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(task.as_mut().poll(&mut cx), Poll::Ready(42));
    /// assert_eq!(tl.snapshot().segments("answer"), Some(1));
    /// ```
    pub fn instrument<F: Future>(
        &self,
        label: impl Into<Cow<'static, str>>,
        future: F,
    ) -> Instrumented<F> {
        let label = label.into();
        let task = self.inner.new_task(label, Instant::now());
        Instrumented {
            future: Box::pin(future),
            timeline: self.clone(),
            task,
            finished: false,
        }
    }

    /// Registers the calling thread with this timeline now, recording nothing.
    ///
    /// A thread's first event on a timeline looks the thread up, which takes
    /// microseconds (on Linux it reads `/proc`), and allocates room for its
    /// events; that time lands in, or right after, the first span or poll the
    /// thread records. Among spans of a few hundred nanoseconds, the first would
    /// look many times longer than the rest, or stand apart from them. Calling
    /// this on each thread before the part you record keeps that cost out of
    /// the picture. It is never needed for correctness.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| tl.register_thread());
    /// });
    /// assert!(tl.snapshot().is_empty(), "registering records nothing");
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         tl.register_thread(); // the set-up happens here...
    ///         drop(tl.span("short")); // ...not inside this span
    ///     });
    /// });
    /// assert_eq!(tl.snapshot().span_count(), 1);
    /// ```
    pub fn register_thread(&self) {
        self.inner.register_current_thread();
    }

    /// An immutable, sorted copy of everything recorded so far.
    ///
    /// Each thread's buffer is locked only while it is copied. Spans appear once
    /// they have ended; tasks appear from their creation, and a task still alive
    /// counts as alive until the moment of the snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("a"));
    /// let snap = tl.snapshot();
    /// drop(tl.span("b"));
    /// assert_eq!(snap.span_count(), 1, "a snapshot does not change");
    /// assert_eq!(tl.snapshot().span_count(), 2);
    /// ```
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::from_parts(self.inner.parts())
    }

    /// How many OS threads ran spans or polls so far: see
    /// [`Snapshot::threads_used`].
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// assert_eq!(tl.threads_used(), 0, "the idle creating thread does not count");
    /// drop(tl.span("work"));
    /// assert_eq!(tl.threads_used(), 1);
    /// ```
    pub fn threads_used(&self) -> usize {
        self.snapshot().threads_used()
    }

    /// Time from the first start to the last end: see [`Snapshot::wall`].
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// {
    ///     let _g = tl.span("nap");
    ///     std::thread::sleep(std::time::Duration::from_millis(3));
    /// }
    /// assert!(tl.wall() >= std::time::Duration::from_millis(3));
    /// ```
    pub fn wall(&self) -> Duration {
        self.snapshot().wall()
    }

    /// Most units in progress at once: see [`Snapshot::max_concurrent`].
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// let _outer = tl.span("outer");
    /// drop(tl.span("inner"));
    /// drop(_outer);
    /// assert_eq!(tl.max_concurrent(), 2);
    /// ```
    pub fn max_concurrent(&self) -> usize {
        self.snapshot().max_concurrent()
    }

    /// Most threads executing at once: see [`Snapshot::max_parallel`].
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// let _outer = tl.span("outer");
    /// drop(tl.span("inner"));
    /// drop(_outer);
    /// assert_eq!(tl.max_parallel(), 1, "one thread cannot run in parallel");
    /// ```
    pub fn max_parallel(&self) -> usize {
        self.snapshot().max_parallel()
    }

    /// The ASCII chart of a snapshot taken now: see [`Snapshot::to_text`].
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("work"));
    /// println!("{}", tl.to_text());
    /// assert!(tl.to_text().contains("work"));
    /// ```
    pub fn to_text(&self) -> String {
        self.snapshot().to_text()
    }

    /// A chart of a snapshot taken now with one row per thread: end a notebook cell
    /// with `tl.by_thread()` to see it.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("work"));
    /// assert!(tl.by_thread().to_svg().contains("T1 main"));
    /// ```
    pub fn by_thread(&self) -> Chart {
        Chart::new(self.snapshot(), Layout::ByThread)
    }

    /// Shows a snapshot taken now, one row per task or span label, inline in an
    /// evcxr notebook (ending a cell with `tl` calls this).
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("work"));
    /// tl.evcxr_display(); // prints EVCXR_BEGIN_CONTENT image/svg+xml ...
    /// ```
    pub fn evcxr_display(&self) {
        self.snapshot().evcxr_display();
    }
}

impl Default for Timeline {
    /// Same as [`Timeline::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::default();
    /// assert!(tl.snapshot().is_empty());
    /// ```
    fn default() -> Timeline {
        Timeline::new()
    }
}

impl fmt::Debug for Timeline {
    /// Counts what has been recorded so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("a"));
    /// assert_eq!(
    ///     format!("{tl:?}"),
    ///     "Timeline { threads: 1, spans: 1, tasks: 0, polls: 0, marks: 0 }"
    /// );
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.inner.counts();
        f.debug_struct("Timeline")
            .field("threads", &c.threads)
            .field("spans", &c.spans)
            .field("tasks", &c.tasks)
            .field("polls", &c.polls)
            .field("marks", &c.marks)
            .finish()
    }
}

/// A span in progress; dropping it ends the span. Made by [`Timeline::span`].
///
/// # Examples
///
/// ```
/// let tl = helpers::timeline::Timeline::new();
/// let g = tl.span("step 1");
/// // ... work ...
/// drop(g); // or let it go out of scope
/// assert_eq!(tl.snapshot().span_count(), 1);
/// ```
pub struct SpanGuard<'a> {
    timeline: &'a Timeline,
    label: Label,
    start: Instant,
}

impl Drop for SpanGuard<'_> {
    fn drop(&mut self) {
        let label = std::mem::replace(&mut self.label, Cow::Borrowed(""));
        let end = Instant::now();
        self.timeline.inner.record_span(label, self.start, end);
    }
}

impl fmt::Debug for SpanGuard<'_> {
    /// Shows the label and how long the span has been open.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// let g = tl.span("load");
    /// assert!(format!("{g:?}").starts_with("SpanGuard { label: \"load\""));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanGuard")
            .field("label", &self.label)
            .field("open_for", &self.start.elapsed())
            .finish()
    }
}

/// A future whose lifetime and polls are recorded. Made by
/// [`Timeline::instrument`].
///
/// # Examples
///
/// ```
/// use std::task::{Context, Waker};
///
/// let tl = helpers::timeline::Timeline::new();
/// let task = tl.instrument("never finished", std::future::pending::<()>());
/// let mut task = Box::pin(task);
/// let _ = task.as_mut().poll(&mut Context::from_waker(Waker::noop()));
/// drop(task);
/// assert!(tl.snapshot().was_cancelled("never finished"));
/// ```
pub struct Instrumented<F> {
    future: Pin<Box<F>>,
    timeline: Timeline,
    task: u64,
    finished: bool,
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // `Instrumented` is `Unpin` (the future is boxed), so no projection needed.
        let this = self.get_mut();
        let start = Instant::now();
        let out = this.future.as_mut().poll(cx);
        let end = Instant::now();
        let completes = out.is_ready() && !this.finished;
        this.timeline
            .inner
            .record_poll(this.task, start, end, completes);
        this.finished |= completes;
        out
    }
}

impl<F> Drop for Instrumented<F> {
    fn drop(&mut self) {
        if !self.finished {
            self.timeline.inner.record_drop(self.task, Instant::now());
        }
    }
}

impl<F> fmt::Debug for Instrumented<F> {
    /// Shows the task number and whether it has completed.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// let t = tl.instrument("t", async {});
    /// assert_eq!(format!("{t:?}"), "Instrumented { task: 1, finished: false }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instrumented")
            .field("task", &self.task)
            .field("finished", &self.finished)
            .finish()
    }
}

#[cfg(test)]
mod tests;
