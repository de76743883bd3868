//! Starts the real `bittensor-viewer` binary on a free port and waits for its snapshot.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running viewer process, killed on drop.
pub struct Viewer {
    /// The port it serves on.
    pub port: u16,
    child: Child,
    // Kept open so the viewer never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Viewer {
    /// Runs the viewer against `chain_url`/`contract`, polling every `poll_secs`, with
    /// `extra` flags (e.g. `--allow-loopback`).
    pub fn start(chain_url: &str, contract: &str, poll_secs: &str, extra: &[&str]) -> Viewer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bittensor-viewer"))
            .args(["--chain-url", chain_url, "--contract", contract])
            .args(["--listen", "127.0.0.1:0", "--poll-secs", poll_secs])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting bittensor-viewer");
        let stdout = child.stdout.take().expect("viewer stdout");
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("reading the viewer's first line");
        let port = line
            .trim()
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("viewer did not report its address: {line:?}"));
        Viewer {
            port,
            child,
            _stdout: stdout,
        }
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// `/api/state` as JSON.
    pub fn state(&self) -> Value {
        let body = http_get(self.port, "/api/state").expect("GET /api/state");
        serde_json::from_str(&body).expect("/api/state is JSON")
    }

    /// Waits (up to `limit`, a hang guard, not a speed check) for a snapshot accepted by
    /// `ready`; panics with the last snapshot seen otherwise.
    pub fn wait_for(&self, limit: Duration, ready: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let state = self.state();
            if ready(&state) {
                return state;
            }
            if start.elapsed() > limit {
                panic!("viewer never reached the expected state; last snapshot: {state:#}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking `GET http://127.0.0.1:port/path` returning the body (the viewer serves HTTP/1.1).
fn http_get(port: u16, path: &str) -> Result<String, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
    )
    .map_err(|e| format!("write: {e}"))?;
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .map_err(|e| format!("read: {e}"))?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no header end in {text:?}"))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "status line: {}",
            head.lines().next().unwrap_or("")
        ));
    }
    Ok(body.to_string())
}
