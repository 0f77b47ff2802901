//! Linux: `/proc/self/status` and `/proc/self/task`, and `getrusage` from the
//! C library every Linux program links.

/// A field of `/proc/self/status`, such as `VmRSS:  12345 kB`.
fn status_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    super::parse_status_field(&status, name)
}

pub(super) fn resident_bytes() -> Option<u64> {
    // The kernel writes VmRSS in kB (meaning KiB).
    status_field("VmRSS").map(|kib| kib * 1024)
}

pub(super) fn thread_count() -> Option<usize> {
    status_field("Threads").and_then(|n| usize::try_from(n).ok())
}

pub(super) fn thread_names() -> Option<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        // A thread that ended since `read_dir` has no `comm` any more: skip it.
        let Ok(entry) = entry else { continue };
        if let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) {
            names.push(comm.trim_end().to_string());
        }
    }
    names.sort();
    Some(names)
}

/// `struct rusage` from `<sys/resource.h>`: two `struct timeval` (two
/// `long`s each), then fourteen `long`s, of which `ru_nvcsw` and `ru_nivcsw`
/// are the last two.
#[repr(C)]
#[derive(Default)]
struct Rusage {
    utime: [std::ffi::c_long; 2],
    stime: [std::ffi::c_long; 2],
    longs: [std::ffi::c_long; 14],
}

// On 64-bit Linux the kernel's `struct rusage` is 144 bytes: a wrong
// declaration fails to compile instead of reading the wrong fields.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Rusage>() == 144);

const RUSAGE_SELF: std::ffi::c_int = 0;

unsafe extern "C" {
    /// From the C library (glibc or musl).
    fn getrusage(who: std::ffi::c_int, usage: *mut Rusage) -> std::ffi::c_int;
}

pub(super) fn context_switches() -> Option<super::ContextSwitches> {
    let mut usage = Rusage::default();
    // SAFETY: `usage` is a valid, writable `struct rusage`, the only memory
    // the call writes.
    let ok = unsafe { getrusage(RUSAGE_SELF, &raw mut usage) } == 0;
    let [.., voluntary, involuntary] = usage.longs;
    ok.then(|| super::ContextSwitches {
        voluntary: u64::try_from(voluntary).unwrap_or(0),
        involuntary: u64::try_from(involuntary).unwrap_or(0),
    })
}
