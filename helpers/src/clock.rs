//! Time: an epoch to print times from, timing of closures and futures, and
//! durations written for humans.
//!
//! # Why one epoch per copy of the crate
//!
//! A line such as `[ 0.201 s] [T3 tokio-rt-worker] task 2 done` is only useful if
//! every line counts from the same moment, so the reader can line up what
//! happened on different threads. That moment is the *epoch*: a monotonic
//! [`Instant`] taken the first time anything asks for it ([`since_epoch`],
//! [`say!`](crate::say!), ...), and moved to "now" by [`restart`].
//!
//! The first use is the first call of [`since_epoch`], [`epoch`], [`restart`],
//! [`say!`](crate::say!), [`time_it`], [`time_async`] or [`Stopwatch::start`]:
//! timing something marks the start of an experiment, so it starts the clock
//! too. Otherwise a cell whose first `say!` comes from a download finishing
//! 100 ms in would print that line at `0.000 s`.
//!
//! The epoch is a `static`, so there is one per copy of this crate:
//!
//! - in a program it is one per process, set by the first use;
//! - in evcxr every cell links its own copy of the crate, so every cell starts a
//!   fresh epoch at its first clock use: times printed by a cell count from that
//!   cell, which is what a learner running cells one by one wants.
//!
//! Reading the epoch must be cheap (it is read for every `say!` line, possibly
//! from many threads at once), so it is stored as a fixed base `Instant` plus an
//! atomic offset in nanoseconds: reading is one atomic load, no lock.
//!
//! # Why a fixed format for durations
//!
//! [`fmt_duration`] always prints 3 or 4 significant digits in the largest unit
//! that keeps the number below 1000 (`812 ns`, `12.3 µs`, `201.3 ms`,
//! `1.204 s`, `75.2 s`). Measurements of concurrent programs jitter by a few
//! percent; more digits would be noise, fewer would hide real differences.

#![forbid(unsafe_code)]

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The first `Instant` this copy of the crate asked for; never changes.
static BASE: OnceLock<Instant> = OnceLock::new();
/// Nanoseconds from `BASE` to the current epoch; moved forward by [`restart`].
static OFFSET_NANOS: AtomicU64 = AtomicU64::new(0);

fn base() -> Instant {
    *BASE.get_or_init(Instant::now)
}

/// The moment times are printed from (see the [module docs](self)).
///
/// # Examples
///
/// ```
/// use helpers::clock;
/// let e = clock::epoch();
/// let since = clock::since_epoch();
/// assert!(e + since <= std::time::Instant::now());
/// ```
pub fn epoch() -> Instant {
    base() + Duration::from_nanos(OFFSET_NANOS.load(Ordering::Relaxed))
}

/// Time elapsed since the [epoch](self), which is set by the first clock use in
/// this process (in evcxr: in this cell).
///
/// # Examples
///
/// ```
/// use helpers::clock::since_epoch;
/// let a = since_epoch();
/// std::thread::sleep(std::time::Duration::from_millis(5));
/// assert!(since_epoch() - a >= std::time::Duration::from_millis(5));
/// ```
pub fn since_epoch() -> Duration {
    let offset = Duration::from_nanos(OFFSET_NANOS.load(Ordering::Relaxed));
    base().elapsed().saturating_sub(offset)
}

/// Moves the epoch to now: the next [`say!`](crate::say!) line prints about
/// `[ 0.000 s]`.
///
/// Useful in a program that runs several experiments one after another; in evcxr
/// each cell starts a fresh epoch anyway.
///
/// # Examples
///
/// ```
/// use helpers::clock;
/// std::thread::sleep(std::time::Duration::from_millis(20));
/// clock::restart();
/// assert!(clock::since_epoch() < std::time::Duration::from_millis(20));
/// ```
pub fn restart() {
    let nanos = base().elapsed().as_nanos();
    // u64 nanoseconds last 584 years; saturate rather than wrap after that.
    let nanos = u64::try_from(nanos).unwrap_or(u64::MAX);
    OFFSET_NANOS.store(nanos, Ordering::Relaxed);
}

