//! Helpers shared by the token and metagraph unit tests on the in-memory chain.

use alloc::string::String;

use crate::asset::Asset;
use crate::codec::{to_bytes, Pack};
use crate::host::mock::MockChain;
use crate::symbol::Symbol;

/// The contract's token symbol, `4,BIT`.
pub const BIT: Symbol = Symbol::constant(4, "BIT");

/// `amount` base units of BIT.
pub fn bit(amount: i64) -> Asset {
    Asset {
        amount,
        symbol: BIT,
    }
}

/// Runs `action` with `args` signed by `signer`; the error reduced to its message.
pub fn run<T: Pack>(
    chain: &mut MockChain,
    signer: &str,
    action: &str,
    args: T,
) -> Result<(), String> {
    chain
        .run(signer, action, &to_bytes(&args))
        .map_err(|e| String::from(e.message))
}
