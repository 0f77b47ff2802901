//! Thread and memory counts are process-wide, so they are tested here, in a
//! process of their own, by one test function.

use helpers::process::{measure_spawn, os_thread_count, resident_bytes};
use helpers::server::SlowServer;
use std::sync::{Arc, Barrier};

#[test]
fn counts_follow_spawned_threads_and_the_server() {
    if os_thread_count().is_none() {
        assert!(resident_bytes().is_none() || cfg!(target_os = "macos"));
        return; // not available on this OS
    }
    let base = os_thread_count().unwrap();

    // 100 threads that stay alive until released.
    let n = 100;
    let release = Arc::new(Barrier::new(n + 1));
    let (handles, cost) = measure_spawn(n, || {
        (0..n)
            .map(|_| {
                let release = Arc::clone(&release);
                std::thread::spawn(move || {
                    // Touch a little stack, as real work would.
                    let buf = std::hint::black_box([1u8; 16 * 1024]);
                    release.wait();
                    buf[0]
                })
            })
            .collect::<Vec<_>>()
    });
    println!("{cost}");
    assert_eq!(cost.threads_added(), Some(n), "{cost}");
    let per_thread = cost.per_unit_rss().unwrap();
    // Each thread touched its 16 KiB buffer, but nowhere near its 2 MiB stack.
    assert!(per_thread >= 8 * 1024, "{cost}");
    assert!(per_thread < 1024 * 1024, "{cost}");
    release.wait();
    for h in handles {
        assert_eq!(h.join().unwrap(), 1);
    }
    assert_eq!(os_thread_count(), Some(base));

    // The server adds exactly its two threads, and takes them away again.
    let server = SlowServer::start().unwrap();
    assert_eq!(os_thread_count(), Some(base + SlowServer::THREADS));
    drop(server);
    assert_eq!(os_thread_count(), Some(base));
}
