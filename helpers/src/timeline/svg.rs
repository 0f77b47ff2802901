//! The SVG Gantt chart, and showing it inline in evcxr.
//!
//! The chart must stay readable (and small) however much was recorded: bars that
//! would be drawn less than a pixel apart in the same row and colour are merged
//! into one rectangle (see [`Drawing::merged`]), and only the first
//! [`MAX_ROWS`](super::drawing::MAX_ROWS) rows are drawn.

use super::drawing::{Drawing, Key, Kind, Layout, Merged, facts, nice_step};
use super::snapshot::{Snapshot, TaskState};
use crate::fmt::{
    escape_xml as esc, evcxr_display, fmt_duration, thousands, truncate_end,
    truncate_middle,
};
use std::fmt::{self, Write as _};
use std::io;
use std::path::Path;
use std::time::Duration;

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
        evcxr_display(SVG_MIME, &self.to_svg());
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

const SVG_MIME: &str = "image/svg+xml";

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
        Drawing::new(self, layout).to_svg()
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
        evcxr_display(SVG_MIME, &self.to_svg(Layout::ByTask));
    }
}

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

/// A legend entry placed on the picture: its symbol, words, left edge and line.
struct Placed {
    key: Key,
    text: String,
    x: f64,
    line: usize,
}

/// Where everything goes, top to bottom: caption, legend lines, rows, the
/// "more rows" note, the axis.
struct Frame {
    legend: Vec<Placed>,
    row_h: f64,
    shown: usize,
    hidden: usize,
    caption_y: f64,
    legend_y: f64,
    rows_y: f64,
    rows_end: f64,
    axis_y: f64,
    height: f64,
}

impl Frame {
    fn new(d: &Drawing<'_>) -> Frame {
        let shown = d.shown_rows();
        let hidden = d.rows.len() - shown;
        let row_h = if d.rows.len() <= 20 { 22.0 } else { 14.0 };
        // Lay the legend out in lines, as wide as the picture.
        let mut legend = Vec::new();
        let (mut x, mut line) = (8.0, 0);
        for key in d.legend() {
            let text = key.words(d.snap);
            let w = 20.0 + text.chars().count() as f64 * CHAR_W + 18.0;
            if x + w > WIDTH - 8.0 && x > 8.0 {
                x = 8.0;
                line += 1;
            }
            legend.push(Placed { key, text, x, line });
            x += w;
        }
        let legend_y = 40.0;
        let rows_y = legend_y + (line as f64 + 1.0) * 20.0 + 4.0;
        let rows_end = rows_y + shown as f64 * row_h;
        let more_h = if hidden > 0 { 20.0 } else { 0.0 };
        let axis_y = rows_end + more_h + 4.0;
        Frame {
            legend,
            row_h,
            shown,
            hidden,
            caption_y: 18.0,
            legend_y,
            rows_y,
            rows_end,
            axis_y,
            height: axis_y + 44.0,
        }
    }
}

