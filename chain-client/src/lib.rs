//! EOSIO chain client for the BitTensor contract.
//!
//! Everything a worker needs to talk to the chain without `cleos`: EOSIO binary packing
//! ([`Pack`]), names and assets ([`Name`], [`Asset`]), K1 keys and canonical signatures
//! ([`PrivateKey`], [`PublicKey`], [`Signature`]), typed action builders for the contract
//! ([`contract`]), an HTTP [`Client`] that builds, signs and pushes transactions and reads
//! tables, and a retry policy for transient failures ([`retry`]).

pub mod client;
pub mod contract;
pub mod crypto;
pub mod error;
pub mod retry;
pub mod types;

pub use client::{
    ChainInfo, Client, DepartureRow, Edge, GlobalRow, MetagraphRow, MetagraphView, PushReceipt,
    Refresh, ResidualRow, StatRow, VocabRow,
};
pub use crypto::{KeyError, PrivateKey, PublicKey, Signature};
pub use error::{ChainError, Resource};
pub use types::action::{Action, PermissionLevel};
pub use types::asset::{Asset, AssetError, Symbol, SymbolCode};
pub use types::name::{Name, NameError};
pub use types::pack::{Pack, Unpack, VarUint32};
pub use types::transaction::Transaction;
