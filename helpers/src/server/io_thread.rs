//! The `slow-server-io` thread: every connection, read and written without
//! blocking, and the requests waiting for their due time.

use super::http::{Request, bad_reply, head_end, ok_reply, parse_request};
use super::{IDLE_TIMEOUT, MAX_HEAD, Shared};
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
pub(super) fn serve_all(incoming: &mpsc::Receiver<TcpStream>, shared: &Shared) {
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
