//! Time: an epoch to print times from, and timing of closures and futures.
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
//! # One format for durations
//!
//! Every duration printed here is written by
//! [`fmt_duration`] (`201.3 ms`, `1.204 s`), the
//! same function tables and timeline pictures use.

#![forbid(unsafe_code)]

use crate::fmt::fmt_duration;
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

#[cfg(test)]
mod tests {
    use super::*;

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
