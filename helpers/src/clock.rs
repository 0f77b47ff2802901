//! STUB: being written.
#![allow(missing_docs, unused)]
use std::time::Duration;
pub struct Stopwatch;
pub fn fmt_duration(d: Duration) -> String { unimplemented!() }
pub fn time_it<T>(label: &str, f: impl FnOnce() -> T) -> (T, Duration) { unimplemented!() }
pub async fn time_async<T>(label: &str, f: impl Future<Output = T>) -> (T, Duration) { unimplemented!() }
