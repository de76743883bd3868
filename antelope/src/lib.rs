//! Antelope (EOSIO) value types and their binary serialization, defined once for the
//! contract (built `no_std` for `wasm32v1-none`) and for the chain client on the host.
//!
//! - [`name`]: account, action and table names packed in a `u64`;
//! - [`symbol`]: token symbols and their codes;
//! - [`asset`]: token quantities, their text form and the CDT's checked arithmetic;
//! - [`codec`]: the binary form of action data, table rows and transactions;
//! - [`error`]: the CDT's message for input that breaks a rule of the format.
//!
//! With the `serde` feature, names, symbols and assets (de)serialize as the strings nodeos
//! prints (`alice`, `4,BIT`, `10.0000 BIT`).
#![no_std]

extern crate alloc;

pub mod asset;
pub mod codec;
pub mod error;
pub mod name;
#[cfg(feature = "serde")]
mod serde_text;
pub mod symbol;

pub use asset::{Asset, AssetError, MAX_AMOUNT};
pub use codec::{Bytes, Pack, Reader, Unpack, VarUint32};
pub use error::Error;
pub use name::{Name, NameError};
pub use symbol::{Symbol, SymbolCode};
