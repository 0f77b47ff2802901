//! A tour of the helpers the notebooks use, as a plain program:
//!
//! ```text
//! cargo run -p helpers --example tour
//! ```
//!
//! It prints `say!` lines from three threads, times some CPU work, downloads
//! the six shared items from a local `SlowServer` one after another and then
//! with a thread each, and compares the two runs in a table.

use helpers::prelude::*;
use helpers::table::Cell;
use std::io;
use std::thread;

fn main() -> io::Result<()> {
    // Three threads say hello; each line carries its time and thread label.
    say!("hello from the main thread");
    thread::scope(|s| {
        for i in 1..=2 {
            thread::Builder::new()
                .name(format!("helper-{i}"))
                .spawn_scoped(s, move || say!("hello from helper {i}"))
                .expect("spawn a thread");
        }
    });

    // CPU work keeps a core busy for the time asked.
    time_it("cpu_spin(50 ms)", || cpu_spin(Duration::from_millis(50)));

    let server = SlowServer::start()?;
    let addr = server.addr();
    say!("{server:?}");
    let items = downloads();
    let sum: Duration = items.iter().map(|d| d.latency).sum();
    let max = items.iter().map(|d| d.latency).max().unwrap_or_default();
    say!(
        "{} downloads: latencies add up to {}, the slowest is {}",
        items.len(),
        fmt_duration(sum),
        fmt_duration(max)
    );

    // One after another: about the sum of the latencies.
    let (bodies, sequential) = time_it("sequential", || {
        let mut bodies = Vec::new();
        for item in &items {
            bodies.push(download_blocking(addr, item)?);
            cpu_spin(PARSE_TIME);
        }
        io::Result::Ok(bodies)
    });
    let sequential_bytes: usize = bodies?.iter().map(Vec::len).sum();
    let sequential_peak = server.peak_concurrent();
    server.reset_counts();

    // A thread per download: about the slowest latency.
    let watch = Stopwatch::start();
    let (handles, cost) = measure_spawn(items.len(), || {
        items
            .iter()
            .map(|&item| {
                thread::spawn(move || {
                    let body = download_blocking(addr, &item);
                    cpu_spin(PARSE_TIME);
                    say!("{} done", item.name);
                    body
                })
            })
            .collect::<Vec<_>>()
    });
    let mut threaded_bytes = 0;
    for handle in handles {
        threaded_bytes += handle.join().expect("download thread panicked")?.len();
    }
    let threaded = watch.elapsed();
    println!("threads: {}", fmt_duration(threaded));
    println!("spawning: {cost}");
    assert_eq!(sequential_bytes, threaded_bytes);

    if let (Some(rss), Some(threads)) = (resident_bytes(), os_thread_count()) {
        say!(
            "this process: {} resident, {threads} OS threads ({} of them the server's)",
            fmt_bytes(rss),
            SlowServer::THREADS
        );
    }

    let mut table = Table::new(
        "Six downloads",
        &[
            "strategy",
            "wall",
            "threads added",
            "max concurrent",
            "memory added",
        ],
    );
    table.row(("sequential", sequential, 0, sequential_peak, Cell::Missing));
    table.row((
        "thread per download",
        threaded,
        cost.threads_added(),
        server.peak_concurrent(),
        Cell::bytes(cost.rss_added()),
    ));
    table.row((
        "(sum of latencies)",
        sum,
        Cell::Missing,
        Cell::Missing,
        Cell::Missing,
    ));
    table.row((
        "(slowest latency)",
        max,
        Cell::Missing,
        Cell::Missing,
        Cell::Missing,
    ));
    table.bar_chart("wall");
    println!("\n{table}");
    Ok(())
}
