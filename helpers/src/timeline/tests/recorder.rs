//! The recorder, with real threads and a hand-written executor.

use super::*;
use crate::timeline::recorder::{CACHE, CACHE_CAPACITY, lock};
use std::sync::atomic::Ordering;

#[test]
fn creating_thread_is_t1_and_threads_number_in_order() {
    let tl = Timeline::new();
    std::thread::Builder::new()
        .name("second".into())
        .spawn({
            let tl = tl.clone();
            move || drop(tl.span("b"))
        })
        .unwrap()
        .join()
        .unwrap();
    drop(tl.span("a"));
    let s = tl.snapshot();
    assert_eq!(s.threads_used(), 2);
    assert_eq!(s.thread_names()[1], "T2 second");
    assert!(s.thread_names()[0].starts_with("T1 "));
}

#[test]
fn a_cleared_cache_finds_the_same_buffer() {
    let tl = Timeline::new();
    drop(tl.span("before"));
    clear_thread_cache();
    drop(tl.span("after"));
    let s = tl.snapshot();
    assert_eq!(s.span_count(), 2);
    assert_eq!(s.threads_used(), 1);
    assert_eq!(s.count_per_thread().len(), 1);
}

#[test]
fn more_timelines_than_cache_entries() {
    let tls: Vec<Timeline> = (0..CACHE_CAPACITY * 2 + 1)
        .map(|_| Timeline::new())
        .collect();
    for round in 0..3 {
        for tl in &tls {
            drop(tl.span(format!("round {round}")));
        }
    }
    for tl in &tls {
        let s = tl.snapshot();
        assert_eq!(s.span_count(), 3);
        assert_eq!(s.threads_used(), 1);
    }
}

#[test]
fn dropped_timelines_release_their_events() {
    let tl = Timeline::new();
    for _ in 0..1000 {
        drop(tl.span("x"));
    }
    let weak = Arc::downgrade(&tl.inner);
    drop(tl);
    // The cache keeps the shared state's allocation (so its address is not
    // reused) but the events are gone.
    assert!(weak.upgrade().is_none());
    let cached = CACHE.with(|c| {
        c.borrow()
            .iter()
            .filter(|e| e.keep.strong_count() == 0)
            .map(|e| lock(&e.buffer.events).spans.len())
            .sum::<usize>()
    });
    assert_eq!(cached, 0);
}

/// Wakes by counting, so tests can see that wake-ups are passed through.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pending `n` times (waking itself each time), then ready with `n`.
fn yields(n: usize) -> impl Future<Output = usize> + Send {
    let mut left = n;
    std::future::poll_fn(move |cx| {
        if left == 0 {
            Poll::Ready(n)
        } else {
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

/// The smallest executor: polls until ready.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn instrument_records_every_poll_and_the_lifetime() {
    let tl = Timeline::new();
    let task = tl.instrument("yielder", yields(3));
    std::thread::sleep(Duration::from_millis(2));
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);
    let mut task = std::pin::pin!(task);
    let out = loop {
        if let Poll::Ready(v) = task.as_mut().poll(&mut cx) {
            break v;
        }
    };
    assert_eq!(out, 3);
    assert_eq!(counter.0.load(Ordering::SeqCst), 3, "wake-ups pass through");
    let s = tl.snapshot();
    assert_eq!(s.segments("yielder"), Some(4));
    assert!(!s.was_cancelled("yielder"));
    assert!(!s.resumed_on_other_thread("yielder"));
    assert_eq!(s.task_count(), 1);
    let life = s.task_lifetime("yielder").unwrap();
    assert!(
        life >= Duration::from_millis(2),
        "lifetime starts at instrument()"
    );
    let t = &s.tasks[0];
    assert_eq!(t.state, snapshot::TaskState::Completed);
    assert!(s.polls[0].start >= t.start + 2 * MS);
    assert_eq!(t.end, s.polls[3].end, "ends with the last poll");
    assert_eq!(s.max_parallel(), 1);
}

#[test]
fn polling_after_completion_does_not_end_twice() {
    let tl = Timeline::new();
    let mut task = Box::pin(tl.instrument("again", std::future::ready(1)));
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(task.as_mut().poll(&mut cx), Poll::Ready(1));
    drop(task);
    let s = tl.snapshot();
    assert!(!s.was_cancelled("again"));
    assert_eq!(s.segments("again"), Some(1));
}

#[test]
fn dropped_task_is_cancelled() {
    let tl = Timeline::new();
    let mut task = Box::pin(tl.instrument("slow", yields(10)));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(task.as_mut().poll(&mut cx).is_pending());
    drop(task);
    let never_polled = tl.instrument("never polled", async {});
    drop(never_polled);
    let s = tl.snapshot();
    assert!(s.was_cancelled("slow"));
    assert_eq!(s.segments("slow"), Some(1));
    assert!(s.was_cancelled("never polled"));
    assert_eq!(s.segments("never polled"), Some(0));
    assert_eq!(s.threads_of("never polled"), Vec::<String>::new());
}

#[test]
fn task_resumed_on_another_thread() {
    let tl = Timeline::new();
    let mut task = Box::pin(tl.instrument("traveller", yields(1)));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(task.as_mut().poll(&mut cx).is_pending());
    let out = std::thread::Builder::new()
        .name("other".into())
        .spawn(move || block_on(task))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(out, 1);
    let s = tl.snapshot();
    assert!(s.resumed_on_other_thread("traveller"));
    let threads = s.threads_of("traveller");
    assert_eq!(threads.len(), 2);
    assert_eq!(threads[1], "T2 other");
    assert_eq!(s.threads_used(), 2);
}

#[test]
fn running_task_is_alive_until_the_snapshot() {
    let tl = Timeline::new();
    let _task = tl.instrument("alive", async {});
    std::thread::sleep(Duration::from_millis(2));
    let s = tl.snapshot();
    assert!(s.task_lifetime("alive").unwrap() >= Duration::from_millis(2));
    assert!(s.to_svg(Layout::ByTask).contains("still running"));
}

#[test]
fn snapshot_while_threads_record() {
    let tl = Timeline::new();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                // Bounded: on a loaded machine the snapshots below can fall
                // behind, and unbounded recorders once grew this test to 22 GB.
                for _ in 0..5_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    drop(tl.span("busy"));
                    block_on(tl.instrument("t", yields(1)));
                }
            });
        }
        // Snapshot while they record, not before they start.
        while tl.snapshot().span_count() == 0 {
            std::thread::yield_now();
        }
        let mut last = 0;
        for _ in 0..20 {
            let snap = tl.snapshot();
            assert!(snap.span_count() >= last, "snapshots only grow");
            last = snap.span_count();
            // Every poll belongs to a task the snapshot knows.
            assert!(snap.polls.iter().all(|p| p.task < snap.tasks.len()));
        }
        stop.store(true, Ordering::Relaxed);
    });
    let s = tl.snapshot();
    assert_eq!(s.poll_count(), 2 * s.task_count());
}
