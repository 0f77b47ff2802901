//! A local HTTP server whose answers take as long as each request asks.
//!
//! # Why a real server
//!
//! Downloads could be faked with sleeps, but then the learner's async code
//! would never touch a socket. [`SlowServer`] listens on `127.0.0.1` (never
//! another address) and answers each request after the delay the request asks
//! for, so blocking and async clients alike do real `connect`, `write` and
//! `read` calls and wait on the network exactly as they would for a remote
//! server.

mod http;
mod io_thread;

pub use http::parse_response;

use io_thread::serve_all;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The longest delay a request may ask a [`SlowServer`] for.
pub const MAX_DELAY: Duration = Duration::from_secs(10);
/// The largest body a request may ask a [`SlowServer`] for: 1 MiB.
pub const MAX_SIZE: usize = 1 << 20;
/// A request head (request line and headers) longer than this is refused.
const MAX_HEAD: usize = 8 * 1024;
/// A connection that makes no progress for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A small HTTP/1.0 server on `127.0.0.1` that answers each request after the
/// delay the request asks for.
///
/// # Protocol
///
/// A request is `GET /<name>?delay_ms=<ms>&size=<bytes> HTTP/1.0` followed by
/// an empty line (any headers in between are ignored); [`Download::request`](crate::work::Download::request)
/// writes it for you. Both parameters are optional (default 0). The server
/// waits `delay_ms` after reading the request, then replies
/// `HTTP/1.0 200 OK\r\nContent-Length: N\r\n\r\n` and `N` bytes of body (the
/// name repeated), and closes the connection. A malformed request, an unknown
/// parameter, a delay over [`MAX_DELAY`] or a size over [`MAX_SIZE`] gets
/// `HTTP/1.0 400 Bad Request` with a one-line body saying what was wrong.
///
/// # Threads
///
/// The server runs inside this process on exactly [`SlowServer::THREADS`]
/// threads, however many connections it serves: `slow-server` accepts
/// connections and `slow-server-io` serves all of them, with non-blocking
/// sockets and a queue of replies ordered by due time. So a server with ten
/// thousand waiting clients adds two threads to
/// [`os_thread_count`](crate::process::os_thread_count) (and a little to
/// [`resident_bytes`](crate::process::resident_bytes)), and client-side thread
/// counts stay meaningful. Both threads stop when the `SlowServer` is dropped.
///
/// # Counters
///
/// [`served`](SlowServer::served) counts 200 replies;
/// [`peak_concurrent`](SlowServer::peak_concurrent) is the most requests the
/// server was waiting on at the same moment, which proves from the server's
/// side how concurrent a client really was: 1 for a sequential client, 6 for
/// one that sends all six [`downloads`](crate::work::downloads) at once.
///
/// # Examples
///
/// ```
/// use helpers::{server::SlowServer, work::{download_blocking, downloads}};
/// let server = SlowServer::start()?;
/// std::thread::scope(|s| {
///     for item in downloads() {
///         let addr = server.addr();
///         s.spawn(move || download_blocking(addr, &item).unwrap());
///     }
/// });
/// assert_eq!(server.served(), 6);
/// assert_eq!(server.peak_concurrent(), 6, "all six were in flight at once");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct SlowServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    io: Option<JoinHandle<()>>,
}

