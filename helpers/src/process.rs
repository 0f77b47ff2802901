//! This process as the OS sees it: resident memory, OS threads (how many, and
//! their names), context switches, and what spawning N units costs.
//!
//! # Resident, not virtual
//!
//! [`resident_bytes`] is the *resident set*: memory pages the process has
//! actually touched and that sit in RAM now. That is what a thousand threads
//! really cost. Virtual size would mislead: every thread reserves a stack of
//! 2 MiB by default (Rust's default for spawned threads), so a thousand threads
//! reserve 2 GiB of address space, but the OS only backs the pages a thread
//! touches, typically a few KiB each. Reserved-but-untouched memory costs
//! address space, which 64-bit processes have plenty of, not RAM.
//!
//! # Where the numbers come from
//!
//! - Linux: `VmRSS` and `Threads` in `/proc/self/status`. The kernel updates
//!   the resident count in batches, so it can lag by some hundreds of KiB:
//!   measure many units at once, not one. Context switches: `getrusage`, from
//!   the C library every Linux program links.
//! - macOS: `proc_pidinfo(PROC_PIDTASKINFO)`, which libSystem provides (no
//!   dependency needed). Thread names and context switches: not available.
//! - Windows: the process's working set (`K32GetProcessMemoryInfo`, Windows'
//!   name for the resident set) and a thread snapshot
//!   (`CreateToolhelp32Snapshot`) filtered by this process; names from
//!   `GetThreadDescription` (Windows 10 1607 and later; a thread without one
//!   is `"unnamed"`), all from kernel32, which every Windows program links.
//!   Context switches: not available.
//! - Elsewhere: `None` ("not available"). Nothing here panics.
//!
//! # "Not available", on purpose
//!
//! Every figure is an `Option`, and a notebook prints [`not_available`] and
//! skips the asserts that need a figure it does not have. To check that path
//! on a machine that has every figure, set the environment variable
//! `COURSE_FIGURES=none` before starting the kernel (or the program): every
//! function here then answers `None`, as on a system that cannot tell. The
//! course's test runs the notebooks that way too.
//!
//! Everything in the process counts: your threads, an async runtime's workers,
//! and a [`SlowServer`](crate::server::SlowServer)'s two threads.

use crate::fmt::{NOT_AVAILABLE, fmt_bytes, fmt_duration};
use std::fmt;
use std::time::{Duration, Instant};

/// Resident memory of this process, in bytes; `None` where not available.
///
/// # Examples
///
/// ```
/// use helpers::{fmt::fmt_bytes, process::resident_bytes};
/// match resident_bytes() {
///     Some(b) => println!("this process uses {}", fmt_bytes(b)),
///     None => println!("resident memory is not available here"),
/// }
/// # #[cfg(target_os = "linux")]
/// # assert!(resident_bytes().unwrap() > 100 * 1024);
/// ```
pub fn resident_bytes() -> Option<u64> {
    if forced_off() {
        return None;
    }
    os::resident_bytes()
}

/// The number of OS threads in this process; `None` where not available.
///
/// # Examples
///
/// ```
/// use helpers::process::os_thread_count;
/// if let Some(before) = os_thread_count() {
///     let (tx, rx) = std::sync::mpsc::channel::<()>();
///     let t = std::thread::spawn(move || rx.recv());
///     assert_eq!(os_thread_count(), Some(before + 1));
///     drop(tx);
///     t.join().unwrap().unwrap_err();
/// }
/// ```
pub fn os_thread_count() -> Option<usize> {
    if forced_off() {
        return None;
    }
    os::thread_count()
}

