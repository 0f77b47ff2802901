//! Words and numbers for what a learner reads: durations, byte sizes, counts,
//! escaped text, truncated labels, and the protocol that shows a picture or a
//! table inline in evcxr.
//!
//! # Why one module
//!
//! The same duration must never appear two ways in the course: a `say!` line,
//! a table, a timeline's caption and its tooltips all write `1.204 s` with
//! [`fmt_duration`], and every byte size is [`fmt_bytes`]. Likewise there is
//! one escaper per target language ([`escape_xml`] for SVG and HTML,
//! [`json_string`] for JSON), one way to shorten a label ([`truncate_middle`],
//! [`truncate_end`]) and one way to hand evcxr rich output
//! ([`evcxr_display`]).
//!
//! # Why a fixed number of digits
//!
//! [`fmt_duration`] and [`fmt_bytes`] always print 3 or 4 significant digits in
//! the largest unit that keeps the number small (`812 ns`, `12.3 µs`,
//! `201.3 ms`, `1.204 s`, `75.2 s`; `512 B`, `1.50 KiB`, `812 KiB`).
//! Measurements of concurrent programs jitter by a few percent; more digits
//! would be noise, fewer would hide real differences.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::time::Duration;

/// The word for a figure that is missing (not measured, or not available on
/// this system), in tables and printed lines alike.
///
/// # Examples
///
/// ```
/// assert_eq!(helpers::fmt::NOT_AVAILABLE, "n/a");
/// ```
pub const NOT_AVAILABLE: &str = "n/a";

/// Writes a duration for humans, with 3 or 4 significant digits.
///
/// The rule: below 1 µs whole nanoseconds (`812 ns`); in µs and ms two decimals
/// below 10 and one decimal from 10 (`4.20 µs`, `12.3 µs`, `201.3 ms`); in seconds
/// three decimals below 10 and one from 10 (`1.204 s`, `75.2 s`). Values round
/// half up, and a value that rounds up to 1000 moves to the next unit
/// (999.95 ms prints as `1.000 s`, never `1000.0 ms`).
///
/// # Examples
///
/// ```
/// use helpers::fmt::fmt_duration;
/// use std::time::Duration;
/// assert_eq!(fmt_duration(Duration::from_nanos(812)), "812 ns");
/// assert_eq!(fmt_duration(Duration::from_nanos(12_345)), "12.3 µs");
/// assert_eq!(fmt_duration(Duration::from_micros(201_340)), "201.3 ms");
/// assert_eq!(fmt_duration(Duration::from_millis(1_204)), "1.204 s");
/// assert_eq!(fmt_duration(Duration::from_millis(75_210)), "75.2 s");
/// ```
pub fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        return format!("{ns} ns");
    }
    // (nanoseconds per unit, unit name), for the units with 2 or 1 decimals.
    for (per_unit, unit) in [(1_000, "µs"), (1_000_000, "ms")] {
        let hundredths = div_round(ns * 100, per_unit);
        if hundredths < 10 * 100 {
            return with_decimals(hundredths, 2, unit);
        }
        let tenths = div_round(ns * 10, per_unit);
        if tenths < 1_000 * 10 {
            return with_decimals(tenths, 1, unit);
        }
    }
    let thousandths = div_round(ns, 1_000_000);
    if thousandths < 10 * 1_000 {
        return with_decimals(thousandths, 3, "s");
    }
    with_decimals(div_round(ns, 100_000_000), 1, "s")
}

/// Writes a byte count for humans with 3 or 4 significant digits, in binary
/// units: `512 B`, `1.50 KiB`, `12.3 KiB`, `812 KiB`, `1.00 MiB`, ... `EiB`.
///
/// The rule: below 1 KiB whole bytes; otherwise the largest unit that keeps
/// the number below 1024, with two decimals below 10, one below 100 and none
/// from 100. Values round half up, and one that rounds up to 1024 moves to the
/// next unit.
///
/// # Examples
///
/// ```
/// use helpers::fmt::fmt_bytes;
/// assert_eq!(fmt_bytes(512), "512 B");
/// assert_eq!(fmt_bytes(1536), "1.50 KiB");
/// assert_eq!(fmt_bytes(8 * 1024 * 1024 + 100 * 1024), "8.10 MiB");
/// assert_eq!(fmt_bytes(2 << 30), "2.00 GiB");
/// ```
pub fn fmt_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let b = u128::from(bytes);
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    for (i, unit) in units.iter().enumerate() {
        let per_unit = 1u128 << (10 * (i + 1));
        let last = i == units.len() - 1;
        let hundredths = div_round(b * 100, per_unit);
        if hundredths < 10 * 100 {
            return with_decimals(hundredths, 2, unit);
        }
        let tenths = div_round(b * 10, per_unit);
        if tenths < 100 * 10 {
            return with_decimals(tenths, 1, unit);
        }
        let whole = div_round(b, per_unit);
        if whole < 1024 || last {
            return with_decimals(whole, 0, unit);
        }
    }
    unreachable!("the last unit always returns")
}

