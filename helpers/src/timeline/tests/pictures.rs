//! SVG, text and Chrome trace pictures of snapshots built from explicit times.

use super::*;

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
