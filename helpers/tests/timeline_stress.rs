//! The recorder under load: nothing is lost, threads keep their identity, and a
//! thread finds its buffer again when its thread-local cache is gone (as in a new
//! evcxr cell, which links a fresh copy of the crate and its thread-locals).

use helpers::timeline::{Timeline, clear_thread_cache};
use std::sync::Barrier;

const THREADS: usize = 8;
const SPANS: usize = 100_000;

#[test]
fn eight_threads_record_100k_spans_each_and_nothing_is_lost() {
    let tl = Timeline::new();
    let start = Barrier::new(THREADS + 1);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (tl, start) = (&tl, &start);
            std::thread::Builder::new()
                .name(format!("stress-{t}"))
                .spawn_scoped(s, move || {
                    start.wait();
                    for i in 0..SPANS {
                        // Borrowed and owned labels, and a mark now and then.
                        if i % 1000 == 0 {
                            let _g = tl.span(format!("t{t} batch {}", i / 1000));
                            tl.mark("batch");
                        } else {
                            drop(tl.span("x"));
                        }
                    }
                })
                .unwrap();
        }
        start.wait();
        // Snapshots taken while the threads record only ever grow.
        let mut last = 0;
        for _ in 0..5 {
            let n = tl.snapshot().span_count();
            assert!(n >= last);
            last = n;
        }
    });
    let snap = tl.snapshot();
    assert_eq!(snap.span_count(), THREADS * SPANS);
    assert_eq!(snap.mark_count(), THREADS * SPANS / 1000);
    assert_eq!(snap.threads_used(), THREADS);
    let per_thread = snap.count_per_thread();
    assert_eq!(per_thread.len(), THREADS);
    for (i, (label, n)) in per_thread.iter().enumerate() {
        // T1 is the test's own thread, which recorded nothing.
        assert!(label.starts_with(&format!("T{} stress-", i + 2)), "{label}");
        assert_eq!(*n, SPANS, "{label}");
    }
    for t in 0..THREADS {
        assert!(snap.span_duration(&format!("t{t} batch 99")).is_some());
    }
    assert!(snap.max_parallel() >= 1 && snap.max_parallel() <= THREADS);
}

#[test]
fn a_cleared_thread_cache_still_finds_the_thread_buffer() {
    let tl = Timeline::new();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for i in 0..100 {
                    drop(tl.span("work"));
                    if i % 10 == 0 {
                        clear_thread_cache();
                    }
                }
            });
        }
    });
    drop(tl.span("here"));
    clear_thread_cache();
    drop(tl.span("here again"));
    let snap = tl.snapshot();
    assert_eq!(snap.span_count(), 202);
    assert_eq!(
        snap.threads_used(),
        3,
        "each thread keeps one buffer and number"
    );
    let counts: Vec<usize> =
        snap.count_per_thread().into_iter().map(|c| c.1).collect();
    assert_eq!(counts, [2, 100, 100]);
}

#[test]
fn two_timelines_used_alternately_from_the_same_threads() {
    let (a, b) = (Timeline::new(), Timeline::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for i in 0..1000 {
                    drop(a.span("a"));
                    drop(b.span("b"));
                    if i % 100 == 0 {
                        b.mark("b");
                    }
                }
            });
        }
    });
    for (tl, marks) in [(&a, 0), (&b, 40)] {
        let snap = tl.snapshot();
        assert_eq!(snap.span_count(), 4000);
        assert_eq!(snap.mark_count(), marks);
        assert_eq!(snap.threads_used(), 4);
        assert!(snap.count_per_thread().iter().all(|(_, n)| *n == 1000));
    }
}

#[test]
fn records_again_after_the_cache_entry_was_evicted() {
    // More timelines than a thread's cache holds: each use evicts another's entry.
    let timelines: Vec<Timeline> = (0..40).map(|_| Timeline::new()).collect();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for round in 0..5 {
                    for tl in &timelines {
                        drop(tl.span(format!("round {round}")));
                    }
                }
            });
        }
    });
    for tl in &timelines {
        let snap = tl.snapshot();
        assert_eq!(snap.span_count(), 10);
        assert_eq!(snap.threads_used(), 2);
        assert!(snap.count_per_thread().iter().all(|(_, n)| *n == 5));
    }
}

#[test]
fn a_timeline_moved_to_another_thread_numbers_threads_in_order() {
    let tl = Timeline::new();
    let tl2 = tl.clone();
    std::thread::Builder::new()
        .name("mover".into())
        .spawn(move || {
            drop(tl2.span("on mover"));
            let tl3 = tl2.clone();
            std::thread::Builder::new()
                .name("grandchild".into())
                .spawn(move || drop(tl3.span("on grandchild")))
                .unwrap()
                .join()
                .unwrap();
            drop(tl2.span("on mover again"));
        })
        .unwrap()
        .join()
        .unwrap();
    let snap = tl.snapshot();
    assert_eq!(snap.thread_names(), ["T2 mover", "T3 grandchild"]);
}
