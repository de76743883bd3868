//! The metagraph actions: `subscribe`, `unsubscribe`, `emit`, `settle`, `evict` and
//! `setparams`. Each does O(edges) point lookups; none iterates a table. Every one issues the
//! emission of the blocks since the last action first (`emission::settlement::advance`).

use alloc::vec;

use emission::edges::validate_bounded;
use emission::fixed::WEIGHT_ONE;
use emission::params::Params;
use emission::settlement;
use emission::Edge;

use crate::asset::Asset;
use crate::error::{check, ContractError, Result};
use crate::host::Host;
use crate::metagraph::changes::{next_seq, remove_node, store_node, update_node, SLOT_SHIFT};
use crate::metagraph::errors::{
    ADDRESS_TOO_LONG, BELOW_MIN_STAKE, INVALID_QUANTITY, NEGATIVE_STAKE, NOT_IDLE, NOT_SUBSCRIBED,
    SETTLE_BY_OTHERS, TOTAL_STAKE_UNDERFLOW, WRONG_SYMBOL,
};
use crate::metagraph::params::{announce, load_current};
use crate::metagraph::settlement::{close, join, restake, settle as settle_node};
use crate::metagraph::state::{current_block, save_global};
use crate::metagraph::{
    Emit, Evict, Global, Node, Residual, SetParams, Settle, Subscribe, Unsubscribe, U128,
};
use crate::name::Name;
use crate::table;
use crate::token::{add_balance, sub_balance};

/// Longest endpoint address stored, in bytes (keeps rows small).
const MAX_ADDRESS: usize = 128;

/// The overflow message, shared with the settlement.
const OVERFLOW: ContractError = ContractError::new(settlement::SettleError::Overflow.message());

/// Whether the node's row was written in this block (it joined or settled already): a
/// settlement now forfeits what it is owed (`emission::settlement::settle`).
fn is_fresh(node: &Node, block: u64) -> bool {
    node.seq >> SLOT_SHIFT >= block
}

fn find_node(host: &impl Host, user: Name) -> Result<Node> {
    let me = host.receiver();
    table::find::<Node>(host, me.0, user.0)?.ok_or(ContractError::new(NOT_SUBSCRIBED))
}

/// `subscribe`: stakes `stake` from the user's balance; a new node opens its position at the
/// pool's current share price with a self-only edge set; a top-up settles first.
pub fn subscribe(host: &mut impl Host, args: Subscribe) -> Result<()> {
    host.require_auth(args.user)?;
    check(args.address.len() <= MAX_ADDRESS, ADDRESS_TOO_LONG)?;
    let block = current_block(host);
    let mut global = load_current(host, block)?;
    check(args.stake.symbol == global.symbol, WRONG_SYMBOL)?;
    check(args.stake.is_valid(), INVALID_QUANTITY)?;
    check(args.stake.amount >= 0, NEGATIVE_STAKE)?;
    let stake = args.stake.amount as u64;
    let me = host.receiver();
    match table::find::<Node>(host, me.0, args.user.0)? {
        Some(mut node) => {
            // A top-up first settles what accrued at the old stake (along the stored edges),
            // so added stake never earns for blocks before it arrived.
            let edges = node.edges.clone();
            let fresh = is_fresh(&node, block);
            node.seq = next_seq(&mut global, block)?;
            settle_node(host, &mut global, &mut node, &edges, block, false, fresh)?;
            node.address = args.address;
            node.port = args.port;
            let topped = node.stake.checked_add(stake).ok_or(OVERFLOW)?;
            restake(&mut global, &mut node, topped)?;
            update_node(host, &node)?;
        }
        None => {
            check(stake >= global.min_stake, BELOW_MIN_STAKE)?;
            let position = join(host, &mut global, stake, block)?;
            let mut node = Node {
                user: args.user,
                address: args.address,
                port: args.port,
                stake,
                last_emit: block,
                shares: Default::default(),
                edges: vec![Edge {
                    to: args.user,
                    weight: WEIGHT_ONE,
                }],
                seq: next_seq(&mut global, block)?,
                lump_at: U128(0),
                lump_shares_at: U128(0),
            };
            node.set_position(&position);
            store_node(host, args.user, &node)?;
            let residual = Residual {
                user: args.user,
                residual: 0,
                shares: U128(0),
                pushed: 0,
            };
            table::store(host, me.0, args.user, &residual)?;
        }
    }
    if stake > 0 {
        sub_balance(host, args.user, args.stake)?;
    }
    save_global(host, &global)
}

