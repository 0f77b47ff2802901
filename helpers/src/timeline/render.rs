//! The SVG Gantt chart, and showing it inline in evcxr.
//!
//! The chart must stay readable (and small) however much was recorded: bars that
//! would be drawn less than a pixel apart in the same row and colour are merged
//! into one rectangle, and only the first [`MAX_ROWS`] rows are drawn.

use super::snapshot::{Snapshot, TaskState};
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io::{self, Write as _};
use std::path::Path;

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

/// A snapshot drawn with a chosen [`Layout`]; shows itself inline in evcxr.
///
/// Made by [`Timeline::by_thread`](super::Timeline::by_thread) or
/// [`Snapshot::chart`].
///
/// # Examples
///
/// ```
/// use helpers::timeline::{Layout, Timeline};
/// let tl = Timeline::new();
/// drop(tl.span("work"));
/// let chart = tl.snapshot().chart(Layout::ByThread);
/// assert!(chart.to_svg().ends_with("</svg>"));
/// ```
#[derive(Clone)]
pub struct Chart {
    snapshot: Snapshot,
    layout: Layout,
}

impl Chart {
    pub(super) fn new(snapshot: Snapshot, layout: Layout) -> Chart {
        Chart { snapshot, layout }
    }

    /// The chart as an SVG document.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("work"));
    /// assert!(tl.by_thread().to_svg().starts_with("<svg"));
    /// ```
    pub fn to_svg(&self) -> String {
        self.snapshot.to_svg(self.layout)
    }

    /// Shows the chart inline in an evcxr notebook (ending a cell with a `Chart`
    /// value calls this).
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("work"));
    /// tl.by_thread().evcxr_display();
    /// ```
    pub fn evcxr_display(&self) {
        emit_svg(&self.to_svg());
    }
}

impl fmt::Debug for Chart {
    /// Names the layout and summarises the snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// assert!(format!("{:?}", tl.by_thread()).starts_with("Chart { layout: ByThread"));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chart")
            .field("layout", &self.layout)
            .field("snapshot", &self.snapshot)
            .finish()
    }
}

/// What evcxr reads from stdout to show an SVG inline.
pub(super) fn evcxr_message(svg: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT image/svg+xml\n{svg}\nEVCXR_END_CONTENT\n")
}

/// Prints an SVG the way evcxr expects, in one write so that output from other
/// threads cannot land in the middle.
fn emit_svg(svg: &str) {
    let msg = evcxr_message(svg);
    let mut out = io::stdout().lock();
    let _ = out.write_all(msg.as_bytes());
    let _ = out.flush();
}

impl Snapshot {
    /// Draws the snapshot as an SVG Gantt chart.
    ///
    /// Bars are coloured by the OS thread that ran them (legend on top, with the
    /// main facts); the time axis is in milliseconds since the first event. Hover
    /// over a bar for its label, thread and times. Labels are truncated to fit,
    /// with the full text in the tooltip; bars closer than a pixel are merged and
    /// at most 60 rows are drawn, so huge timelines stay small.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::timeline::{Layout, Timeline};
    /// let tl = Timeline::new();
    /// drop(tl.span("<b>bold</b>"));
    /// let svg = tl.snapshot().to_svg(Layout::ByTask);
    /// assert!(svg.contains("&lt;b&gt;bold&lt;/b&gt;"), "labels are escaped");
    /// ```
    pub fn to_svg(&self, layout: Layout) -> String {
        if self.is_empty() {
            return empty_svg();
        }
        Drawing::new(self, layout).render()
    }

    /// Writes [`to_svg`](Snapshot::to_svg) to a file.
    ///
    /// # Errors
    ///
    /// Any error from creating or writing the file.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::timeline::{Layout, Timeline};
    /// let tl = Timeline::new();
    /// drop(tl.span("work"));
    /// let path = std::env::temp_dir().join("helpers_doc_timeline.svg");
    /// tl.snapshot().write_svg(&path, Layout::ByThread).unwrap();
    /// assert!(std::fs::read_to_string(&path).unwrap().starts_with("<svg"));
    /// ```
    pub fn write_svg(
        &self,
        path: impl AsRef<Path>,
        layout: Layout,
    ) -> io::Result<()> {
        std::fs::write(path, self.to_svg(layout))
    }