/// `n / d` rounded half up.
fn div_round(n: u128, d: u128) -> u128 {
    (n + d / 2) / d
}

/// Writes `scaled` (the value times 10^decimals) with `decimals` decimals.
fn with_decimals(scaled: u128, decimals: u32, unit: &str) -> String {
    if decimals == 0 {
        return format!("{scaled} {unit}");
    }
    let p = 10u128.pow(decimals);
    let width = decimals as usize;
    format!("{}.{:0width$} {unit}", scaled / p, scaled % p)
}

/// A count with a comma between each group of three digits: `1,234,567`.
///
/// # Examples
///
/// ```
/// use helpers::fmt::thousands;
/// assert_eq!(thousands(999), "999");
/// assert_eq!(thousands(1_234_567), "1,234,567");
/// ```
pub fn thousands(n: usize) -> String {
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

/// `1 span`, `2 spans`, `1,200 spans`: a count and its noun (plural with `s`).
///
/// # Examples
///
/// ```
/// use helpers::fmt::plural;
/// assert_eq!(plural(1, "thread"), "1 thread");
/// assert_eq!(plural(1500, "poll"), "1,500 polls");
/// ```
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}

/// Escapes text for XML and HTML, in element content and attribute values
/// alike: SVG pictures and HTML tables use it.
///
/// `&`, `<`, `>`, `"` and `'` become references (`'` as `&#39;`, which XML and
/// every HTML understand). Characters XML 1.0 forbids (most control
/// characters) become U+FFFD, so a stray `\u{7}` in a label cannot make a
/// picture unreadable.
///
/// # Examples
///
/// ```
/// use helpers::fmt::escape_xml;
/// assert_eq!(
///     escape_xml("<a href='x'>&\"</a>"),
///     "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
/// );
/// assert_eq!(escape_xml("bell\u{7}"), "bell\u{FFFD}");
/// ```
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push('\u{FFFD}')
            }
            c => out.push(c),
        }
    }
    out
}