/// What the server threads and the `SlowServer` handle share.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    served: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl SlowServer {
    /// How many OS threads a running server uses, whatever its load.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use helpers::{process::os_thread_count, server::SlowServer};
    /// let before = os_thread_count().unwrap();
    /// let server = SlowServer::start()?;
    /// assert_eq!(os_thread_count().unwrap(), before + SlowServer::THREADS);
    /// drop(server);
    /// assert_eq!(os_thread_count().unwrap(), before);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub const THREADS: usize = 2;

    /// Starts a server on `127.0.0.1` with a port chosen by the OS.
    ///
    /// # Errors
    ///
    /// If the OS refuses a socket or a thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = helpers::server::SlowServer::start()?;
    /// assert!(server.addr().ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start() -> io::Result<SlowServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        raise_backlog(&listener);
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::channel();
        let io_shared = Arc::clone(&shared);
        let io = thread::Builder::new()
            .name("slow-server-io".into())
            .spawn(move || serve_all(&rx, &io_shared))?;
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("slow-server".into())
            .spawn(move || accept_all(&listener, &tx, &accept_shared));
        let accept = match accept {
            Ok(handle) => handle,
            Err(e) => {
                shared.stop.store(true, Ordering::SeqCst);
                let _ = io.join();
                return Err(e);
            }
        };
        Ok(SlowServer {
            addr,
            shared,
            accept: Some(accept),
            io: Some(io),
        })
    }

    /// The address to connect to (`127.0.0.1:<port>`).
    ///
    /// # Examples
    ///
    /// ```
    /// let server = helpers::server::SlowServer::start()?;
    /// let stream = std::net::TcpStream::connect(server.addr())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many successful (200) replies the server has sent or started
    /// sending, since it started or since [`reset_counts`](Self::reset_counts).
    ///
    /// A reply is counted before its first byte is written, so once a client
    /// has its response the count includes it.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::{server::SlowServer, work::{download_blocking, downloads}};
    /// let server = SlowServer::start()?;
    /// download_blocking(server.addr(), &downloads()[3])?;
    /// assert_eq!(server.served(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn served(&self) -> usize {
        self.shared.served.load(Ordering::SeqCst)
    }

    /// The most requests the server was waiting on (between reading a request
    /// and starting its reply) at the same moment.
    ///
    /// A client that waits for each response before sending the next request
    /// always sees 1 here: each request is only sent after the previous reply
    /// was started, and by then the server no longer counts it.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::{server::SlowServer, work::{download_blocking, downloads}};
    /// let server = SlowServer::start()?;
    /// for item in &downloads()[..2] {
    ///     download_blocking(server.addr(), item)?;
    /// }
    /// assert_eq!(server.peak_concurrent(), 1, "one after the other");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peak_concurrent(&self) -> usize {
        self.shared.peak.load(Ordering::SeqCst)
    }

    /// How many requests the server is waiting on right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = helpers::server::SlowServer::start()?;
    /// assert_eq!(server.in_flight(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Sets [`served`](Self::served) to 0 and
    /// [`peak_concurrent`](Self::peak_concurrent) to the current
    /// [`in_flight`](Self::in_flight), to measure the next experiment alone with
    /// the same server.
    ///
    /// # Examples
    ///
    /// ```
    /// use helpers::{server::SlowServer, work::{download_blocking, downloads}};
    /// let server = SlowServer::start()?;
    /// download_blocking(server.addr(), &downloads()[3])?;
    /// server.reset_counts();
    /// assert_eq!((server.served(), server.peak_concurrent()), (0, 0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset_counts(&self) {
        self.shared.served.store(0, Ordering::SeqCst);
        let now = self.shared.in_flight.load(Ordering::SeqCst);
        self.shared.peak.store(now, Ordering::SeqCst);
    }
}

impl fmt::Debug for SlowServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlowServer")
            .field("addr", &self.addr)
            .field("served", &self.served())
            .field("in_flight", &self.in_flight())
            .field("peak_concurrent", &self.peak_concurrent())
            .finish()
    }
}

impl Drop for SlowServer {
    /// Stops both server threads and waits for them; connections still open are
    /// closed without a reply.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // The accept thread is blocked in `accept`: a connection wakes it up and
        // it sees the stop flag. If even that connection fails (say, no file
        // descriptors left), leave the thread behind rather than hang.
        let woke =
            TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(accept) = self.accept.take() {
            if woke || accept.is_finished() {
                let _ = accept.join();
            }
        }
        // The I/O thread never blocks for more than a moment and checks the flag.
        if let Some(io) = self.io.take() {
            let _ = io.join();
        }
    }
}

/// Lets the kernel queue more not-yet-accepted connections than std's 128.
///
/// When the queue is full, Linux drops new connection attempts and the client
/// retries one second later: a learner starting 1000 async downloads at once
/// would see some take a second longer for no reason of their own.
#[cfg(unix)]
#[allow(unsafe_code)] // listen
fn raise_backlog(listener: &TcpListener) {
    use std::os::fd::AsRawFd;
    unsafe extern "C" {
        fn listen(fd: std::ffi::c_int, backlog: std::ffi::c_int) -> std::ffi::c_int;
    }
    // SAFETY: `listen` only reads its two integer arguments, and the descriptor
    // belongs to a listening socket that `listener` keeps open during the call.
    // Calling it again on a listening socket just changes the queue length (the
    // kernel caps it at its own maximum). If it fails, the old length stays.
    unsafe {
        listen(listener.as_raw_fd(), 4096);
    }
}

#[cfg(not(unix))]
fn raise_backlog(_listener: &TcpListener) {}