    /// This snapshot drawn with `layout`, as a value that shows itself in evcxr.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::timeline::{Layout, Timeline};
    /// let tl = Timeline::new();
    /// drop(tl.span("work"));
    /// let snap = tl.snapshot();
    /// assert_eq!(snap.chart(Layout::ByThread).to_svg(), snap.to_svg(Layout::ByThread));
    /// ```
    pub fn chart(&self, layout: Layout) -> Chart {
        Chart::new(self.clone(), layout)
    }

    /// Shows the by-task chart inline in an evcxr notebook (ending a cell with a
    /// `Snapshot` value calls this).
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("work"));
    /// tl.snapshot().evcxr_display(); // prints EVCXR_BEGIN_CONTENT image/svg+xml ...
    /// ```
    pub fn evcxr_display(&self) {
        emit_svg(&self.to_svg(Layout::ByTask));
    }
}

/// Rows beyond this many are summarised in one "... N more rows" line.
pub(super) const MAX_ROWS: usize = 60;

/// Drawn width in pixels. Narrow enough to fit a notebook's output area at its
/// usual width (JupyterLab's flex output rows do not shrink a wider picture, and
/// nbconvert's HTML shows it as an image at its own size); the SVG also carries a
/// viewBox and `max-width:100%` so it scales down where the page allows it.
const WIDTH: f64 = 840.0;
/// Width of the row-label column on the left.
const LABEL_W: f64 = 170.0;
const RIGHT: f64 = 28.0;
const PLOT_X: f64 = LABEL_W;
const PLOT_W: f64 = WIDTH - LABEL_W - RIGHT;
/// Estimated width of one character at font-size 12 (labels are truncated by it).
const CHAR_W: f64 = 6.8;
const LABEL_CHARS: usize = 23;
/// The narrowest bar drawn, in pixels.
const MIN_W: f64 = 3.0;
/// Adjacent bars are merged unless both are at least this wide (pixels).
const NARROW: f64 = 4.0;
const FONT: &str = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, \
                    sans-serif";

/// Okabe-Ito's colourblind-safe palette (yellow moved late: weak on white), then
/// two more. Each entry: fill, and the text colour readable on it.
const PALETTE: [(&str, &str); 10] = [
    ("#0072B2", "#fff"),
    ("#E69F00", "#000"),
    ("#009E73", "#fff"),
    ("#CC79A7", "#000"),
    ("#56B4E9", "#000"),
    ("#D55E00", "#fff"),
    ("#F0E442", "#000"),
    ("#7F7F7F", "#fff"),
    ("#8C564B", "#fff"),
    ("#1B1B1B", "#fff"),
];
const LIFE_COLOUR: &str = "#bdbdbd";
const CANCEL_COLOUR: &str = "#b2182b";

fn colour(thread: usize) -> (&'static str, &'static str) {
    PALETTE[thread % PALETTE.len()]
}

fn empty_svg() -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"420\" height=\"64\" \
         viewBox=\"0 0 420 64\" font-family=\"{FONT}\" font-size=\"13\">\
         <rect x=\"0.5\" y=\"0.5\" width=\"419\" height=\"63\" rx=\"6\" fill=\"#fafafa\" \
         stroke=\"#ccc\"/>\
         <text x=\"210\" y=\"28\" text-anchor=\"middle\" fill=\"#333\">\
         no events recorded</text>\
         <text x=\"210\" y=\"47\" text-anchor=\"middle\" fill=\"#888\" font-size=\"11\">\
         record with tl.span(..), tl.mark(..) or tl.instrument(..)</text></svg>"
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    /// A task's lifetime: drawn first, behind its polls.
    Life,
    Span,
    Poll,
    Mark,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Life => "task",
            Kind::Span => "span",
            Kind::Poll => "poll",
            Kind::Mark => "mark",
        }
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
    /// An item at nesting depth 0 with no task state (a lifetime sets its own).
    fn new(
        row: usize,
        kind: Kind,
        thread: usize,
        (start, end): (u64, u64),
        label: &'a str,
    ) -> Self {
        Item {
            row,
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
struct Merged<'a> {
    first: &'a Item<'a>,
    x0: f64,
    x1: f64,
    start: u64,
    end: u64,
    count: usize,
    /// The first few distinct labels merged; `more` if there were others.
    labels: Vec<&'a str>,
    more: bool,
    kinds: [bool; 4],
}

impl Merged<'_> {
    fn same_label(&self) -> bool {
        self.labels.len() == 1 && !self.more
    }

    /// `a`, or `a, b, c, …` for merged bars of several labels.
    fn label(&self) -> String {
        let mut s = self.labels.join(", ");
        if self.more {
            s.push_str(", …");
        }
        s
    }
}

