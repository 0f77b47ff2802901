//! What recording a span costs, compared with reading the clock.
//!
//! A span needs two clock reads (start and end), so `span_ns / (2 * clock_ns)`
//! is 1.0 for a free recorder; the course wants at most 1.5. Two threads recording
//! into one timeline at once must cost about what one does (`two_thread_ratio`
//! close to 1, at most 1.2): the recorder must not serialise the threads it
//! watches.
//!
//! Run with `cargo bench -p helpers --bench recorder`. Prints one line:
//! `recorder: span_ns=<f> clock_ns=<f> ratio=<f> two_thread_ratio=<f>`.
//!
//! Every figure is the median over rounds; each round measures everything back to
//! back, so drift hits all figures alike. Each batch records into a fresh
//! timeline, so memory stays bounded.
//!
//! Two threads can only be compared with one on an otherwise idle machine: if
//! another process keeps a core busy, our two threads share the other one and
//! each takes twice as long, recorder or not. So each round also times two
//! threads reading the clock with no recorder at all, before and after; a round
//! counts only if that control ran at single-thread speed (the control measures the
//! machine, never the recorder, so it cannot hide a recorder that serialises).

use helpers::timeline::Timeline;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Spans per thread per batch: 100k spans are about 6 MB of events.
const BATCH: usize = 100_000;
/// Rounds wanted on a quiet machine.
const ROUNDS: usize = 31;
/// Give up waiting for quiet rounds after this long and use every round.
const PATIENCE: Duration = Duration::from_secs(40);
/// A round is quiet if two threads read the clock at most this much slower than
/// one.
const QUIET: f64 = 1.08;

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `f` on `threads` threads started together; their mean result.
fn on_threads(threads: usize, f: impl Fn() -> f64 + Sync) -> f64 {
    let start = Barrier::new(threads);
    let total: f64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (f, start) = (&f, &start);
                s.spawn(move || {
                    start.wait();
                    f()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    total / threads as f64
}

/// Nanoseconds per `Instant::now()`, over about as long as a span batch takes.
fn clock_batch() -> f64 {
    let n = 2 * BATCH;
    let t = Instant::now();
    for _ in 0..n {
        black_box(Instant::now());
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

/// Nanoseconds per span, averaged over `threads` threads recording at once into
/// one fresh timeline.
fn span_batch(threads: usize) -> f64 {
    let tl = Timeline::new();
    let ns = on_threads(threads, || {
        // Not timed: the first span registers the thread, and the barrier
        // lines the threads up again.
        drop(tl.span("warm-up"));
        let t = Instant::now();
        for _ in 0..BATCH {
            drop(tl.span("x"));
        }
        t.elapsed().as_nanos() as f64 / BATCH as f64
    });
    black_box(tl);
    ns
}

fn main() {
    // Warm up caches, the allocator and the CPU's clock, and check that nothing
    // was lost on the way.
    clock_batch();
    span_batch(1);
    let tl = Timeline::new();
    on_threads(2, || {
        for _ in 0..BATCH {
            drop(tl.span("x"));
        }
        0.0
    });
    assert_eq!(tl.snapshot().span_count(), 2 * BATCH, "lost spans");

    let (mut quiet, mut all) = (Vec::new(), Vec::new());
    let began = Instant::now();
    while quiet.len() < ROUNDS && began.elapsed() < PATIENCE {
        let clock1 = clock_batch();
        let span1 = span_batch(1);
        // The controls bracket the two-thread batch as tightly as possible.
        let control_before = on_threads(2, clock_batch) / clock1;
        let span2 = span_batch(2);
        let control_after = on_threads(2, clock_batch) / clock_batch();
        let round = [clock1, span1, span2];
        if control_before.max(control_after) <= QUIET {
            quiet.push(round);
        }
        all.push(round);
    }
    let rounds = if quiet.len() >= 3 {
        &quiet
    } else {
        eprintln!(
            "recorder: warning: the machine was busy ({} of {} rounds quiet): \
             two_thread_ratio includes other processes' load",
            quiet.len(),
            all.len()
        );
        &all
    };
    let col = |i: usize| median(&rounds.iter().map(|r| r[i]).collect::<Vec<_>>());
    let (clock_ns, span_ns, two_ns) = (col(0), col(1), col(2));
    println!(
        "recorder: span_ns={span_ns:.1} clock_ns={clock_ns:.1} ratio={:.2} \
         two_thread_ratio={:.2}",
        span_ns / (2.0 * clock_ns),
        two_ns / span_ns
    );
}