/// Runs `f`, prints `label: <duration>` on one line and returns `f`'s value with
/// the duration.
///
/// It also starts the [epoch](self) if nothing has yet, so `say!` lines inside
/// `f` count from about the start of `f`.
///
/// # Examples
///
/// ```
/// use helpers::clock::time_it;
/// use std::time::Duration;
/// let (sum, took) = time_it("sum", || (1..=100u64).sum::<u64>());
/// assert_eq!(sum, 5050);
/// assert!(took < Duration::from_secs(1));
/// ```
pub fn time_it<T>(label: &str, f: impl FnOnce() -> T) -> (T, Duration) {
    base();
    let start = Instant::now();
    let value = f();
    let took = start.elapsed();
    print!("{}", timed_line(label, took));
    (value, took)
}

/// Awaits `fut`, prints `label: <duration>` on one line and returns its output
/// with the duration: the async twin of [`time_it`].
///
/// The clock starts when the returned future is first polled (an `async fn`
/// does nothing until then), not when `time_async` is called. Like
/// [`time_it`], it starts the [epoch](self) if nothing has yet. It needs no
/// particular runtime.
///
/// # Examples
///
/// ```
/// use helpers::clock::time_async;
/// # fn block_on<F: Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop {
/// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
/// #             return v;
/// #         }
/// #     }
/// # }
/// // In a notebook: `time_async("fetch", fetch_all()).await` inside tokio.
/// let (v, _took) = block_on(time_async("answer", async { 6 * 7 }));
/// assert_eq!(v, 42);
/// ```
pub async fn time_async<T>(
    label: &str,
    fut: impl Future<Output = T>,
) -> (T, Duration) {
    base();
    let start = Instant::now();
    let value = fut.await;
    let took = start.elapsed();
    print!("{}", timed_line(label, took));
    (value, took)
}

/// `label: 201.3 ms\n`, printed by [`time_it`] and [`time_async`] in one write.
fn timed_line(label: &str, took: Duration) -> String {
    format!("{label}: {}\n", fmt_duration(took))
}

/// A stopwatch: time since it started, and laps.
///
/// Displays as its elapsed time in [`fmt_duration`] form.
///
/// # Examples
///
/// ```
/// use helpers::clock::Stopwatch;
/// use std::time::Duration;
/// let mut sw = Stopwatch::start();
/// std::thread::sleep(Duration::from_millis(10));
/// let first = sw.lap("first step"); // prints "first step: 10.1 ms (total 10.1 ms)"
/// assert!(first >= Duration::from_millis(10));
/// assert!(sw.elapsed() >= first);
/// println!("so far: {sw}");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch {
    start: Instant,
    last_lap: Instant,
}

impl Stopwatch {
    /// A stopwatch started now.
    ///
    /// # Examples
    ///
    /// ```
    /// let sw = helpers::clock::Stopwatch::start();
    /// assert!(sw.elapsed() < std::time::Duration::from_secs(1));
    /// ```
    pub fn start() -> Stopwatch {
        base();
        let now = Instant::now();
        Stopwatch {
            start: now,
            last_lap: now,
        }
    }

    /// The same as [`Stopwatch::start`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sw = helpers::clock::Stopwatch::new();
    /// assert!(sw.elapsed() < std::time::Duration::from_secs(1));
    /// ```
    pub fn new() -> Stopwatch {
        Stopwatch::start()
    }

