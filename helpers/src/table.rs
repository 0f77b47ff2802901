//! Comparison tables: one row per strategy, shown as HTML in evcxr and as
//! aligned text everywhere else.
//!
//! The notebooks end their experiments by comparing strategies side by side
//! (sequential, threads, async; wall time, threads used, memory). A [`Table`]
//! keeps the *values* ([`Cell`]s: durations, counts, byte sizes), not
//! pre-formatted strings, for two reasons: numbers are right-aligned and
//! formatted the same way everywhere ([`fmt_duration`](crate::fmt::fmt_duration),
//! [`fmt_bytes`](crate::fmt::fmt_bytes)), and a
//! bar chart can be drawn from a numeric column
//! ([`bar_chart`](Table::bar_chart)).
//!
//! In evcxr, a cell whose last expression is a `Table` shows it as HTML: evcxr
//! calls a type's `evcxr_display` method when it has one. `println!("{t}")`
//! prints the text form.

#![forbid(unsafe_code)]

mod cell;

pub use cell::{Cell, IntoRow};

use crate::fmt::{escape_xml, evcxr_display};
use std::fmt;

/// A titled table of rows with named columns, for comparing strategies.
///
/// Shows as aligned text with `Display` (numbers right-aligned), as HTML with
/// [`to_html`](Table::to_html), and as HTML in evcxr when it is a cell's last
/// expression. [`bar_chart`](Table::bar_chart) adds a bar per row for one
/// numeric column.
///
/// # Examples
///
/// ```
/// use helpers::table::{Cell, Table};
/// use std::time::Duration;
/// let mut t = Table::new("Six downloads", &["strategy", "wall", "threads", "memory"]);
/// t.row(("sequential", Duration::from_millis(1204), 1, Cell::bytes(8 << 10)));
/// t.row(("threads", Duration::from_millis(302), 7, Cell::bytes(None)));
/// t.bar_chart("wall");
/// assert_eq!(t.len(), 2);
/// assert_eq!(
///     t.to_string(),
///     "\
/// Six downloads
/// strategy        wall  threads    memory
/// ----------  --------  -------  --------
/// sequential   1.204 s        1  8.00 KiB  ####################
/// threads     302.0 ms        7       n/a  #####
/// "
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    title: String,
    columns: Vec<String>,
    rows: Vec<Vec<Cell>>,
    bars: Option<usize>,
}

/// The widest text bar, in `#` characters.
const TEXT_BAR: usize = 20;
/// The widest HTML bar, in pixels.
const HTML_BAR: usize = 200;

impl Table {
    /// An empty table with a title (may be empty) and column names.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = helpers::table::Table::new("Results", &["strategy", "wall"]);
    /// assert!(t.is_empty());
    /// assert_eq!(t.columns(), ["strategy", "wall"]);
    /// ```
    pub fn new(title: impl Into<String>, columns: &[&str]) -> Table {
        Table {
            title: title.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            bars: None,
        }
    }

    /// Adds a row: a tuple (or array, or `Vec`) of values convertible into
    /// [`Cell`]s, one per column. Returns the table, so calls can be chained.
    ///
    /// # Panics
    ///
    /// If the row does not have one cell per column: a silently shifted or
    /// padded row would put numbers under the wrong heading.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::table::{Cell, Table};
    /// use std::time::Duration;
    /// let mut t = Table::new("", &["strategy", "wall"]);
    /// t.row(("sequential", Duration::from_secs(1)))
    ///     .row(["async", "not run"]);
    /// assert_eq!(t.rows()[1][1], Cell::Text("not run".into()));
    /// ```
    ///
    /// ```should_panic
    /// let mut t = helpers::table::Table::new("", &["strategy", "wall"]);
    /// t.row(("sequential",)); // panics: 1 cell for 2 columns
    /// ```
    #[track_caller]
    pub fn row(&mut self, cells: impl IntoRow) -> &mut Table {
        let cells = cells.into_row();
        if cells.len() != self.columns.len() {
            panic!(
                "table {:?} has {} columns ({}) but this row has {} cells: {:?}",
                self.title,
                self.columns.len(),
                self.columns.join(", "),
                cells.len(),
                cells
            );
        }
        self.rows.push(cells);
        self
    }

