//! Shared fixtures for the integration tests: a fresh local chain with the `bittensor`
//! contract deployed, funded user accounts, the on-chain conservation check
//! ([`conservation`]) and the multi-worker load run ([`load`]).

pub mod conservation;
mod fixtures;
pub mod load;

pub use conservation::Conservation;
pub use fixtures::{bit, deployed, funded, CONTRACT_ACCOUNT, MAX_SUPPLY};
pub use localnet::{Localnet, LocalnetError};
