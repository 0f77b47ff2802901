//! STUB: being written.
#![allow(missing_docs, unused)]
use std::time::Duration;
pub struct Download;
pub struct SlowServer;
pub fn blocking_io(d: Duration) { unimplemented!() }
pub fn cpu_spin(d: Duration) -> u64 { unimplemented!() }
pub fn downloads() -> Vec<Download> { unimplemented!() }
