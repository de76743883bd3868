//! Shared fixtures for the integration tests (and the `bittensor-ops` runs): a fresh local
//! chain with the `bittensor` contract deployed, funded user accounts and the on-chain
//! conservation check ([`conservation`]).

pub mod conservation;
mod fixtures;

pub use conservation::Conservation;
pub use fixtures::{bit, deployed, funded, CONTRACT_ACCOUNT, MAX_SUPPLY};
pub use localnet::{Localnet, LocalnetError};
