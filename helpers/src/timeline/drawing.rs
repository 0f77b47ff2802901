//! What a chart shows, before any format draws it: rows, the items on them,
//! the time range, thin bars merged, the facts line and the legend. The SVG
//! chart ([`super::svg`]) and the text chart ([`super::text`]) both draw from
//! this one model, so they always agree on what is there.

use super::snapshot::{Snapshot, TaskState};
use crate::fmt::{fmt_duration, plural};
use std::collections::HashMap;

/// Which rows a chart has.
///
/// # Examples
///
/// ```
/// use helpers::timeline::{Layout, Timeline};
/// let tl = Timeline::new();
/// drop(tl.span("work"));
/// let by_task = tl.snapshot().to_svg(Layout::ByTask);
/// let by_thread = tl.snapshot().to_svg(Layout::ByThread);
/// assert!(by_task.contains(">work<") && by_thread.contains(">T1 main<"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Layout {
    /// One row per task, span or mark label, in order of first appearance. A
    /// task's lifetime is a thin grey line behind the coloured polls, so the gaps
    /// where it waited at an `.await` show.
    #[default]
    ByTask,
    /// One row per OS thread: what each thread was doing, when.
    ByThread,
}

/// Rows beyond this many are summarised in one "... N more rows" line.
pub(super) const MAX_ROWS: usize = 60;

/// Threads beyond this many are summarised in one legend entry.
const MAX_LEGEND_THREADS: usize = 16;

/// The narrowest bar drawn, in pixels.
const MIN_W: f64 = 3.0;
/// Adjacent bars are merged unless both are at least this wide (pixels).
const NARROW: f64 = 4.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    /// A task's lifetime: drawn first, behind its polls.
    Life,
    Span,
    Poll,
    Mark,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Life, Kind::Span, Kind::Poll, Kind::Mark];

    pub(super) fn noun(self) -> &'static str {
        match self {
            Kind::Life => "task",
            Kind::Span => "span",
            Kind::Poll => "poll",
            Kind::Mark => "mark",
        }
    }
}

/// A set of [`Kind`]s: which kinds of item a merged bar holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Kinds(u8);

impl Kinds {
    fn bit(kind: Kind) -> u8 {
        1 << kind as u8
    }

    fn insert(&mut self, kind: Kind) {
        self.0 |= Kinds::bit(kind);
    }

    fn contains(self, kind: Kind) -> bool {
        self.0 & Kinds::bit(kind) != 0
    }

    /// The nouns of the kinds in the set, in [`Kind`] order.
    pub(super) fn nouns(self) -> Vec<&'static str> {
        Kind::ALL
            .into_iter()
            .filter(|k| self.contains(*k))
            .map(Kind::noun)
            .collect()
    }
}

/// One thing to draw, before merging.
pub(super) struct Item<'a> {
    pub row: usize,
    pub kind: Kind,
    /// Colour key: the thread (unused for a lifetime, whose state is its style).
    pub thread: usize,
    pub state: Option<TaskState>,
    /// Nesting depth on the row (ByThread: spans inside spans are drawn inset).
    pub depth: usize,
    pub start: u64,
    pub end: u64,
    pub label: &'a str,
}

impl<'a> Item<'a> {
    /// An item on row 0 at nesting depth 0 with no task state.
    fn new(
        kind: Kind,
        thread: usize,
        (start, end): (u64, u64),
        label: &'a str,
    ) -> Self {
        Item {
            row: 0,
            kind,
            thread,
            state: None,
            depth: 0,
            start,
            end,
            label,
        }
    }
}

/// Items of one row and style, close enough on screen to be drawn as one.
pub(super) struct Merged<'a> {
    pub first: &'a Item<'a>,
    /// Left and right edges, in pixels.
    pub x0: f64,
    pub x1: f64,
    pub start: u64,
    pub end: u64,
    pub count: usize,
    /// The first few distinct labels merged; `more` if there were others.
    labels: Vec<&'a str>,
    more: bool,
    pub kinds: Kinds,
}

impl<'a> Merged<'a> {
    fn new(first: &'a Item<'a>, x0: f64, x1: f64) -> Merged<'a> {
        let mut kinds = Kinds::default();
        kinds.insert(first.kind);
        Merged {
            first,
            x0,
            x1,
            start: first.start,
            end: first.end,
            count: 1,
            labels: vec![first.label],
            more: false,
            kinds,
        }
    }

    /// Takes in `it`, whose right edge is `x1`.
    fn absorb(&mut self, it: &'a Item<'a>, x1: f64) {
        self.x1 = self.x1.max(x1);
        self.end = self.end.max(it.end);
        self.count += 1;
        if !self.labels.contains(&it.label) {
            if self.labels.len() < 3 {
                self.labels.push(it.label);
            } else {
                self.more = true;
            }
        }
        self.kinds.insert(it.kind);
    }

    pub(super) fn same_label(&self) -> bool {
        self.labels.len() == 1 && !self.more
    }

    /// `a`, or `a, b, c, …` for merged bars of several labels.
    pub(super) fn label(&self) -> String {
        let mut s = self.labels.join(", ");
        if self.more {
            s.push_str(", …");
        }
        s
    }
}

