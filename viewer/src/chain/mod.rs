//! Reading the contract's tables through the workspace's `chain-client` ([`source`]) into the
//! one-poll bundle the viewer works on ([`tables`]). The typed rows are `chain-client`'s.

pub mod source;
pub mod tables;

pub use chain_client::{Edge, GlobalRow, MetagraphRow, ResidualRow, StatRow};
pub use source::ChainSource;
pub use tables::ChainTables;
