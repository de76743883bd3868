//! The BitTensor EOSIO contract: an `eosio.token`-compatible token (`BIT`) and the metagraph
//! (`subscribe`, `unsubscribe`, `emit`) whose emission arithmetic is the `emission` crate's.
//!
//! The contract logic runs against the [`host::Host`] trait, so every action is unit-tested on
//! the host against an in-memory chain; only the `wasm` module (compiled for `wasm32` alone) touches the
//! EOSIO intrinsics. Architecture:
//! - primitives: [`name`], [`symbol`], [`asset`] (the `antelope` crate's, re-exported) and
//!   [`codec`] (their binary form, with decoding errors as [`error::ContractError`]s);
//! - storage: [`host`] (chain services), [`table`] (typed rows keyed by primary key);
//! - actions: [`token`], [`metagraph`], routed by [`dispatch`];
//! - interface description: [`abi`] (field names and types the ABI file must match).
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

#[macro_use]
mod macros;

pub mod abi;
pub mod codec;
pub mod dispatch;
pub mod error;
pub mod host;
pub mod metagraph;
pub mod table;
pub mod token;
pub mod vocab;

pub use antelope::{asset, name, symbol};

#[cfg(test)]
mod test_support;

#[cfg(target_arch = "wasm32")]
mod wasm;
