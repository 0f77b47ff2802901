//! Workloads: CPU work, blocking I/O, and the course's shared "downloads", which
//! a [`SlowServer`](crate::server::SlowServer) serves over real sockets.
//!
//! # Why busy-wait for CPU work
//!
//! [`cpu_spin`] computes for the requested time instead of sleeping. A sleeping
//! thread gives its core back to the OS, so ten "CPU-bound" sleeps finish
//! together on one core and prove nothing. Real CPU work occupies a core for the
//! whole time: that is what makes parallelism show (N cores finish N spins in
//! the time of one), and what makes an async executor starve (a task that spins
//! never reaches an `.await`, so nothing else runs on that worker).
//!
//! # The shared workload
//!
//! Every notebook fetches the same six [`downloads`]: their latencies add up to
//! 1.2 s and the slowest takes 0.3 s, so a sequential run takes about 1.2 s and a
//! fully concurrent one about 0.3 s. After each download the notebooks spend
//! [`PARSE_TIME`] of CPU on it with [`cpu_spin`].

use crate::server::parse_response;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// Keeps the calling thread's core busy for `duration` and returns a checksum.
///
/// It computes in batches of a few thousand steps and checks the clock between
/// batches (a few microseconds apart), so it overshoots `duration` by at most a
/// few microseconds plus any time the OS gave the core to another thread. The
/// checksum depends on every step and goes through [`std::hint::black_box`], so
/// the compiler cannot remove the work; ignore it if you like.
///
/// Use it for "a piece of CPU work". Do not replace it with a sleep: see the
/// [module docs](self) for why.
///
/// # Examples
///
/// ```
/// use helpers::work::cpu_spin;
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// let _checksum = cpu_spin(Duration::from_millis(20));
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// ```
pub fn cpu_spin(duration: Duration) -> u64 {
    let start = Instant::now();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while start.elapsed() < duration {
        for _ in 0..4096 {
            // One step of a 64-bit linear congruential generator (Knuth's MMIX
            // constants): cheap, and every step depends on the previous one.
            x = std::hint::black_box(
                x.wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407),
            );
        }
    }
    x
}

/// Blocks the calling thread for `duration`, standing for a blocking read or
/// write (a file, a database call, a `std::net` socket).
///
/// It is a plain [`std::thread::sleep`] under a name that says what matters:
/// the thread can do nothing else meanwhile. It frees the core (unlike
/// [`cpu_spin`]) but holds the thread.
///
/// Do not call it inside an async task, except to demonstrate why not: it
/// blocks the executor's worker thread, so every other task on that worker
/// waits too. (In tokio, wrap such calls in `spawn_blocking`.)
///
/// # Examples
///
/// ```
/// use helpers::work::blocking_io;
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// blocking_io(Duration::from_millis(10));
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// ```
pub fn blocking_io(duration: Duration) {
    thread::sleep(duration);
}

/// The CPU time the notebooks spend on each downloaded item ("parsing" it), with
/// `cpu_spin(PARSE_TIME)`: small next to the download latencies, but real CPU
/// work that occupies a core.
///
/// # Examples
///
/// ```
/// use helpers::work::{PARSE_TIME, cpu_spin, downloads};
/// assert!(PARSE_TIME * 10 < downloads()[0].latency);
/// cpu_spin(PARSE_TIME);
/// ```
pub const PARSE_TIME: Duration = Duration::from_millis(10);

/// One item of the shared workload: a file the [`SlowServer`](crate::server::SlowServer) serves after
/// `latency`, `size` bytes long.
///
/// # Examples
///
/// ```
/// use helpers::work::Download;
/// use std::time::Duration;
/// let d = Download { name: "notes.txt", latency: Duration::from_millis(50), size: 10 };
/// assert_eq!(d.request(), "GET /notes.txt?delay_ms=50&size=10 HTTP/1.0\r\n\r\n");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Download {
    /// File name, as in the request path (`/index.html`).
    pub name: &'static str,
    /// How long the server waits before answering.
    pub latency: Duration,
    /// Body size in bytes.
    pub size: usize,
}

