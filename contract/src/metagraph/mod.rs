//! The metagraph: nodes stake `BIT`, declare weighted edges, and receive stake-proportional
//! emission that flows along the edges by residual push (the `emission` crate's arithmetic,
//! mirrored exactly by `emission::ledger::Ledger`).

mod actions;
mod changes;
pub mod errors;
mod params;
mod settlement;
mod state;
mod token_rules;
mod types;

pub use actions::{emit, evict, setparams, settle, subscribe, unsubscribe};
pub use changes::SLOT_SHIFT;
pub use state::{init_global, DEFAULT_EMISSION_RATE, DEFAULT_MIN_STAKE};
pub use token_rules::{close, issue, CLOSE_WHILE_SUBSCRIBED, ISSUE_OVER_CAP};
pub use types::{
    Departure, Emit, Evict, Global, Node, Residual, SetParams, Settle, Subscribe, Unsubscribe, U128,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cap;
#[cfg(test)]
mod tests_changes;
