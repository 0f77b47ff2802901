//! The recorder: one buffer of raw events per OS thread, and the registry
//! and per-thread cache that find it (see the [module docs](super) for why).

use super::Label;
use super::snapshot::{MarkRec, Parts, SpanRec, TaskEnd, TaskPoll, TaskStart};
use crate::threads::ThreadInfo;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

/// State shared by all clones of one timeline.
pub(super) struct Inner {
    /// Snapshots give times as nanoseconds since this instant.
    epoch: Instant,
    /// One buffer per OS thread, in order of first appearance (index 0 is `T1`).
    /// Locked only on a thread's first event (and by readers).
    registry: Mutex<Vec<Arc<ThreadBuffer>>>,
    next_task: AtomicU64,
}

/// One thread's events. Aligned so that two threads' buffers never share a cache
/// line: otherwise their "uncontended" locks would still bounce a line between
/// cores.
#[repr(align(128))]
pub(super) struct ThreadBuffer {
    info: ThreadInfo,
    pub(super) events: Mutex<Events>,
}

/// Raw events of one thread, in recording order.
#[derive(Default)]
pub(super) struct Events {
    pub(super) spans: Chunks<RawSpan>,
    polls: Chunks<RawPoll>,
    marks: Chunks<RawMark>,
    task_starts: Chunks<RawTaskStart>,
    task_ends: Chunks<RawTaskEnd>,
}

/// An append-only list stored in chunks of at most [`CHUNK`] items.
///
/// A plain `Vec` would now and then copy everything recorded so far to grow,
/// a pause of milliseconds in the middle of the thread being measured (and while
/// holding its buffer's lock). Chunks never move: growing costs one allocation per
/// `CHUNK` events.
pub(super) struct Chunks<T> {
    full: Vec<Vec<T>>,
    current: Vec<T>,
}

const CHUNK: usize = 4096;

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Chunks {
            full: Vec::new(),
            current: Vec::new(),
        }
    }
}

impl<T> Chunks<T> {
    #[inline]
    fn push(&mut self, item: T) {
        if self.current.len() == self.current.capacity() {
            self.grow();
        }
        self.current.push(item);
    }

    #[cold]
    fn grow(&mut self) {
        let cap = self.current.capacity();
        if cap < CHUNK {
            // Small first chunks, so a thread with three spans costs little.
            self.current.reserve_exact((cap * 4).clamp(64, CHUNK) - cap);
        } else {
            let next = Vec::with_capacity(CHUNK);
            self.full.push(std::mem::replace(&mut self.current, next));
        }
    }

    /// Grows now if the next push would have to.
    fn make_room(&mut self) {
        if self.current.len() == self.current.capacity() {
            self.grow();
        }
    }

    pub(super) fn len(&self) -> usize {
        self.full.iter().map(Vec::len).sum::<usize>() + self.current.len()
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.full.iter().flatten().chain(self.current.iter())
    }
}

// Raw events keep `Instant`s: turning them into nanoseconds since the epoch is
// left to the reader, off the hot path (it costs as much as a third clock read).

pub(super) struct RawSpan {
    label: Label,
    start: Instant,
    end: Instant,
}

pub(super) struct RawPoll {
    task: u64,
    start: Instant,
    end: Instant,
}

pub(super) struct RawMark {
    label: Label,
    at: Instant,
}

pub(super) struct RawTaskStart {
    task: u64,
    label: Label,
    at: Instant,
}

pub(super) struct RawTaskEnd {
    task: u64,
    at: Instant,
    completed: bool,
}

/// How many timelines a thread remembers its buffer for. A miss only costs a
/// registry lookup, so a handful is plenty.
pub(super) const CACHE_CAPACITY: usize = 8;

pub(super) struct CacheEntry {
    /// Address of the timeline's `Inner`; `keep` stops it being reused.
    key: usize,
    pub(super) keep: Weak<Inner>,
    pub(super) buffer: Arc<ThreadBuffer>,
}

