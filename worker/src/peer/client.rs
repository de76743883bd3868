//! The client the node uses to call its upstream peers: one session per peer (the server
//! must prove the key of the account the node attributes and pays), answers checked for
//! shape and range inside a deadline; typed failures so the caller can fall back to zeros,
//! back off, or evict the peer. Public reads (`/status`) go over h2c.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::codec::{CodecError, Limits, WireTensor};
use super::identity::Identity;
use super::keys::KeyCache;
use super::range::{out_of_range, MAX_ABS_VALUE};
use super::session::client::{Sent, Sessions};
use super::session::message::{Kind, EXPORT, FORWARD, UPDATES};
use super::session::{SessionError, Status, Verdict};
use super::wire::{self, Dtype};
use super::wire_updates::{self, UpdatesAnswer, UpdatesRequest};

/// Why a call to a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// No answer within the deadline.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// Connection or protocol failure.
    #[error("transport: {0}")]
    Transport(String),
    /// The peer answered with a non-success status.
    #[error("peer answered {status}: {message}")]
    Status { status: StatusCode, message: String },
    /// The peer's answer could not be decoded or has the wrong shape.
    #[error("garbage answer: {0}")]
    Garbage(#[from] CodecError),
    /// The session could not be authenticated (refused handshake, no key on chain).
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The peer does not list this node as subscribed (yet: its view of the chain may be a
    /// refresh behind a node that just joined).
    #[error("the peer does not list this node as subscribed (yet): {0}")]
    NotListed(String),
    /// The server is another account than the one in the slot (or cannot prove a key the
    /// chain lists for it): somebody advertised a server that is not theirs.
    #[error("the server is {signer}, not {expected}: the address is not {expected}'s server")]
    Impostor { expected: String, signer: String },
    /// The server is this node itself: the peer's address is our own server.
    #[error("the server at this address is this node itself")]
    OwnServer,
    /// The peer has another vocabulary: its word ids mean other words.
    #[error("vocabulary mismatch: peer's fingerprint {theirs}, ours {ours}")]
    Vocabulary { ours: String, theirs: String },
    /// A served value is beyond the accepted range.
    #[error("answer element {index} = {value:e} is outside ±{MAX_ABS_VALUE}; rejected")]
    OutOfRange { index: usize, value: f32 },
}

impl PeerError {
    /// Whether one such answer is enough to evict the peer (it is not who it claims to be, or
    /// can never be used), as opposed to a failure that may pass.
    pub fn disqualifies(&self) -> bool {
        matches!(
            self,
            PeerError::Impostor { .. } | PeerError::OwnServer | PeerError::Vocabulary { .. }
        )
    }
}

/// Who this node is on sessions: its identity and the chain's keys of the others.
#[derive(Clone)]
pub struct Signer {
    /// This node.
    pub identity: Arc<Identity>,
    /// Peer accounts' on-chain keys.
    pub keys: Arc<KeyCache>,
}

/// Element types on the wire: what the node asks its peers to serve vectors and updates in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireTypes {
    /// Served vectors.
    pub features: Dtype,
    /// Values of the sparse updates peers exchange (f32 by default: see docs/embeddings.md).
    pub updates: Dtype,
}

impl Default for WireTypes {
    fn default() -> Self {
        WireTypes {
            features: Dtype::F16,
            updates: Dtype::F32,
        }
    }
}

/// A forward's answer and the request it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    /// The vectors, `[ids, dim]`.
    pub tensor: WireTensor,
    /// The forward request, as the session numbered it.
    pub reference: Sent,
}

/// The node's client: sessions to upstream peers, and h2c for public reads (`/status`).
#[derive(Clone)]
pub struct PeerClient {
    http: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    limits: Limits,
    sessions: Option<Arc<Sessions>>,
    wire: WireTypes,
}

