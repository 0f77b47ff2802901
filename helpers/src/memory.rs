//! STUB: being written.
#![allow(missing_docs, unused)]
pub struct SpawnCost;
pub fn fmt_bytes(b: u64) -> String { unimplemented!() }
pub fn measure_spawn<T>(n: usize, f: impl FnOnce() -> T) -> (T, SpawnCost) { unimplemented!() }
pub fn os_thread_count() -> Option<usize> { unimplemented!() }
pub fn resident_bytes() -> Option<u64> { unimplemented!() }
