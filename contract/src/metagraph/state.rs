//! The `global` singleton and the `stat` row the metagraph mints into.

use crate::error::{ContractError, Result};
use crate::host::Host;
use crate::metagraph::Global;
use crate::name::Name;
use crate::symbol::Symbol;
use crate::table;
use crate::token::CurrencyStats;

/// Primary key of the `global` singleton (the name `global`, as `eosio::singleton` does).
pub const GLOBAL_PK: u64 = Name::new("global").0;

/// Emission per block until `setparams` changes it: 1.0000 BIT.
pub const DEFAULT_EMISSION_RATE: u64 = 10_000;

/// Smallest first subscription until `setparams` changes it: 1.0000 BIT.
pub const DEFAULT_MIN_STAKE: u64 = 10_000;

/// Microseconds per block slot.
const BLOCK_US: u64 = 500_000;

/// Creates the `global` row for the first token created; later tokens leave it unchanged.
pub fn init_global(host: &mut impl Host, symbol: Symbol) -> Result<()> {
    let me = host.receiver();
    if table::find::<Global>(host, me.0, GLOBAL_PK)?.is_none() {
        let global = Global {
            total_stake: 0,
            outstanding: 0,
            minted: 0,
            emission_rate: DEFAULT_EMISSION_RATE,
            min_stake: DEFAULT_MIN_STAKE,
            symbol,
        };
        table::store(host, me.0, me, &global)?;
    }
    Ok(())
}

/// Reads the `global` row; the metagraph cannot run before `create`.
pub fn load_global(host: &impl Host) -> Result<Global> {
    table::find::<Global>(host, host.receiver().0, GLOBAL_PK)?
        .ok_or(ContractError::new("token not created yet"))
}

/// Writes the `global` row back.
pub fn save_global(host: &mut impl Host, global: &Global) -> Result<()> {
    let me = host.receiver();
    table::update(host, me.0, Name(0), global)
}

/// The staked token's `stat` row.
pub fn load_stats(host: &impl Host, symbol: Symbol) -> Result<CurrencyStats> {
    let code = symbol.code().0;
    table::find::<CurrencyStats>(host, code, code)?
        .ok_or(ContractError::new("token with symbol does not exist"))
}

/// The current block slot: `current_time / 0.5 s`.
pub fn current_block(host: &impl Host) -> u64 {
    host.current_time_us() / BLOCK_US
}