fn peer_error(e: SessionError, me: &str, expected: &str) -> PeerError {
    match e {
        SessionError::Refused {
            verdict: Verdict::Audience,
            reason,
        } if reason == me => PeerError::OwnServer,
        SessionError::Refused {
            verdict: Verdict::Audience,
            reason,
        } => PeerError::Impostor {
            expected: expected.to_string(),
            signer: reason,
        },
        SessionError::Refused {
            verdict: Verdict::Vocabulary,
            reason,
        } => PeerError::Vocabulary {
            ours: String::new(),
            theirs: reason,
        },
        SessionError::Impostor(_) => PeerError::Impostor {
            expected: expected.to_string(),
            signer: format!("a key that is not {expected}'s on-chain key"),
        },
        SessionError::UnknownAccount(a, why) => {
            PeerError::Unauthenticated(format!("no on-chain key for {a}: {why}"))
        }
        SessionError::Refused {
            verdict: Verdict::NotSubscribed,
            reason,
        } => PeerError::NotListed(reason),
        e @ SessionError::Refused { .. } => PeerError::Unauthenticated(e.to_string()),
        e => PeerError::Transport(e.to_string()),
    }
}

fn http_status(s: Status) -> StatusCode {
    match s {
        Status::Ok => StatusCode::OK,
        Status::BadRequest | Status::OutOfRange => StatusCode::BAD_REQUEST,
        Status::Forbidden | Status::NotServed => StatusCode::FORBIDDEN,
        Status::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Status::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Status::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        Status::UnknownKind => StatusCode::NOT_FOUND,
    }
}

/// `host:port` of a base URL such as `http://127.0.0.1:7001`.
fn address(base: &str) -> &str {
    base.strip_prefix("http://")
        .unwrap_or(base)
        .trim_end_matches('/')
}

