//! Windows figures, from kernel32 (which every Windows program links):
//! resident memory is the process's *working set*, threads come from a
//! snapshot of all the system's threads filtered by this process, and names
//! from `GetThreadDescription`, looked up at run time because Windows before
//! 10 1607 does not have it (importing it would keep the cell from loading).
//!
//! Declared by hand, as the macOS figures are, so the Linux kernel pays for no
//! dependency. Nobody has run this on Windows in the course's CI: the checks
//! here are `cargo clippy --target x86_64-pc-windows-msvc` (it compiles every
//! line and checks the structs' sizes below), and unit tests of the pure parts
//! on Linux.

/// The name shown for a Windows thread that has no description.
pub(super) const UNNAMED: &str = "unnamed";

/// A thread's description as Rust text: UTF-16 up to the first NUL (or the
/// whole slice), invalid units replaced; an empty description is [`UNNAMED`].
pub(super) fn description_to_name(utf16: &[u16]) -> String {
    let end = utf16.iter().position(|&u| u == 0).unwrap_or(utf16.len());
    let name = String::from_utf16_lossy(&utf16[..end]);
    if name.is_empty() {
        UNNAMED.to_string()
    } else {
        name
    }
}

/// The ids of the threads owned by `pid`, from `(thread id, owner pid)` pairs.
pub(super) fn threads_of(
    pid: u32,
    entries: impl IntoIterator<Item = (u32, u32)>,
) -> Vec<u32> {
    entries
        .into_iter()
        .filter(|&(_, owner)| owner == pid)
        .map(|(tid, _)| tid)
        .collect()
}

/// Whether a thread created at `mine` is the process's first: no other
/// thread's creation time (in any unit, as long as it is the same) is earlier.
/// Windows does not mark the main thread, but it is the one created first.
pub(crate) fn is_oldest(mine: u64, others: impl IntoIterator<Item = u64>) -> bool {
    others.into_iter().all(|other| other >= mine)
}

#[cfg(windows)]
mod ffi {
    use std::ffi::{c_char, c_void};

    pub type Handle = *mut c_void;
    pub type Bool = i32;
    pub const INVALID_HANDLE_VALUE: Handle = -1isize as Handle;
    pub const TH32CS_SNAPTHREAD: u32 = 0x0000_0004;
    pub const THREAD_QUERY_LIMITED_INFORMATION: u32 = 0x0800;

    /// `THREADENTRY32` from `<tlhelp32.h>`: seven 32-bit fields.
    #[repr(C)]
    #[derive(Default)]
    pub struct ThreadEntry32 {
        pub size: u32,
        pub usage: u32,
        pub thread_id: u32,
        pub owner_process_id: u32,
        pub base_priority: i32,
        pub delta_priority: i32,
        pub flags: u32,
    }
    const _: () = assert!(std::mem::size_of::<ThreadEntry32>() == 28);

    /// `PROCESS_MEMORY_COUNTERS` from `<psapi.h>`: two `DWORD`s, then eight
    /// `SIZE_T`s (72 bytes on 64-bit Windows, 40 on 32-bit).
    #[repr(C)]
    #[derive(Default)]
    pub struct ProcessMemoryCounters {
        pub size: u32,
        pub page_fault_count: u32,
        pub peak_working_set_size: usize,
        pub working_set_size: usize,
        pub quota_peak_paged_pool_usage: usize,
        pub quota_paged_pool_usage: usize,
        pub quota_peak_non_paged_pool_usage: usize,
        pub quota_non_paged_pool_usage: usize,
        pub pagefile_usage: usize,
        pub peak_pagefile_usage: usize,
    }
    #[cfg(target_pointer_width = "64")]
    const _: () = assert!(std::mem::size_of::<ProcessMemoryCounters>() == 72);

    /// `FILETIME`: a count of 100 ns intervals, low half first.
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    pub struct FileTime {
        pub low: u32,
        pub high: u32,
    }

    impl FileTime {
        pub fn ticks(self) -> u64 {
            (u64::from(self.high) << 32) | u64::from(self.low)
        }
    }

