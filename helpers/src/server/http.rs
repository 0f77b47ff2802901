//! The course's small HTTP/1.0: what a [`SlowServer`](super::SlowServer)
//! reads (a request line) and what a client reads back (a response).

use crate::fmt::truncate_end;
use std::time::Duration;

use super::{MAX_DELAY, MAX_SIZE};

/// Extracts the body from a complete response of a [`SlowServer`](super::SlowServer) (status line,
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
/// use helpers::server::parse_response;
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
/// Where `needle` starts in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The start of some bytes, as text, for error messages.
fn preview(bytes: &[u8]) -> String {
    truncate_end(&String::from_utf8_lossy(bytes), 80)
}
/// The length of the request head, before the empty line that ends it.
pub(super) fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = find(buf, b"\r\n\r\n");
    let lf = find(buf, b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A request the server understood.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Request {
    /// The path without its leading `/`.
    pub name: String,
    pub delay: Duration,
    pub size: usize,
}

/// Parses a request head (without the empty line that ends it).
pub(super) fn parse_request(head: &[u8]) -> Result<Request, String> {
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
pub(super) fn ok_reply(request: &Request) -> Vec<u8> {
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
pub(super) fn bad_reply(why: &str) -> Vec<u8> {
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

    #[test]
    fn every_download_request_parses_back() {
        for d in crate::work::downloads() {
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
}