/// The `slow-server` thread: accepts connections and hands them to the I/O
/// thread until the stop flag is set.
fn accept_all(
    listener: &TcpListener,
    to_io: &mpsc::Sender<TcpStream>,
    shared: &Shared,
) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        match conn {
            Ok(stream) => {
                if to_io.send(stream).is_err() {
                    return;
                }
            }
            // Out of file descriptors, or a connection reset before we got to
            // it: wait a moment rather than spin, then carry on.
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::{dl, download_blocking};
    use std::io::{Read, Write};
    use std::time::Instant;

    fn raw(server: &SlowServer, request: &[u8]) -> Vec<u8> {
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(request).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        out
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn server_replies_after_the_delay_with_the_size() {
        let server = SlowServer::start().unwrap();
        let item = dl("x.bin", 120, 100_000);
        let start = Instant::now();
        let body = download_blocking(server.addr(), &item).unwrap();
        let took = start.elapsed();
        assert_eq!(body.len(), 100_000);
        assert!(took >= Duration::from_millis(120), "{took:?}");
        assert!(took < Duration::from_millis(1000), "{took:?}");
        assert_eq!((server.served(), server.peak_concurrent()), (1, 1));
        let max = raw(&server, b"GET /big?size=1048576 HTTP/1.0\r\n\r\n");
        assert_eq!(parse_response(&max).unwrap().len(), MAX_SIZE);
    }

    #[test]
    fn server_rejects_bad_requests_and_keeps_serving() {
        let server = SlowServer::start().unwrap();
        let reply = text(&raw(&server, b"HELLO\r\n\r\n"));
        assert!(reply.starts_with("HTTP/1.0 400 Bad Request\r\n"), "{reply}");
        assert!(reply.contains("request line looks like"), "{reply}");
        let reply = text(&raw(&server, b"GET /x?delay_ms=99999 HTTP/1.0\n\n"));
        assert!(reply.contains("over the limit"), "{reply}");
        let reply = text(&raw(&server, &[b'a'; MAX_HEAD + 10]));
        assert!(reply.contains("longer than"), "{reply}");
        // A client that stops sending before the empty line still hears why.
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"GET /x HTTP/1.0\r\n").unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.contains("empty line"), "{out}");
        // A client that connects and says nothing is simply closed.
        drop(TcpStream::connect(server.addr()).unwrap());
        assert_eq!(server.served(), 0);
        let body = download_blocking(server.addr(), &dl("ok", 0, 3)).unwrap();
        assert_eq!(body, b"ok\n");
        assert_eq!(server.served(), 1);
    }

    #[test]
    fn server_serves_many_at_once() {
        let server = SlowServer::start().unwrap();
        let start = Instant::now();
        thread::scope(|s| {
            for i in 0..50 {
                let addr = server.addr();
                s.spawn(move || {
                    let item = dl("many", 200, i * 10);
                    assert_eq!(
                        download_blocking(addr, &item).unwrap().len(),
                        i * 10
                    );
                });
            }
        });
        let took = start.elapsed();
        assert!(took < Duration::from_millis(1500), "{took:?}");
        assert_eq!(server.served(), 50);
        assert_eq!(server.peak_concurrent(), 50);
        assert_eq!(server.in_flight(), 0);
        server.reset_counts();
        assert_eq!((server.served(), server.peak_concurrent()), (0, 0));
        assert!(format!("{server:?}").contains("served: 0"));
    }

    #[test]
    fn sequential_clients_peak_at_one() {
        let server = SlowServer::start().unwrap();
        for _ in 0..5 {
            download_blocking(server.addr(), &dl("seq", 5, 10)).unwrap();
        }
        assert_eq!((server.served(), server.peak_concurrent()), (5, 1));
    }

    #[test]
    fn drop_is_prompt_even_with_clients_waiting() {
        let server = SlowServer::start().unwrap();
        let addr = server.addr();
        let mut waiting = TcpStream::connect(addr).unwrap();
        waiting
            .write_all(b"GET /x?delay_ms=10000 HTTP/1.0\r\n\r\n")
            .unwrap();
        let _silent = TcpStream::connect(addr).unwrap();
        while server.in_flight() == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        let start = Instant::now();
        drop(server);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        // The waiting client is disconnected without a reply.
        let mut out = Vec::new();
        let _ = waiting.read_to_end(&mut out);
        assert!(out.is_empty());
    }
}