    /// Draws a horizontal bar for each row, proportional to its value in
    /// `column` (durations in seconds, counts, bytes; text and missing values get
    /// no bar): `#`s at the end of each text line, a coloured bar in an extra HTML
    /// column. Calling it again picks another column.
    ///
    /// # Panics
    ///
    /// If the table has no column with that name.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::table::Table;
    /// let mut t = Table::new("", &["strategy", "threads"]);
    /// t.row(("threads", 6)).row(("async", 1)).bar_chart("threads");
    /// assert!(t.to_string().contains("#####"));
    /// assert!(t.to_html().contains("<svg"));
    /// ```
    #[track_caller]
    pub fn bar_chart(&mut self, column: &str) -> &mut Table {
        let Some(i) = self.columns.iter().position(|c| c == column) else {
            panic!(
                "table {:?} has no column {column:?}; its columns are: {}",
                self.title,
                self.columns.join(", ")
            );
        };
        self.bars = Some(i);
        self
    }

    /// The title.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(helpers::table::Table::new("T", &[]).title(), "T");
    /// ```
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The column names.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = helpers::table::Table::new("", &["a", "b"]);
    /// assert_eq!(t.columns().len(), 2);
    /// ```
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The rows, each with one cell per column.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::table::{Cell, Table};
    /// let mut t = Table::new("", &["strategy", "threads"]);
    /// t.row(("threads", 6));
    /// assert_eq!(t.rows()[0][1], Cell::Count(6));
    /// ```
    pub fn rows(&self) -> &[Vec<Cell>] {
        &self.rows
    }

    /// The cell in row `row` (from 0) under the column named `column`.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::table::{Cell, Table};
    /// let mut t = Table::new("", &["strategy", "threads"]);
    /// t.row(("threads", 6));
    /// assert_eq!(t.get(0, "threads"), Some(&Cell::Count(6)));
    /// assert_eq!(t.get(0, "memory"), None);
    /// assert_eq!(t.get(1, "threads"), None);
    /// ```
    pub fn get(&self, row: usize, column: &str) -> Option<&Cell> {
        let c = self.columns.iter().position(|name| name == column)?;
        self.rows.get(row)?.get(c)
    }

    /// The number of rows.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut t = helpers::table::Table::new("", &["a"]);
    /// t.row(["x"]).row(["y"]);
    /// assert_eq!(t.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(helpers::table::Table::new("", &["a"]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether column `c` holds numbers (right-aligned): some value is a number
    /// and none is text.
    fn is_numeric(&self, c: usize) -> bool {
        let cells = || self.rows.iter().map(move |r| &r[c]);
        cells().any(|x| x.number().is_some()) && !cells().any(Cell::is_text)
    }

    /// Each row's bar as a fraction (0 to 1) of the largest value, if bars are on.
    fn bar_fractions(&self) -> Option<Vec<Option<f64>>> {
        let c = self.bars?;
        let values: Vec<Option<f64>> =
            self.rows.iter().map(|r| r[c].number()).collect();
        let max = values.iter().flatten().fold(0.0_f64, |a, &b| a.max(b));
        Some(
            values
                .into_iter()
                .map(|v| v.map(|v| if max > 0.0 { (v / max).max(0.0) } else { 0.0 }))
                .collect(),
        )
    }

