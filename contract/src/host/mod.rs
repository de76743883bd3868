//! The chain services the contract logic needs, as a trait: the EOSIO intrinsics on chain
//! (`wasm` module), an in-memory chain in host unit tests (`mock`).

#[cfg(test)]
pub mod mock;

use alloc::vec::Vec;

use crate::error::Result;
use crate::name::Name;

/// Where one row lives: the receiver's `table` in `scope`, primary key `pk` (one value, so the
/// four row intrinsics take one address instead of three loose integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowId {
    /// The table's scope.
    pub scope: u64,
    /// The table.
    pub table: Name,
    /// The row's primary key.
    pub pk: u64,
}

/// What an action may ask of the chain. Tables are always the receiver's own (`code == receiver`).
pub trait Host {
    /// The account the contract runs as (`current_receiver`).
    fn receiver(&self) -> Name;
    /// Aborts unless `account` authorized the action (`require_auth`).
    fn require_auth(&mut self, account: Name) -> Result<()>;
    /// Whether `account` authorized the action (`has_auth`).
    fn has_auth(&self, account: Name) -> bool;
    /// Whether `account` exists (`is_account`).
    fn is_account(&self, account: Name) -> bool;
    /// Notifies `account` of this action (`require_recipient`).
    fn require_recipient(&mut self, account: Name);
    /// Head block time in microseconds since the epoch (`current_time`).
    fn current_time_us(&self) -> u64;
    /// The serialized row at `row`, if any.
    fn db_get(&self, row: RowId) -> Option<Vec<u8>>;
    /// Creates `row`, billing its RAM to `payer`.
    fn db_store(&mut self, row: RowId, payer: Name, data: &[u8]) -> Result<()>;
    /// Rewrites an existing row; `payer == Name(0)` keeps the current payer.
    fn db_update(&mut self, row: RowId, payer: Name, data: &[u8]) -> Result<()>;
    /// Erases an existing row.
    fn db_remove(&mut self, row: RowId) -> Result<()>;
    /// Adds `row`'s entry `key` to its table's first `u64` secondary index (`db_idx64_store`),
    /// billing its RAM to `payer`.
    fn idx64_store(&mut self, row: RowId, payer: Name, key: u64) -> Result<()>;
    /// Moves `row`'s existing first-secondary-index entry to `key`; `payer == Name(0)` keeps
    /// the payer (`db_idx64_find_primary` + `db_idx64_update`).
    fn idx64_update(&mut self, row: RowId, payer: Name, key: u64) -> Result<()>;
    /// Erases `row`'s first-secondary-index entry (`db_idx64_find_primary` + `db_idx64_remove`).
    fn idx64_remove(&mut self, row: RowId) -> Result<()>;
}