/// What to draw, row by row, and the time range (shared with the text chart).
pub(super) struct Drawing<'a> {
    snap: &'a Snapshot,
    layout: Layout,
    /// Row labels, in display order.
    pub rows: Vec<String>,
    /// For ByThread: the thread of each row.
    row_threads: Vec<usize>,
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
        for s in &snap.spans {
            self.items.push(Item::new(
                row_of[s.label.as_ref()],
                Kind::Span,
                s.thread,
                (s.start, s.end),
                &s.label,
            ));
        }
        for t in &snap.tasks {
            self.items.push(Item {
                state: Some(t.state),
                ..Item::new(
                    row_of[t.label.as_ref()],
                    Kind::Life,
                    0,
                    (t.start, t.end),
                    &t.label,
                )
            });
        }
        for q in &snap.polls {
            let label = snap.tasks[q.task].label.as_ref();
            self.items.push(Item::new(
                row_of[label],
                Kind::Poll,
                q.thread,
                (q.start, q.end),
                label,
            ));
        }
        for m in &snap.marks {
            self.items.push(Item::new(
                row_of[m.label.as_ref()],
                Kind::Mark,
                m.thread,
                (m.at, m.at),
                &m.label,
            ));
        }
    }

    fn by_thread(&mut self) {
        let snap = self.snap;
        let mut per: Vec<Vec<Item<'a>>> =
            (0..snap.threads.len()).map(|_| vec![]).collect();
        for s in &snap.spans {
            per[s.thread].push(Item::new(
                0,
                Kind::Span,
                s.thread,
                (s.start, s.end),
                &s.label,
            ));
        }
        for q in &snap.polls {
            per[q.thread].push(Item::new(
                0,
                Kind::Poll,
                q.thread,
                (q.start, q.end),
                &snap.tasks[q.task].label,
            ));
        }
        for m in &snap.marks {
            per[m.thread].push(Item::new(
                0,
                Kind::Mark,
                m.thread,
                (m.at, m.at),
                &m.label,
            ));
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

    fn x(&self, t: u64) -> f64 {
        PLOT_X + (t - self.t0) as f64 / (self.t1 - self.t0) as f64 * PLOT_W
    }

    /// Merges items of the same row and style that are less than a pixel apart.
    fn merged(&self) -> Vec<Merged<'_>> {
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
            let x0 = self.x(it.start);
            // Everything is drawn at least MIN_W wide, so short bars stay visible.
            let x1 = self.x(it.end).max(x0 + MIN_W);
            let same_style = prev.is_some_and(|p| {
                (p.row, p.kind, p.state, p.thread, p.depth)
                    == (it.row, it.kind, it.state, it.thread, it.depth)
            });
            let kind_bit = it.kind as usize;
            // Merge what would touch on screen, unless both are wide enough to be
            // told apart (then the white outline shows where one ends). Wide bars
            // are few per row, so the number of rectangles stays bounded.
            let mergeable = |m: &Merged<'_>| {
                x0 - m.x1 < 1.0 && (m.x1 - m.x0 < NARROW || x1 - x0 < NARROW)
            };
            match out.last_mut() {
                Some(m) if same_style && mergeable(m) => {
                    m.x1 = m.x1.max(x1);
                    m.end = m.end.max(it.end);
                    m.count += 1;
                    if !m.labels.contains(&it.label) {
                        if m.labels.len() < 3 {
                            m.labels.push(it.label);
                        } else {
                            m.more = true;
                        }
                    }
                    m.kinds[kind_bit] = true;
                }
                _ => {
                    let mut kinds = [false; 4];
                    kinds[kind_bit] = true;
                    out.push(Merged {
                        first: it,
                        x0,
                        x1,
                        start: it.start,
                        end: it.end,
                        count: 1,
                        labels: vec![it.label],
                        more: false,
                        kinds,
                    });
                }
            }
            prev = Some(it);
        }
        out
    }

    fn render(&self) -> String {
        let snap = self.snap;
        let row_h = if self.rows.len() <= 20 { 22.0 } else { 14.0 };
        let shown = self.rows.len().min(MAX_ROWS);
        let hidden = self.rows.len() - shown;

        // Legend items: threads seen in the picture, then the other symbols.
        let mut threads: Vec<usize> = self
            .items
            .iter()
            .filter(|it| it.kind != Kind::Life)
            .map(|it| it.thread)
            .collect();
        threads.sort_unstable();
        threads.dedup();
        let mut legend: Vec<(Swatch, String)> = Vec::new();
        const MAX_LEGEND_THREADS: usize = 16;
        for &t in threads.iter().take(MAX_LEGEND_THREADS) {
            legend.push((Swatch::Thread(t), snap.thread_label(t)));
        }
        if threads.len() > MAX_LEGEND_THREADS {
            let more = threads.len() - MAX_LEGEND_THREADS;
            legend.push((Swatch::None, format!("… {more} more threads")));
        }
        let has = |k: Kind| self.items.iter().any(|it| it.kind == k);
        let has_state = |state| {
            self.items
                .iter()
                .any(|it| it.kind == Kind::Life && it.state == Some(state))
        };
        if has(Kind::Life) {
            legend.push((Swatch::Life, "task alive, not running (awaiting)".into()));
        }
        if has_state(TaskState::Cancelled) {
            legend.push((Swatch::Cancel, "task dropped before completing".into()));
        }
        if has_state(TaskState::Running) {
            legend.push((Swatch::Running, "task still running".into()));
        }
        if has(Kind::Mark) {
            legend.push((Swatch::Mark, "mark".into()));
        }
        // Lay the legend out in lines.
        let mut placed: Vec<(f64, usize, &Swatch, &str)> = Vec::new();
        let (mut lx, mut line) = (8.0, 0);
        for (sw, text) in &legend {
            let w = 20.0 + text.chars().count() as f64 * CHAR_W + 18.0;
            if lx + w > WIDTH - 8.0 && lx > 8.0 {
                lx = 8.0;
                line += 1;
            }
            placed.push((lx, line, sw, text));
            lx += w;
        }
        let caption_y = 18.0;
        let legend_y = 40.0;
        let rows_y = legend_y + (line as f64 + 1.0) * 20.0 + 4.0;
        let rows_end = rows_y + shown as f64 * row_h;
        let more_h = if hidden > 0 { 20.0 } else { 0.0 };
        let axis_y = rows_end + more_h + 4.0;
        let height = axis_y + 44.0;

        let mut s = String::with_capacity(16 * 1024);
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" \
             height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" \
             style=\"max-width:100%;height:auto\" \
             font-family=\"{FONT}\" font-size=\"12\">\
             <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
        );

        // Caption: the facts a learner should read first.
        let _ = write!(
            s,
            "<text x=\"8\" y=\"{caption_y}\" fill=\"#444\">{}</text>",
            esc(&caption(snap))
        );
        for (x, line, sw, text) in &placed {
            let y = legend_y + *line as f64 * 20.0;
            sw.draw(&mut s, *x, y);
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#222\">{}</text>",
                x + 20.0,
                y + 4.0,
                esc(text)
            );
        }

        // Row shading and labels.
        for (i, label) in self.rows.iter().take(shown).enumerate() {
            let y = rows_y + i as f64 * row_h;
            if i % 2 == 1 {
                let _ = write!(
                    s,
                    "<rect x=\"{PLOT_X}\" y=\"{y:.1}\" width=\"{PLOT_W}\" \
                     height=\"{row_h}\" fill=\"#f4f4f4\"/>"
                );
            }
            let short = truncate(label, LABEL_CHARS);
            let ty = y + row_h / 2.0 + 4.0;
            let _ = write!(s, "<g><title>{}</title>", esc(label));
            if self.layout == Layout::ByThread {
                let (fill, _) = colour(self.row_threads[i]);
                let _ = write!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" \
                     fill=\"{fill}\"/>",
                    PLOT_X - 16.0,
                    y + row_h / 2.0 - 5.0
                );
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" \
                     fill=\"#222\">{}</text></g>",
                    PLOT_X - 22.0,
                    esc(&short)
                );
            } else {
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" \
                     fill=\"#222\">{}</text></g>",
                    PLOT_X - 6.0,
                    esc(&short)
                );
            }
        }

        // Grid lines and axis.
        let range_ms = (self.t1 - self.t0) as f64 / 1e6;
        let (step, decimals) = nice_step(range_ms);
        let mut k = 0.0;
        while k * step <= range_ms * (1.0 + 1e-9) {
            let t_ms = k * step;
            let x = PLOT_X + t_ms / range_ms * PLOT_W;
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{rows_y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" \
                 stroke=\"#e2e2e2\"/>\
                 <line x1=\"{x:.1}\" y1=\"{axis_y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" \
                 stroke=\"#555\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" \
                 fill=\"#333\">{t_ms:.decimals$}</text>",
                axis_y,
                axis_y + 5.0,
                axis_y + 18.0,
            );
            k += 1.0;
        }
        let _ = write!(
            s,
            "<line x1=\"{PLOT_X}\" y1=\"{axis_y:.1}\" x2=\"{:.1}\" y2=\"{axis_y:.1}\" \
             stroke=\"#555\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">\
             time since the first event (ms)</text>",
            PLOT_X + PLOT_W,
            PLOT_X + PLOT_W / 2.0,
            axis_y + 36.0
        );

        // The bars.
        for m in self.merged() {
            self.draw(&mut s, &m, rows_y, row_h);
        }

        if hidden > 0 {
            let _ = write!(
                s,
                "<text x=\"{PLOT_X}\" y=\"{:.1}\" fill=\"#555\" font-style=\"italic\">\
                 … {} more rows not shown (to_chrome_trace() has everything)\
                 </text>",
                rows_end + 15.0,
                thousands(hidden)
            );
        }
        s.push_str("</svg>");
        s
    }

    fn draw(&self, s: &mut String, m: &Merged<'_>, rows_y: f64, row_h: f64) {
        let it = m.first;
        let top = rows_y + it.row as f64 * row_h;
        let mid = top + row_h / 2.0;
        let snap = self.snap;
        let when = format!(
            "{}–{} ms ({})",
            ms(m.start - self.t0),
            ms(m.end - self.t0),
            human(m.end - m.start)
        );
        let what = if m.count == 1 {
            it.kind.noun().to_string()
        } else {
            let nouns: Vec<&str> = [Kind::Life, Kind::Span, Kind::Poll, Kind::Mark]
                .into_iter()
                .filter(|k| m.kinds[*k as usize])
                .map(|k| k.noun())
                .collect();
            format!("{} {}s merged", m.count, nouns.join("s/"))
        };
        let label = m.label();
        let label = label.as_str();
        match it.kind {
            Kind::Life => {
                let state = match it.state {
                    Some(TaskState::Completed) => "completed",
                    Some(TaskState::Cancelled) => "dropped before completing",
                    _ => "still running",
                };
                let tip = format!("{label}\n{what} alive {when}, {state}");
                let _ = write!(
                    s,
                    "<rect x=\"{:.2}\" y=\"{:.1}\" width=\"{:.2}\" height=\"4\" \
                     fill=\"{LIFE_COLOUR}\"><title>{}</title></rect>",
                    m.x0,
                    mid - 2.0,
                    m.x1 - m.x0,
                    esc(&tip)
                );
                if it.state == Some(TaskState::Cancelled) {
                    let (x, r) = (m.x1, 4.0);
                    let _ = write!(
                        s,
                        "<path d=\"M{:.1},{:.1}l{},{}M{:.1},{:.1}l{},{}\" \
                         stroke=\"{CANCEL_COLOUR}\" stroke-width=\"2\">\
                         <title>{}</title></path>",
                        x - r,
                        mid - r,
                        2.0 * r,
                        2.0 * r,
                        x - r,
                        mid + r,
                        2.0 * r,
                        -2.0 * r,
                        esc(&tip)
                    );
                } else if it.state == Some(TaskState::Running) {
                    let _ = write!(
                        s,
                        "<path d=\"M{:.1},{:.1}l6,4l-6,4z\" fill=\"#888\"/>",
                        m.x1,
                        mid - 4.0
                    );
                }
            }
            Kind::Span | Kind::Poll => {
                let (fill, ink) = colour(it.thread);
                let pad = if row_h > 16.0 { 3.0 } else { 2.0 };
                let inset = (it.depth.min(3) as f64) * (row_h / 8.0);
                let h = (row_h - 2.0 * pad - 2.0 * inset).max(2.0);
                let y = top + pad + inset;
                let tip = format!(
                    "{label}\n{what} on {}\n{when}",
                    snap.thread_label(it.thread)
                );
                let _ = write!(
                    s,
                    "<rect x=\"{:.2}\" y=\"{y:.1}\" width=\"{:.2}\" height=\"{h:.1}\" \
                     fill=\"{fill}\" stroke=\"#fff\" stroke-width=\"0.5\">\
                     <title>{}</title></rect>",
                    m.x0,
                    m.x1 - m.x0,
                    esc(&tip)
                );
                // Name the bar inside it when there is room (ByThread rows mix
                // labels; ByTask rows are named on the left already).
                let room = ((m.x1 - m.x0 - 8.0) / (CHAR_W * 0.9)).max(0.0) as usize;
                let fits = room >= label.chars().count().min(5);
                if self.layout == Layout::ByThread
                    && m.same_label()
                    && fits
                    && h >= 10.0
                {
                    let _ = write!(
                        s,
                        "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{ink}\" font-size=\"11\" \
                         pointer-events=\"none\">{}</text>",
                        m.x0 + 4.0,
                        y + h / 2.0 + 4.0,
                        esc(&truncate_end(label, room))
                    );
                }
            }
            Kind::Mark => {
                let (fill, _) = colour(it.thread);
                let r = (row_h / 2.0 - 3.0).min(6.0);
                let tip = format!(
                    "{label}\n{what} on {} at {} ms",
                    snap.thread_label(it.thread),
                    ms(m.start - self.t0)
                );
                let _ = write!(
                    s,
                    "<path d=\"M{:.1},{:.1}l{r},{r}l-{r},{r}l-{r},-{r}z\" fill=\"{fill}\" \
                     stroke=\"#222\" stroke-width=\"0.8\"><title>{}</title></path>",
                    m.x0,
                    mid - r,
                    esc(&tip)
                );
            }
        }
    }
}

