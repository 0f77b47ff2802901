//! Unit tests. Facts and pictures are checked on snapshots built from explicit
//! times (real clocks make exact expectations impossible); the recorder is
//! checked with real threads and a hand-written executor.

use super::drawing::nice_step;
use super::snapshot::{
    MarkRec, Parts, RawPoll, SpanRec, TaskEnd, TaskStart, max_overlap, union,
};
use super::*;
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
        self.0.polls.push(RawPoll {
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

#[test]
fn joined_timers_are_concurrent_not_parallel() {
    let s = five_timers();
    assert_eq!(s.max_concurrent(), 5);
    assert_eq!(s.max_parallel(), 1);
    assert_eq!(s.threads_used(), 1);
    assert_eq!(s.thread_names(), ["T1 main"]);
    assert_eq!(s.task_count(), 5);
    assert_eq!(s.poll_count(), 10);
    assert_eq!(s.segments("timer 3"), Some(2));
    assert_eq!(s.segments("timer 9"), None);
    assert!(!s.resumed_on_other_thread("timer 0"));
    assert!(!s.was_cancelled("timer 0"));
    assert_eq!(s.wall(), Duration::from_nanos(104 * MS + 10));
    assert_eq!(
        s.task_lifetime("timer 2"),
        Some(Duration::from_nanos(102 * MS + 10))
    );
    assert_eq!(s.len(), 5);
}

#[test]
fn touching_intervals_do_not_overlap() {
    let s = Build::new(&["main", "a", "b"])
        .span("first", 2, 0, 10)
        .span("second", 3, 10, 20)
        .build();
    assert_eq!(s.max_concurrent(), 1);
    assert_eq!(s.max_parallel(), 1);
    assert_eq!(s.threads_used(), 2);
    let s = Build::new(&["main", "a", "b"])
        .span("first", 2, 0, 11)
        .span("second", 3, 10, 20)
        .build();
    assert_eq!(s.max_concurrent(), 2);
    assert_eq!(s.max_parallel(), 2);
}

#[test]
fn nested_spans_are_concurrent_but_one_thread_is_not_parallel() {
    let s = Build::new(&["main"])
        .span("outer", 1, 0, 100)
        .span("inner", 1, 10, 20)
        .span("inner", 1, 30, 40)
        .build();
    assert_eq!(s.max_concurrent(), 2);
    assert_eq!(s.max_parallel(), 1);
    assert_eq!(s.busy(1), Some(Duration::from_nanos(100)));
    assert_eq!(s.busy(2), None);
    assert_eq!(s.busy(0), None);
    assert_eq!(s.span_duration("inner"), Some(Duration::from_nanos(20)));
    assert_eq!(s.span_duration("outer"), Some(Duration::from_nanos(100)));
    assert_eq!(s.span_duration("nope"), None);
    assert_eq!(s.count_per_thread(), [("T1 main".to_string(), 3)]);
}

#[test]
fn busy_and_counts_per_thread() {
    let s = Build::new(&["main", "w", "w"])
        .span("a", 2, 0, 10)
        .span("b", 2, 5, 30)
        .span("c", 3, 0, 7)
        .task(1, "t", 0, Some((100, true)))
        .poll(1, 3, 50, 60)
        .mark("m", 1, 5)
        .build();
    assert_eq!(
        s.busy_per_thread(),
        [
            ("T2 w".to_string(), Duration::from_nanos(30)),
            ("T3 w".to_string(), Duration::from_nanos(17)),
        ]
    );
    assert_eq!(
        s.count_per_thread(),
        [("T2 w".to_string(), 2), ("T3 w".to_string(), 2)]
    );
    assert_eq!(s.threads_used(), 2, "marks do not make a thread used");
    assert_eq!(s.thread_names(), ["T2 w", "T3 w"]);
    assert_eq!(s.wall(), Duration::from_nanos(100));
    assert_eq!(s.len(), 5);
    assert_eq!(s.mark_count(), 1);
}

#[test]
fn task_moving_between_threads() {
    let s = Build::new(&["main", "worker", "worker"])
        .task(7, "download", 0, Some((100, true)))
        .poll(7, 2, 0, 10)
        .poll(7, 3, 40, 50)
        .poll(7, 2, 90, 100)
        .task(8, "local", 0, Some((100, true)))
        .poll(8, 2, 10, 20)
        .poll(8, 2, 60, 70)
        .build();
    assert!(s.resumed_on_other_thread("download"));
    assert!(!s.resumed_on_other_thread("local"));
    assert_eq!(s.threads_of("download"), ["T2 worker", "T3 worker"]);
    assert_eq!(s.threads_of("local"), ["T2 worker"]);
    assert_eq!(s.segments("download"), Some(3));
    assert_eq!(s.max_parallel(), 1);
    assert_eq!(s.max_concurrent(), 2);
}

#[test]
fn interleaved_polls_of_two_tasks_are_not_resumptions() {
    // Task 1 stays on T2 while task 2 (same label) stays on T3.
    let s = Build::new(&["main", "a", "b"])
        .task(1, "job", 0, Some((100, true)))
        .task(2, "job", 0, Some((100, true)))
        .poll(1, 2, 0, 10)
        .poll(2, 3, 5, 15)
        .poll(1, 2, 20, 30)
        .poll(2, 3, 25, 35)
        .build();
    assert!(!s.resumed_on_other_thread("job"));
    assert_eq!(s.segments("job"), Some(4));
    assert_eq!(s.max_parallel(), 2);
}

#[test]
fn cancelled_and_running_tasks() {
    let s = Build::new(&["main"])
        .task(1, "dropped", 0, Some((50, false)))
        .poll(1, 1, 0, 10)
        .task(2, "running", 20, None)
        .span("s", 1, 0, 30)
        .taken_at(500)
        .build();
    assert!(s.was_cancelled("dropped"));
    assert!(!s.was_cancelled("running"));
    assert_eq!(s.task_lifetime("running"), Some(Duration::from_nanos(480)));
    assert_eq!(s.wall(), Duration::from_nanos(500));
}

#[test]
#[should_panic(expected = "no task labelled \"typo\"")]
fn unknown_task_label_panics_clearly() {
    five_timers().resumed_on_other_thread("typo");
}

#[test]
fn events_of_unknown_tasks_wait_for_the_next_snapshot() {
    let s = Build::new(&["main"])
        .poll(99, 1, 0, 10)
        .span("s", 1, 0, 5)
        .build();
    assert_eq!(s.poll_count(), 0);
    assert_eq!(s.threads_used(), 1);
}

#[test]
fn overlap_sweep_is_exact() {
    assert_eq!(max_overlap([(0, 10), (10, 20), (20, 30)].into_iter()), 1);
    assert_eq!(max_overlap([(0, 10), (9, 20), (19, 30)].into_iter()), 2);
    assert_eq!(max_overlap([(0, 10), (0, 10), (0, 10)].into_iter()), 3);
    assert_eq!(max_overlap([(5, 5), (5, 5)].into_iter()), 0, "empty");
    assert_eq!(max_overlap([(0, 10), (5, 5)].into_iter()), 1);
    assert_eq!(max_overlap(std::iter::empty()), 0);
    assert_eq!(
        union(vec![(5, 9), (0, 3), (3, 4), (8, 12)]),
        [(0, 4), (5, 12)]
    );
}

#[test]
fn axis_steps_are_1_2_5() {
    assert_eq!(nice_step(100.0), (20.0, 0));
    assert_eq!(nice_step(8.0), (1.0, 0));
    let (step, decimals) = nice_step(0.4);
    assert!((step - 0.05).abs() < 1e-12 && decimals == 2);
    assert_eq!(nice_step(3.0).1, 1);
}

// ---- pictures ----------------------------------------------------------------

fn mixed() -> Snapshot {
    Build::new(&["main", "tokio-rt-worker", "tokio-rt-worker"])
        .task(1, "download 1", 0, Some((30 * MS, true)))
        .poll(1, 2, 0, MS)
        .poll(1, 3, 20 * MS, 30 * MS)
        .task(2, "download 2", MS, Some((25 * MS, false)))
        .poll(2, 2, MS, 2 * MS)
        .task(3, "forever", 2 * MS, None)
        .span("parse", 2, 5 * MS, 9 * MS)
        .span("parse inner", 2, 6 * MS, 7 * MS)
        .mark("tick", 1, 10 * MS)
        .taken_at(40 * MS)
        .build()
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("bad SVG: {e}\n{svg}"))
}

fn count_rects(svg: &str) -> usize {
    parse(svg)
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .count()
}

fn texts(doc: &roxmltree::Document<'_>, tag: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

#[test]
fn svg_is_well_formed_in_both_layouts() {
    let s = mixed();
    for layout in [Layout::ByTask, Layout::ByThread] {
        let svg = s.to_svg(layout);
        let doc = parse(&svg);
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let text = texts(&doc, "text").join("|");
        for thread in ["T1 main", "T2 tokio-rt-worker", "T3 tokio-rt-worker"] {
            assert!(text.contains(thread), "{layout:?}: legend lacks {thread}");
        }
        assert!(text.contains("time since the first event (ms)"));
        assert!(text.contains("max concurrent"));
    }
    let by_task = parse(&s.to_svg(Layout::ByTask))
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect::<Vec<_>>();
    for row in ["download 1", "download 2", "forever", "parse", "tick"] {
        assert!(by_task.iter().any(|t| t == row), "no row {row}");
    }
    let svg = s.to_svg(Layout::ByTask);
    assert!(svg.contains("task alive, not running"));
    assert!(svg.contains("dropped before completing"));
    assert!(svg.contains("still running"));
}

#[test]
fn labels_are_escaped_and_tooltips_keep_full_text() {
    let nasty = "<script>&\"'";
    let long = "a very long label that will certainly not fit in the column";
    let s = Build::new(&["ma<in>"])
        .span(nasty, 1, 0, 10)
        .span(long, 1, 10_000, 10_010)
        .build();
    for layout in [Layout::ByTask, Layout::ByThread] {
        let svg = s.to_svg(layout);
        let doc = parse(&svg);
        let titles = texts(&doc, "title").join("\n");
        assert!(titles.contains(nasty), "{layout:?}: {titles}");
        let all = texts(&doc, "text").join("\n");
        assert!(all.contains("T1 ma<in>"));
        if layout == Layout::ByTask {
            assert!(all.lines().any(|t| t == nasty));
            assert!(titles.lines().any(|t| t == long));
            let short = all.lines().find(|t| t.contains('…')).unwrap();
            let (head, tail) = short.split_once('…').unwrap();
            assert!(long.starts_with(head) && long.ends_with(tail), "{short}");
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&s.to_chrome_trace()).unwrap();
    let names: Vec<&str> = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [nasty, long]);
}

#[test]
fn control_characters_survive_every_format() {
    let label = "tab\tnew\nline\u{1}\u{1f}";
    let s = Build::new(&["main"]).span(label, 1, 0, 10).build();
    parse(&s.to_svg(Layout::ByTask));
    parse(&s.to_svg(Layout::ByThread));
    let json: serde_json::Value =
        serde_json::from_str(&s.to_chrome_trace()).unwrap();
    let x = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["ph"] == "X")
        .unwrap()
        .clone();
    assert_eq!(x["name"], label);
}

#[test]
fn empty_timeline_renders_a_clear_picture() {
    let s = Build::new(&["main"]).build();
    assert!(s.is_empty());
    assert_eq!(s.wall(), Duration::ZERO);
    assert_eq!(s.max_concurrent(), 0);
    assert_eq!(s.max_parallel(), 0);
    assert_eq!(s.threads_used(), 0);
    for layout in [Layout::ByTask, Layout::ByThread] {
        let svg = s.to_svg(layout);
        let doc = parse(&svg);
        assert!(
            texts(&doc, "text")
                .iter()
                .any(|t| t == "no events recorded")
        );
    }
    assert_eq!(s.to_text(), "(no events recorded)\n");
    let json: serde_json::Value =
        serde_json::from_str(&s.to_chrome_trace()).unwrap();
    assert!(
        json["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["ph"] == "M")
    );
    // A real, fresh timeline too.
    let tl = Timeline::new();
    parse(&tl.snapshot().to_svg(Layout::ByTask));
    assert_eq!(tl.threads_used(), 0);
}

#[test]
fn single_mark_or_zero_length_span_still_draws() {
    let s = Build::new(&["main"]).mark("only", 1, 5).build();
    parse(&s.to_svg(Layout::ByTask));
    assert!(s.to_text().contains('*'));
    let s = Build::new(&["main"]).span("instant", 1, 7, 7).build();
    let svg = s.to_svg(Layout::ByTask);
    assert!(count_rects(&svg) >= 2);
    assert!(s.to_text().contains("instant |1"));
}

#[test]
fn chrome_trace_has_one_complete_event_per_span_and_poll() {
    let s = mixed();
    let json: serde_json::Value =
        serde_json::from_str(&s.to_chrome_trace()).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let of = |ph: &str| events.iter().filter(|e| e["ph"] == ph).count();
    assert_eq!(of("X"), s.span_count() + s.poll_count());
    assert_eq!(of("i"), s.mark_count());
    assert_eq!(of("b"), s.task_count());
    assert_eq!(of("e"), s.task_count());
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["T1 main", "T2 tokio-rt-worker", "T3 tokio-rt-worker"]
    );
    let poll = events
        .iter()
        .find(|e| e["ph"] == "X" && e["cat"] == "poll" && e["tid"] == 3)
        .unwrap();
    assert_eq!(poll["name"], "download 1");
    assert_eq!(poll["ts"].as_f64(), Some(20_000.0));
    assert_eq!(poll["dur"].as_f64(), Some(10_000.0));
    assert_eq!(poll["args"]["task"], 1);
    let end = events
        .iter()
        .find(|e| e["ph"] == "e" && e["name"] == "download 2")
        .unwrap();
    assert_eq!(end["args"]["outcome"], "cancelled");
}

#[test]
fn chrome_trace_times_are_exact_microseconds() {
    let s = Build::new(&["main"])
        .span("x", 1, 1_234_567, 1_234_568)
        .build();
    let trace = s.to_chrome_trace();
    assert!(trace.contains(r#""ts":1234.567,"dur":0.001"#), "{trace}");
}

#[test]
fn huge_timelines_draw_a_bounded_number_of_rects() {
    // 100k spans over 8 threads and 20 labels, plus 10k tasks polled 3 times.
    let mut b = Build::new(&["main", "w", "w", "w", "w", "w", "w", "w"]);
    let mut t = 0;
    for i in 0..100_000u64 {
        let thread = (i % 8) as usize + 1;
        let label = format!("label {}", i % 20);
        b = b.span(&label, thread, t, t + 700);
        t += 100 + (i * 7919) % 300;
    }
    for id in 0..10_000u64 {
        let start = id * 2_000;
        b = b
            .task(
                id + 1,
                &format!("task {}", id % 10),
                start,
                Some((start + 9_000, true)),
            )
            .poll(id + 1, 2, start, start + 100)
            .poll(id + 1, 3, start + 4_000, start + 4_100)
            .poll(id + 1, 4, start + 8_000, start + 8_100);
    }
    let s = b.build();
    for layout in [Layout::ByTask, Layout::ByThread] {
        let svg = s.to_svg(layout);
        let rects = count_rects(&svg);
        assert!(rects < 3_000, "{layout:?}: {rects} rects");
        assert!(svg.len() < 2_000_000, "{layout:?}: {} bytes", svg.len());
    }
    // Every event separated from the next by more than a pixel cannot merge,
    // but rows and pixels still bound the count.
    let mut b = Build::new(&["main"]);
    for i in 0..100_000u64 {
        b = b.span(&format!("row {}", i % 100), 1, i * 1000, i * 1000 + 1);
    }
    let svg = b.build().to_svg(Layout::ByTask);
    let rects = count_rects(&svg);
    assert!(rects < 60 * 800, "{rects} rects");
}

#[test]
fn rows_beyond_the_cap_are_summarised() {
    let mut b = Build::new(&["main"]);
    for i in 0..100u64 {
        b = b.span(&format!("job {i}"), 1, i * 10, i * 10 + 5);
    }
    let s = b.build();
    let svg = s.to_svg(Layout::ByTask);
    let doc = parse(&svg);
    let all = texts(&doc, "text");
    assert!(all.iter().any(|t| t == "job 59"));
    assert!(!all.iter().any(|t| t == "job 60"));
    assert!(
        all.iter().any(|t| t.starts_with("… 40 more rows")),
        "{all:?}"
    );
    assert!(s.to_text().contains("… 40 more rows"));
}

#[test]
fn text_chart_shows_threads_gaps_and_marks() {
    let s = Build::new(&["main", "worker", "worker"])
        .task(1, "dl", 0, Some((60 * MS, true)))
        .poll(1, 2, 0, 10 * MS)
        .poll(1, 3, 50 * MS, 60 * MS)
        .span("cpu", 1, 0, 30 * MS)
        .mark("tick", 1, 30 * MS)
        .task(2, "gone", 0, Some((20 * MS, false)))
        .build();
    let text = s.to_text();
    let rows: Vec<&str> = text.lines().collect();
    let row = |name: &str| {
        rows.iter()
            .find(|l| l.trim_start().starts_with(&format!("{name} |")))
            .unwrap_or_else(|| panic!("no row {name} in\n{text}"))
            .split('|')
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_eq!(
        row("dl"),
        format!("{}{}{}", "2".repeat(10), ".".repeat(40), "3".repeat(10))
    );
    assert_eq!(row("cpu"), format!("{}{}", "1".repeat(30), " ".repeat(30)));
    assert_eq!(row("tick").trim(), "*");
    assert_eq!(
        row("gone"),
        format!("{}x{}", ".".repeat(20), " ".repeat(39))
    );
    assert!(text.contains("2 = T2 worker"));
    assert!(text.contains(". = task alive, not running (awaiting)"));
    assert!(text.contains("x = task dropped before completing"));
    assert!(text.contains("0") && text.contains("60 ms"), "{text}");
}

#[test]
fn debug_output_is_short() {
    let s = five_timers();
    let d = format!("{s:?}");
    assert!(
        d.contains("tasks: 5") && d.contains("max_concurrent: 5"),
        "{d}"
    );
    let chart = s.chart(Layout::ByThread);
    assert!(format!("{chart:?}").contains("ByThread"));
}

// ---- the recorder --------------------------------------------------------------

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
