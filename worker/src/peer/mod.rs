//! The HTTP/2 peer protocol: downstream nodes `POST /forward` word ids to get this node's
//! embeddings and `POST /backward` gradients for them; `GET /status` reports progress.
//!
//! - [`codec`]: the binary tensor and request encoding (bounded, typed errors).
//! - [`endpoint`]: what the server needs from the node (serve, apply gradient, status).
//! - [`ratelimit`]: per-remote token buckets guarding `/backward`.
//! - [`server`]: the h2c server.
//! - [`client`]: the h2c client with timeouts.
//! - [`upstream`]: upstream peer slots with health tracking and zero fallback.

pub mod client;
pub mod codec;
pub mod endpoint;
pub mod ratelimit;
pub mod server;
pub mod upstream;

pub use codec::{Limits, WireTensor};
pub use endpoint::{Endpoint, EndpointError};
