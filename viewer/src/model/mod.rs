//! The matrix model's prediction from the on-chain graph (the reference the contract's
//! residual push approximates), computed by the `emission` crate.

pub mod predict;

pub use predict::predict_shares;
