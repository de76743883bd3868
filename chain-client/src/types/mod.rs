//! EOSIO value types and their binary serialization: names, symbols, assets and the codec
//! are the `antelope` crate's (one definition shared with the contract), re-exported here
//! under their old paths; actions and transactions are the client's own.

pub mod action;
pub mod transaction;

pub use antelope::codec as pack;
pub use antelope::name;

/// Token symbols and amounts (`4,BIT`, `10.0000 BIT`).
pub mod asset {
    pub use antelope::asset::{Asset, AssetError, MAX_AMOUNT};
    pub use antelope::symbol::{Symbol, SymbolCode};
}