    /// `HRESULT GetThreadDescription(HANDLE, PWSTR *)`.
    pub type GetThreadDescription =
        unsafe extern "system" fn(Handle, *mut *mut u16) -> i32;

    #[link(name = "kernel32")]
    unsafe extern "system" {
        pub fn CreateToolhelp32Snapshot(flags: u32, process_id: u32) -> Handle;
        pub fn Thread32First(snapshot: Handle, entry: *mut ThreadEntry32) -> Bool;
        pub fn Thread32Next(snapshot: Handle, entry: *mut ThreadEntry32) -> Bool;
        pub fn CloseHandle(handle: Handle) -> Bool;
        pub fn GetCurrentProcessId() -> u32;
        pub fn GetCurrentProcess() -> Handle;
        pub fn K32GetProcessMemoryInfo(
            process: Handle,
            counters: *mut ProcessMemoryCounters,
            size: u32,
        ) -> Bool;
        pub fn OpenThread(access: u32, inherit: Bool, thread_id: u32) -> Handle;
        pub fn GetCurrentThread() -> Handle;
        pub fn GetCurrentThreadId() -> u32;
        pub fn GetThreadTimes(
            thread: Handle,
            creation: *mut FileTime,
            exit: *mut FileTime,
            kernel: *mut FileTime,
            user: *mut FileTime,
        ) -> Bool;
        pub fn GetModuleHandleA(name: *const c_char) -> Handle;
        pub fn GetProcAddress(module: Handle, name: *const c_char) -> *mut c_void;
        pub fn LocalFree(memory: *mut c_void) -> *mut c_void;
    }
}

/// The ids of this process's threads, from a snapshot of the system's threads.
#[cfg(windows)]
fn thread_ids() -> Option<Vec<u32>> {
    use ffi::*;
    // SAFETY: plain calls with no pointers but `entry`, a valid, writable
    // `THREADENTRY32` whose `size` says how much may be written; the snapshot
    // handle is closed on every path after it was opened.
    unsafe {
        let snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
        if snapshot == INVALID_HANDLE_VALUE {
            return None;
        }
        let mut pairs = Vec::new();
        let mut entry = ThreadEntry32 {
            size: std::mem::size_of::<ThreadEntry32>() as u32,
            ..ThreadEntry32::default()
        };
        let mut more = Thread32First(snapshot, &raw mut entry) != 0;
        while more {
            pairs.push((entry.thread_id, entry.owner_process_id));
            more = Thread32Next(snapshot, &raw mut entry) != 0;
        }
        CloseHandle(snapshot);
        Some(threads_of(GetCurrentProcessId(), pairs)).filter(|t| !t.is_empty())
    }
}

/// When `thread` was created, in 100 ns ticks; `None` if Windows will not say.
///
/// # Safety
///
/// `thread` must be a valid thread handle with query rights (or a pseudo-handle).
#[cfg(windows)]
unsafe fn created(thread: ffi::Handle) -> Option<u64> {
    let mut times = [ffi::FileTime::default(); 4];
    let [creation, exit, kernel, user] = &mut times;
    // SAFETY: four valid, writable `FILETIME`s; the caller vouches for `thread`.
    let ok =
        unsafe { ffi::GetThreadTimes(thread, creation, exit, kernel, user) } != 0;
    ok.then_some(times[0].ticks())
}

/// The calling thread's id, and whether it is the process's main thread (the
/// one created first). Costs a thread snapshot: call it once per thread.
#[cfg(windows)]
pub(crate) fn current_thread() -> (u64, bool) {
    use ffi::*;
    // SAFETY: the current thread's pseudo-handle is always valid and needs no
    // closing; every opened handle is closed right after its one query.
    unsafe {
        let me = GetCurrentThreadId();
        let Some(mine) = created(GetCurrentThread()) else {
            return (u64::from(me), false);
        };
        let others = thread_ids()
            .unwrap_or_default()
            .into_iter()
            .filter(|&t| t != me);
        let times: Vec<u64> = others
            .filter_map(|tid| {
                let thread = OpenThread(THREAD_QUERY_LIMITED_INFORMATION, 0, tid);
                if thread.is_null() {
                    return None; // ended since the snapshot
                }
                let time = created(thread);
                CloseHandle(thread);
                time
            })
            .collect();
        (u64::from(me), is_oldest(mine, times))
    }
}

