//! macOS: `proc_pidinfo(PROC_PIDTASKINFO)` from libproc, part of libSystem.
//! Thread names and context switches: not available.

use std::ffi::{c_int, c_void};

/// `struct proc_taskinfo` from `<sys/proc_info.h>`: six `uint64_t`, then
/// twelve `int32_t`.
#[repr(C)]
#[derive(Default)]
struct ProcTaskInfo {
    virtual_size: u64,
    resident_size: u64,
    total_user: u64,
    total_system: u64,
    threads_user: u64,
    threads_system: u64,
    policy: i32,
    faults: i32,
    pageins: i32,
    cow_faults: i32,
    messages_sent: i32,
    messages_received: i32,
    syscalls_mach: i32,
    syscalls_unix: i32,
    csw: i32,
    threadnum: i32,
    numrunning: i32,
    priority: i32,
}

// `proc_pidinfo` only fills a buffer of exactly the kernel's size, so a wrong
// declaration would make every Mac say "not available", unseen on Linux. It
// fails to compile instead: Apple's header gives 6 * 8 + 12 * 4 = 96 bytes
// (`PROC_PIDTASKINFO_SIZE`), aligned to 8.
const _: () = assert!(std::mem::size_of::<ProcTaskInfo>() == 96);
const _: () = assert!(std::mem::align_of::<ProcTaskInfo>() == 8);

const PROC_PIDTASKINFO: c_int = 4;

unsafe extern "C" {
    /// From libproc, part of libSystem (which every macOS program links).
    fn proc_pidinfo(
        pid: c_int,
        flavor: c_int,
        arg: u64,
        buffer: *mut c_void,
        buffersize: c_int,
    ) -> c_int;
}

fn task_info() -> Option<ProcTaskInfo> {
    let mut info = ProcTaskInfo::default();
    let size = std::mem::size_of::<ProcTaskInfo>() as c_int;
    let pid = c_int::try_from(std::process::id()).ok()?;
    // SAFETY: the buffer is a valid, writable `proc_taskinfo` of `size` bytes,
    // and the call writes at most `size` bytes into it.
    let written = unsafe {
        proc_pidinfo(
            pid,
            PROC_PIDTASKINFO,
            0,
            (&raw mut info).cast::<c_void>(),
            size,
        )
    };
    (written == size).then_some(info)
}

pub(super) fn resident_bytes() -> Option<u64> {
    task_info().map(|i| i.resident_size)
}

pub(super) fn thread_count() -> Option<usize> {
    task_info().and_then(|i| usize::try_from(i.threadnum).ok())
}

pub(super) fn thread_names() -> Option<Vec<String>> {
    None
}

pub(super) fn context_switches() -> Option<super::ContextSwitches> {
    None
}
