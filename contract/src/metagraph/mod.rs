//! The metagraph: nodes stake `BIT`, declare weighted edges, and receive stake-proportional
//! emission that flows along the edges by residual push (the `emission` crate's arithmetic,
//! mirrored exactly by `emission::ledger::Ledger`).

mod actions;
mod errors;
mod settle;
mod state;
mod types;

pub use actions::{emit, setparams, subscribe, unsubscribe};
pub use errors::edge_error_message;
pub use state::{init_global, DEFAULT_EMISSION_RATE, DEFAULT_MIN_STAKE};
pub use types::{Emit, Global, Node, Residual, SetParams, Subscribe, Unsubscribe};

#[cfg(test)]
mod tests;
