//! The worker's view of the chain: a small trait over what the node needs (subscribe,
//! emit, unsubscribe, metagraph reads), its implementation over `chain-client`, upstream
//! peer selection from the metagraph, and the retrying emit/subscribe logic.

pub mod api;
pub mod backoff;
pub mod connect;
pub mod eos;
pub mod hints;
pub mod lifecycle;
pub mod local_file;
pub mod pacing;
pub mod params;
pub mod peers;
pub mod return_flow;

#[cfg(test)]
pub mod fake;

pub use api::{ChainApi, ChainFailure, ChainFuture, PeerRow};
pub use backoff::Backoff;
pub use connect::connect;
pub use peers::PeerSlots;