/// The names of this process's OS threads, sorted; `None` where not available
/// (Linux reads `/proc/self/task`, Windows asks each thread for its
/// description; macOS: not available).
///
/// Linux keeps at most 15 bytes of a thread's name, and a thread started
/// without a name carries its process's name; on Windows a thread without a
/// name is `"unnamed"`. Use it to see *which* threads a
/// runtime started: compare the list before and after.
///
/// # Examples
///
/// ```
/// use helpers::process::os_thread_names;
/// use std::sync::mpsc::channel;
/// let (started, has_started) = channel::<()>();
/// let (tx, rx) = channel::<()>();
/// let t = std::thread::Builder::new()
///     .name("my-worker".into())
///     .spawn(move || {
///         started.send(()).unwrap();
///         rx.recv()
///     })
///     .unwrap();
/// // A new thread gives the OS its name when it starts running, so wait for it.
/// has_started.recv().unwrap();
/// if let Some(names) = os_thread_names() {
///     assert!(names.iter().any(|n| n == "my-worker"));
/// }
/// drop(tx);
/// t.join().unwrap().unwrap_err();
/// ```
pub fn os_thread_names() -> Option<Vec<String>> {
    if forced_off() {
        return None;
    }
    os::thread_names()
}

/// How many times the operating system has taken this process's threads off a
/// CPU core so far, split by why. Made by [`context_switches`].
///
/// A thread that *blocks* (waits for a lock, a channel, `park`, I/O, a
/// `sleep`) gives its core up: a **voluntary** switch. A thread whose time slice
/// ends, or that the scheduler interrupts to run a thread it has just woken, or
/// that calls `sched_yield`, loses it: an **involuntary** switch. Either way the
/// kernel saved one thread's registers and loaded another's. Switching between
/// async tasks on one thread is neither: it happens inside the program.
///
/// # Examples
///
/// ```
/// use helpers::process::ContextSwitches;
/// let before = ContextSwitches { voluntary: 10, involuntary: 3 };
/// let after = ContextSwitches { voluntary: 25, involuntary: 4 };
/// let during = after.since(before);
/// assert_eq!(during, ContextSwitches { voluntary: 15, involuntary: 1 });
/// assert_eq!(during.total(), 16);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContextSwitches {
    /// Switches where a thread blocked and gave its core up.
    pub voluntary: u64,
    /// Switches where the scheduler took the core away from a thread that could
    /// have gone on (time slice over, a woken thread preferred, `sched_yield`).
    pub involuntary: u64,
}

impl ContextSwitches {
    /// Voluntary and involuntary together.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = helpers::process::ContextSwitches { voluntary: 2, involuntary: 1 };
    /// assert_eq!(c.total(), 3);
    /// ```
    pub fn total(&self) -> u64 {
        self.voluntary + self.involuntary
    }

