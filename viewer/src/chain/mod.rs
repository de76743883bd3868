//! Reading the contract's tables: the raw HTTP calls ([`source`]), lenient JSON field readers
//! ([`fields`]), token amounts ([`asset`]) and the typed rows the viewer works on ([`rows`]).

pub mod asset;
pub mod fields;
pub mod rows;
pub mod source;

pub use asset::Asset;
pub use rows::{ChainTables, EdgeRow, GlobalRow, MetagraphRow, ResidualRow, StatRow};
pub use source::ChainSource;