    /// The table as HTML: a `<table>` with the title as caption, every text
    /// HTML-escaped, numbers right-aligned, and inline SVG bars if
    /// [`bar_chart`](Table::bar_chart) is on. Styles are inline, so it looks the
    /// same in any notebook front end.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::table::Table;
    /// let mut t = Table::new("<Results>", &["strategy"]);
    /// t.row(["a & b"]);
    /// let html = t.to_html();
    /// assert!(html.contains("&lt;Results&gt;"));
    /// assert!(html.contains("a &amp; b"));
    /// ```
    pub fn to_html(&self) -> String {
        use fmt::Write;
        const CELL: &str = "padding:2px 10px;border-bottom:1px solid #ddd";
        let align = |right: bool| if right { "right" } else { "left" };
        let mut h = String::new();
        h.push_str(
            "<table style=\"border-collapse:collapse;font-family:sans-serif;\
             font-size:13px\">",
        );
        if !self.title.is_empty() {
            let _ = write!(
                h,
                "<caption style=\"text-align:left;font-weight:bold;\
                 padding:4px 0\">{}</caption>",
                escape_xml(&self.title)
            );
        }
        h.push_str("<thead><tr>");
        for (c, name) in self.columns.iter().enumerate() {
            let _ = write!(
                h,
                "<th style=\"{CELL};text-align:{}\">{}</th>",
                align(self.is_numeric(c)),
                escape_xml(name)
            );
        }
        if self.bars.is_some() {
            let _ = write!(h, "<th style=\"{CELL}\"></th>");
        }
        h.push_str("</tr></thead><tbody>");
        let bars = self.bar_fractions();
        for (r, row) in self.rows.iter().enumerate() {
            h.push_str("<tr>");
            for cell in row {
                let _ = write!(
                    h,
                    "<td style=\"{CELL};text-align:{};\
                     font-variant-numeric:tabular-nums\">{}</td>",
                    align(!cell.is_text()),
                    escape_xml(&cell.to_string())
                );
            }
            if let Some(bars) = &bars {
                let _ = write!(h, "<td style=\"{CELL}\">");
                if let Some(f) = bars[r] {
                    // Any positive value stays visible next to much larger ones.
                    let w = (f * HTML_BAR as f64).round();
                    let w = if f > 0.0 { w.max(2.0) } else { 0.0 };
                    let _ = write!(
                        h,
                        "<svg width=\"{HTML_BAR}\" height=\"12\">\
                         <rect width=\"{w}\" height=\"12\" fill=\"#4e79a7\"/></svg>"
                    );
                }
                h.push_str("</td>");
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table>");
        h
    }

    /// Shows the table as HTML in evcxr. evcxr calls this by itself when a
    /// `Table` is a cell's last expression; call it to show a table from the
    /// middle of a cell.
    ///
    /// It prints the HTML between evcxr's `EVCXR_BEGIN_CONTENT text/html` and
    /// `EVCXR_END_CONTENT` markers, in one write.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut t = helpers::table::Table::new("", &["a"]);
    /// t.row(["x"]);
    /// t.evcxr_display(); // outside evcxr: prints the markers and the HTML
    /// ```
    pub fn evcxr_display(&self) {
        evcxr_display("text/html", &self.to_html());
    }
}

impl fmt::Display for Table {
    /// The table as aligned text: title, header, a rule, one line per row, with
    /// `#` bars at the end if [`bar_chart`](Table::bar_chart) is on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(Cell::to_string).collect())
            .collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|c| {
                texts
                    .iter()
                    .map(|r| r[c].chars().count())
                    .chain([self.columns[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        if !self.title.is_empty() {
            writeln!(f, "{}", self.title)?;
        }
        let mut line = String::new();
        let put = |line: &mut String, c: usize, s: &str, right: bool| {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = " ".repeat(widths[c] - s.chars().count());
            if right {
                line.push_str(&pad);
                line.push_str(s);
            } else {
                line.push_str(s);
                line.push_str(&pad);
            }
        };
        for (c, name) in self.columns.iter().enumerate() {
            put(&mut line, c, name, self.is_numeric(c));
        }
        writeln!(f, "{}", line.trim_end())?;
        line.clear();
        for (c, w) in widths.iter().enumerate() {
            put(&mut line, c, &"-".repeat(*w), false);
        }
        writeln!(f, "{}", line.trim_end())?;
        let bars = self.bar_fractions();
        for (r, row) in self.rows.iter().enumerate() {
            line.clear();
            for (c, cell) in row.iter().enumerate() {
                put(&mut line, c, &texts[r][c], !cell.is_text());
            }
            if let Some(Some(frac)) = bars.as_ref().map(|b| b[r]) {
                // Any positive value gets at least one `#`.
                let n = (frac * TEXT_BAR as f64).round() as usize;
                let n = if frac > 0.0 { n.max(1) } else { 0 };
                line.push_str("  ");
                line.push_str(&"#".repeat(n));
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn sample() -> Table {
        let mut t =
            Table::new("Six downloads", &["strategy", "wall", "threads", "memory"]);
        t.row((
            "sequential",
            Duration::from_millis(1204),
            1,
            Cell::bytes(8 << 10),
        ));
        t.row((
            "threads",
            Duration::from_millis(301),
            7usize,
            Cell::bytes(None),
        ));
        t.row((
            "async",
            None::<Duration>,
            Some(2usize),
            Cell::bytes(1 << 20),
        ));
        t
    }

    #[test]
    fn rows_of_every_shape() {
        let mut t = Table::new("", &["a", "b"]);
        t.row(("x", 1))
            .row(["y", "z"])
            .row(vec![Cell::Missing, Cell::Count(2)])
            .row([Cell::from("w"), Duration::from_secs(1).into()]);
        assert_eq!(t.len(), 4);
        assert_eq!(t.get(3, "b"), Some(&Cell::Duration(Duration::from_secs(1))));
        let mut wide = Table::new("", &["1", "2", "3", "4", "5", "6", "7", "8"]);
        wide.row((1, 2, 3, 4, 5, 6, 7, "8"));
        assert_eq!(wide.rows()[0][7], Cell::Text("8".into()));
    }

    #[test]
    #[should_panic(expected = "has 2 columns (a, b) but this row has 3 cells")]
    fn too_many_cells_panics_clearly() {
        Table::new("t", &["a", "b"]).row(("x", 1, 2));
    }

    #[test]
    #[should_panic(expected = "has no column \"wal\"; its columns are: a, wall")]
    fn unknown_bar_column_panics_clearly() {
        Table::new("t", &["a", "wall"]).bar_chart("wal");
    }

    #[test]
    fn text_is_aligned() {
        let text = sample().to_string();
        let expected = "\
Six downloads
strategy        wall  threads    memory
----------  --------  -------  --------
sequential   1.204 s        1  8.00 KiB
threads     301.0 ms        7       n/a
async            n/a        2  1.00 MiB
";
        assert_eq!(text, expected);
    }

    #[test]
    fn text_bars_scale_to_the_largest_value() {
        let mut t = sample();
        t.bar_chart("wall");
        let text = t.to_string();
        let lines: Vec<&str> = text.lines().collect();
        let hashes = |l: &str| l.chars().filter(|&c| c == '#').count();
        assert_eq!(hashes(lines[3]), TEXT_BAR);
        assert_eq!(hashes(lines[4]), 5, "301/1204 of 20, rounded");
        assert_eq!(hashes(lines[5]), 0, "no value, no bar");
        assert!(lines[5].ends_with("1.00 MiB"), "no trailing spaces");
        // A tiny positive value still shows.
        let mut t = Table::new("", &["n"]);
        t.row([1000]).row([1]).row([0]).bar_chart("n");
        let hashes: Vec<usize> = t.to_string().lines().skip(2).map(hashes).collect();
        assert_eq!(hashes, [TEXT_BAR, 1, 0]);
    }

    #[test]
    fn bars_of_all_zero_or_text_are_empty() {
        let mut t = Table::new("", &["name", "n"]);
        t.row(("a", 0)).row(("b", 0)).bar_chart("n");
        assert!(!t.to_string().contains('#'));
        t.bar_chart("name");
        assert!(!t.to_string().contains('#'));
        assert!(!t.to_html().contains("<svg"));
    }

    #[test]
    fn html_escapes_everything_and_aligns_numbers() {
        let mut t = Table::new("A <b>&</b> 'test'", &["<name>", "n"]);
        t.row(("\"quoted\" & <tag>", 3));
        let html = t.to_html();
        assert!(html.contains("A &lt;b&gt;&amp;&lt;/b&gt; &#39;test&#39;"));
        assert!(html.contains("&lt;name&gt;"));
        assert!(html.contains("&quot;quoted&quot; &amp; &lt;tag&gt;"));
        assert!(!html.contains("<b>") && !html.contains("<tag>"));
        assert!(html.contains("text-align:right\">n</th>"));
        assert!(html.contains("text-align:left\">&lt;name&gt;</th>"));
        assert!(html.starts_with("<table") && html.ends_with("</table>"));
    }

    #[test]
    fn html_bars() {
        let mut t = sample();
        t.bar_chart("wall");
        let html = t.to_html();
        assert_eq!(html.matches("<svg").count(), 2, "one per row with a value");
        assert!(html.contains("<rect width=\"200\""));
        assert!(html.contains("<rect width=\"50\""), "301/1204 of 200 px");
        assert_eq!(html.matches("<tr>").count(), 4, "header and 3 rows");
    }

    #[test]
    fn empty_table_renders() {
        let t = Table::new("", &["a", "bb"]);
        assert_eq!(t.to_string(), "a  bb\n-  --\n");
        assert!(t.to_html().contains("<tbody></tbody>"));
        assert!(!t.to_html().contains("<caption"));
    }
}