    /// The switches counted since `earlier` (each field at least 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::process::context_switches;
    /// if let Some(before) = context_switches() {
    ///     std::thread::sleep(std::time::Duration::from_millis(5)); // blocks
    ///     let during = context_switches().unwrap().since(before);
    ///     assert!(during.voluntary >= 1, "sleeping gives the core up");
    /// }
    /// ```
    pub fn since(&self, earlier: ContextSwitches) -> ContextSwitches {
        ContextSwitches {
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }
}

/// The context switches of all this process's threads so far, including threads
/// that have ended; `None` where not available (only Linux tells us).
///
/// Read it before and after a piece of work and take the difference with
/// [`ContextSwitches::since`]. Every thread of the process counts, so a few
/// switches of threads that have nothing to do with the work (a runtime's idle
/// worker, the notebook's own threads) can be in the difference.
///
/// On Linux this is `getrusage(RUSAGE_SELF)`: `ru_nvcsw` and `ru_nivcsw`, which
/// the kernel sums over all the process's threads, live and ended
/// (`/proc/self/status` would count the main thread only). Elsewhere the course
/// does not read them (macOS has `getrusage` too, but nobody has checked what
/// it counts there; Windows keeps switches per thread only, and forgets those
/// of ended threads), so it answers `None`.
///
/// # Examples
///
/// ```
/// use helpers::process::context_switches;
/// match context_switches() {
///     Some(c) => println!("{} voluntary, {} involuntary", c.voluntary, c.involuntary),
///     None => println!("context switches: not available"),
/// }
/// # #[cfg(target_os = "linux")]
/// # assert!(context_switches().is_some());
/// ```
pub fn context_switches() -> Option<ContextSwitches> {
    if forced_off() {
        return None;
    }
    os::context_switches()
}

/// The environment variable that turns every figure off: `COURSE_FIGURES=none`.
pub const FIGURES_ENV: &str = "COURSE_FIGURES";

/// Whether `COURSE_FIGURES=none` asks every figure to be "not available".
///
/// Read at every call, not once: each evcxr cell links its own copy of this
/// crate, so a cached value would not outlive a cell anyway, and reading one
/// variable costs well under a microsecond next to the figures themselves.
fn forced_off() -> bool {
    std::env::var_os(FIGURES_ENV).is_some_and(|v| v == "none")
}

/// The line a notebook prints where a figure is not available, and why: on
/// this system helpers cannot read it, or `COURSE_FIGURES=none` turned it off.
///
/// # Examples
///
/// ```
/// use helpers::process::{not_available, os_thread_count};
/// match os_thread_count() {
///     Some(n) => println!("{n} OS threads"),
///     None => println!("{}", not_available("OS thread count")),
/// }
/// let line = not_available("resident memory");
/// assert!(line.starts_with("resident memory: not available"), "{line}");
/// ```
pub fn not_available(figure: &str) -> String {
    if forced_off() {
        format!(
            "{figure}: not available (turned off by {FIGURES_ENV}=none, to test that path)"
        )
    } else {
        format!(
            "{figure}: not available on {} (helpers cannot read it there), so the \
             checks that need it are skipped",
            std::env::consts::OS
        )
    }
}

/// A figure that may be missing, for a printed line: its value, or `n/a`
/// (the word tables use for the same thing).
///
/// # Examples
///
/// ```
/// use helpers::process::or_na;
/// assert_eq!(or_na(Some(3)), "3");
/// assert_eq!(or_na(None::<usize>), "n/a");
/// ```
pub fn or_na<T: fmt::Display>(figure: Option<T>) -> String {
    figure.map_or_else(|| NOT_AVAILABLE.to_string(), |v| v.to_string())
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // getrusage
mod linux;
#[cfg(target_os = "linux")]
use self::linux as os;

#[cfg(target_os = "macos")]
#[allow(unsafe_code)] // proc_pidinfo
mod macos;
#[cfg(target_os = "macos")]
use self::macos as os;

// The pure parts (UTF-16 names, filtering a snapshot) are tested on every
// system; the calls into Windows compile on Windows only.
#[cfg(any(windows, test))]
#[allow(unsafe_code)] // kernel32
pub(crate) mod windows;
#[cfg(windows)]
use self::windows as os;

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
mod os {
    pub(super) fn resident_bytes() -> Option<u64> {
        None
    }

    pub(super) fn thread_count() -> Option<usize> {
        None
    }

    pub(super) fn thread_names() -> Option<Vec<String>> {
        None
    }

    pub(super) fn context_switches() -> Option<super::ContextSwitches> {
        None
    }
}

/// The number in a `Name:   value [unit]` line of a `/proc/*/status` text.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_status_field(status: &str, name: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (key, rest) = line.split_once(':')?;
        if key != name {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// What spawning `n` units of work cost: time, and the change in resident
/// memory and OS threads. Made by [`measure_spawn`].
///
/// The memory and thread figures are `None` where the OS does not tell us.
/// Displays as one line, for example
/// `1000 units: 41.2 ms (41.2 µs each), +9.10 MiB resident (9.32 KiB each), +1000 OS threads`.
///
/// # Examples
///
/// ```
/// use helpers::process::SpawnCost;
/// use std::time::Duration;
/// let cost = SpawnCost {
///     n: 100,
///     elapsed: Duration::from_millis(5),
///     rss_before: Some(10 << 20),
///     rss_after: Some(11 << 20),
///     threads_before: Some(1),
///     threads_after: Some(101),
/// };
/// assert_eq!(cost.per_unit_time(), Duration::from_micros(50));
/// assert_eq!(cost.per_unit_rss(), Some(10485));
/// assert_eq!(cost.threads_added(), Some(100));
/// assert_eq!(
///     cost.to_string(),
///     "100 units: 5.00 ms (50.0 µs each), +1.00 MiB resident (10.2 KiB each), \
///      +100 OS threads"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpawnCost {
    /// How many units were spawned.
    pub n: usize,
    /// How long spawning took (the closure given to [`measure_spawn`]).
    pub elapsed: Duration,
    /// Resident bytes before spawning.
    pub rss_before: Option<u64>,
    /// Resident bytes after spawning, with the units still alive.
    pub rss_after: Option<u64>,
    /// OS threads before spawning.
    pub threads_before: Option<usize>,
    /// OS threads after spawning, with the units still alive.
    pub threads_after: Option<usize>,
}

impl SpawnCost {
    /// Spawning time per unit (zero when `n` is 0).
    ///
    /// # Examples
    ///
    /// ```
    /// let (_, cost) = helpers::process::measure_spawn(0, || ());
    /// assert_eq!(cost.per_unit_time(), std::time::Duration::ZERO);
    /// ```
    pub fn per_unit_time(&self) -> Duration {
        match u32::try_from(self.n) {
            Ok(0) => Duration::ZERO,
            Ok(n) => self.elapsed / n,
            Err(_) => {
                Duration::from_secs_f64(self.elapsed.as_secs_f64() / self.n as f64)
            }
        }
    }

    /// Resident memory added, in bytes (0 if it shrank).
    ///
    /// # Examples
    ///
    /// ```
    /// let (_v, cost) = helpers::process::measure_spawn(1, || vec![1u8; 1 << 20]);
    /// # #[cfg(target_os = "linux")]
    /// assert!(cost.rss_added().unwrap() > 0);
    /// ```
    pub fn rss_added(&self) -> Option<u64> {
        Some(self.rss_after?.saturating_sub(self.rss_before?))
    }

    /// Resident memory added per unit, in bytes (0 if it shrank; `None` when
    /// not available or `n` is 0).
    ///
    /// # Examples
    ///
    /// ```
    /// let (_v, cost) = helpers::process::measure_spawn(0, || ());
    /// assert_eq!(cost.per_unit_rss(), None);
    /// ```
    pub fn per_unit_rss(&self) -> Option<u64> {
        let n = u64::try_from(self.n).ok().filter(|&n| n > 0)?;
        Some(self.rss_added()? / n)
    }

    /// OS threads added (0 if fewer).
    ///
    /// # Examples
    ///
    /// ```
    /// let (handles, cost) = helpers::process::measure_spawn(0, Vec::<()>::new);
    /// # #[cfg(target_os = "linux")]
    /// assert_eq!(cost.threads_added(), Some(0));
    /// ```
    pub fn threads_added(&self) -> Option<usize> {
        Some(self.threads_after?.saturating_sub(self.threads_before?))
    }
}

impl fmt::Display for SpawnCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} units: {} ({} each), ",
            self.n,
            fmt_duration(self.elapsed),
            fmt_duration(self.per_unit_time())
        )?;
        match (self.rss_added(), self.per_unit_rss()) {
            (Some(all), Some(each)) => write!(
                f,
                "+{} resident ({} each), ",
                fmt_bytes(all),
                fmt_bytes(each)
            )?,
            (Some(all), None) => write!(f, "+{} resident, ", fmt_bytes(all))?,
            _ => f.write_str("resident memory not available, ")?,
        }
        match self.threads_added() {
            Some(t) => write!(f, "+{t} OS threads"),
            None => f.write_str("OS threads not available"),
        }
    }
}