/// `emit`: validates the new edge set, settles the caller along the STORED one (the set in
/// force while the emission accrued), then stores the new set for the next interval.
pub fn emit(host: &mut impl Host, args: Emit) -> Result<()> {
    host.require_auth(args.user)?;
    let me = host.receiver();
    let mut node = find_node(host, args.user)?;
    let block = current_block(host);
    let mut global = load_current(host, block)?;
    let mut lookup_failed = None;
    let valid =
        validate_bounded(
            &args.user,
            &args.edges,
            global.max_self_weight,
            |target| match table::find::<Residual>(&*host, me.0, target.0) {
                Ok(row) => row.is_some(),
                Err(e) => {
                    lookup_failed = Some(e);
                    false
                }
            },
        );
    if let Some(error) = lookup_failed {
        return Err(error);
    }
    valid.map_err(|e| ContractError::new(e.message()))?;
    let stored = core::mem::take(&mut node.edges);
    // A new set ends the stored one: its rounding remainder goes out now (`flush`).
    let ends = stored != args.edges;
    let fresh = is_fresh(&node, block);
    node.seq = next_seq(&mut global, block)?;
    settle_node(host, &mut global, &mut node, &stored, block, ends, fresh)?;
    node.edges = args.edges;
    node.last_emit = node.last_emit.max(block);
    update_node(host, &node)
}

/// `settle`: settles `user` along its stored edges; its edges and idle clock stay. The node
/// may settle itself at any time; another account only once the node has been idle for
/// `max_idle / 2` blocks and its row unchanged for `max_idle / 4` (so no one can move a live
/// node's change number at will: at most a few settles by others before it is evictable).
pub fn settle(host: &mut impl Host, args: Settle) -> Result<()> {
    let mut node = find_node(host, args.user)?;
    let block = current_block(host);
    let mut global = load_current(host, block)?;
    if !host.has_auth(args.user) {
        let idle = block.saturating_sub(node.last_emit);
        let unchanged = block.saturating_sub(node.seq >> SLOT_SHIFT);
        check(
            idle >= global.max_idle / 2 && unchanged >= global.max_idle / 4,
            SETTLE_BY_OTHERS,
        )?;
    }
    let stored = core::mem::take(&mut node.edges);
    let fresh = is_fresh(&node, block);
    node.seq = next_seq(&mut global, block)?;
    settle_node(host, &mut global, &mut node, &stored, block, false, fresh)?;
    node.edges = stored;
    update_node(host, &node)
}

/// `unsubscribe`: settles the caller along its stored edges, returns its whole stake to its
/// balance and erases its rows.
pub fn unsubscribe(host: &mut impl Host, args: Unsubscribe) -> Result<()> {
    host.require_auth(args.user)?;
    let node = find_node(host, args.user)?;
    leave(host, node, args.user)
}

/// `evict`: anyone removes a node that has not emitted for `max_idle` blocks, exactly as its
/// own `unsubscribe` would (a new balance row, if needed, is paid by the contract).
pub fn evict(host: &mut impl Host, args: Evict) -> Result<()> {
    let node = find_node(host, args.user)?;
    let block = current_block(host);
    let global = load_current(host, block)?;
    let idle = block.saturating_sub(node.last_emit);
    check(idle >= global.max_idle, NOT_IDLE)?;
    let me = host.receiver();
    leave(host, node, me)
}

/// Settles `node` along its stored edges, returns its stake (a missing balance row and the
/// departure record are paid by `ram_payer`) and erases its rows.
fn leave(host: &mut impl Host, mut node: Node, ram_payer: Name) -> Result<()> {
    let me = host.receiver();
    let block = current_block(host);
    let mut global = load_current(host, block)?;
    let edges = core::mem::take(&mut node.edges);
    let fresh = is_fresh(&node, block);
    settle_node(host, &mut global, &mut node, &edges, block, true, fresh)?;
    check(global.total_stake >= node.stake, TOTAL_STAKE_UNDERFLOW)?;
    let back = close(host, &mut global, &node)?;
    let seq = next_seq(&mut global, block)?;
    save_global(host, &global)?;
    remove_node(host, node.user, seq, ram_payer)?;
    table::remove::<Residual>(host, me.0, node.user.0)?;
    if back > 0 {
        let amount = i64::try_from(back).map_err(|_| OVERFLOW)?;
        let returned = Asset {
            amount,
            symbol: global.symbol,
        };
        add_balance(host, node.user, returned, ram_payer)?;
    }
    Ok(())
}

/// `setparams`: the contract account sets the parameters, within `emission::params` bounds.
/// With no node subscribed they apply at once; otherwise they are announced in `global`'s
/// `next_*` fields and apply `PARAM_DELAY` blocks later. Either way the accumulator runs at
/// the old values up to the block they apply, so nothing changes retroactively.
pub fn setparams(host: &mut impl Host, args: SetParams) -> Result<()> {
    let me = host.receiver();
    host.require_auth(me)?;
    let params = Params {
        emission_rate: args.emission_rate,
        min_stake: args.min_stake,
        max_self_weight: args.max_self_weight,
        max_idle: args.max_idle,
    };
    let block = current_block(host);
    let mut global: Global = load_current(host, block)?;
    announce(host, &mut global, params, block)
}
