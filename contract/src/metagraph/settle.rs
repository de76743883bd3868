//! One settlement step shared by `emit` and `unsubscribe`: accrue the caller's emission, then
//! push its whole residual one hop (`emission::ledger::Ledger::settle`, integer for integer).

use emission::accrual::accrue;
use emission::residual_push::push;
use emission::Edge;

use crate::error::{check, ContractError, Result};
use crate::host::Host;
use crate::metagraph::state::{load_stats, save_global};
use crate::metagraph::{Global, Node, Residual};
use crate::name::Name;
use crate::table;

/// The overflow message (unreachable while supplies stay below `2^62`).
const OVERFLOW: ContractError = ContractError::new("amount overflow");

/// Accrues `node`'s emission up to `block`, pushes its residual along `edges` (forwards to
/// unsubscribed targets stay with the node), credits the kept part to `node.stake`, and
/// writes `global`, `stat` and the touched `residuals` rows. The caller writes `node`.
pub fn settle(
    host: &mut impl Host,
    global: &mut Global,
    node: &mut Node,
    edges: &[Edge<Name>],
    block: u64,
) -> Result<()> {
    let me = host.receiver();
    let mut own = table::find::<Residual>(host, me.0, node.user.0)?
        .ok_or(ContractError::new("residual row missing"))?;
    let delta = block.saturating_sub(node.last_emit);
    let mut accrued = accrue(global.emission_rate, delta, node.stake, global.total_stake);
    if accrued > 0 {
        // Emission is new supply; it stops at max_supply.
        let mut stats = load_stats(host, global.symbol)?;
        let room = (stats.max_supply.amount - stats.supply.amount).max(0) as u64;
        accrued = accrued.min(room);
        stats.supply.amount = stats
            .supply
            .amount
            .checked_add(accrued as i64)
            .ok_or(OVERFLOW)?;
        let code = global.symbol.code().0;
        table::update(host, code, Name(0), &stats)?;
    }
    global.minted = global.minted.checked_add(accrued).ok_or(OVERFLOW)?;
    global.outstanding = global.outstanding.checked_add(accrued).ok_or(OVERFLOW)?;
    let pushed = own.residual.checked_add(accrued).ok_or(OVERFLOW)?;
    let split = push(pushed, edges);
    let mut kept = split.keep;
    for (edge, &amount) in edges.iter().skip(1).zip(split.forwards.iter()) {
        if amount == 0 {
            continue;
        }
        match table::find::<Residual>(host, me.0, edge.to.0)? {
            Some(mut target) => {
                target.residual = target.residual.checked_add(amount).ok_or(OVERFLOW)?;
                table::update(host, me.0, Name(0), &target)?;
            }
            None => kept += amount,
        }
    }
    own.residual = 0;
    table::update(host, me.0, Name(0), &own)?;
    node.stake = node.stake.checked_add(kept).ok_or(OVERFLOW)?;
    node.last_emit = node.last_emit.max(block);
    global.total_stake = global.total_stake.checked_add(kept).ok_or(OVERFLOW)?;
    check(global.outstanding >= kept, "outstanding underflow")?;
    global.outstanding -= kept;
    save_global(host, global)
}