/// Measures spawning `n` units of work: records resident memory and OS threads,
/// runs `spawn`, and records the time it took and memory and threads again.
///
/// `spawn` must return while its units are still alive (return their join
/// handles, or make them wait on a barrier or channel you release afterwards):
/// units that already finished cost nothing any more. `n` is only used for the
/// per-unit figures.
///
/// # Examples
///
/// ```
/// use helpers::process::measure_spawn;
/// use std::sync::{Arc, Barrier};
/// let n = 50;
/// let release = Arc::new(Barrier::new(n + 1));
/// let (handles, cost) = measure_spawn(n, || {
///     (0..n)
///         .map(|_| {
///             let release = Arc::clone(&release);
///             std::thread::spawn(move || release.wait())
///         })
///         .collect::<Vec<_>>()
/// });
/// println!("{cost}");
/// # #[cfg(target_os = "linux")]
/// assert!(cost.threads_added().unwrap() >= n);
/// release.wait(); // let them finish
/// for h in handles {
///     h.join().unwrap();
/// }
/// ```
pub fn measure_spawn<T>(n: usize, spawn: impl FnOnce() -> T) -> (T, SpawnCost) {
    let rss_before = resident_bytes();
    let threads_before = os_thread_count();
    let start = Instant::now();
    let value = spawn();
    let elapsed = start.elapsed();
    let cost = SpawnCost {
        n,
        elapsed,
        rss_before,
        rss_after: resident_bytes(),
        threads_before,
        threads_after: os_thread_count(),
    };
    (value, cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn thread_names_see_a_new_named_thread_and_match_the_count() {
        let (started, has_started) = std::sync::mpsc::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let before = os_thread_names().unwrap();
        let t = std::thread::Builder::new()
            .name("names-test".into())
            .spawn(move || {
                started.send(()).unwrap();
                rx.recv()
            })
            .unwrap();
        // The new thread gives the OS its name when it starts running.
        has_started.recv().unwrap();
        let during = os_thread_names().unwrap();
        assert!(!before.iter().any(|n| n == "names-test"));
        assert_eq!(during.iter().filter(|n| *n == "names-test").count(), 1);
        assert!(during.windows(2).all(|w| w[0] <= w[1]), "sorted");
        drop(tx);
        t.join().unwrap().unwrap_err();
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn context_switches_count_threads_that_have_ended() {
        let before = context_switches().unwrap();
        std::thread::spawn(|| {
            for _ in 0..3 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        })
        .join()
        .unwrap();
        let during = context_switches().unwrap().since(before);
        assert!(
            during.voluntary >= 3,
            "three sleeps, three blocks: {during:?}"
        );
    }

    #[test]
    fn status_parsing() {
        let status = "Name:\tcat\nVmRSS:\t    5560 kB\nThreads:\t7\nVmRSSx: 1\n";
        assert_eq!(parse_status_field(status, "VmRSS"), Some(5560));
        assert_eq!(parse_status_field(status, "Threads"), Some(7));
        assert_eq!(parse_status_field(status, "VmSwap"), None);
        assert_eq!(parse_status_field("Threads:\n", "Threads"), None);
    }

    #[test]
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    fn this_process_has_memory_and_threads() {
        assert!(resident_bytes().unwrap() > 0);
        assert!(os_thread_count().unwrap() >= 1);
    }

    #[test]
    fn spawn_cost_arithmetic_saturates_and_handles_missing() {
        let cost = SpawnCost {
            n: 4,
            elapsed: Duration::from_micros(100),
            rss_before: Some(10_000),
            rss_after: Some(9_000),
            threads_before: Some(5),
            threads_after: Some(3),
        };
        assert_eq!(cost.per_unit_time(), Duration::from_micros(25));
        assert_eq!((cost.rss_added(), cost.per_unit_rss()), (Some(0), Some(0)));
        assert_eq!(cost.threads_added(), Some(0));
        let missing = SpawnCost {
            rss_after: None,
            threads_before: None,
            ..cost
        };
        assert_eq!(missing.per_unit_rss(), None);
        assert_eq!(missing.threads_added(), None);
        assert_eq!(
            missing.to_string(),
            "4 units: 100.0 µs (25.0 µs each), resident memory not available, \
             OS threads not available"
        );
        let none = SpawnCost { n: 0, ..cost };
        assert_eq!(none.per_unit_time(), Duration::ZERO);
        assert!(
            none.to_string()
                .starts_with("0 units: 100.0 µs (0 ns each), +0 B")
        );
    }

    #[test]
    fn measure_spawn_passes_the_value_through_and_times_it() {
        // Thread counts are checked in tests/process_threads.rs, in a process of
        // their own: here other tests start and end threads at the same time.
        let (v, cost) = measure_spawn(3, || {
            std::thread::sleep(Duration::from_millis(5));
            "done"
        });
        assert_eq!(v, "done");
        assert_eq!(cost.n, 3);
        assert!(cost.elapsed >= Duration::from_millis(5));
        assert!(cost.per_unit_time() >= Duration::from_micros(1666));
    }
}