/// A legend symbol.
enum Swatch {
    None,
    Thread(usize),
    Life,
    Cancel,
    Running,
    Mark,
}

impl Swatch {
    /// Draws the symbol in a 14x14 box whose left edge is `x`, centred on `y`.
    fn draw(&self, s: &mut String, x: f64, y: f64) {
        let _ = match self {
            Swatch::None => Ok(()),
            Swatch::Thread(t) => write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"14\" height=\"12\" \
                 fill=\"{}\"/>",
                y - 6.0,
                colour(*t).0
            ),
            Swatch::Life => write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"16\" height=\"4\" \
                 fill=\"{LIFE_COLOUR}\"/>",
                y - 2.0
            ),
            Swatch::Cancel => write!(
                s,
                "<path d=\"M{:.1},{:.1}l8,8M{:.1},{:.1}l8,-8\" stroke=\"{CANCEL_COLOUR}\" \
                 stroke-width=\"2\"/>",
                x + 3.0,
                y - 4.0,
                x + 3.0,
                y + 4.0
            ),
            Swatch::Running => write!(
                s,
                "<path d=\"M{:.1},{:.1}l6,4l-6,4z\" fill=\"#888\"/>",
                x + 4.0,
                y - 4.0
            ),
            Swatch::Mark => write!(
                s,
                "<path d=\"M{:.1},{:.1}l5,5l-5,5l-5,-5z\" fill=\"#fff\" \
                 stroke=\"#222\"/>",
                x + 7.0,
                y - 5.0
            ),
        };
    }
}

