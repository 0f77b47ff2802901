//! The epoch is per process (per copy of the crate): tested in a process of its
//! own, where nothing has used the clock yet.

use helpers::clock::{since_epoch, time_it};
use std::time::Duration;

#[test]
fn timing_something_starts_the_epoch() {
    // Time passes before any clock use: it must not count.
    std::thread::sleep(Duration::from_millis(200));
    let (inside, _) = time_it("first use", || {
        std::thread::sleep(Duration::from_millis(20));
        since_epoch()
    });
    assert!(inside >= Duration::from_millis(20), "{inside:?}");
    assert!(inside < Duration::from_millis(200), "{inside:?}");
}
