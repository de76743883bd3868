//! A throw-away local EOS chain for tests and scripts.
//!
//! [`Localnet::start`] runs `nodeos -e -p eosio` on a free loopback port and a `keosd` on a
//! unix socket, both in a temporary directory, with the development key imported; the
//! other methods drive it through `cleos`. Dropping the [`Localnet`] stops both processes
//! and removes the directory. [`paths`] locates the contract build and reference contracts.
//! [`Cluster`] boots a chain of several producers running `eosio.system`; [`Testnet`] adds
//! the contract and metered, funded worker accounts on it; [`NodeView`] reads one node's
//! copy of the tables.

mod accounts;
mod cleos;
pub mod cluster;
mod error;
mod http;
mod node;
pub mod paths;
mod process;
mod restart;
mod scopes;
pub mod testnet;
mod tools;
mod view;

pub use cluster::{Cluster, Resources};
pub use error::LocalnetError;
pub use node::Localnet;
pub use paths::{contract_abi, contract_wasm, reference_contract, repo_root};
pub use process::{group_alive, output_in_own_group, yield_to_signal_guard, ProcessGroup};
pub use testnet::{Testnet, TestnetSpec, WorkerAccount};
pub use view::{NodeView, TableReader};

/// Public half of the well-known EOSIO development key: the `eosio` key of a fresh
/// `nodeos -e -p eosio` chain, also used for every account the tests create.
pub const DEV_PUBLIC_KEY: &str = "EOS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV";

/// Private half of the development key (local test chains only).
pub const DEV_PRIVATE_KEY: &str = "5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3";
