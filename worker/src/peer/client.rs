//! The h2c client the node uses to call its upstream peers: every request signed with this
//! node's key, every answer checked to be signed by the account the node attributes (and
//! pays), with the same vocabulary, within range and shape, inside a deadline; typed
//! failures so the caller can fall back to zeros, back off, or evict the peer.

use std::sync::Arc;
use std::time::Duration;

use bittensor_protocol::auth::AnswerAuth;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::codec::{self, BackwardRequest, CodecError, Limits, WireTensor};
use super::identity::Identity;
use super::keys::KeyCache;
use super::range::{out_of_range, MAX_ABS_VALUE};

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
    /// The answer is unsigned or its signature does not verify.
    #[error("unauthenticated answer: {0}")]
    Unauthenticated(String),
    /// The answer is signed by another account than the one in the slot (or with a key the
    /// chain does not list for it): somebody advertised a server that is not theirs.
    #[error(
        "answer signed by {signer}, not by {expected}: the address is not {expected}'s server"
    )]
    Impostor { expected: String, signer: String },
    /// The answer is signed by this node itself: the peer's address is our own server.
    #[error("answer signed by this node itself: the peer's address is our own server")]
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

/// What signs requests and checks answers: this node and the chain's keys.
#[derive(Clone)]
pub struct Signer {
    /// This node.
    pub identity: Arc<Identity>,
    /// Peer accounts' on-chain keys.
    pub keys: Arc<KeyCache>,
}

/// A shared HTTP/2-only client (one multiplexed connection per peer).
#[derive(Clone)]
pub struct PeerClient {
    http: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    limits: Limits,
    signer: Option<Signer>,
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
            signer: None,
        }
    }

    /// A client that signs `/forward` and `/backward` as `signer` and checks the answers.
    pub fn signed(timeout: Duration, limits: Limits, signer: Signer) -> Self {
        PeerClient {
            signer: Some(signer),
            ..PeerClient::new(timeout, limits)
        }
    }

    /// The longest any request waits.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `req` within `deadline`; a non-2xx answer is an error carrying its message.
    async fn send(
        &self,
        req: Request<Full<Bytes>>,
        deadline: Duration,
    ) -> Result<(StatusCode, HeaderMap, Bytes), PeerError> {
        let call = async {
            let resp = self
                .http
                .request(req)
                .await
                .map_err(|e| PeerError::Transport(e.to_string()))?;
            let status = resp.status();
            let (parts, body) = resp.into_parts();
            let body = Limited::new(body, self.limits.max_bytes)
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
            Ok((status, parts.headers, body))
        };
        let deadline = deadline.min(self.timeout);
        tokio::time::timeout(deadline, call)
            .await
            .map_err(|_| PeerError::Timeout(deadline))?
    }

    /// Signs and POSTs `body` to `path` of the peer `account` at `base`; with `check`, the
    /// answer must be signed by `account`.
    async fn post(
        &self,
        base: &str,
        account: &str,
        path: &str,
        body: Vec<u8>,
        deadline: Duration,
        check: bool,
    ) -> Result<Bytes, PeerError> {
        let signer = self
            .signer
            .as_ref()
            .ok_or_else(|| PeerError::Transport("this client has no signing identity".into()))?;
        let auth = signer
            .identity
            .sign_request("POST", path, &body)
            .map_err(|e| PeerError::Transport(format!("signing: {e}")))?;
        let digest = auth.digest("POST", path, &body);
        let mut builder = Request::post(format!("{base}{path}"))
            .header(hyper::header::CONTENT_TYPE, "application/octet-stream");
        for (name, value) in auth.headers() {
            builder = builder.header(name, value);
        }
        let req = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| PeerError::Transport(e.to_string()))?;
        let (status, headers, body) = self.send(req, deadline).await?;
        if !check {
            return Ok(body);
        }
        let answer = AnswerAuth::from_headers(|n| headers.get(n)?.to_str().ok())
            .map_err(|e| PeerError::Unauthenticated(e.to_string()))?;
        let me = &signer.identity;
        let status = status.as_u16();
        if answer.account == me.account
            && answer.made_by(&digest, status, &body, &[me.public_key()])
        {
            return Err(PeerError::OwnServer);
        }
        if answer.account != account {
            return Err(PeerError::Impostor {
                expected: account.to_string(),
                signer: answer.account,
            });
        }
        let signed =
            |keys: &[chain_client::PublicKey]| answer.made_by(&digest, status, &body, keys);
        match signer.keys.accepts(account, signed).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(PeerError::Impostor {
                    expected: account.to_string(),
                    signer: format!("a key that is not {account}'s on-chain key"),
                })
            }
            Err(why) => {
                return Err(PeerError::Unauthenticated(format!(
                    "no on-chain key for {account}: {why}"
                )))
            }
        }
        if answer.vocab != me.vocab {
            return Err(PeerError::Vocabulary {
                ours: me.vocab.clone(),
                theirs: answer.vocab,
            });
        }
        Ok(body)
    }

    /// Asks the peer `account` at `base` (e.g. `http://127.0.0.1:7001`) for the embeddings of
    /// `ids`; the answer must be `[ids.len(), dim]`, signed by `account`, within range.
    pub async fn forward(
        &self,
        base: &str,
        account: &str,
        ids: &[i64],
        dim: usize,
        deadline: Duration,
    ) -> Result<WireTensor, PeerError> {
        let body = codec::encode_forward(ids, &self.limits)?;
        let bytes = self
            .post(base, account, "/forward", body, deadline, true)
            .await?;
        let t = codec::decode_tensor(&bytes, &self.limits)?;
        if t.shape != [ids.len(), dim] {
            return Err(PeerError::Garbage(CodecError::ShapeMismatch {
                expected: vec![ids.len(), dim],
                got: t.shape,
            }));
        }
        if let Some((index, value)) = out_of_range(&t.data) {
            return Err(PeerError::OutOfRange { index, value });
        }
        Ok(t)
    }

    /// Sends the gradient for the embeddings of `ids` back to the peer `account` at `base`
    /// (signed; the plain acknowledgement is not checked).
    pub async fn backward(
        &self,
        base: &str,
        account: &str,
        req: &BackwardRequest,
    ) -> Result<(), PeerError> {
        let body = codec::encode_backward(req, &self.limits)?;
        self.post(base, account, "/backward", body, self.timeout, false)
            .await
            .map(|_| ())
    }

    /// Fetches `GET /status` from `base` as JSON (public, unsigned).
    pub async fn status(&self, base: &str) -> Result<serde_json::Value, PeerError> {
        let req = Request::get(format!("{base}/status"))
            .body(Full::new(Bytes::new()))
            .map_err(|e| PeerError::Transport(e.to_string()))?;
        let (_, _, body) = self.send(req, self.timeout).await?;
        serde_json::from_slice(&body).map_err(|e| PeerError::Transport(e.to_string()))
    }

    /// Asks the node at `base` to export its embeddings (`POST /export`, answered to loopback
    /// callers only); returns the files it wrote.
    pub async fn export(&self, base: &str) -> Result<Vec<String>, PeerError> {
        let req = Request::post(format!("{base}/export"))
            .body(Full::new(Bytes::new()))
            .map_err(|e| PeerError::Transport(e.to_string()))?;
        let (_, _, body) = self.send(req, self.timeout).await?;
        #[derive(serde::Deserialize)]
        struct Files {
            files: Vec<String>,
        }
        serde_json::from_slice::<Files>(&body)
            .map(|f| f.files)
            .map_err(|e| PeerError::Transport(format!("export answer: {e}")))
    }
}
