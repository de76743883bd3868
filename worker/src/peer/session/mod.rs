//! The peer channel: one session per connection (a handshake binding both accounts'
//! on-chain keys, the chain, the audience and fresh ephemeral keys), then encrypted,
//! authenticated records with per-direction sequence numbers (no nonce cache, no clock
//! window). Message kinds live a layer above: a request carries a kind and a body, and a
//! handler per kind turns the decoded request into an answer.
//!
//! - [`handshake`]: Noise `NN` (`snow`) plus one K1 signature each way over its hash.
//! - [`record`]: messages cut into Noise transport records.
//! - [`message`]: the typed request/answer envelope and the kinds.
//! - [`admission`]: the cheap checks made before any key work (per address, per account).
//! - [`handlers`]: the per-kind handlers and per-session memory.
//! - [`server`]: a session's request loop on the node's listener.
//! - [`client`]: sessions to upstream peers, opened once and reused.

pub mod admission;
pub mod client;
pub mod handlers;
pub mod handshake;
pub mod message;
pub mod record;
pub mod server;

pub use handshake::{Hello, Verdict};
pub use message::{Answer, Kind, Request, Status};

/// Why a session could not be opened or went wrong.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The socket failed or closed.
    #[error("transport: {0}")]
    Io(#[from] std::io::Error),
    /// The peer broke the session protocol.
    #[error("protocol: {0}")]
    Protocol(String),
    /// A record failed authentication (forged, replayed, reordered or altered).
    #[error("a record failed authentication (forged, replayed or out of order); session closed")]
    Forged,
    /// A message above the size limit.
    #[error("message of {got} bytes is above the limit of {limit}")]
    TooLarge { got: usize, limit: usize },
    /// The other side refused the handshake.
    #[error("handshake refused ({verdict:?}): {reason}")]
    Refused { verdict: Verdict, reason: String },
    /// The server proved a key that is not the audience's on-chain key.
    #[error("the server at this address does not hold {0}'s on-chain key")]
    Impostor(String),
    /// The chain lists no usable key for the account.
    #[error("no on-chain key for {0}: {1}")]
    UnknownAccount(String, String),
    /// Noise or signing failed locally.
    #[error("crypto: {0}")]
    Crypto(String),
}

impl From<snow::Error> for SessionError {
    fn from(e: snow::Error) -> Self {
        SessionError::Crypto(e.to_string())
    }
}

impl From<chain_client::KeyError> for SessionError {
    fn from(e: chain_client::KeyError) -> Self {
        SessionError::Crypto(e.to_string())
    }
}
