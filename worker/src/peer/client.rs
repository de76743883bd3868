//! The h2c client the node uses to call its upstream peers, with a per-request timeout
//! and typed failures (so the caller can fall back to zeros and mark the peer unhealthy).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::codec::{self, BackwardRequest, CodecError, Limits, WireTensor};

/// Why a call to a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// No answer within the timeout.
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
}

/// A shared HTTP/2-only client (one multiplexed connection per peer).
#[derive(Clone)]
pub struct PeerClient {
    http: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    limits: Limits,
}

impl PeerClient {
    /// A client whose every request gives up after `timeout`.
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
        }
    }

    async fn post(&self, base: &str, path: &str, body: Vec<u8>) -> Result<Bytes, PeerError> {
        let req = Request::post(format!("{base}{path}"))
            .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| PeerError::Transport(e.to_string()))?;
        self.send(req).await
    }

    /// Sends `req` within the timeout; a non-2xx answer is an error carrying its message.
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
                let message = String::from_utf8_lossy(&body[..body.len().min(200)])
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

    /// Asks the peer at `base` (e.g. `http://127.0.0.1:7001`) for the embeddings of `ids`;
    /// the answer must be `[ids.len(), dim]`.
    pub async fn forward(
        &self,
        base: &str,
        ids: &[i64],
        dim: usize,
    ) -> Result<WireTensor, PeerError> {
        let body = codec::encode_forward(ids, &self.limits)?;
        let bytes = self.post(base, "/forward", body).await?;
        let t = codec::decode_tensor(&bytes, &self.limits)?;
        if t.shape != [ids.len(), dim] {
            return Err(PeerError::Garbage(CodecError::ShapeMismatch {
                expected: vec![ids.len(), dim],
                got: t.shape,
            }));
        }
        Ok(t)
    }

    /// Sends the gradient for the embeddings of `ids` back to the peer at `base`.
    pub async fn backward(&self, base: &str, req: &BackwardRequest) -> Result<(), PeerError> {
        let body = codec::encode_backward(req, &self.limits)?;
        self.post(base, "/backward", body).await.map(|_| ())
    }

    /// Fetches `GET /status` from `base` as JSON (used by tests and the testnet script).
    pub async fn status(&self, base: &str) -> Result<serde_json::Value, PeerError> {
        let req = Request::get(format!("{base}/status"))
            .body(Full::new(Bytes::new()))
            .map_err(|e| PeerError::Transport(e.to_string()))?;
        let body = self.send(req).await?;
        serde_json::from_slice(&body).map_err(|e| PeerError::Transport(e.to_string()))
    }
}
