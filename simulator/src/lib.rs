//! The emission simulator: runs the matrix reference model and the two distributed models
//! (the original recursive contract, the residual-push contract on the exact ledger) on the
//! same graph and block schedule, and reports how far apart they end up and what each emit costs.
//!
//! - [`scenario`]: one graph + stakes + schedule parameters, the unit every command runs.
//! - [`file`](mod@file), [`random`], [`seed_example`]: where scenarios come from.
//! - [`run`]: drives the three models block by block.
//! - [`report`], [`plot`]: text and PNG output.
//! - [`bench`](mod@bench): one-emit cost of each distributed model by graph size.
//! - [`strategies`]: the manipulation catalogue, under the contract's accrual and the legacy one.

pub mod bench;
pub mod file;
pub mod plot;
pub mod random;
pub mod report;
pub mod run;
pub mod scenario;
pub mod seed_example;
pub mod strategies;
