//! The contract's invariant, checked from outside: `supply == balances + total_stake +
//! outstanding`, with `total_stake` and `outstanding` matching their tables' sums.

use serde::Serialize;

use crate::chain::ChainTables;

/// The figures of the check and whether each part holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conservation {
    /// Token supply (base units).
    pub supply: u64,
    /// Sum of all account balances.
    pub balances: u64,
    /// `global.total_stake`.
    pub total_stake: u64,
    /// `global.outstanding`.
    pub outstanding: u64,
    /// Sum of `metagraph.stake`.
    pub sum_stakes: u64,
    /// Sum of `residuals.residual`.
    pub sum_residuals: u64,
    /// `supply == balances + total_stake + outstanding`.
    pub supply_holds: bool,
    /// `total_stake == sum_stakes` and `outstanding == sum_residuals`.
    pub sums_hold: bool,
}

/// The check, or `None` when the supply or the balances could not be read.
pub fn check(tables: &ChainTables) -> Option<Conservation> {
    let supply = u64::try_from(tables.stat.as_ref()?.supply.amount).ok()?;
    let balances = tables.balances?;
    let g = &tables.global;
    let sum_stakes = tables
        .metagraph
        .iter()
        .fold(0u64, |a, n| a.saturating_add(n.stake));
    let sum_residuals = tables
        .residuals
        .iter()
        .fold(0u64, |a, r| a.saturating_add(r.residual));
    let accounted = (balances as u128) + (g.total_stake as u128) + (g.outstanding as u128);
    Some(Conservation {
        supply,
        balances,
        total_stake: g.total_stake,
        outstanding: g.outstanding,
        sum_stakes,
        sum_residuals,
        supply_holds: supply as u128 == accounted,
        sums_hold: g.total_stake == sum_stakes && g.outstanding == sum_residuals,
    })
}
