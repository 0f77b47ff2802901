//! Workloads: CPU work, blocking I/O, and the course's shared "downloads" with a
//! local server to download them from over real sockets.
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
//! # Why a real server
//!
//! Downloads could be faked with sleeps, but then the learner's async code
//! would never touch a socket. [`SlowServer`] listens on `127.0.0.1` (never
//! another address) and answers each request after the delay the request asks
//! for, so blocking and async clients alike do real `connect`, `write` and
//! `read` calls and wait on the network exactly as they would for a remote
//! server.
//!
//! # The shared workload
//!
//! Every notebook fetches the same six [`downloads`]: their latencies add up to
//! 1.2 s and the slowest takes 0.3 s, so a sequential run takes about 1.2 s and a
//! fully concurrent one about 0.3 s. After each download the notebooks spend
//! [`PARSE_TIME`] of CPU on it with [`cpu_spin`].

use std::collections::BinaryHeap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
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

/// One item of the shared workload: a file the [`SlowServer`] serves after
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
    /// The request to send to a [`SlowServer`] for this item, ending with the
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

const fn dl(name: &'static str, latency_ms: u64, size: usize) -> Download {
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

/// Extracts the body from a complete response of a [`SlowServer`] (status line,
/// headers, empty line, body).
///
/// # Errors
///
/// A message saying what is wrong: no empty line ending the headers, a status
/// other than `200` (with the server's explanation, e.g. for a malformed
/// request), or a body shorter or longer than its `Content-Length`.
///
/// # Examples
///
/// ```
/// use helpers::work::parse_response;
/// let ok = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";
/// assert_eq!(parse_response(ok).unwrap(), b"hello");
/// let bad = b"HTTP/1.0 400 Bad Request\r\nContent-Length: 8\r\n\r\nno path\n";
/// assert!(parse_response(bad).unwrap_err().contains("no path"));
/// assert!(parse_response(b"HTTP/1.0 200 OK\r\n").is_err());
/// ```
pub fn parse_response(response: &[u8]) -> Result<Vec<u8>, String> {
    let Some(head_len) = find(response, b"\r\n\r\n") else {
        return Err(format!(
            "no empty line (\\r\\n\\r\\n) ends the headers in these {} bytes: {:?}",
            response.len(),
            preview(response)
        ));
    };
    let head = String::from_utf8_lossy(&response[..head_len]);
    let body = &response[head_len + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let mut parts = status.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/") {
        return Err(format!("not an HTTP status line: {status:?}"));
    }
    if code != "200" {
        let why = String::from_utf8_lossy(body);
        return Err(format!("the server replied {status:?}: {}", why.trim()));
    }
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("content-length") {
            continue;
        }
        let Ok(len) = value.trim().parse::<usize>() else {
            return Err(format!("bad Content-Length header: {line:?}"));
        };
        if body.len() != len {
            return Err(format!(
                "the body has {} bytes but Content-Length says {len}{}",
                body.len(),
                if body.len() < len {
                    " (was the response read to the end?)"
                } else {
                    ""
                }
            ));
        }
    }
    Ok(body.to_vec())
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
/// use helpers::work::{SlowServer, download_blocking, downloads};
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

/// Where `needle` starts in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The start of some bytes, as text, for error messages.
fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]);
    if bytes.len() > 80 {
        format!("{text}...")
    } else {
        text.into_owned()
    }
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

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
/// an empty line (any headers in between are ignored); [`Download::request`]
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
/// [`os_thread_count`](crate::memory::os_thread_count) (and a little to
/// [`resident_bytes`](crate::memory::resident_bytes)), and client-side thread
/// counts stay meaningful. Both threads stop when the `SlowServer` is dropped.
///
/// # Counters
///
/// [`served`](SlowServer::served) counts 200 replies;
/// [`peak_concurrent`](SlowServer::peak_concurrent) is the most requests the
/// server was waiting on at the same moment, which proves from the server's
/// side how concurrent a client really was: 1 for a sequential client, 6 for
/// one that sends all six [`downloads`] at once.
///
/// # Examples
///
/// ```
/// use helpers::work::{SlowServer, download_blocking, downloads};
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
    /// use helpers::{memory::os_thread_count, work::SlowServer};
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
    /// let server = helpers::work::SlowServer::start()?;
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
    /// let server = helpers::work::SlowServer::start()?;
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
    /// use helpers::work::{SlowServer, download_blocking, downloads};
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
    /// use helpers::work::{SlowServer, download_blocking, downloads};
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
    /// let server = helpers::work::SlowServer::start()?;
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
    /// use helpers::work::{SlowServer, download_blocking, downloads};
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

