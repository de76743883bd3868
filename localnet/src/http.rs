//! A minimal blocking HTTP/1.1 client for nodeos' JSON API on loopback, so the harness
//! needs no async runtime.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::error::LocalnetError;

/// A response: status code and body.
pub(crate) struct Response {
    pub status: u16,
    pub body: String,
}

/// POSTs `body` (JSON) to `http://host:port{path}` where `base` is `http://host:port`.
pub(crate) fn post(base: &str, path: &str, body: &str) -> Result<Response, LocalnetError> {
    let authority = base
        .strip_prefix("http://")
        .ok_or_else(|| LocalnetError::Decode(format!("only http:// URLs are supported: {base}")))?
        .trim_end_matches('/');
    let mut stream = TcpStream::connect(authority)
        .map_err(|e| LocalnetError::io(format!("connecting to {base}"), e))?;
    let timeout = Some(Duration::from_secs(30));
    stream
        .set_read_timeout(timeout)
        .and_then(|()| stream.set_write_timeout(timeout))
        .map_err(|e| LocalnetError::io("setting socket timeouts", e))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| LocalnetError::io(format!("sending to {base}{path}"), e))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| LocalnetError::io(format!("reading from {base}{path}"), e))?;
    parse_response(&raw)
}

/// POSTs `body` and decodes a 2xx answer as JSON; any other answer is an error that
/// quotes the body.
pub(crate) fn post_value(
    base: &str,
    path: &str,
    body: &str,
) -> Result<serde_json::Value, LocalnetError> {
    let r = post(base, path, body)?;
    if !(200..300).contains(&r.status) {
        return Err(LocalnetError::Decode(format!(
            "{path}: HTTP {}: {}",
            r.status, r.body
        )));
    }
    serde_json::from_str(&r.body).map_err(|e| LocalnetError::Decode(format!("{path}: {e}")))
}

fn parse_response(raw: &[u8]) -> Result<Response, LocalnetError> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| LocalnetError::Decode("HTTP response without header end".into()))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| LocalnetError::Decode(format!("bad HTTP status line: {head}")))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_string()
    };
    Ok(Response { status, body })
}

fn dechunk(mut body: &str) -> Result<String, LocalnetError> {
    let mut out = String::new();
    loop {
        let (size, rest) = body
            .split_once("\r\n")
            .ok_or_else(|| LocalnetError::Decode("truncated chunked body".into()))?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| LocalnetError::Decode(format!("bad chunk size `{size}`")))?;
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest
            .get(..size)
            .ok_or_else(|| LocalnetError::Decode("truncated chunk".into()))?;
        out.push_str(chunk);
        body = rest.get(size..).unwrap_or("").trim_start_matches("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "{}"));
        let r = parse_response(
            b"HTTP/1.1 500 x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_str()), (500, "abcde"));
        assert!(parse_response(b"garbage").is_err());
    }
}
