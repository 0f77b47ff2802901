//! The ASCII Gantt chart, for terminals and plain `cargo run`.

use super::drawing::{Drawing, Key, Kind, Layout, facts, nice_step};
use super::snapshot::{Snapshot, TaskState};
use crate::fmt::truncate_middle;
use std::fmt::Write as _;

/// Columns of the time axis.
const COLS: usize = 60;
const LABEL_CHARS: usize = 24;

/// The character for thread index `t` (`T1` is `1`, `T10` is `a`, ...).
fn thread_char(t: usize) -> char {
    const CHARS: &[u8] = b"123456789abcdefghijklmnopqrstuvwxyz";
    CHARS.get(t).map_or('+', |&c| c as char)
}

impl Snapshot {
    /// Draws the snapshot as text: one row per task, span or mark label, 60
    /// columns of time.
    ///
    /// A cell shows the number of the thread that ran the row's work for most of
    /// that stretch of time (`1` for `T1`, `2` for `T2`, ... then `a`, `b`, ...),
    /// `.` where a task was alive but not running (waiting at an `.await`), `x`
    /// where a task was dropped before completing, `*` for a mark. A legend and a
    /// millisecond axis follow.
    ///
    /// # Examples
    ///
    /// ```
    /// let tl = helpers::timeline::Timeline::new();
    /// drop(tl.span("load"));
    /// let text = tl.snapshot().to_text();
    /// print!("{text}");
    /// assert!(text.contains("load |1"));
    /// assert!(text.contains("1 = T1 main"));
    /// ```
    pub fn to_text(&self) -> String {
        if self.is_empty() {
            return "(no events recorded)\n".to_string();
        }
        let d = Drawing::new(self, Layout::ByTask);
        let shown = d.shown_rows();
        let span = (d.t1 - d.t0) as f64;
        let col_of = |t: u64| {
            (((t - d.t0) as f64 / span * COLS as f64) as usize).min(COLS - 1)
        };

        // Per row and column: busy time per thread, alive, marks, cancellations.
        let mut busy: Vec<Vec<Vec<(usize, u64)>>> =
            vec![vec![Vec::new(); COLS]; shown];
        let mut alive = vec![[false; COLS]; shown];
        let mut special: Vec<[Option<char>; COLS]> = vec![[None; COLS]; shown];
        let col_ns = span / COLS as f64;
        for it in d.items.iter().filter(|it| it.row < shown) {
            // The last column an interval covers holds its last nanosecond, so an
            // interval ending on a column boundary does not spill into the next.
            let c0 = col_of(it.start);
            let c1 = col_of(it.end.saturating_sub(1).max(it.start));
            match it.kind {
                Kind::Mark => special[it.row][c0] = Some('*'),
                Kind::Life => {
                    for a in &mut alive[it.row][c0..=c1] {
                        *a = true;
                    }
                    if it.state == Some(TaskState::Cancelled) {
                        // Where the task was dropped (hiding its last poll there).
                        special[it.row][col_of(it.end)].get_or_insert('x');
                    }
                }
                Kind::Span | Kind::Poll => {
                    for (c, cell) in
                        busy[it.row].iter_mut().enumerate().take(c1 + 1).skip(c0)
                    {
                        let lo = d.t0 as f64 + c as f64 * col_ns;
                        let hi = lo + col_ns;
                        let overlap =
                            (it.end as f64).min(hi) - (it.start as f64).max(lo);
                        // Even a zero-length span shows in its column.
                        let ns = overlap.max(1.0) as u64;
                        match cell.iter_mut().find(|(t, _)| *t == it.thread) {
                            Some((_, total)) => *total += ns,
                            None => cell.push((it.thread, ns)),
                        }
                    }
                }
            }
        }

        let width = d.rows.iter().take(shown).map(|r| r.chars().count()).max();
        let width = width.unwrap_or(0).min(LABEL_CHARS);
        let mut out = String::new();
        let _ = writeln!(out, "{}", facts(self));
        for (row, label) in d.rows.iter().take(shown).enumerate() {
            let mut line = String::with_capacity(COLS);
            for c in 0..COLS {
                let ran = busy[row][c]
                    .iter()
                    .max_by_key(|(t, ns)| (*ns, usize::MAX - t));
                let ch = match (special[row][c], ran) {
                    (Some(ch), _) => ch,
                    (None, Some(&(t, _))) => thread_char(t),
                    (None, None) if alive[row][c] => '.',
                    (None, None) => ' ',
                };
                line.push(ch);
            }
            let label = truncate_middle(label, LABEL_CHARS);
            let _ = writeln!(out, "{label:>width$} |{line}|");
        }
        if d.rows.len() > shown {
            let _ = writeln!(
                out,
                "{:>width$}  … {} more rows",
                "",
                d.rows.len() - shown
            );
        }

        // Axis: a ruler with a tick every 10 columns, labelled in ms.
        let range_ms = span / 1e6;
        let (_, decimals) = nice_step(range_ms);
        let mut ruler = String::new();
        for c in 0..=COLS {
            ruler.push(if c % 10 == 0 { '+' } else { '-' });
        }
        let mut labels = vec![' '; COLS + 12];
        for c in (0..=COLS).step_by(20) {
            let v = format!("{:.decimals$}", range_ms * c as f64 / COLS as f64);
            // First label left-aligned, last right-aligned, others centred.
            let start = match c {
                0 => 0,
                COLS => COLS + 1 - v.len().min(COLS + 1),
                _ => c - (v.len() / 2).min(c),
            };
            for (i, ch) in v.chars().enumerate() {
                labels[start + i] = ch;
            }
        }
        let labels: String = labels.into_iter().collect();
        let _ = writeln!(out, "{:>width$} {ruler}", "");
        let _ = writeln!(out, "{:>width$} {} ms", "", labels.trim_end());

        // Legend: the same entries as the picture's, with the characters drawn
        // here (a still-running task has none of its own: it shows as alive).
        let legend = d.legend().into_iter().filter_map(|key| {
            let words = key.words(self);
            match key {
                Key::Thread(t) => Some(format!("{} = {words}", thread_char(t))),
                Key::MoreThreads(_) => Some(words),
                Key::Alive => Some(format!(". = {words}")),
                Key::Dropped => Some(format!("x = {words}")),
                Key::Mark => Some(format!("* = {words}")),
                Key::Running => None,
            }
        });
        // Legend lines of at most 80 characters.
        let mut line = String::new();
        for item in legend {
            if !line.is_empty()
                && line.chars().count() + 3 + item.chars().count() > 80
            {
                let _ = writeln!(out, "{line}");
                line.clear();
            }
            if !line.is_empty() {
                line.push_str("   ");
            }
            line.push_str(&item);
        }
        let _ = writeln!(out, "{line}");
        out
    }
}
