//! A session's life on the server: admission before reading a byte, the handshake within a
//! deadline, then one request after the other (each kind's rate checked before its body is
//! looked at, a held request waiting on the runtime, the handler on the blocking pool),
//! until the caller leaves, idles out, or
//! sends a record that does not authenticate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::admission::Admission;
use super::handlers::{Handlers, SessionMemory};
use super::handshake::{respond, Hello, Verdict};
use super::message::{Answer, Request, Status};
use super::record::{write_raw, WireBytes};
use super::SessionError;
use crate::peer::identity::Identity;
use crate::peer::keys::KeyCache;

/// Longest a handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a session may stay silent.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Session counters (reported under `server` in `/status`).
#[derive(Debug, Default, serde::Serialize)]
pub struct SessionCounters {
    /// Sessions whose handshake completed.
    pub sessions_opened: AtomicU64,
    /// Handshakes refused before any key work (address budget, in flight, hello checks).
    pub handshakes_refused: AtomicU64,
    /// Handshakes whose binding signature failed.
    pub handshakes_bad_signature: AtomicU64,
    /// Sessions ended by a record that failed authentication.
    pub records_forged: AtomicU64,
    /// Requests refused by their kind's rate.
    pub session_rate_limited: AtomicU64,
}

/// Everything a session needs, shared by all of them.
pub struct SessionServer {
    /// This node.
    pub identity: Arc<Identity>,
    /// Callers' on-chain keys.
    pub keys: Arc<KeyCache>,
    /// Cheap checks.
    pub admission: Arc<Admission>,
    /// The kinds answered.
    pub handlers: Arc<Handlers>,
    /// Whether an account is in the metagraph.
    pub subscribed: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    /// Largest message.
    pub max_message: usize,
    /// Counters.
    pub counters: Arc<SessionCounters>,
}

impl SessionServer {
    /// Serves one connection from `remote` whose first bytes are the session magic.
    pub async fn run(self: Arc<Self>, mut stream: TcpStream, remote: std::net::SocketAddr) {
        let in_flight = match self.admission.handshake(remote.ip(), Instant::now()) {
            Ok(slot) => slot,
            Err(why) => {
                self.counters
                    .handshakes_refused
                    .fetch_add(1, Ordering::Relaxed);
                let mut out = vec![Verdict::Busy as u8];
                out.extend_from_slice(why.as_bytes());
                let _ = write_raw(&mut stream, &out).await;
                return;
            }
        };
        let admission = self.admission.clone();
        let subscribed = self.subscribed.clone();
        let me = self.identity.account.clone();
        let admit = move |h: &Hello| -> Result<(), (Verdict, String)> {
            if h.initiator != me && !subscribed(&h.initiator) {
                return Err((
                    Verdict::NotSubscribed,
                    format!("account {} is not subscribed to the network", h.initiator),
                ));
            }
            if !admission.has_room(&h.initiator) {
                return Err((
                    Verdict::TooManySessions,
                    format!(
                        "account {} has as many sessions open as it may",
                        h.initiator
                    ),
                ));
            }
            Ok(())
        };
        let shaken = tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            respond(
                stream,
                &self.identity,
                &self.keys,
                &admit,
                self.max_message,
                Arc::new(WireBytes::default()),
            ),
        )
        .await;
        drop(in_flight);
        let (mut channel, hello) = match shaken {
            Ok(Ok(x)) => x,
            Ok(Err(SessionError::Refused { verdict, reason })) => {
                let counter = if verdict == Verdict::BadSignature {
                    &self.counters.handshakes_bad_signature
                } else {
                    &self.counters.handshakes_refused
                };
                counter.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%remote, ?verdict, %reason, "session handshake refused");
                return;
            }
            Ok(Err(e)) => {
                self.counters
                    .handshakes_refused
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%remote, error = %e, "session handshake failed");
                return;
            }
            Err(_) => {
                self.counters
                    .handshakes_refused
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%remote, "session handshake timed out");
                return;
            }
        };
        let Some(_slot) = self.admission.open(&hello.initiator) else {
            return;
        };
        self.counters
            .sessions_opened
            .fetch_add(1, Ordering::Relaxed);
        let account = hello.initiator;
        let mut memory = Some(SessionMemory::default());
        loop {
            let bytes = match tokio::time::timeout(IDLE_TIMEOUT, channel.recv()).await {
                Ok(Ok(b)) => b,
                Ok(Err(SessionError::Forged)) => {
                    self.counters.records_forged.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%remote, %account, "record failed authentication; session closed");
                    return;
                }
                Ok(Err(_)) | Err(_) => return,
            };
            let req = match Request::decode(bytes) {
                Ok(r) => r,
                Err(_) => return,
            };
            let answer = if account != self.identity.account && !(self.subscribed)(&account) {
                Answer::refused(
                    req.id,
                    Status::Forbidden,
                    format!("account {account} is not subscribed to the network"),
                )
            } else if let Some(refused) = self.handlers.precheck(&account, &req) {
                if refused.status == Status::RateLimited {
                    self.counters
                        .session_rate_limited
                        .fetch_add(1, Ordering::Relaxed);
                }
                refused
            } else {
                if let Some(wait) = self.handlers.hold(&req) {
                    wait.await;
                }
                let handlers = self.handlers.clone();
                let who = account.clone();
                let mut mem = memory.take().unwrap_or_default();
                let id = req.id;
                match tokio::task::spawn_blocking(move || {
                    let a = handlers.dispatch(&who, &req, &mut mem);
                    (a, mem)
                })
                .await
                {
                    Ok((a, mem)) => {
                        memory = Some(mem);
                        a
                    }
                    Err(e) => Answer::refused(id, Status::Internal, format!("task: {e}")),
                }
            };
            if channel.send(&answer.encode()).await.is_err() {
                return;
            }
        }
    }
}
