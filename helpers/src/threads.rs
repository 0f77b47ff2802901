//! Who is running: a stable identity, a readable name and a short label for OS threads.
//!
//! `std::thread::ThreadId` numbers are unstable and, inside evcxr, not even unique
//! across cells (each cell links its own copy of the crates it uses). The course
//! therefore identifies a thread by its operating-system thread id where the OS
//! offers one cheaply, and gives threads small numbers (`T1`, `T2`, ...) in order of
//! first appearance.

use std::sync::Mutex;

/// What the course knows about one OS thread.
///
/// # Examples
///
/// ```
/// let me = helpers::threads::ThreadInfo::current();
/// assert_eq!(me.os_id, helpers::threads::ThreadInfo::current().os_id);
/// assert!(!me.name.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ThreadInfo {
    /// The OS thread id on Linux (`gettid`), otherwise a per-process stand-in.
    pub os_id: u64,
    /// The thread's name: its Rust name if it has one, `main` for the process's
    /// main thread, otherwise `unnamed`.
    pub name: String,
}

impl ThreadInfo {
    /// Describes the calling thread.
    ///
    /// This reads `/proc` on Linux, so it costs a few microseconds: fine for a
    /// `say!` line, too slow for a hot loop (the timeline caches it per thread).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = std::thread::Builder::new()
    ///     .name("worker-7".into())
    ///     .spawn(helpers::threads::ThreadInfo::current)
    ///     .unwrap()
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(t.name, "worker-7");
    /// ```
    pub fn current() -> ThreadInfo {
        let (os_id, is_main) = os_thread_id();
        let name = match std::thread::current().name() {
            Some(n) => n.to_string(),
            // In evcxr the cell runs on the process's main thread, but the cell's
            // copy of std never named it: call it what the learner expects.
            None if is_main => "main".to_string(),
            None => "unnamed".to_string(),
        };
        ThreadInfo { os_id, name }
    }
}

/// Returns `(os thread id, is this the process's main thread)`.
#[cfg(target_os = "linux")]
fn os_thread_id() -> (u64, bool) {
    // `/proc/thread-self` links to `<pid>/task/<tid>`; the main thread has tid == pid.
    if let Ok(link) = std::fs::read_link("/proc/thread-self") {
        let s = link.to_string_lossy();
        let mut parts = s.split('/');
        let pid = parts.next().and_then(|p| p.parse::<u64>().ok());
        let tid = parts.nth(1).and_then(|t| t.parse::<u64>().ok());
        if let (Some(pid), Some(tid)) = (pid, tid) {
            return (tid, pid == tid);
        }
    }
    (fallback_id(), false)
}

#[cfg(not(target_os = "linux"))]
fn os_thread_id() -> (u64, bool) {
    (fallback_id(), false)
}

/// A per-process number for the calling thread, from std's `ThreadId`.
fn fallback_id() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut h);
    h.finish()
}

/// Gives threads small numbers in order of first appearance: `T1`, `T2`, ...
///
/// A `Labeller` is a plain value; the [`say!`](crate::say!) macro uses one per copy
/// of this crate (so in evcxr the numbering restarts in every cell, and in a
/// program it lasts for the process).
///
/// # Examples
///
/// ```
/// use helpers::threads::Labeller;
/// let labels = Labeller::new();
/// let first = labels.label_current();
/// assert_eq!(first.0, 1);
/// let other = std::thread::scope(|s| s.spawn(|| labels.label_current()).join().unwrap());
/// assert_eq!(other.0, 2);
/// assert_eq!(labels.label_current().0, 1, "same thread, same number");
/// ```
#[derive(Debug, Default)]
pub struct Labeller {
    seen: Mutex<Vec<u64>>,
}

impl Labeller {
    /// An empty labeller: the next thread asking becomes `T1`.
    ///
    /// # Examples
    ///
    /// ```
    /// let labels = helpers::threads::Labeller::new();
    /// assert_eq!(labels.label_current().0, 1);
    /// ```
    pub const fn new() -> Labeller {
        Labeller {
            seen: Mutex::new(Vec::new()),
        }
    }

    /// The calling thread's number (1-based) and its [`ThreadInfo`].
    ///
    /// # Examples
    ///
    /// ```
    /// let labels = helpers::threads::Labeller::new();
    /// let (n, info) = labels.label_current();
    /// println!("T{n} {}", info.name);
    /// ```
    pub fn label_current(&self) -> (usize, ThreadInfo) {
        let info = ThreadInfo::current();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let n = match seen.iter().position(|&id| id == info.os_id) {
            Some(i) => i + 1,
            None => {
                seen.push(info.os_id);
                seen.len()
            }
        };
        (n, info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_threads_get_distinct_ids() {
        let here = ThreadInfo::current();
        let there = std::thread::spawn(ThreadInfo::current).join().unwrap();
        assert_ne!(here.os_id, there.os_id);
        assert_eq!(there.name, "unnamed");
    }

    #[test]
    fn labels_are_dense_and_stable() {
        let labels = Labeller::new();
        let a = labels.label_current().0;
        // The first helper thread stays alive until the second has its label, so
        // the OS cannot hand the second one a recycled thread id.
        let barrier = std::sync::Barrier::new(2);
        let (b, c) = std::thread::scope(|s| {
            let first = s.spawn(|| {
                let n = labels.label_current().0;
                barrier.wait();
                n
            });
            while labels.seen.lock().unwrap().len() < 2 {
                std::thread::yield_now();
            }
            let c = s.spawn(|| labels.label_current().0).join().unwrap();
            barrier.wait();
            (first.join().unwrap(), c)
        });
        assert_eq!((a, b, c), (1, 2, 3));
        assert_eq!(labels.label_current().0, 1);
    }
}