/// A JSON string literal, quotes included: `"` and `\` are escaped, control
/// characters written as `\u00XX`.
///
/// # Examples
///
/// ```
/// use helpers::fmt::json_string;
/// assert_eq!(json_string("say \"hi\""), r#""say \"hi\"""#);
/// assert_eq!(json_string("a\\b\n"), r#""a\\b\u000a""#);
/// ```
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// At most `max` characters: when cut, the middle becomes `…`, because labels
/// often differ only at the end (`download 17`, `.../file-3.txt`).
///
/// # Examples
///
/// ```
/// use helpers::fmt::truncate_middle;
/// assert_eq!(truncate_middle("download number 17", 9), "down…r 17");
/// assert_eq!(truncate_middle("short", 9), "short");
/// ```
pub fn truncate_middle(s: &str, max: usize) -> String {
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

/// At most `max` characters, ending in `…` when cut: for text that is read
/// from its start (a label inside a bar, the start of a reply).
///
/// # Examples
///
/// ```
/// use helpers::fmt::truncate_end;
/// assert_eq!(truncate_end("download 17", 6), "downl…");
/// assert_eq!(truncate_end("short", 9), "short");
/// ```
pub fn truncate_end(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// What evcxr reads from stdout to show `content` of type `mime` inline:
/// `EVCXR_BEGIN_CONTENT <mime>`, the content, `EVCXR_END_CONTENT`.
///
/// # Examples
///
/// ```
/// let msg = helpers::fmt::evcxr_message("image/svg+xml", "<svg/>");
/// assert_eq!(msg, "EVCXR_BEGIN_CONTENT image/svg+xml\n<svg/>\nEVCXR_END_CONTENT\n");
/// ```
pub fn evcxr_message(mime: &str, content: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT\n")
}

/// Shows `content` of type `mime` (`image/svg+xml`, `text/html`) inline in
/// evcxr: prints [`evcxr_message`] in one write, so that output from other
/// threads cannot land in the middle. Outside evcxr the markers and the
/// content are simply printed.
///
/// # Examples
///
/// ```
/// helpers::fmt::evcxr_display("text/html", "<b>done</b>");
/// ```
pub fn evcxr_display(mime: &str, content: &str) {
    let msg = evcxr_message(mime, content);
    let mut out = io::stdout().lock();
    let _ = out.write_all(msg.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(n: u64) -> String {
        fmt_duration(Duration::from_nanos(n))
    }

    #[test]
    fn nanoseconds() {
        assert_eq!(ns(0), "0 ns");
        assert_eq!(ns(1), "1 ns");
        assert_eq!(ns(999), "999 ns");
    }

    #[test]
    fn microseconds_and_their_boundaries() {
        assert_eq!(ns(1_000), "1.00 µs");
        assert_eq!(ns(4_204), "4.20 µs");
        assert_eq!(ns(4_205), "4.21 µs", "half rounds up");
        assert_eq!(ns(9_994), "9.99 µs");
        assert_eq!(ns(9_995), "10.0 µs", "rounds to 10: one decimal");
        assert_eq!(ns(12_345), "12.3 µs");
        assert_eq!(ns(999_949), "999.9 µs");
        assert_eq!(ns(999_950), "1.00 ms", "rounds to 1000 µs: next unit");
    }

    #[test]
    fn milliseconds_and_their_boundaries() {
        assert_eq!(ns(1_000_000), "1.00 ms");
        assert_eq!(ns(9_995_000), "10.0 ms");
        assert_eq!(ns(201_340_000), "201.3 ms");
        assert_eq!(ns(201_350_000), "201.4 ms");
        assert_eq!(ns(999_949_999), "999.9 ms");
        assert_eq!(ns(999_950_000), "1.000 s", "999.95 ms rounds to 1.000 s");
    }

    #[test]
    fn seconds_and_their_boundaries() {
        assert_eq!(ns(1_204_000_000), "1.204 s");
        assert_eq!(ns(9_999_499_999), "9.999 s");
        assert_eq!(ns(9_999_500_000), "10.0 s");
        assert_eq!(ns(75_210_000_000), "75.2 s");
        assert_eq!(ns(3_600_000_000_000), "3600.0 s");
        assert_eq!(fmt_duration(Duration::MAX), "18446744073709551616.0 s");
    }

    #[test]
    fn fmt_bytes_boundaries() {
        const K: u64 = 1024;
        assert_eq!(fmt_bytes(0), "0 B");
        assert_eq!(fmt_bytes(1023), "1023 B");
        assert_eq!(fmt_bytes(K), "1.00 KiB");
        assert_eq!(fmt_bytes(10 * K - 6), "9.99 KiB");
        assert_eq!(fmt_bytes(10 * K - 5), "10.0 KiB", "rounds to 10: 1 decimal");
        assert_eq!(fmt_bytes(100 * K - 52), "99.9 KiB");
        assert_eq!(fmt_bytes(100 * K - 51), "100 KiB");
        assert_eq!(fmt_bytes(812 * K), "812 KiB");
        assert_eq!(fmt_bytes(1024 * K - 513), "1023 KiB");
        assert_eq!(fmt_bytes(1024 * K - 512), "1.00 MiB", "rounds to 1024");
        assert_eq!(fmt_bytes(K * K * K), "1.00 GiB");
        assert_eq!(fmt_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn durations_and_sizes_keep_3_or_4_significant_digits() {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).count();
        // From 100 ns (and 100 B) up, for three values per power of ten.
        let mut n: u64 = 100;
        while n < u64::MAX / 10 {
            for m in [n, n / 2 * 3, n / 4 * 7] {
                let b = fmt_bytes(m);
                assert!((3..=4).contains(&digits(&b)), "{m} -> {b}");
                if m < 1_000_000_000_000 {
                    let d = ns(m);
                    assert!((3..=4).contains(&digits(&d)), "{m} ns -> {d}");
                }
            }
            n *= 10;
        }
    }

    #[test]
    fn text_helpers() {
        assert_eq!(truncate_middle("abcdef", 4), "ab…f");
        assert_eq!(truncate_middle("ééé", 3), "ééé");
        assert_eq!(truncate_end("abcdef", 1), "…");
        assert_eq!(plural(0, "mark"), "0 marks");
        assert_eq!(escape_xml("\u{FFFE}\t"), "\u{FFFD}\t");
        assert_eq!(json_string("\u{1}é"), r#""\u0001é""#);
    }
}