/// An entry of the legend: a symbol a chart draws, explained in words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Key {
    /// The colour (or digit) of one thread.
    Thread(usize),
    /// This many more threads, not listed.
    MoreThreads(usize),
    /// A task alive but not running: waiting at an `.await`.
    Alive,
    /// A task dropped before completing.
    Dropped,
    /// A task still running when the snapshot was taken.
    Running,
    Mark,
}

impl Key {
    /// What the symbol means, in the words both charts print.
    pub(super) fn words(self, snap: &Snapshot) -> String {
        match self {
            Key::Thread(t) => snap.thread_label(t),
            Key::MoreThreads(n) => format!("… {n} more threads"),
            Key::Alive => "task alive, not running (awaiting)".into(),
            Key::Dropped => "task dropped before completing".into(),
            Key::Running => "task still running".into(),
            Key::Mark => "mark".into(),
        }
    }
}

/// What to draw, row by row, and the time range.
pub(super) struct Drawing<'a> {
    pub snap: &'a Snapshot,
    pub layout: Layout,
    /// Row labels, in display order.
    pub rows: Vec<String>,
    /// For ByThread: the thread of each row.
    pub row_threads: Vec<usize>,
    pub items: Vec<Item<'a>>,
    /// First start and last end, ns since the epoch; at least 1 µs apart.
    pub t0: u64,
    pub t1: u64,
}

