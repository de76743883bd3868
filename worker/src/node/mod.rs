//! A running node: the shared state, the training loop, the chain loop and the peer
//! server, started and stopped together by [`run`].
//!
//! - [`state`]: what the loops share (model, attribution, peers, counters).
//! - [`status`]: the `/status` document built from that state.
//! - [`trainer`]: the node's one training loop (word2vec on its private shard, rounds of
//!   sparse-update exchange with its peers, each input valued on held-out text).
//! - [`precedence`]: which of two matching upstream updates is the copy (proven from when
//!   this node saw each).
//! - [`hooks`]: where a strategy other than the honest one plugs in (library only).
//! - [`export`]: the node's served and input embeddings written on request.
//! - [`export_request`]: asking a running node, as its own account, to export.
//! - [`chain_loop`]: peer discovery and periodic emits.
//! - [`bench`]: throughput of the training loop with live loopback peers.
//! - [`bench_flood`]: honest peers' success and the node's CPU under a flood of forged
//!   handshakes and greedy requests.
//! - [`thread_cpu`]: CPU time of the bench's upstream peers' threads, to leave it out.
//! - [`checkpoint`]: periodic and shutdown saves of the model, restored at start.
//! - [`parent`]: a node started by another program stops when that program is gone.
//! - [`runner`]: start-up (corpus, model, listener, subscribe) and clean shutdown.

pub mod bench;
pub mod bench_flood;
pub mod bench_format;
pub mod chain_loop;
pub mod checkpoint;
pub mod export;
pub mod export_request;
pub mod hooks;
pub mod parent;
pub mod precedence;
pub mod runner;
pub mod state;
pub mod status;
pub mod thread_cpu;
pub mod trainer;

pub use runner::{run, run_with_hooks};
pub use state::Shared;
