//! What the metagraph adds to two token actions (the dispatcher routes them here):
//! - `issue` counts the emission already accrued and not yet minted (`global.unsettled`,
//!   advanced to this block) against `max_supply`, so settlements never mint past the cap;
//! - `close` is refused while the owner is subscribed: its stake returns to that balance row,
//!   and an eviction must never make the contract pay for re-creating it.

use crate::error::{check, Result};
use crate::host::Host;
use crate::metagraph::params::load_current;
use crate::metagraph::settlement::advance;
use crate::metagraph::state::current_block;
use crate::metagraph::Node;
use crate::table;
use crate::token::{self, Close, Issue};

/// `issue` of the staked token with more than `max_supply - supply - unsettled`.
pub const ISSUE_OVER_CAP: &str =
    "quantity exceeds available supply once accrued emission is counted";
/// `close` of the staked token's balance by a subscribed account.
pub const CLOSE_WHILE_SUBSCRIBED: &str =
    "Cannot close while subscribed: the stake returns to this balance";

/// `issue`: the token's checks, with the accrued emission counted for the staked token.
pub fn issue(host: &mut impl Host, args: Issue) -> Result<()> {
    let me = host.receiver();
    let staked = table::find::<crate::metagraph::Global>(host, me.0, super::state::GLOBAL_PK)?
        .filter(|g| g.symbol == args.quantity.symbol);
    if staked.is_some() {
        let block = current_block(host);
        let mut global = load_current(host, block)?;
        advance(host, &mut global, block)?;
        let stats = super::state::load_stats(host, global.symbol)?;
        let free = stats.max_supply.amount.saturating_sub(stats.supply.amount);
        // Above `free` the token's own check answers, with eosio.token's message.
        if args.quantity.amount <= free {
            let room = free.saturating_sub(global.unsettled as i64);
            check(args.quantity.amount <= room, ISSUE_OVER_CAP)?;
        }
    }
    token::issue(host, args)
}

/// `close`: the token's checks, refused while the owner is subscribed with this token.
pub fn close(host: &mut impl Host, args: Close) -> Result<()> {
    let me = host.receiver();
    let subscribed = table::find::<Node>(host, me.0, args.owner.0)?.is_some();
    if subscribed {
        let global = super::state::load_global(host)?;
        check(global.symbol != args.symbol, CLOSE_WHILE_SUBSCRIBED)?;
    }
    token::close(host, args)
}
