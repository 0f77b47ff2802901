//! `say!`: `println!` that also says *when* and *on which thread*.
//!
//! Each line starts with the time since the [clock epoch](crate::clock) and a
//! short label of the calling thread:
//!
//! ```text
//! [ 0.201 s] [T3 tokio-rt-worker] task 2 done
//! ```
//!
//! The main thread (where notebook cells run) is `T1`; other threads are
//! numbered `T2`, `T3`, ... in the order they first say something, by one
//! [`Labeller`] per copy of this crate. In evcxr every cell has its own copy, so
//! both the numbering and the epoch restart in every cell; in a program they
//! last for the whole process.
//!
//! # Why one write per line
//!
//! When several threads print at once, their output must not interleave in the
//! middle of a line, or the learner cannot tell who printed what. `say!` formats
//! the whole line, newline included, into one `String` first and hands it to
//! `print!` as a single piece: stdout is locked for the call and the line
//! reaches the terminal (or the notebook) in one write.
//!
//! # Why the macro is tiny
//!
//! evcxr compiles every cell, so every `say!` expands in the learner's code: the
//! macro only builds `format_args!` and calls [`__say`], and all the work is
//! compiled once, here.

#![forbid(unsafe_code)]

use crate::threads::Labeller;
use std::fmt;
use std::time::Duration;

/// Thread numbers for `say!` lines: one per copy of the crate (so per cell in
/// evcxr, per process in a program).
static LABELS: Labeller = Labeller::new();

/// Prints one line stamped with the time since the clock epoch and the calling
/// thread: `[ 0.201 s] [T3 tokio-rt-worker] task 2 done`.
///
/// Takes the same arguments as `println!`. The line is written in one piece, so
/// lines from different threads never mix.
///
/// - **Time** counts from the [clock epoch](crate::clock): the first clock use in
///   this copy of the crate, or the last [`clock::restart`](crate::clock::restart).
/// - **Thread numbers**: `T1` is the process's main thread (where notebook
///   cells run), other threads get `T2`, `T3`, ... in order of first `say!`
///   (see [`Labeller`](crate::threads::Labeller) for systems that cannot tell
///   the main thread). The name is the thread's name, `main` for the main
///   thread, or `unnamed`.
/// - **In evcxr** every cell links a fresh copy of this crate, so both the time
///   and the numbering restart in every cell: the first spawned thread to `say!`
///   in a cell is `T2`, even if it was `T3` in the previous cell.
///
/// Begin an experiment with a `say!` (or [`time_it`](crate::clock::time_it), or
/// [`clock::restart`](crate::clock::restart)) on the thread that starts it, so
/// that times count from its start rather than from the first line printed.
///
/// # Examples
///
/// ```
/// use helpers::say;
/// say!("starting {} workers", 2);
/// std::thread::scope(|s| {
///     for i in 0..2 {
///         s.spawn(move || say!("worker {i} here"));
///     }
/// });
/// // [ 0.000 s] [T1 main] starting 2 workers
/// // [ 0.000 s] [T2 unnamed] worker 0 here
/// // [ 0.000 s] [T3 unnamed] worker 1 here
/// ```
#[macro_export]
macro_rules! say {
    () => {
        $crate::say::__say(::std::format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::say::__say(::std::format_args!($($arg)*))
    };
}

/// What [`say!`](crate::say!) expands to; not for direct use.
#[doc(hidden)]
pub fn __say(args: fmt::Arguments<'_>) {
    let line = say_line(args);
    print!("{line}");
}

/// The line [`say!`](crate::say!) would print now on this thread, newline
/// included, without printing it.
///
/// # Examples
///
/// ```
/// let line = helpers::say::say_line(format_args!("hello {}", 42));
/// assert!(line.starts_with("[ "));
/// assert!(line.contains("] hello 42"));
/// assert!(line.ends_with('\n'));
/// ```
pub fn say_line(args: fmt::Arguments<'_>) -> String {
    let at = crate::clock::since_epoch();
    let (n, info) = LABELS.label_current();
    format_line(at, n, &info.name, args)
}

/// Formats a `say!` line from its parts: `[ 0.201 s] [T3 tokio-rt-worker] msg\n`.
///
/// The time has millisecond resolution and is right-aligned to 2 digits of
/// seconds, so the lines of a short run stay aligned.
///
/// # Examples
///
/// ```
/// use helpers::say::format_line;
/// use std::time::Duration;
/// let line = format_line(
///     Duration::from_millis(201),
///     3,
///     "tokio-rt-worker",
///     format_args!("task {} done", 2),
/// );
/// assert_eq!(line, "[ 0.201 s] [T3 tokio-rt-worker] task 2 done\n");
/// ```
pub fn format_line(
    at: Duration,
    thread_no: usize,
    thread_name: &str,
    msg: fmt::Arguments<'_>,
) -> String {
    let ms = at.as_millis();
    format!(
        "[{:>2}.{:03} s] [T{thread_no} {thread_name}] {msg}\n",
        ms / 1000,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_line_layout() {
        let f = |ms, n, name: &str| {
            format_line(Duration::from_millis(ms), n, name, format_args!("x"))
        };
        assert_eq!(f(0, 1, "main"), "[ 0.000 s] [T1 main] x\n");
        assert_eq!(f(1_999, 2, "w"), "[ 1.999 s] [T2 w] x\n");
        assert_eq!(f(12_345, 12, "w"), "[12.345 s] [T12 w] x\n");
        assert_eq!(f(123_456, 3, "w"), "[123.456 s] [T3 w] x\n");
        // Sub-millisecond times truncate, so a line never claims a later time.
        let l = format_line(Duration::from_micros(1_999), 1, "m", format_args!(""));
        assert_eq!(l, "[ 0.001 s] [T1 m] \n");
    }

    #[test]
    fn say_line_labels_threads_consistently() {
        let here = say_line(format_args!("a"));
        let again = say_line(format_args!("b"));
        let tag = |l: &str| l.split("] ").nth(1).unwrap().to_string();
        assert_eq!(tag(&here), tag(&again), "same thread, same label");
        let there = std::thread::Builder::new()
            .name("say-test".into())
            .spawn(|| say_line(format_args!("c")))
            .unwrap()
            .join()
            .unwrap();
        assert_ne!(tag(&here), tag(&there));
        assert!(tag(&there).ends_with(" say-test"), "{there}");
        assert!(there.ends_with("] c\n"));
    }

    #[test]
    fn macro_forms_compile_and_run() {
        crate::say!();
        crate::say!("plain");
        let n = 3;
        crate::say!("inline {n} and positional {}", n + 1);
    }
}
