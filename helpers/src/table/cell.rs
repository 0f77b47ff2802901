//! What a [`Table`](super::Table) holds: [`Cell`]s, and the rows
//! [`Table::row`](super::Table::row) accepts.

use crate::fmt::{NOT_AVAILABLE, fmt_bytes, fmt_duration};
use std::fmt;
use std::time::Duration;

/// One value in a [`Table`](super::Table).
///
/// Convert with `.into()` (or let [`Table::row`](super::Table::row) do it)
/// from `&str`, `String`, `Duration`, integers (`usize`, `u32`, `i32`, `i64`)
/// and `Option`s of these (`None` is [`Cell::Missing`]). A `u64` could be a
/// count or a byte size, so it has no conversion: say which with
/// [`Cell::bytes`] or [`Cell::count`].
///
/// # Examples
///
/// ```
/// use helpers::table::Cell;
/// use std::time::Duration;
/// assert_eq!(Cell::from("threads"), Cell::Text("threads".into()));
/// assert_eq!(Cell::from(Duration::from_millis(1204)).to_string(), "1.204 s");
/// assert_eq!(Cell::from(6usize), Cell::Count(6));
/// assert_eq!(Cell::bytes(3 << 20).to_string(), "3.00 MiB");
/// assert_eq!(Cell::from(None::<Duration>).to_string(), "n/a");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Text, left-aligned.
    Text(String),
    /// A duration, shown with [`fmt_duration`].
    Duration(Duration),
    /// A number of things.
    Count(i64),
    /// A size in bytes, shown with [`fmt_bytes`].
    Bytes(u64),
    /// No value (not measured, or not available on this OS): `n/a`.
    Missing,
}

impl Cell {
    /// A byte size, or [`Cell::Missing`] for `None`: takes the `Option<u64>` of
    /// [`resident_bytes`](crate::process::resident_bytes) as it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::table::Cell;
    /// assert_eq!(Cell::bytes(2048u64), Cell::Bytes(2048));
    /// assert_eq!(Cell::bytes(None), Cell::Missing);
    /// let rss = Cell::bytes(helpers::process::resident_bytes());
    /// ```
    pub fn bytes(bytes: impl Into<Option<u64>>) -> Cell {
        bytes.into().map_or(Cell::Missing, Cell::Bytes)
    }

    /// A count from a `u64` (saturating at `i64::MAX`), or [`Cell::Missing`]
    /// for `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::table::Cell;
    /// assert_eq!(Cell::count(7u64), Cell::Count(7));
    /// assert_eq!(Cell::count(None), Cell::Missing);
    /// ```
    pub fn count(n: impl Into<Option<u64>>) -> Cell {
        n.into().map_or(Cell::Missing, |n| {
            Cell::Count(i64::try_from(n).unwrap_or(i64::MAX))
        })
    }

    /// The value a bar is drawn from: seconds, a count or bytes; `None` for
    /// text and missing values.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::table::Cell;
    /// use std::time::Duration;
    /// assert_eq!(Cell::from(Duration::from_millis(1500)).number(), Some(1.5));
    /// assert_eq!(Cell::from("x").number(), None);
    /// ```
    pub fn number(&self) -> Option<f64> {
        match self {
            Cell::Duration(d) => Some(d.as_secs_f64()),
            Cell::Count(n) => Some(*n as f64),
            Cell::Bytes(b) => Some(*b as f64),
            Cell::Text(_) | Cell::Missing => None,
        }
    }

    /// Numbers (and `n/a`) are right-aligned; text is left-aligned.
    pub(super) fn is_text(&self) -> bool {
        matches!(self, Cell::Text(_))
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Text(s) => f.pad(s),
            Cell::Duration(d) => f.pad(&fmt_duration(*d)),
            Cell::Count(n) => fmt::Display::fmt(n, f),
            Cell::Bytes(b) => f.pad(&fmt_bytes(*b)),
            Cell::Missing => f.pad(NOT_AVAILABLE),
        }
    }
}

/// The conversions into a [`Cell`]: text, durations, and counts from the
/// integer types notebooks use.
macro_rules! cell_from {
    ($($t:ty: $v:ident => $cell:expr;)+) => {$(
        impl From<$t> for Cell {
            fn from($v: $t) -> Cell {
                $cell
            }
        }
    )+};
}

cell_from! {
    &str: s => Cell::Text(s.to_string());
    String: s => Cell::Text(s);
    &String: s => Cell::Text(s.clone());
    Duration: d => Cell::Duration(d);
    usize: n => Cell::Count(i64::try_from(n).unwrap_or(i64::MAX));
    u32: n => Cell::Count(n.into());
    i32: n => Cell::Count(n.into());
    i64: n => Cell::Count(n);
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Cell {
        value.map_or(Cell::Missing, Into::into)
    }
}

/// What [`Table::row`](super::Table::row) accepts: a tuple of up to 8 values
/// that each convert into a [`Cell`], or an array or `Vec` of them.
///
/// # Examples
///
/// ```
/// use helpers::table::{Cell, IntoRow};
/// use std::time::Duration;
/// let row = ("threads", Duration::from_millis(301), 6).into_row();
/// assert_eq!(row[2], Cell::Count(6));
/// assert_eq!(["a", "b"].into_row().len(), 2);
/// ```
pub trait IntoRow {
    /// The row's cells.
    fn into_row(self) -> Vec<Cell>;
}

impl<T: Into<Cell>> IntoRow for Vec<T> {
    fn into_row(self) -> Vec<Cell> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<T: Into<Cell>, const N: usize> IntoRow for [T; N] {
    fn into_row(self) -> Vec<Cell> {
        self.into_iter().map(Into::into).collect()
    }
}

macro_rules! tuple_rows {
    ($( ( $($t:ident),+ ) )+) => {$(
        impl<$($t: Into<Cell>),+> IntoRow for ($($t,)+) {
            #[allow(non_snake_case)]
            fn into_row(self) -> Vec<Cell> {
                let ($($t,)+) = self;
                vec![$($t.into()),+]
            }
        }
    )+};
}

tuple_rows! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(Cell::from(String::from("s")), Cell::Text("s".into()));
        assert_eq!(Cell::from(&String::from("s")), Cell::Text("s".into()));
        assert_eq!(Cell::from(3u32), Cell::Count(3));
        assert_eq!(Cell::from(-3i32), Cell::Count(-3));
        assert_eq!(Cell::from(-3i64), Cell::Count(-3));
        assert_eq!(Cell::from(usize::MAX), Cell::Count(i64::MAX));
        assert_eq!(Cell::count(u64::MAX), Cell::Count(i64::MAX));
        assert_eq!(Cell::from(Some("x")), Cell::Text("x".into()));
        assert_eq!(Cell::from(None::<&str>), Cell::Missing);
        assert_eq!(Cell::Count(-3).number(), Some(-3.0));
        assert_eq!(Cell::Missing.number(), None);
        assert_eq!(format!("{:>6}", Cell::Count(42)), "    42");
        assert_eq!(format!("{:>6}", Cell::Missing), "   n/a");
    }
}