#[cfg(windows)]
pub(super) fn resident_bytes() -> Option<u64> {
    use ffi::*;
    let mut counters = ProcessMemoryCounters {
        size: std::mem::size_of::<ProcessMemoryCounters>() as u32,
        ..ProcessMemoryCounters::default()
    };
    // SAFETY: `counters` is a valid, writable `PROCESS_MEMORY_COUNTERS` of the
    // size given; the pseudo-handle of the current process needs no closing.
    let ok = unsafe {
        K32GetProcessMemoryInfo(
            GetCurrentProcess(),
            &raw mut counters,
            counters.size,
        )
    } != 0;
    ok.then_some(counters.working_set_size as u64)
}

#[cfg(windows)]
pub(super) fn thread_count() -> Option<usize> {
    thread_ids().map(|ids| ids.len())
}

#[cfg(windows)]
pub(super) fn thread_names() -> Option<Vec<String>> {
    use ffi::*;
    // SAFETY: both names are NUL-terminated; kernel32 is loaded in every
    // process, so its handle needs no freeing.
    let found = unsafe {
        GetProcAddress(
            GetModuleHandleA(c"kernel32.dll".as_ptr()),
            c"GetThreadDescription".as_ptr(),
        )
    };
    if found.is_null() {
        return None; // Windows older than 10 1607: no thread names at all
    }
    // SAFETY: a non-null address of kernel32's `GetThreadDescription`, whose
    // documented signature is the one declared.
    let describe: GetThreadDescription = unsafe { std::mem::transmute(found) };
    let mut names: Vec<String> = thread_ids()?
        .into_iter()
        .map(|tid| {
            // SAFETY: `OpenThread` returns null or a handle we close below;
            // `GetThreadDescription` writes one pointer to a NUL-terminated
            // UTF-16 string that we read up to its NUL and then `LocalFree`.
            unsafe {
                let thread = OpenThread(THREAD_QUERY_LIMITED_INFORMATION, 0, tid);
                if thread.is_null() {
                    return UNNAMED.to_string(); // ended since the snapshot
                }
                let mut text: *mut u16 = std::ptr::null_mut();
                let hresult = describe(thread, &raw mut text);
                CloseHandle(thread);
                if hresult < 0 || text.is_null() {
                    return UNNAMED.to_string();
                }
                let len = (0..).take_while(|&i| *text.add(i) != 0).count();
                let name =
                    description_to_name(std::slice::from_raw_parts(text, len));
                LocalFree(text.cast());
                name
            }
        })
        .collect();
    names.sort();
    Some(names)
}

#[cfg(windows)]
pub(super) fn context_switches() -> Option<super::ContextSwitches> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_become_names() {
        let wide = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        assert_eq!(
            description_to_name(&wide("tokio-runtime-worker")),
            "tokio-runtime-worker"
        );
        let mut with_nul = wide("main");
        with_nul.extend([0, 'x' as u16]);
        assert_eq!(
            description_to_name(&with_nul),
            "main",
            "stops at the first NUL"
        );
        assert_eq!(description_to_name(&[]), UNNAMED);
        assert_eq!(description_to_name(&[0]), UNNAMED);
        assert_eq!(description_to_name(&wide("größe ✓")), "größe ✓");
        assert_eq!(
            description_to_name(&[0xD800]),
            "\u{FFFD}",
            "a lone surrogate is replaced"
        );
    }

    #[test]
    fn the_main_thread_is_the_oldest() {
        assert!(is_oldest(100, [200, 150, 100]), "a tie is not younger");
        assert!(!is_oldest(150, [100, 200]));
        assert!(is_oldest(7, []), "alone");
    }

    #[test]
    fn a_snapshot_is_filtered_by_owner() {
        let snapshot = [(10, 4), (11, 7), (12, 4), (13, 0)];
        assert_eq!(threads_of(4, snapshot), vec![10, 12]);
        assert_eq!(threads_of(99, snapshot), Vec::<u32>::new());
    }
}
