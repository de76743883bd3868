//! Live view of a running BitTensor network.
//!
//! The viewer polls the chain's tables and each subscribed worker's `/status`, keeps a bounded
//! history, compares the on-chain stakes with the matrix model's prediction, and serves a
//! self-contained page plus a JSON snapshot over HTTP.
//!
//! - [`chain`]: reading the contract's tables through `chain-client` into one poll's rows.
//! - [`workers`]: reading workers' `/status` over h2c, strictly, from allowed addresses only.
//! - [`model`]: the matrix-model prediction of where emission goes.
//! - [`state`]: the snapshot served at `/api/state`, its history and conservation check.
//! - [`poller`]: the background task that refreshes the snapshot.
//! - [`server`]: the HTTP routes and the embedded page.

pub mod chain;
pub mod cli;
pub mod error;
pub mod model;
pub mod poller;
pub mod server;
pub mod state;
pub mod workers;

pub use error::ViewError;
