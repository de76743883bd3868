//! Announced parameter changes: `setparams` while nodes are subscribed takes effect
//! `emission::params::PARAM_DELAY` blocks later (the `next_*` fields of `global`, which
//! workers read); every action first applies a change whose block has come, with the
//! accumulator advanced at the old values up to that block. O(1), no extra table read.

use emission::params::{Params, PARAM_DELAY};

use crate::error::{ContractError, Result};
use crate::host::Host;
use crate::metagraph::settlement::advance;
use crate::metagraph::state::{load_global, save_global};
use crate::metagraph::Global;

/// Reads `global` as of `block`: an announced change whose block has come is applied first
/// (and saved).
pub fn load_current(host: &mut impl Host, block: u64) -> Result<Global> {
    let mut global = load_global(host)?;
    if global.next_at != 0 && block >= global.next_at {
        let at = global.next_at;
        advance(host, &mut global, at)?;
        let params = next(&global);
        apply(&mut global, &params);
        clear(&mut global);
        save_global(host, &global)?;
    }
    Ok(global)
}

/// Checks `params` and, with no node subscribed, applies them now; otherwise announces them
/// for `block + PARAM_DELAY` (replacing a pending announcement). Saves `global`.
pub fn announce(
    host: &mut impl Host,
    global: &mut Global,
    params: Params,
    block: u64,
) -> Result<()> {
    params
        .validate()
        .map_err(|e| ContractError::new(e.message()))?;
    if global.total_shares.0 == 0 {
        advance(host, global, block)?;
        apply(global, &params);
        clear(global);
    } else {
        global.next_emission_rate = params.emission_rate;
        global.next_min_stake = params.min_stake;
        global.next_max_self_weight = params.max_self_weight;
        global.next_max_idle = params.max_idle;
        global.next_at = block.saturating_add(PARAM_DELAY);
    }
    save_global(host, global)
}

fn next(global: &Global) -> Params {
    Params {
        emission_rate: global.next_emission_rate,
        min_stake: global.next_min_stake,
        max_self_weight: global.next_max_self_weight,
        max_idle: global.next_max_idle,
    }
}

fn apply(global: &mut Global, params: &Params) {
    global.emission_rate = params.emission_rate;
    global.min_stake = params.min_stake;
    global.max_self_weight = params.max_self_weight;
    global.max_idle = params.max_idle;
}

fn clear(global: &mut Global) {
    global.next_emission_rate = 0;
    global.next_min_stake = 0;
    global.next_max_self_weight = 0;
    global.next_max_idle = 0;
    global.next_at = 0;
}
