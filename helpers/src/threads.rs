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
    /// main thread (recognised on Linux, macOS and Windows), otherwise `unnamed`.
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
        ThreadInfo::current_and_is_main().0
    }

    /// The calling thread, and whether it is the process's main thread.
    fn current_and_is_main() -> (ThreadInfo, bool) {
        let (os_id, is_main) = os_thread_id();
        let name = match std::thread::current().name() {
            Some(n) => n.to_string(),
            // In evcxr the cell runs on the process's main thread, but the cell's
            // copy of std never named it: call it what the learner expects.
            None if is_main => "main".to_string(),
            None => "unnamed".to_string(),
        };
        (ThreadInfo { os_id, name }, is_main)
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

/// Returns `(os thread id, is this the process's main thread)`.
#[cfg(target_os = "macos")]
#[allow(unsafe_code)] // pthread_main_np
fn os_thread_id() -> (u64, bool) {
    // SAFETY: the declaration matches `int pthread_main_np(void)` in Apple's
    // <pthread.h>, from libSystem, which every macOS program links. It reads no
    // memory of ours and may be called on any thread at any time, so `safe`.
    unsafe extern "C" {
        safe fn pthread_main_np() -> std::ffi::c_int;
    }
    // Non-zero on the thread the process started on: evcxr's cell thread.
    (fallback_id(), pthread_main_np() != 0)
}

/// Returns `(os thread id, is this the process's main thread)`: Windows does
/// not mark its main thread, so this is the thread created first.
#[cfg(windows)]
fn os_thread_id() -> (u64, bool) {
    crate::process::windows::current_thread()
}

/// Returns `(os thread id, is this the process's main thread)`: never `true`
/// here, the main thread is not recognised.
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn os_thread_id() -> (u64, bool) {
    (fallback_id(), false)
}

/// Whether [`os_thread_id`] can tell the main thread; where it cannot, thread
/// numbers simply follow first appearance, from `T1`.
const KNOWS_MAIN: bool =
    cfg!(any(target_os = "linux", target_os = "macos", windows));

/// A per-process number for the calling thread, from std's `ThreadId`.
#[cfg(not(windows))]
fn fallback_id() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut h);
    h.finish()
}

/// Gives threads small numbers: `T1` for the process's main thread, then `T2`,
/// `T3`, ... for other threads in order of first appearance.
///
/// Reserving `T1` for the main thread (the thread an evcxr cell runs on) keeps the
/// numbers that [`say!`](crate::say!) prints in step with a
/// [`Timeline`](crate::timeline::Timeline) made in the cell, which registers its
/// creating thread first: the cell's thread is `T1 main` in both, even when a
/// spawned thread speaks first. The main thread is recognised on Linux and
/// macOS; elsewhere numbering simply follows first appearance, from `T1`.
///
/// A `Labeller` is a plain value; `say!` uses one per copy of this crate (so in
/// evcxr the numbering restarts in every cell, and in a program it lasts for the
/// process).
///
/// # Examples
///
/// ```
/// use helpers::threads::Labeller;
/// let labels = Labeller::new();
/// let here = labels.label_current().0;
/// let other = std::thread::scope(|s| s.spawn(|| labels.label_current()).join().unwrap());
/// assert_ne!(other.0, here);
/// assert_eq!(labels.label_current().0, here, "same thread, same number");
///
/// // A program's `main` runs on the main thread: `T1`, even when it speaks last.
/// let late = Labeller::new();
/// std::thread::scope(|s| {
///     s.spawn(|| late.label_current());
/// });
/// # #[cfg(any(target_os = "linux", target_os = "macos"))]
/// assert_eq!(late.label_current().0, 1);
/// ```
#[derive(Debug, Default)]
pub struct Labeller {
    /// OS ids of the threads seen so far, other than the main thread; the thread
    /// at index `i` is `T{i + 2}` (`T{i + 1}` where the main thread is not
    /// recognised).
    seen: Mutex<Vec<u64>>,
}

impl Labeller {
    /// An empty labeller: the main thread will be `T1`, the first other thread
    /// to ask `T2`.
    ///
    /// # Examples
    ///
    /// ```
    /// let labels = helpers::threads::Labeller::new();
    /// let (n, info) = labels.label_current();
    /// assert!(n >= 1);
    /// assert!(!info.name.is_empty());
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
        let (info, is_main) = ThreadInfo::current_and_is_main();
        if is_main {
            return (1, info);
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let index = match seen.iter().position(|&id| id == info.os_id) {
            Some(i) => i,
            None => {
                seen.push(info.os_id);
                seen.len() - 1
            }
        };
        (index + if KNOWS_MAIN { 2 } else { 1 }, info)
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
        // cargo's test threads are not the main thread: where the main thread
        // is recognised, it keeps T1 and numbering starts at T2.
        let first = if KNOWS_MAIN { 2 } else { 1 };
        assert_eq!((a, b, c), (first, first + 1, first + 2));
        assert_eq!(labels.label_current().0, first);
    }
}