/// A connection being read or written by the I/O thread.
struct Conn {
    stream: TcpStream,
    state: State,
    /// When the connection last made progress (for [`IDLE_TIMEOUT`]).
    progress: Instant,
}

enum State {
    /// Reading the request head.
    Reading(Vec<u8>),
    /// Writing a reply; `pos` bytes are written already.
    Writing { reply: Vec<u8>, pos: usize },
}

/// A parsed request waiting for its due time.
struct Waiting {
    due: Instant,
    /// Arrival order, so that equal due times keep their order.
    seq: u64,
    stream: TcpStream,
    request: Request,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest due first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

/// The `slow-server-io` thread: reads requests, keeps them until they are due,
/// writes replies.
///
/// Sockets are non-blocking and polled: often (every 200 µs) while a connection
/// has just made progress, so a request that arrives just after its connection
/// is read at once, and every 5 ms otherwise. Waiting requests cost nothing
/// until they are due: the thread sleeps until the earliest one.
fn serve_all(incoming: &mpsc::Receiver<TcpStream>, shared: &Shared) {
    let mut active: Vec<Conn> = Vec::new();
    let mut waiting: BinaryHeap<Waiting> = BinaryHeap::new();
    let mut seq: u64 = 0;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let now = Instant::now();
        let mut wait = Duration::from_millis(50);
        if let Some(first) = waiting.peek() {
            wait = wait.min(first.due.saturating_duration_since(now));
        }
        if !active.is_empty() {
            let fresh = active
                .iter()
                .any(|c| now - c.progress < Duration::from_millis(20));
            let tick = if fresh { 200 } else { 5_000 };
            wait = wait.min(Duration::from_micros(tick));
        }
        let mut arrived = Vec::new();
        match incoming.recv_timeout(wait) {
            Ok(stream) => arrived.push(stream),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        arrived.extend(incoming.try_iter());
        for stream in arrived {
            if stream.set_nonblocking(true).is_ok() {
                let _ = stream.set_nodelay(true);
                active.push(Conn {
                    stream,
                    state: State::Reading(Vec::new()),
                    progress: Instant::now(),
                });
            }
        }
        // Due requests: count them out of flight, then reply.
        let now = Instant::now();
        while waiting.peek().is_some_and(|w| w.due <= now) {
            let Some(w) = waiting.pop() else { break };
            shared.in_flight.fetch_sub(1, Ordering::SeqCst);
            shared.served.fetch_add(1, Ordering::SeqCst);
            active.push(Conn {
                stream: w.stream,
                state: State::Writing {
                    reply: ok_reply(&w.request),
                    pos: 0,
                },
                progress: now,
            });
        }
        // Make progress on every connection being read or written.
        let mut i = 0;
        while i < active.len() {
            match step(&mut active[i]) {
                Step::Continue => i += 1,
                Step::Close => {
                    let conn = active.swap_remove(i);
                    drain_and_close(conn.stream);
                }
                Step::Wait(request) => {
                    let conn = active.swap_remove(i);
                    let now_in = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    shared.peak.fetch_max(now_in, Ordering::SeqCst);
                    seq += 1;
                    waiting.push(Waiting {
                        due: Instant::now() + request.delay,
                        seq,
                        stream: conn.stream,
                        request,
                    });
                }
            }
        }
    }
}

/// What a connection needs next.
enum Step {
    /// Keep polling it.
    Continue,
    /// Its request is read and good: wait for its due time.
    Wait(Request),
    /// Done (or hopeless): close it.
    Close,
}

/// Reads or writes as much as the socket allows without blocking.
fn step(conn: &mut Conn) -> Step {
    let now = Instant::now();
    match &mut conn.state {
        State::Reading(head) => {
            let mut chunk = [0u8; 1024];
            let closed = loop {
                match conn.stream.read(&mut chunk) {
                    Ok(0) => break true,
                    Ok(n) => {
                        head.extend_from_slice(&chunk[..n]);
                        conn.progress = now;
                        if head.len() > MAX_HEAD || head_end(head).is_some() {
                            break false;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                    Err(_) => return Step::Close,
                }
            };
            let outcome = if let Some(end) = head_end(head) {
                parse_request(&head[..end])
            } else if head.len() > MAX_HEAD {
                Err(format!("the request head is longer than {MAX_HEAD} bytes"))
            } else if closed && head.is_empty() {
                return Step::Close;
            } else if closed {
                Err(
                    "the client stopped sending before the empty line that ends a \
                     request (send \\r\\n\\r\\n after the request line)"
                        .to_string(),
                )
            } else if now - conn.progress > IDLE_TIMEOUT {
                Err(format!(
                    "no complete request within {} s (a request ends with an \
                     empty line: \\r\\n\\r\\n)",
                    IDLE_TIMEOUT.as_secs()
                ))
            } else {
                return Step::Continue;
            };
            match outcome {
                Ok(request) => Step::Wait(request),
                Err(why) => {
                    conn.state = State::Writing {
                        reply: bad_reply(&why),
                        pos: 0,
                    };
                    conn.progress = now;
                    step(conn)
                }
            }
        }
        State::Writing { reply, pos } => {
            while *pos < reply.len() {
                match conn.stream.write(&reply[*pos..]) {
                    Ok(0) => return Step::Close,
                    Ok(n) => {
                        *pos += n;
                        conn.progress = now;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if now - conn.progress > IDLE_TIMEOUT {
                            return Step::Close;
                        }
                        return Step::Continue;
                    }
                    Err(_) => return Step::Close,
                }
            }
            Step::Close
        }
    }
}

/// Closes a connection after reading whatever the client sent that we did not
/// read: closing a socket with unread input makes the kernel reset the
/// connection, and the client could lose the end of its reply.
fn drain_and_close(mut stream: TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut sink = [0u8; 1024];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

/// The length of the request head, before the empty line that ends it.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = find(buf, b"\r\n\r\n");
    let lf = find(buf, b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A request the server understood.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    /// The path without its leading `/`.
    name: String,
    delay: Duration,
    size: usize,
}

/// Parses a request head (without the empty line that ends it).
fn parse_request(head: &[u8]) -> Result<Request, String> {
    const LIKE: &str = "a request line looks like \
                        `GET /index.html?delay_ms=300&size=2048 HTTP/1.0`";
    let Ok(head) = std::str::from_utf8(head) else {
        return Err("the request is not UTF-8 text".to_string());
    };
    let line = head.lines().next().unwrap_or_default().trim_end();
    let parts: Vec<&str> = line.split_whitespace().collect();
    let [method, target, version] = parts[..] else {
        return Err(format!("{LIKE}, got {:?}", preview(line.as_bytes())));
    };
    if method != "GET" {
        return Err(format!("only GET is supported, got {method:?}"));
    }
    if !version.starts_with("HTTP/") {
        return Err(format!("{LIKE}, got the version {version:?}"));
    }
    let Some(target) = target.strip_prefix('/') else {
        return Err(format!("the path must start with `/`, got {target:?}"));
    };
    let (name, query) = target.split_once('?').unwrap_or((target, ""));
    let mut request = Request {
        name: name.to_string(),
        delay: Duration::ZERO,
        size: 0,
    };
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        let number = |what: &str| {
            value
                .parse::<u64>()
                .map_err(|_| format!("{what} must be a whole number, got {value:?}"))
        };
        match key {
            "delay_ms" => {
                let ms = number("delay_ms")?;
                if ms > MAX_DELAY.as_millis() as u64 {
                    return Err(format!(
                        "delay_ms={ms} is over the limit of {}",
                        MAX_DELAY.as_millis()
                    ));
                }
                request.delay = Duration::from_millis(ms);
            }
            "size" => {
                let size = number("size")?;
                if size > MAX_SIZE as u64 {
                    return Err(format!(
                        "size={size} is over the limit of {MAX_SIZE}"
                    ));
                }
                request.size = size as usize;
            }
            _ => {
                return Err(format!(
                    "unknown parameter {key:?}: the parameters are delay_ms and size"
                ));
            }
        }
    }
    Ok(request)
}

/// `200 OK` with `size` bytes of body: the name repeated, one per line.
fn ok_reply(request: &Request) -> Vec<u8> {
    let header = format!(
        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n",
        request.size
    );
    let mut reply = Vec::with_capacity(header.len() + request.size);
    reply.extend_from_slice(header.as_bytes());
    let name = if request.name.is_empty() {
        "index"
    } else {
        &request.name
    };
    let pattern = name.bytes().chain(std::iter::once(b'\n')).cycle();
    reply.extend(pattern.take(request.size));
    reply
}

/// `400 Bad Request` with a one-line explanation.
fn bad_reply(why: &str) -> Vec<u8> {
    let body = format!("{why}\n");
    format!(
        "HTTP/1.0 400 Bad Request\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for d in &items {
            let req = d.request();
            let parsed =
                parse_request(&req.as_bytes()[..head_end(req.as_bytes()).unwrap()])
                    .unwrap();
            assert_eq!(parsed.name, d.name);
            assert_eq!((parsed.delay, parsed.size), (d.latency, d.size));
        }
    }

    #[test]
    fn parse_request_accepts_good_and_explains_bad() {
        let ok = |h: &str| parse_request(h.as_bytes());
        assert_eq!(
            ok("GET /a.txt HTTP/1.1\r\nHost: x").unwrap(),
            Request {
                name: "a.txt".into(),
                delay: Duration::ZERO,
                size: 0
            }
        );
        assert_eq!(ok("GET /?size=3& HTTP/1.0").unwrap().size, 3);
        let err = |h: &str| parse_request(h.as_bytes()).unwrap_err();
        assert!(err("").contains("request line looks like"));
        assert!(err("GET /x").contains("request line looks like"));
        assert!(err("POST /x HTTP/1.0").contains("only GET"));
        assert!(err("GET /x FTP/1.0").contains("version"));
        assert!(err("GET x HTTP/1.0").contains("start with `/`"));
        assert!(
            err("GET /x?delay=3 HTTP/1.0").contains("unknown parameter \"delay\"")
        );
        assert!(err("GET /x?size=-1 HTTP/1.0").contains("whole number"));
        assert!(err("GET /x?delay_ms=10001 HTTP/1.0").contains("over the limit"));
        assert!(err("GET /x?size=1048577 HTTP/1.0").contains("over the limit"));
        assert!(ok("GET /x?delay_ms=10000&size=1048576 HTTP/1.0").is_ok());
        assert!(
            parse_request(b"GET /\xff HTTP/1.0")
                .unwrap_err()
                .contains("UTF-8")
        );
    }

    #[test]
    fn parse_response_checks_length_and_status() {
        let good = ok_reply(&Request {
            name: "ab".into(),
            delay: Duration::ZERO,
            size: 7,
        });
        assert_eq!(parse_response(&good).unwrap(), b"ab\nab\na");
        assert!(
            parse_response(&good[..good.len() - 1])
                .unwrap_err()
                .contains("7")
        );
        let mut long = good.clone();
        long.push(b'!');
        assert!(parse_response(&long).is_err());
        let bad = bad_reply("because");
        assert!(parse_response(&bad).unwrap_err().contains("because"));
        assert!(parse_response(b"SMTP 200 OK\r\n\r\n").is_err());
        assert!(parse_response(b"").is_err());
        let no_len = b"HTTP/1.0 200 OK\r\n\r\nxyz";
        assert_eq!(parse_response(no_len).unwrap(), b"xyz");
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
