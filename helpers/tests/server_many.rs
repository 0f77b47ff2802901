//! The SlowServer keeps hundreds of requests waiting at once on its two
//! threads. One test function, in a process of its own, so the thread count is
//! exact.

use helpers::process::os_thread_count;
use helpers::server::{SlowServer, parse_response};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn hundreds_of_waiting_requests_on_two_threads() {
    // 400 connections use 800 file descriptors in this process (both ends),
    // within the common limit of 1024.
    let n = 400;
    let threads_before = os_thread_count();
    let server = SlowServer::start().unwrap();
    let start = Instant::now();
    // One client thread: connect and send every request, then read every reply.
    let mut streams: Vec<TcpStream> = (0..n)
        .map(|i| {
            let mut s = TcpStream::connect(server.addr()).unwrap();
            let req =
                format!("GET /item-{i}?delay_ms=300&size={i} HTTP/1.0\r\n\r\n");
            s.write_all(req.as_bytes()).unwrap();
            s
        })
        .collect();
    let sent = start.elapsed();
    if let (Some(before), Some(now)) = (threads_before, os_thread_count()) {
        assert_eq!(now, before + SlowServer::THREADS);
    }
    for (i, s) in streams.iter_mut().enumerate() {
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).unwrap();
        assert_eq!(parse_response(&reply).unwrap().len(), i);
    }
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(300));
    // All waited together: one delay plus the time it took to send them all.
    assert!(
        took < sent + Duration::from_millis(800),
        "{took:?} (sent in {sent:?})"
    );
    assert_eq!(server.served(), n);
    assert_eq!(server.peak_concurrent(), n);
}
