//! The chain services the contract logic needs, as a trait: the EOSIO intrinsics on chain
//! (`wasm` module), an in-memory chain in host unit tests (`mock`).

#[cfg(test)]
pub mod mock;

use alloc::vec::Vec;

use crate::error::Result;
use crate::name::Name;

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
    /// The serialized row `pk` of `table` in `scope`, if any.
    fn db_get(&self, scope: u64, table: Name, pk: u64) -> Option<Vec<u8>>;
    /// Creates row `pk`, billing its RAM to `payer`.
    fn db_store(
        &mut self,
        scope: u64,
        table: Name,
        payer: Name,
        pk: u64,
        data: &[u8],
    ) -> Result<()>;
    /// Rewrites an existing row; `payer == Name(0)` keeps the current payer.
    fn db_update(
        &mut self,
        scope: u64,
        table: Name,
        payer: Name,
        pk: u64,
        data: &[u8],
    ) -> Result<()>;
    /// Erases an existing row.
    fn db_remove(&mut self, scope: u64, table: Name, pk: u64) -> Result<()>;
}