impl PeerClient {
    /// A client for public reads (`/status`) whose every request gives up after `timeout`.
    pub fn new(timeout: Duration, limits: Limits) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let http = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build(connector);
        PeerClient {
            http,
            timeout,
            limits,
            sessions: None,
            wire: WireTypes::default(),
        }
    }

    /// A client that opens sessions as `signer` (updates, forward, export).
    pub fn signed(timeout: Duration, limits: Limits, signer: Signer) -> Self {
        let sessions = Sessions::new(signer.identity, signer.keys, limits.max_bytes);
        Self::on_sessions(timeout, limits, sessions)
    }

    /// A client over `sessions` (e.g. dialling from a given local address).
    pub fn on_sessions(timeout: Duration, limits: Limits, sessions: Sessions) -> Self {
        PeerClient {
            sessions: Some(Arc::new(sessions)),
            ..PeerClient::new(timeout, limits)
        }
    }

    /// The same client with other element types on the wire.
    pub fn with_wire(mut self, wire: WireTypes) -> Self {
        self.wire = wire;
        self
    }

    /// The longest any request waits.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The sessions (bytes and handshake counts).
    pub fn sessions(&self) -> Option<&Arc<Sessions>> {
        self.sessions.as_ref()
    }

    /// Sends `GET` to `base` within the timeout; a non-2xx answer is an error with its message.
    async fn send(&self, req: Request<Full<Bytes>>) -> Result<Bytes, PeerError> {
        let call = async {
            let resp = self
                .http
                .request(req)
                .await
                .map_err(|e| PeerError::Transport(e.to_string()))?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), self.limits.max_bytes)
                .collect()
                .await
                .map_err(|e| PeerError::Transport(e.to_string()))?
                .to_bytes();
            if !status.is_success() {
                let message = String::from_utf8_lossy(&body[..body.len().min(300)])
                    .trim()
                    .to_string();
                return Err(PeerError::Status { status, message });
            }
            Ok(body)
        };
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| PeerError::Timeout(self.timeout))?
    }

    /// One request of `kind` to `account` at `base` within `deadline`.
    async fn call(
        &self,
        base: &str,
        account: &str,
        kind: Kind,
        body: Vec<u8>,
        epoch: Option<u64>,
        deadline: Duration,
    ) -> Result<(Vec<u8>, Sent), PeerError> {
        let sessions = self
            .sessions
            .as_ref()
            .ok_or_else(|| PeerError::Transport("this client has no signing identity".into()))?;
        let deadline = deadline.min(self.timeout);
        let me = sessions.identity().account.clone();
        // The exchange runs in a task of its own, bounded by the client's timeout: a step
        // that stops waiting leaves the session to finish its exchange (the late answer is
        // dropped) instead of tearing it down, so the next step does not pay a handshake.
        let (s, at, who, limit) = (
            sessions.clone(),
            address(base).to_string(),
            account.to_string(),
            self.timeout,
        );
        let exchange = tokio::spawn(async move {
            tokio::time::timeout(limit, s.call(&at, &who, kind, body, epoch)).await
        });
        let (answer, sent) = tokio::time::timeout(deadline, exchange)
            .await
            .map_err(|_| PeerError::Timeout(deadline))?
            .map_err(|e| PeerError::Transport(format!("task: {e}")))?
            .map_err(|_| PeerError::Timeout(limit))?
            .map_err(|e| peer_error(e, &me, account))?;
        if answer.status != Status::Ok {
            let message = String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
                .trim()
                .to_string();
            return Err(PeerError::Status {
                status: http_status(answer.status),
                message,
            });
        }
        Ok((answer.body, sent))
    }

    /// Asks the peer `account` at `base` (e.g. `http://127.0.0.1:7001`) for the embeddings of
    /// `ids`; the answer must be `[ids.len(), dim]` and within range.
    pub async fn forward(
        &self,
        base: &str,
        account: &str,
        ids: &[i64],
        dim: usize,
        deadline: Duration,
    ) -> Result<Served, PeerError> {
        let body = wire::encode_forward(ids, self.wire.features, &self.limits)?;
        let (bytes, reference) = self
            .call(base, account, FORWARD, body, None, deadline)
            .await?;
        let t = wire::decode_matrix(&bytes, &self.limits)?;
        if t.shape != [ids.len(), dim] {
            return Err(PeerError::Garbage(CodecError::ShapeMismatch {
                expected: vec![ids.len(), dim],
                got: t.shape,
            }));
        }
        if let Some((index, value)) = out_of_range(&t.data) {
            return Err(PeerError::OutOfRange { index, value });
        }
        Ok(Served {
            tensor: t,
            reference,
        })
    }

    /// Asks the peer `account` at `base` for the sparse updates it published after sequence
    /// `after`, letting it hold the ask up to `hold` for a newer round (zero: answer at
    /// once); each update is checked for shape, order, finite values and range.
    pub async fn updates(
        &self,
        base: &str,
        account: &str,
        after: u64,
        hold: Duration,
        deadline: Duration,
    ) -> Result<UpdatesAnswer, PeerError> {
        let body = wire_updates::encode_request(UpdatesRequest {
            dtype: self.wire.updates,
            after,
            wait_ms: hold.as_millis().min(u32::MAX as u128) as u32,
        });
        let (bytes, _) = self
            .call(base, account, UPDATES, body, None, deadline)
            .await?;
        let answer = wire_updates::decode_answer(&bytes, &self.limits)?;
        for u in &answer.updates {
            if let Some((index, value)) = out_of_range(&u.input).or(out_of_range(&u.context)) {
                return Err(PeerError::OutOfRange { index, value });
            }
        }
        Ok(answer)
    }

    /// Fetches `GET /status` from `base` as JSON (public, unsigned).
    pub async fn status(&self, base: &str) -> Result<serde_json::Value, PeerError> {
        let req = Request::get(format!("{base}/status"))
            .body(Full::new(Bytes::new()))
            .map_err(|e| PeerError::Transport(e.to_string()))?;
        let body = self.send(req).await?;
        serde_json::from_slice(&body).map_err(|e| PeerError::Transport(e.to_string()))
    }

    /// Asks the node at `base` to export its embeddings: a session as the node's own account
    /// (only its key may ask); returns the files it wrote.
    pub async fn export(&self, base: &str) -> Result<Vec<String>, PeerError> {
        let me = self
            .sessions
            .as_ref()
            .map(|s| s.identity().account.clone())
            .ok_or_else(|| PeerError::Transport("export needs the node's key".into()))?;
        let (body, _) = self
            .call(base, &me, EXPORT, Vec::new(), None, self.timeout)
            .await?;
        serde_json::from_slice::<Vec<String>>(&body)
            .map_err(|e| PeerError::Transport(format!("export answer: {e}")))
    }
}