thread_local! {
    /// Fast path only: correctness never depends on it (see the module docs).
    pub(super) static CACHE: RefCell<Vec<CacheEntry>> = const { RefCell::new(Vec::new()) };
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a buffer lock cannot leave the vectors inconsistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Inner {
    /// A timeline's state, with its clock starting now and no threads yet.
    pub(super) fn new() -> Arc<Inner> {
        Arc::new(Inner {
            epoch: Instant::now(),
            registry: Mutex::new(Vec::new()),
            next_task: AtomicU64::new(1),
        })
    }

    #[inline]
    pub(super) fn record_span(
        self: &Arc<Inner>,
        label: Label,
        start: Instant,
        end: Instant,
    ) {
        self.with_events(|ev| ev.spans.push(RawSpan { label, start, end }));
    }

    #[inline]
    pub(super) fn record_mark(self: &Arc<Inner>, label: Label, at: Instant) {
        self.with_events(|ev| ev.marks.push(RawMark { label, at }));
    }

    /// Records a new task, created at `at`, and returns its number.
    pub(super) fn new_task(self: &Arc<Inner>, label: Label, at: Instant) -> u64 {
        let task = self.next_task.fetch_add(1, Ordering::Relaxed);
        self.with_events(|ev| ev.task_starts.push(RawTaskStart { task, label, at }));
        task
    }

    /// Records one poll of `task`, and its completion if the poll `completes` it.
    #[inline]
    pub(super) fn record_poll(
        self: &Arc<Inner>,
        task: u64,
        start: Instant,
        end: Instant,
        completes: bool,
    ) {
        self.with_events(|ev| {
            ev.polls.push(RawPoll { task, start, end });
            if completes {
                ev.task_ends.push(RawTaskEnd {
                    task,
                    at: end,
                    completed: true,
                });
            }
        });
    }

    /// Records that `task` was dropped before completing.
    pub(super) fn record_drop(self: &Arc<Inner>, task: u64, at: Instant) {
        self.with_events(|ev| {
            ev.task_ends.push(RawTaskEnd {
                task,
                at,
                completed: false,
            })
        });
    }

    /// Registers the calling thread and allocates its first chunks now, not in
    /// the first span it records.
    pub(super) fn register_current_thread(self: &Arc<Inner>) {
        let buffer = self.buffer_of_current_thread();
        let mut events = lock(&buffer.events);
        events.spans.make_room();
        events.polls.make_room();
        events.marks.make_room();
    }

    fn ns(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    fn key(self: &Arc<Inner>) -> usize {
        Arc::as_ptr(self) as usize
    }

    /// Runs `f` on the calling thread's events.
    #[inline]
    fn with_events<R>(self: &Arc<Inner>, f: impl FnOnce(&mut Events) -> R) -> R {
        let key = self.key();
        let mut f = Some(f);
        let hit = CACHE.try_with(|cache| {
            let cache = cache.try_borrow().ok()?;
            let entry = cache.iter().find(|e| e.key == key)?;
            let f = f.take()?;
            Some(f(&mut lock(&entry.buffer.events)))
        });
        if let Ok(Some(r)) = hit {
            return r;
        }
        let buffer = self.buffer_of_current_thread();
        let f = f.take().expect("closure not run on a cache miss");
        f(&mut lock(&buffer.events))
    }

    /// The slow path: finds (or creates) the calling thread's buffer through the
    /// registry, and remembers it in the thread-local cache.
    pub(super) fn buffer_of_current_thread(self: &Arc<Inner>) -> Arc<ThreadBuffer> {
        let info = ThreadInfo::current();
        let buffer = {
            let mut registry = lock(&self.registry);
            match registry.iter().find(|b| b.info.os_id == info.os_id) {
                Some(b) => Arc::clone(b),
                None => {
                    let b = Arc::new(ThreadBuffer {
                        info,
                        events: Mutex::new(Events::default()),
                    });
                    registry.push(Arc::clone(&b));
                    b
                }
            }
        };
        let entry = CacheEntry {
            key: self.key(),
            keep: Arc::downgrade(self),
            buffer: Arc::clone(&buffer),
        };
        // Ignore failure: during thread teardown the cache may be gone already.
        let _ = CACHE.try_with(|cache| {
            if let Ok(mut cache) = cache.try_borrow_mut() {
                cache.retain(|e| e.keep.strong_count() > 0 && e.key != entry.key);
                if cache.len() >= CACHE_CAPACITY {
                    cache.remove(0);
                }
                cache.push(entry);
            }
        });
        buffer
    }
    /// Copies every thread's events, each buffer locked only while it is
    /// copied, with times in nanoseconds since the epoch.
    pub(super) fn parts(&self) -> Parts {
        let buffers: Vec<Arc<ThreadBuffer>> = lock(&self.registry).clone();
        let ns = |t: Instant| self.ns(t);
        let mut parts = Parts::default();
        for (thread, b) in buffers.iter().enumerate() {
            parts.threads.push(b.info.clone());
            let ev = lock(&b.events);
            parts.spans.extend(ev.spans.iter().map(|s| SpanRec {
                label: s.label.clone(),
                thread,
                start: ns(s.start),
                end: ns(s.end),
            }));
            parts.polls.extend(ev.polls.iter().map(|p| TaskPoll {
                task: p.task,
                thread,
                start: ns(p.start),
                end: ns(p.end),
            }));
            parts.marks.extend(ev.marks.iter().map(|m| MarkRec {
                label: m.label.clone(),
                thread,
                at: ns(m.at),
            }));
            parts
                .task_starts
                .extend(ev.task_starts.iter().map(|t| TaskStart {
                    task: t.task,
                    label: t.label.clone(),
                    thread,
                    at: ns(t.at),
                }));
            parts.task_ends.extend(ev.task_ends.iter().map(|t| TaskEnd {
                task: t.task,
                at: ns(t.at),
                completed: t.completed,
            }));
        }
        parts.taken_at = ns(Instant::now());
        parts
    }

    /// How many threads and events have been recorded so far.
    pub(super) fn counts(&self) -> Counts {
        let registry = lock(&self.registry);
        let mut c = Counts {
            threads: registry.len(),
            ..Counts::default()
        };
        for b in registry.iter() {
            let ev = lock(&b.events);
            c.spans += ev.spans.len();
            c.tasks += ev.task_starts.len();
            c.polls += ev.polls.len();
            c.marks += ev.marks.len();
        }
        c
    }
}

/// What [`Inner::counts`] counts.
#[derive(Default)]
pub(super) struct Counts {
    pub threads: usize,
    pub spans: usize,
    pub tasks: usize,
    pub polls: usize,
    pub marks: usize,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Thread-local caches may keep a buffer alive after its timeline is gone:
        // free the events now, the empty shells are tiny.
        for b in lock(&self.registry).iter() {
            *lock(&b.events) = Events::default();
        }
    }
}

/// Forgets the calling thread's cached buffers, as a new evcxr cell would.
///
/// Only for tests: recording must keep working (and lose nothing) afterwards.
#[doc(hidden)]
pub fn clear_thread_cache() {
    let _ = CACHE.try_with(|c| c.borrow_mut().clear());
}
