//! Emission mathematics shared by the on-chain contract (`no_std` + `alloc`, integer
//! arithmetic) and the off-chain simulator.
//!
//! - [`fixed`]: the fixed-point units consensus uses (weights in parts per million).
//! - [`edges`]: edge-set validation, the typed errors every bad edge set maps to.
//! - [`accrual`]: the original per-interval accrual (the recursive model and the legacy comparison).
//! - [`compounding`]: the part of a pending claim that may compound (the kept part).
//! - [`settlement`]: the reward-per-stake accumulator and the one settlement (contract and ledger).
//! - [`params`]: the tunable parameters, defaults and bounds.
//! - [`residual_push`]: the O(degree) distributed step the contract runs.
//! - [`ledger`]: the exact integer mirror of the contract's state transitions.
//! - [`graph`], [`schedule`], [`models`], [`seed`]: the off-chain models (matrix reference, recursive,
//!   residual push on the ledger) the simulator compares; the contract never calls them.
#![no_std]

extern crate alloc;

pub mod accrual;
pub mod compounding;
pub mod edges;
pub mod error;
pub mod fixed;
pub mod graph;
pub mod ledger;
pub mod models;
pub mod params;
pub mod residual_push;
pub mod schedule;
pub mod seed;
pub mod settlement;

pub use edges::Edge;
pub use error::EdgeError;
