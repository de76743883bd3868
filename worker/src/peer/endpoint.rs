//! The node-side operations the peer server exposes, as a trait so the server is tested
//! with a tiny in-process endpoint and run with the real model.

use super::codec::WireTensor;

/// Why an endpoint call failed: the caller's fault (400) or ours (500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The request was well-formed but unusable (e.g. word id outside the vocabulary).
    #[error("bad request: {0}")]
    BadInput(String),
    /// The node could not answer (e.g. model error).
    #[error("internal error: {0}")]
    Internal(String),
    /// The node does not offer this (e.g. export without an export directory).
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// What the server calls; implementations must be cheap to share between connections.
pub trait Endpoint: Send + Sync + 'static {
    /// Embeddings this node serves for `ids`, shape `[ids.len(), d]`.
    fn forward(&self, ids: &[i64]) -> Result<WireTensor, EndpointError>;
    /// Whether `account` is in the metagraph as last read (only subscribers are served).
    fn is_subscribed(&self, account: &str) -> bool;
    /// What `GET /status` returns (the server adds its counters).
    fn status(&self) -> bittensor_protocol::status::WorkerStatus;
    /// The encoded answer to a fetch of the sparse updates this node published after
    /// sequence `after` ([`super::wire_updates`]): those it still keeps, oldest first, in
    /// `dtype`, within `limits` (the latest only, flagged, when `after` is older than its
    /// history).
    fn updates(
        &self,
        after: u64,
        dtype: super::wire::Dtype,
        limits: &super::codec::Limits,
    ) -> Result<Vec<u8>, EndpointError> {
        let _ = (after, dtype, limits);
        Err(EndpointError::Unavailable(
            "this node publishes no updates".into(),
        ))
    }
    /// The newest sequence number published, as it changes (a held update fetch waits on
    /// it); `None` where nothing is published.
    fn published_round(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
    /// Writes the node's embeddings to its export directory (`POST /export`, loopback
    /// callers only); returns the files written.
    fn export(&self) -> Result<Vec<std::path::PathBuf>, EndpointError> {
        Err(EndpointError::Unavailable(
            "this node does not export".into(),
        ))
    }
}