impl Download {
    /// The request to send to a [`SlowServer`](crate::server::SlowServer) for this item, ending with the
    /// empty line that ends an HTTP request:
    /// `GET /index.html?delay_ms=300&size=2048 HTTP/1.0\r\n\r\n`.
    ///
    /// Write it as bytes (`request().as_bytes()`) on a `std`, tokio or smol
    /// `TcpStream`, then read until the server closes the connection and give
    /// what you read to [`parse_response`].
    ///
    /// # Examples
    ///
    /// ```
    /// let d = helpers::work::downloads()[0];
    /// assert_eq!(
    ///     d.request(),
    ///     "GET /index.html?delay_ms=300&size=2048 HTTP/1.0\r\n\r\n"
    /// );
    /// ```
    pub fn request(&self) -> String {
        format!(
            "GET /{}?delay_ms={}&size={} HTTP/1.0\r\n\r\n",
            self.name,
            self.latency.as_millis(),
            self.size
        )
    }
}

pub(crate) const fn dl(
    name: &'static str,
    latency_ms: u64,
    size: usize,
) -> Download {
    Download {
        name,
        latency: Duration::from_millis(latency_ms),
        size,
    }
}

/// The shared workload: six downloads whose latencies add up to 1.2 s, the
/// slowest 0.3 s. [`downloads`] returns them as a `Vec`.
///
/// # Examples
///
/// ```
/// use helpers::work::DOWNLOADS;
/// use std::time::Duration;
/// let sum: Duration = DOWNLOADS.iter().map(|d| d.latency).sum();
/// let max = DOWNLOADS.iter().map(|d| d.latency).max().unwrap();
/// assert_eq!((sum, max), (Duration::from_millis(1200), Duration::from_millis(300)));
/// ```
pub const DOWNLOADS: [Download; 6] = [
    dl("index.html", 300, 2 * 1024),
    dl("style.css", 150, 1024),
    dl("logo.png", 250, 8 * 1024),
    dl("app.js", 100, 4 * 1024),
    dl("data.json", 200, 512),
    dl("font.woff2", 200, 16 * 1024),
];

/// The shared workload, [`DOWNLOADS`], as a `Vec` (to move into threads or
/// tasks, or to iterate over by value).
///
/// # Examples
///
/// ```
/// let items = helpers::work::downloads();
/// assert_eq!(items.len(), 6);
/// assert_eq!(items[0].name, "index.html");
/// ```
pub fn downloads() -> Vec<Download> {
    DOWNLOADS.to_vec()
}
/// Downloads `item` from the server at `addr` with blocking `std::net` calls:
/// connect, write [`Download::request`], read to the end, [`parse_response`].
///
/// The calling thread is blocked for the whole download (about
/// `item.latency`). Reads give up after 30 s, so a wrong address cannot hang
/// the thread forever.
///
/// # Errors
///
/// Any I/O error from the socket, or [`io::ErrorKind::InvalidData`] with
/// [`parse_response`]'s message when the response is not a good one.
///
/// # Examples
///
/// ```
/// use helpers::{server::SlowServer, work::{download_blocking, downloads}};
/// let server = SlowServer::start()?;
/// let item = downloads()[3];
/// let body = download_blocking(server.addr(), &item)?;
/// assert_eq!(body.len(), item.size);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn download_blocking(addr: SocketAddr, item: &Download) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(item.request().as_bytes())?;
    let mut response = Vec::with_capacity(item.size + 64);
    stream.read_to_end(&mut response)?;
    parse_response(&response)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_spin_takes_the_time_and_depends_on_it() {
        let start = Instant::now();
        let a = cpu_spin(Duration::from_millis(15));
        assert!(start.elapsed() >= Duration::from_millis(15));
        assert!(start.elapsed() < Duration::from_secs(2));
        let zero = cpu_spin(Duration::ZERO);
        assert_ne!(a, zero, "the checksum reflects the work done");
    }

    #[test]
    fn the_workload_is_as_documented() {
        let items = downloads();
        assert_eq!(items.len(), 6);
        let sum: Duration = items.iter().map(|d| d.latency).sum();
        assert_eq!(sum, Duration::from_millis(1200));
        let names: std::collections::HashSet<_> =
            items.iter().map(|d| d.name).collect();
        assert_eq!(names.len(), 6, "names are distinct");
    }
}
