//! Shared fixtures for the integration tests: a fresh local chain with the `bittensor`
//! contract deployed, and funded user accounts.

pub mod conservation;
mod fixtures;

pub use conservation::Conservation;
pub use fixtures::{bit, deployed, funded, CONTRACT_ACCOUNT, MAX_SUPPLY};
pub use localnet::{Localnet, LocalnetError};