/// The one-line summary above the chart.
fn caption(snap: &Snapshot) -> String {
    let mut parts = vec![
        format!("wall {}", human(snap.wall().as_nanos() as u64)),
        match snap.threads_used() {
            1 => "1 thread used".to_string(),
            n => format!("{n} threads used"),
        },
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

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}

/// Nanoseconds as milliseconds with microsecond precision: `12.345`.
pub(super) fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

/// A duration in the unit that reads best: `850 ns`, `12.3 µs`, `4.56 ms`, `1.20 s`.
pub(super) fn human(ns: u64) -> String {
    let f = ns as f64;
    let (v, unit) = match ns {
        0..1_000 => return format!("{ns} ns"),
        1_000..1_000_000 => (f / 1e3, "µs"),
        1_000_000..1_000_000_000 => (f / 1e6, "ms"),
        _ => (f / 1e9, "s"),
    };
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.decimals$} {unit}")
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

/// At most `max` characters: when cut, the middle becomes `…`, because labels
/// often differ only at the end (`download 17`, `.../file-3.txt`).
pub(super) fn truncate(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1);
    let tail = keep / 2;
    let head = keep - tail;
    let mut t: String = s.chars().take(head).collect();
    t.push('…');
    t.extend(s.chars().skip(n - tail));
    t
}

/// At most `max` characters, ending in `…` when cut (for text inside a bar).
fn truncate_end(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// `1234567` as `1,234,567`.
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Escapes text for XML content and attributes. Characters XML 1.0 forbids
/// (most control characters) become U+FFFD.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push('\u{FFFD}')
            }
            c => out.push(c),
        }
    }
    out
}
