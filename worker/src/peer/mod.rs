//! The HTTP/2 peer protocol: downstream nodes `POST /forward` word ids to get this node's
//! embeddings and `POST /backward` gradients for them, both signed with the caller's account
//! key; `GET /status` reports progress. See `docs/peers.md`.
//!
//! - [`codec`]: the binary tensor and request encoding (bounded, typed errors).
//! - [`endpoint`]: what the server needs from the node (serve, apply gradient, status).
//! - [`identity`]: this node's account, signing key and vocabulary fingerprint.
//! - [`keys`]: peer accounts' on-chain keys, cached with expiry.
//! - [`gate`]: the server's checks: signature, caller, freshness, replay, vocabulary, rate.
//! - [`ratelimit`]: per-account token buckets in a bounded map.
//! - [`served`]: what was served to whom, so gradients answer real forwards only.
//! - [`cost`]: the measured time of signing and verifying.
//! - [`range`]: the range of values accepted on the wire.
//! - [`server`]: the h2c server.
//! - [`client`]: the signing h2c client with deadlines and answer checks.
//! - [`upstream`]: upstream peer slots with health tracking and zero fallback.

pub mod client;
pub mod codec;
pub mod cost;
pub mod endpoint;
pub mod gate;
pub mod identity;
pub mod keys;
pub mod range;
pub mod ratelimit;
pub mod served;
pub mod server;
pub mod upstream;

pub use codec::{Limits, WireTensor};
pub use endpoint::{Endpoint, EndpointError};
