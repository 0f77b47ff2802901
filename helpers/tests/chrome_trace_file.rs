//! A timeline recorded by real threads and a real future, written to a file with
//! `write_chrome_trace` as notebook 05 does, read back and parsed: the file is
//! valid JSON with one complete event per span and per poll, and its slices nest
//! on every thread, which Perfetto requires of JSON traces
//! (<https://perfetto.dev/docs/faq>: overlapping events on one thread are not
//! displayed correctly).

use helpers::timeline::Timeline;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

/// Pending on its first poll, ready on the second.
fn ready_on_second_poll() -> impl Future<Output = ()> + Send {
    let mut polled = false;
    std::future::poll_fn(move |_| {
        if polled {
            Poll::Ready(())
        } else {
            polled = true;
            Poll::Pending
        }
    })
}

/// One poll with a waker that does nothing (the test polls by hand).
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Three threads record spans (one nested in another); a task is polled once
/// on the test's thread and once on another thread, with a span inside each
/// poll; plus a mark.
fn record() -> Timeline {
    let tl = Timeline::new();
    thread::scope(|s| {
        for w in 0..3 {
            let tl = &tl;
            s.spawn(move || {
                for job in 0..4 {
                    let _outer = tl.span(format!("worker {w} job {job}"));
                    if job == 2 {
                        let _inner = tl.span("nested");
                        thread::sleep(Duration::from_micros(200));
                    }
                    thread::sleep(Duration::from_micros(300));
                }
            });
        }
    });
    tl.mark("spans done");
    let task = tl.instrument("moving task", {
        let tl = tl.clone();
        async move {
            drop(tl.span("inside the first poll"));
            ready_on_second_poll().await;
            drop(tl.span("inside the second poll"));
        }
    });
    let mut task = pin!(task);
    assert!(poll_once(task.as_mut()).is_pending()); // on this thread...
    thread::scope(|s| {
        s.spawn(|| assert!(poll_once(task.as_mut()).is_ready())); // ...then on another
    });
    tl
}

#[test]
fn chrome_trace_file_parses_with_one_event_per_span_and_poll() {
    let tl = record();
    let snap = tl.snapshot();
    // A folder that does not exist yet: write_chrome_trace creates it.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("chrome_trace_file_{}", std::process::id()));
    let path = dir.join("timelines").join("record.trace.json");
    snap.write_chrome_trace(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let json: Value = serde_json::from_str(&text).expect("the file is valid JSON");
    let events = json["traceEvents"].as_array().expect("a traceEvents array");
    let of = |ph: &str, cat: &str| {
        events
            .iter()
            .filter(|e| e["ph"] == ph && (cat.is_empty() || e["cat"] == cat))
            .collect::<Vec<_>>()
    };

    // One complete event per span, one per poll; the rest one per mark or task.
    assert_eq!(snap.span_count(), 3 * 4 + 3 + 2);
    assert_eq!(of("X", "span").len(), snap.span_count());
    assert_eq!(of("X", "poll").len(), snap.poll_count());
    assert_eq!(snap.poll_count(), 2);
    assert_eq!(of("i", "").len(), snap.mark_count());
    assert_eq!(of("b", "").len(), snap.task_count());
    assert_eq!(of("e", "").len(), snap.task_count());

    // The span events carry exactly the recorded labels.
    let mut labels: Vec<&str> = of("X", "span")
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    labels.sort_unstable();
    let mut wanted: Vec<String> = (0..3)
        .flat_map(|w| (0..4).map(move |j| format!("worker {w} job {j}")))
        .chain(["nested"; 3].map(String::from))
        .chain(["inside the first poll", "inside the second poll"].map(String::from))
        .collect();
    wanted.sort_unstable();
    assert_eq!(labels, wanted);

    // Every slice sits on a thread that has a name, and the task's two polls
    // are on two different threads.
    let named: BTreeMap<u64, &str> = of("M", "")
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        named.len(),
        5,
        "three workers, the test's thread and the second poller"
    );
    let slices = of("X", "");
    assert!(
        slices
            .iter()
            .all(|e| named.contains_key(&e["tid"].as_u64().unwrap()))
    );
    let poll_tids: Vec<u64> = of("X", "poll")
        .iter()
        .map(|e| e["tid"].as_u64().unwrap())
        .collect();
    assert_ne!(poll_tids[0], poll_tids[1]);

    // Slices span no more than the timeline's wall time, and nest on each
    // thread (what Perfetto needs).
    let mut by_tid: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    for e in &slices {
        let (ts, dur) = (e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap());
        assert!(ts >= 0.0 && dur >= 0.0, "{e}");
        by_tid
            .entry(e["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, ts + dur));
    }
    let all = by_tid.values().flatten();
    let first = all.clone().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let last = all.map(|s| s.1).fold(0.0, f64::max);
    assert!(last - first <= snap.wall().as_secs_f64() * 1e6 + 0.001);
    for (tid, mut spans) in by_tid {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut open: Vec<f64> = Vec::new();
        for (start, end) in spans {
            while open.last().is_some_and(|&e| e <= start) {
                open.pop();
            }
            if let Some(&outer_end) = open.last() {
                assert!(
                    end <= outer_end,
                    "T{tid}: a slice overlaps its neighbour without nesting"
                );
            }
            open.push(end);
        }
    }
}
