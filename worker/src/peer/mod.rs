//! The peer channel: downstream nodes open a session to this node (a handshake binding both
//! accounts' on-chain keys, the chain, the audience and fresh ephemeral keys) and send typed
//! requests on it: updates (the sparse updates of both tables this node published after a
//! sequence number: how nodes learn across shards), forward (word ids for this node's
//! embeddings, what a consumer reads); the node's own account may ask for an export. `GET /status` stays public
//! over h2c on the same port. See `docs/peers.md`.
//!
//! - [`session`]: the handshake, the encrypted records, the admission checks, the typed
//!   envelope and its handlers, the server loop and the client's sessions.
//! - [`kinds`]: the node's kinds (updates, forward, export).
//! - [`wire`]: their compact bodies (narrow ids, half-precision vectors).
//! - [`wire_updates`]: the body of the updates kind (a peer's published sparse updates).
//! - [`codec`]: the f32 tensor type, limits and typed decoding errors.
//! - [`endpoint`]: what the server needs from the node (serve, apply gradient, status).
//! - [`identity`]: this node's account, signing key, chain and vocabulary fingerprint.
//! - [`keys`]: peer accounts' on-chain keys, cached with expiry.
//! - [`ratelimit`]: token buckets in a bounded map (per address, per account).
//! - [`cost`]: the measured time of a handshake and of sealing a step's messages.
//! - [`range`]: the range of values accepted on the wire.
//! - [`server`]: the listener (session or h2c by the first bytes).
//! - [`client`]: the node's client with deadlines and answer checks.
//! - [`upstream`]: upstream peer slots with health tracking and zero fallback.

pub mod client;
pub mod codec;
pub mod cost;
pub mod endpoint;
pub mod identity;
pub mod keys;
pub mod kinds;
pub mod range;
pub mod ratelimit;
pub mod server;
pub mod session;
pub mod upstream;
pub mod wire;
pub mod wire_updates;

pub use codec::{Limits, WireTensor};
pub use endpoint::{Endpoint, EndpointError};
