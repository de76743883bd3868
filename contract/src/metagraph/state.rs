//! The `global` singleton and the `stat` row the metagraph mints into.

use emission::params::Params;

use crate::error::{ContractError, Result};
use crate::host::Host;
use crate::metagraph::errors::{NO_STAT_ROW, TOKEN_NOT_CREATED};
use crate::metagraph::{Global, U128};
use crate::name::Name;
use crate::symbol::Symbol;
use crate::table;
use crate::token::CurrencyStats;

/// Primary key of the `global` singleton (the name `global`, as `eosio::singleton` does).
pub const GLOBAL_PK: u64 = Name::new("global").0;

pub use emission::params::{DEFAULT_EMISSION_RATE, DEFAULT_MIN_STAKE};

/// Microseconds per block slot.
const BLOCK_US: u64 = 500_000;

/// Creates the `global` row for the first token created; later tokens leave it unchanged.
pub fn init_global(host: &mut impl Host, symbol: Symbol) -> Result<()> {
    let me = host.receiver();
    if table::find::<Global>(host, me.0, GLOBAL_PK)?.is_none() {
        let params = Params::default();
        let global = Global {
            total_stake: 0,
            outstanding: 0,
            minted: 0,
            unsettled: 0,
            total_shares: U128(0),
            acc_block: current_block(host),
            emission_rate: params.emission_rate,
            min_stake: params.min_stake,
            max_self_weight: params.max_self_weight,
            max_idle: params.max_idle,
            symbol,
            change_seq: 0,
            redirected: 0,
            next_emission_rate: 0,
            next_min_stake: 0,
            next_max_self_weight: 0,
            next_max_idle: 0,
            next_at: 0,
            lump_per_share: U128(0),
            lump_shares_per_share: U128(0),
        };
        table::store(host, me.0, me, &global)?;
    }
    Ok(())
}

/// Reads the `global` row; the metagraph cannot run before `create`.
pub fn load_global(host: &impl Host) -> Result<Global> {
    table::find::<Global>(host, host.receiver().0, GLOBAL_PK)?
        .ok_or(ContractError::new(TOKEN_NOT_CREATED))
}

/// Writes the `global` row back.
pub fn save_global(host: &mut impl Host, global: &Global) -> Result<()> {
    let me = host.receiver();
    table::update(host, me.0, Name(0), global)
}

/// The staked token's `stat` row.
pub fn load_stats(host: &impl Host, symbol: Symbol) -> Result<CurrencyStats> {
    let code = symbol.code().0;
    table::find::<CurrencyStats>(host, code, code)?.ok_or(ContractError::new(NO_STAT_ROW))
}

/// The current block slot: `current_time / 0.5 s`.
pub fn current_block(host: &impl Host) -> u64 {
    host.current_time_us() / BLOCK_US
}