impl Drawing<'_> {
    fn x(&self, t: u64) -> f64 {
        PLOT_X + (t - self.t0) as f64 / (self.t1 - self.t0) as f64 * PLOT_W
    }

    fn to_svg(&self) -> String {
        let f = Frame::new(self);
        let mut s = String::with_capacity(16 * 1024);
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" \
             height=\"{h}\" viewBox=\"0 0 {WIDTH} {h}\" \
             style=\"max-width:100%;height:auto\" \
             font-family=\"{FONT}\" font-size=\"12\">\
             <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>",
            h = f.height
        );
        self.write_caption_and_legend(&mut s, &f);
        self.write_row_labels(&mut s, &f);
        self.write_axis(&mut s, &f);
        for m in self.merged(|t| self.x(t)) {
            self.write_item(&mut s, &m, &f);
        }
        if f.hidden > 0 {
            let _ = write!(
                s,
                "<text x=\"{PLOT_X}\" y=\"{:.1}\" fill=\"#555\" font-style=\"italic\">\
                 … {} more rows not shown (to_chrome_trace() has everything)\
                 </text>",
                f.rows_end + 15.0,
                thousands(f.hidden)
            );
        }
        s.push_str("</svg>");
        s
    }

    /// The facts a learner should read first, then what each symbol means.
    fn write_caption_and_legend(&self, s: &mut String, f: &Frame) {
        let _ = write!(
            s,
            "<text x=\"8\" y=\"{}\" fill=\"#444\">{}</text>",
            f.caption_y,
            esc(&facts(self.snap))
        );
        for p in &f.legend {
            let y = f.legend_y + p.line as f64 * 20.0;
            write_symbol(s, p.key, p.x, y);
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#222\">{}</text>",
                p.x + 20.0,
                y + 4.0,
                esc(&p.text)
            );
        }
    }

    /// Row shading, and each row's label (truncated, in full in its tooltip).
    fn write_row_labels(&self, s: &mut String, f: &Frame) {
        let row_h = f.row_h;
        for (i, label) in self.rows.iter().take(f.shown).enumerate() {
            let y = f.rows_y + i as f64 * row_h;
            if i % 2 == 1 {
                let _ = write!(
                    s,
                    "<rect x=\"{PLOT_X}\" y=\"{y:.1}\" width=\"{PLOT_W}\" \
                     height=\"{row_h}\" fill=\"#f4f4f4\"/>"
                );
            }
            let ty = y + row_h / 2.0 + 4.0;
            let _ = write!(s, "<g><title>{}</title>", esc(label));
            // ByThread rows carry their thread's colour before the label.
            let label_x = if self.layout == Layout::ByThread {
                let (fill, _) = colour(self.row_threads[i]);
                let _ = write!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" \
                     fill=\"{fill}\"/>",
                    PLOT_X - 16.0,
                    y + row_h / 2.0 - 5.0
                );
                PLOT_X - 22.0
            } else {
                PLOT_X - 6.0
            };
            let _ = write!(
                s,
                "<text x=\"{label_x:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" \
                 fill=\"#222\">{}</text></g>",
                esc(&truncate_middle(label, LABEL_CHARS))
            );
        }
    }

    /// Grid lines, ticks labelled in milliseconds, and the axis title.
    fn write_axis(&self, s: &mut String, f: &Frame) {
        let (rows_y, axis_y) = (f.rows_y, f.axis_y);
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
    }

    /// One merged item: a lifetime line, a bar or a mark, with its tooltip.
    fn write_item(&self, s: &mut String, m: &Merged<'_>, f: &Frame) {
        let top = f.rows_y + m.first.row as f64 * f.row_h;
        let what = if m.count == 1 {
            m.first.kind.noun().to_string()
        } else {
            format!("{} {}s merged", m.count, m.kinds.nouns().join("s/"))
        };
        let label = m.label();
        match m.first.kind {
            Kind::Life => {
                let tip = format!("{label}\n{what} alive {}", self.when(m));
                write_life(s, m, top + f.row_h / 2.0, &tip);
            }
            Kind::Span | Kind::Poll => {
                let tip = format!(
                    "{label}\n{what} on {}\n{}",
                    self.snap.thread_label(m.first.thread),
                    self.when(m)
                );
                let named = self.layout == Layout::ByThread && m.same_label();
                let name = named.then_some(label.as_str());
                write_bar(s, m, top, f.row_h, &tip, name);
            }
            Kind::Mark => {
                let tip = format!(
                    "{label}\n{what} on {} at {} ms",
                    self.snap.thread_label(m.first.thread),
                    ms(m.start - self.t0)
                );
                write_mark(s, m, top + f.row_h / 2.0, f.row_h, &tip);
            }
        }
    }

    /// `12.000–30.000 ms (18.00 ms)`: where an item is on the axis, and how long.
    fn when(&self, m: &Merged<'_>) -> String {
        format!(
            "{}–{} ms ({})",
            ms(m.start - self.t0),
            ms(m.end - self.t0),
            fmt_duration(Duration::from_nanos(m.end - m.start))
        )
    }
}

/// A task's lifetime: a thin grey line, ended by a red cross if the task was
/// dropped or an arrow if it is still running.
fn write_life(s: &mut String, m: &Merged<'_>, mid: f64, tip: &str) {
    let state = match m.first.state {
        Some(TaskState::Completed) => "completed",
        Some(TaskState::Cancelled) => "dropped before completing",
        _ => "still running",
    };
    let tip = esc(&format!("{tip}, {state}"));
    let _ = write!(
        s,
        "<rect x=\"{:.2}\" y=\"{:.1}\" width=\"{:.2}\" height=\"4\" \
         fill=\"{LIFE_COLOUR}\"><title>{tip}</title></rect>",
        m.x0,
        mid - 2.0,
        m.x1 - m.x0,
    );
    if m.first.state == Some(TaskState::Cancelled) {
        let (x, r) = (m.x1, 4.0);
        let _ = write!(
            s,
            "<path d=\"M{:.1},{:.1}l{},{}M{:.1},{:.1}l{},{}\" \
             stroke=\"{CANCEL_COLOUR}\" stroke-width=\"2\">\
             <title>{tip}</title></path>",
            x - r,
            mid - r,
            2.0 * r,
            2.0 * r,
            x - r,
            mid + r,
            2.0 * r,
            -2.0 * r,
        );
    } else if m.first.state == Some(TaskState::Running) {
        write_running_arrow(s, m.x1, mid - 4.0);
    }
}

