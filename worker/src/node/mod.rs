//! A running node: the shared state, the training loop, the chain loop and the peer
//! server, started and stopped together by [`run`].
//!
//! - [`state`]: what the loops share (model, attribution, peers, counters).
//! - [`status`]: the `/status` document built from that state.
//! - [`tensors`]: conversions between wire tensors and tch tensors.
//! - [`trainer`]: the training loop (peer features in, gradients back out).
//! - [`chain_loop`]: peer discovery and periodic emits.
//! - [`bench`]: throughput of the training loop with live loopback peers.
//! - [`checkpoint`]: periodic and shutdown saves of the model, restored at start.
//! - [`runner`]: start-up (corpus, model, listener, subscribe) and clean shutdown.

pub mod bench;
pub mod chain_loop;
pub mod checkpoint;
pub mod runner;
pub mod state;
pub mod status;
pub mod tensors;
pub mod trainer;

pub use runner::run;
pub use state::Shared;