    /// Time since the stopwatch started (or was restarted).
    ///
    /// # Examples
    ///
    /// ```
    /// let sw = helpers::clock::Stopwatch::start();
    /// std::thread::sleep(std::time::Duration::from_millis(2));
    /// assert!(sw.elapsed() >= std::time::Duration::from_millis(2));
    /// ```
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Ends a lap: prints `label: <lap> (total <elapsed>)` on one line and returns
    /// the lap, the time since the previous lap (or the start).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut sw = helpers::clock::Stopwatch::start();
    /// std::thread::sleep(Duration::from_millis(5));
    /// let a = sw.lap("a");
    /// let b = sw.lap("b");
    /// assert!(a >= Duration::from_millis(5));
    /// assert!(b < a, "the second lap only counts from the first");
    /// ```
    pub fn lap(&mut self, label: &str) -> Duration {
        let now = Instant::now();
        let lap = now - self.last_lap;
        self.last_lap = now;
        let total = now - self.start;
        let line = format!(
            "{label}: {} (total {})\n",
            fmt_duration(lap),
            fmt_duration(total)
        );
        print!("{line}");
        lap
    }

    /// Starts again from zero and returns the time elapsed before the restart.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut sw = helpers::clock::Stopwatch::start();
    /// std::thread::sleep(Duration::from_millis(5));
    /// let before = sw.restart();
    /// assert!(before >= Duration::from_millis(5));
    /// assert!(sw.elapsed() < before);
    /// ```
    pub fn restart(&mut self) -> Duration {
        let now = Instant::now();
        let before = now - self.start;
        self.start = now;
        self.last_lap = now;
        before
    }
}

impl Default for Stopwatch {
    fn default() -> Stopwatch {
        Stopwatch::start()
    }
}

impl fmt::Display for Stopwatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&fmt_duration(self.elapsed()))
    }
}

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
/// use helpers::clock::fmt_duration;
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

/// `n / d` rounded half up.
pub(crate) fn div_round(n: u128, d: u128) -> u128 {
    (n + d / 2) / d
}

/// Writes `scaled` (the value times 10^decimals) with `decimals` decimals.
pub(crate) fn with_decimals(scaled: u128, decimals: u32, unit: &str) -> String {
    if decimals == 0 {
        return format!("{scaled} {unit}");
    }
    let p = 10u128.pow(decimals);
    let width = decimals as usize;
    format!("{}.{:0width$} {unit}", scaled / p, scaled % p)
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
    fn significant_digits_stay_between_3_and_4() {
        // From 100 ns up, every printed value has 3 or 4 significant digits.
        let mut n: u64 = 100;
        while n < 1_000_000_000_000 {
            for m in [n, n * 3 / 2, n * 7 / 4] {
                let s = ns(m);
                let digits = s.chars().filter(char::is_ascii_digit).count();
                assert!((3..=4).contains(&digits), "{m} ns -> {s}");
            }
            n *= 10;
        }
    }

    #[test]
    fn epoch_restart_moves_since_epoch_back() {
        let _ = since_epoch();
        std::thread::sleep(Duration::from_millis(30));
        // Other tests may restart concurrently (that only moves the epoch later),
        // and a loaded machine may pause us anywhere: compare with a clock read
        // taken before the restart, never with a fixed bound.
        let before = Instant::now();
        restart();
        assert!(since_epoch() <= before.elapsed());
        assert!(epoch() <= Instant::now());
    }

    #[test]
    fn stopwatch_laps_add_up() {
        let mut sw = Stopwatch::start();
        std::thread::sleep(Duration::from_millis(3));
        let a = sw.lap("a");
        std::thread::sleep(Duration::from_millis(3));
        let b = sw.lap("b");
        assert!(a >= Duration::from_millis(3) && b >= Duration::from_millis(3));
        assert!(sw.elapsed() >= a + b);
        assert_eq!(format!("{:>12}", sw).chars().count(), 12, "pads");
        let before = sw.restart();
        assert!(before >= a + b);
        assert!(sw.elapsed() < before);
    }

    #[test]
    fn timed_line_is_one_line() {
        let line = timed_line("sum", Duration::from_micros(201_340));
        assert_eq!(line, "sum: 201.3 ms\n");
        let (v, d) = time_it("t", || 7);
        assert_eq!(v, 7);
        assert!(d < Duration::from_secs(1));
    }
}