/// A span or poll: a bar in its thread's colour, inset by its nesting depth,
/// with `name` written inside when there is room.
fn write_bar(
    s: &mut String,
    m: &Merged<'_>,
    top: f64,
    row_h: f64,
    tip: &str,
    name: Option<&str>,
) {
    let (fill, ink) = colour(m.first.thread);
    let pad = if row_h > 16.0 { 3.0 } else { 2.0 };
    let inset = (m.first.depth.min(3) as f64) * (row_h / 8.0);
    let h = (row_h - 2.0 * pad - 2.0 * inset).max(2.0);
    let y = top + pad + inset;
    let _ = write!(
        s,
        "<rect x=\"{:.2}\" y=\"{y:.1}\" width=\"{:.2}\" height=\"{h:.1}\" \
         fill=\"{fill}\" stroke=\"#fff\" stroke-width=\"0.5\">\
         <title>{}</title></rect>",
        m.x0,
        m.x1 - m.x0,
        esc(tip)
    );
    // Name the bar inside it when there is room (ByThread rows mix labels;
    // ByTask rows are named on the left already).
    let Some(name) = name else { return };
    let room = ((m.x1 - m.x0 - 8.0) / (CHAR_W * 0.9)).max(0.0) as usize;
    if room >= name.chars().count().min(5) && h >= 10.0 {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{ink}\" font-size=\"11\" \
             pointer-events=\"none\">{}</text>",
            m.x0 + 4.0,
            y + h / 2.0 + 4.0,
            esc(&truncate_end(name, room))
        );
    }
}

/// A mark: a diamond in its thread's colour.
fn write_mark(s: &mut String, m: &Merged<'_>, mid: f64, row_h: f64, tip: &str) {
    let (fill, _) = colour(m.first.thread);
    let r = (row_h / 2.0 - 3.0).min(6.0);
    let _ = write!(
        s,
        "<path d=\"M{:.1},{:.1}l{r},{r}l-{r},{r}l-{r},-{r}z\" fill=\"{fill}\" \
         stroke=\"#222\" stroke-width=\"0.8\"><title>{}</title></path>",
        m.x0,
        mid - r,
        esc(tip)
    );
}

/// The grey arrow of a task still running, its tip 6 px right of `x`.
fn write_running_arrow(s: &mut String, x: f64, top: f64) {
    let _ = write!(s, "<path d=\"M{x:.1},{top:.1}l6,4l-6,4z\" fill=\"#888\"/>");
}

/// Draws a legend symbol in a 14x14 box whose left edge is `x`, centred on `y`.
fn write_symbol(s: &mut String, key: Key, x: f64, y: f64) {
    let _ = match key {
        Key::MoreThreads(_) => Ok(()),
        Key::Thread(t) => write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"14\" height=\"12\" \
             fill=\"{}\"/>",
            y - 6.0,
            colour(t).0
        ),
        Key::Alive => write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"16\" height=\"4\" \
             fill=\"{LIFE_COLOUR}\"/>",
            y - 2.0
        ),
        Key::Dropped => write!(
            s,
            "<path d=\"M{:.1},{:.1}l8,8M{:.1},{:.1}l8,-8\" stroke=\"{CANCEL_COLOUR}\" \
             stroke-width=\"2\"/>",
            x + 3.0,
            y - 4.0,
            x + 3.0,
            y + 4.0
        ),
        Key::Running => {
            write_running_arrow(s, x + 4.0, y - 4.0);
            Ok(())
        }
        Key::Mark => write!(
            s,
            "<path d=\"M{:.1},{:.1}l5,5l-5,5l-5,-5z\" fill=\"#fff\" \
             stroke=\"#222\"/>",
            x + 7.0,
            y - 5.0
        ),
    };
}

/// Nanoseconds as milliseconds with microsecond precision, a position on the
/// time axis: `12.345`.
fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}
