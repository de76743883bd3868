//! The `bittensor` contract's interface files and the tools that check them:
//! - [`model`]: the ABI JSON (`abi/bittensor.abi`) as typed data;
//! - [`pack`]: an ABI-driven JSON serializer, independent of the contract's codec;
//! - [`wasm`]: a minimal WebAssembly reader (imports, exports, memory, data segments) to check
//!   that the built contract only imports allowed EOSIO intrinsics and respects EOS VM limits.
//!
//! The tests in `abi/tests/` prove the ABI file matches the contract's codec declarations.

pub mod model;
pub mod pack;
pub mod wasm;

pub use model::{load_abi, Abi, AbiError};
