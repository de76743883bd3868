//! EOSIO value types and their binary serialization.

pub mod action;
pub mod asset;
pub mod name;
pub mod pack;
pub mod transaction;