impl<'a> Drawing<'a> {
    pub(super) fn new(snap: &'a Snapshot, layout: Layout) -> Drawing<'a> {
        let mut d = Drawing {
            snap,
            layout,
            rows: Vec::new(),
            row_threads: Vec::new(),
            items: Vec::new(),
            t0: u64::MAX,
            t1: 0,
        };
        match layout {
            Layout::ByTask => d.by_task(),
            Layout::ByThread => d.by_thread(),
        }
        for it in &d.items {
            d.t0 = d.t0.min(it.start);
            d.t1 = d.t1.max(it.end);
        }
        // At least a microsecond, so that a lone instant still has an axis.
        d.t1 = d.t1.max(d.t0 + 1_000);
        d
    }

    /// The rows shown; the others are summarised.
    pub(super) fn shown_rows(&self) -> usize {
        self.rows.len().min(MAX_ROWS)
    }

    /// Spans, polls (labelled by their task) and marks, each on row 0.
    fn events(&self) -> impl Iterator<Item = Item<'a>> + use<'a> {
        let snap = self.snap;
        let spans = snap
            .spans
            .iter()
            .map(|s| Item::new(Kind::Span, s.thread, (s.start, s.end), &s.label));
        let polls = snap.polls.iter().map(|q| {
            let label = &snap.tasks[q.task].label;
            Item::new(Kind::Poll, q.thread, (q.start, q.end), label)
        });
        let marks = snap
            .marks
            .iter()
            .map(|m| Item::new(Kind::Mark, m.thread, (m.at, m.at), &m.label));
        spans.chain(polls).chain(marks)
    }

    fn by_task(&mut self) {
        let snap = self.snap;
        // Rows in order of first appearance of their label.
        let mut firsts: Vec<(u64, &str)> = Vec::new();
        firsts.extend(snap.spans.iter().map(|s| (s.start, s.label.as_ref())));
        firsts.extend(snap.tasks.iter().map(|t| (t.start, t.label.as_ref())));
        firsts.extend(snap.marks.iter().map(|m| (m.at, m.label.as_ref())));
        firsts.sort();
        let mut row_of: HashMap<&str, usize> = HashMap::new();
        for (_, label) in firsts {
            if !row_of.contains_key(label) {
                row_of.insert(label, self.rows.len());
                self.rows.push(label.to_string());
            }
        }
        let lives = snap.tasks.iter().map(|t| Item {
            state: Some(t.state),
            ..Item::new(Kind::Life, 0, (t.start, t.end), &t.label)
        });
        for mut it in self.events().chain(lives) {
            it.row = row_of[it.label];
            self.items.push(it);
        }
    }

    fn by_thread(&mut self) {
        let snap = self.snap;
        let mut per: Vec<Vec<Item<'a>>> =
            (0..snap.threads.len()).map(|_| vec![]).collect();
        for it in self.events() {
            per[it.thread].push(it);
        }
        for (thread, mut items) in per.into_iter().enumerate() {
            if items.is_empty() {
                continue;
            }
            let row = self.rows.len();
            self.rows.push(snap.thread_label(thread));
            self.row_threads.push(thread);
            // Nesting depth: outer spans first, then a stack of open ends.
            items.sort_by_key(|it| (it.start, std::cmp::Reverse(it.end)));
            let mut open: Vec<u64> = Vec::new();
            for it in &mut items {
                it.row = row;
                if it.kind == Kind::Mark {
                    continue;
                }
                while open.last().is_some_and(|&end| end <= it.start) {
                    open.pop();
                }
                it.depth = open.len();
                open.push(it.end);
            }
            self.items.extend(items);
        }
    }

    /// Merges items of the same row and style that are less than a pixel apart,
    /// where `x` places a time (ns since the epoch) in pixels. Everything is at
    /// least `MIN_W` pixels wide, so short bars stay visible.
    pub(super) fn merged(&self, x: impl Fn(u64) -> f64) -> Vec<Merged<'_>> {
        let mut order: Vec<&Item<'_>> =
            self.items.iter().filter(|it| it.row < MAX_ROWS).collect();
        order.sort_by_key(|it| {
            (
                it.row,
                it.kind,
                it.state.map(|s| s as u8),
                it.thread,
                it.depth,
                it.start,
            )
        });
        let mut out: Vec<Merged<'_>> = Vec::new();
        let mut prev: Option<&Item<'_>> = None;
        for it in order {
            let x0 = x(it.start);
            let x1 = x(it.end).max(x0 + MIN_W);
            let same_style = prev.is_some_and(|p| {
                (p.row, p.kind, p.state, p.thread, p.depth)
                    == (it.row, it.kind, it.state, it.thread, it.depth)
            });
            // Merge what would touch on screen, unless both are wide enough to be
            // told apart (then the white outline shows where one ends). Wide bars
            // are few per row, so the number of rectangles stays bounded.
            let mergeable = |m: &Merged<'_>| {
                x0 - m.x1 < 1.0 && (m.x1 - m.x0 < NARROW || x1 - x0 < NARROW)
            };
            match out.last_mut() {
                Some(m) if same_style && mergeable(m) => m.absorb(it, x1),
                _ => out.push(Merged::new(it, x0, x1)),
            }
            prev = Some(it);
        }
        out
    }

    /// The legend: the threads seen in the picture (at most 16 listed), then
    /// the other symbols the picture uses.
    pub(super) fn legend(&self) -> Vec<Key> {
        let mut threads: Vec<usize> = self
            .items
            .iter()
            .filter(|it| it.kind != Kind::Life)
            .map(|it| it.thread)
            .collect();
        threads.sort_unstable();
        threads.dedup();
        let mut keys: Vec<Key> = threads
            .iter()
            .take(MAX_LEGEND_THREADS)
            .map(|&t| Key::Thread(t))
            .collect();
        if threads.len() > MAX_LEGEND_THREADS {
            keys.push(Key::MoreThreads(threads.len() - MAX_LEGEND_THREADS));
        }
        let has = |k: Kind| self.items.iter().any(|it| it.kind == k);
        let has_state = |state| {
            self.items
                .iter()
                .any(|it| it.kind == Kind::Life && it.state == Some(state))
        };
        if has(Kind::Life) {
            keys.push(Key::Alive);
        }
        if has_state(TaskState::Cancelled) {
            keys.push(Key::Dropped);
        }
        if has_state(TaskState::Running) {
            keys.push(Key::Running);
        }
        if has(Kind::Mark) {
            keys.push(Key::Mark);
        }
        keys
    }
}

/// The facts line above both charts: wall time, threads, concurrency,
/// parallelism and what was recorded.
pub(super) fn facts(snap: &Snapshot) -> String {
    let mut parts = vec![
        format!("wall {}", fmt_duration(snap.wall())),
        format!("{} used", plural(snap.threads_used(), "thread")),
        format!("max concurrent {}", snap.max_concurrent()),
        format!("max parallel {}", snap.max_parallel()),
    ];
    let mut counts = Vec::new();
    if !snap.spans.is_empty() {
        counts.push(plural(snap.spans.len(), "span"));
    }
    if !snap.tasks.is_empty() {
        counts.push(format!(
            "{} ({})",
            plural(snap.tasks.len(), "task"),
            plural(snap.polls.len(), "poll")
        ));
    }
    if !snap.marks.is_empty() {
        counts.push(plural(snap.marks.len(), "mark"));
    }
    parts.push(counts.join(", "));
    parts.join("  ·  ")
}

/// A 1-2-5 tick step giving about eight ticks over `range`, and the decimals its
/// labels need.
pub(super) fn nice_step(range: f64) -> (f64, usize) {
    let raw = (range / 8.0).max(1e-9);
    let exp = raw.log10().floor();
    let mag = 10f64.powf(exp);
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    (step, decimals)
}
