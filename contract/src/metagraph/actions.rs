//! The metagraph actions: `subscribe`, `unsubscribe`, `emit`, and `setparams`.
//! Each does O(edges) point lookups; none iterates a table.

use alloc::vec;

use emission::edges::validate_fixed;
use emission::fixed::WEIGHT_ONE;
use emission::Edge;

use crate::asset::Asset;
use crate::error::{check, ContractError, Result};
use crate::host::Host;
use crate::metagraph::settle::settle;
use crate::metagraph::state::{current_block, load_global, save_global};
use crate::metagraph::Unsubscribe;
use crate::metagraph::{edge_error_message, Emit, Node, Residual, SetParams, Subscribe};
use crate::name::Name;
use crate::table;
use crate::token::{add_balance, sub_balance};

/// Longest endpoint address stored, in bytes (keeps rows small).
const MAX_ADDRESS: usize = 128;

/// The message for actions by accounts that have no `metagraph` row.
const NOT_SUBSCRIBED: ContractError = ContractError::new("user not subscribed");

/// `subscribe`: stakes `stake` from the user's balance; a new node starts with a self-only
/// edge set and its clock at the current block; a top-up settles first.
pub fn subscribe(host: &mut impl Host, args: Subscribe) -> Result<()> {
    host.require_auth(args.user)?;
    check(
        args.address.len() <= MAX_ADDRESS,
        "address longer than 128 bytes",
    )?;
    let mut global = load_global(host)?;
    check(
        args.stake.symbol == global.symbol,
        "stake symbol does not match the staked token",
    )?;
    check(args.stake.is_valid(), "invalid quantity")?;
    check(args.stake.amount >= 0, "stake must not be negative")?;
    let stake = args.stake.amount as u64;
    let me = host.receiver();
    match table::find::<Node>(host, me.0, args.user.0)? {
        Some(mut node) => {
            // A top-up first settles what accrued at the old stake (as an emit with the
            // stored edges), so added stake never earns for blocks before it arrived.
            let edges = node.edges.clone();
            settle(host, &mut global, &mut node, &edges, current_block(host))?;
            node.address = args.address;
            node.port = args.port;
            node.stake = node
                .stake
                .checked_add(stake)
                .ok_or(ContractError::new("amount overflow"))?;
            table::update(host, me.0, args.user, &node)?;
        }
        None => {
            check(stake >= global.min_stake, "stake below minimum stake")?;
            let node = Node {
                user: args.user,
                address: args.address,
                port: args.port,
                stake,
                last_emit: current_block(host),
                edges: vec![Edge {
                    to: args.user,
                    weight: WEIGHT_ONE,
                }],
            };
            table::store(host, me.0, args.user, &node)?;
            let residual = Residual {
                user: args.user,
                residual: 0,
            };
            table::store(host, me.0, args.user, &residual)?;
        }
    }
    if stake > 0 {
        sub_balance(host, args.user, args.stake)?;
    }
    global.total_stake = global
        .total_stake
        .checked_add(stake)
        .ok_or(ContractError::new("amount overflow"))?;
    save_global(host, &global)
}

/// `emit`: validates the new edge set, settles the caller along it, and stores it.
pub fn emit(host: &mut impl Host, args: Emit) -> Result<()> {
    host.require_auth(args.user)?;
    let me = host.receiver();
    let mut node = table::find::<Node>(host, me.0, args.user.0)?.ok_or(NOT_SUBSCRIBED)?;
    let mut lookup_failed = None;
    let valid = validate_fixed(&args.user, &args.edges, |target| {
        match table::find::<Residual>(&*host, me.0, target.0) {
            Ok(row) => row.is_some(),
            Err(e) => {
                lookup_failed = Some(e);
                false
            }
        }
    });
    if let Some(error) = lookup_failed {
        return Err(error);
    }
    valid.map_err(|e| ContractError::new(edge_error_message(&e)))?;
    let mut global = load_global(host)?;
    let block = current_block(host);
    settle(host, &mut global, &mut node, &args.edges, block)?;
    node.edges = args.edges;
    table::update(host, me.0, Name(0), &node)
}

/// `unsubscribe`: settles the caller along its stored edges, returns its whole stake to its
/// balance and erases its rows.
pub fn unsubscribe(host: &mut impl Host, args: Unsubscribe) -> Result<()> {
    host.require_auth(args.user)?;
    let me = host.receiver();
    let mut node = table::find::<Node>(host, me.0, args.user.0)?.ok_or(NOT_SUBSCRIBED)?;
    let mut global = load_global(host)?;
    let block = current_block(host);
    let edges = core::mem::take(&mut node.edges);
    settle(host, &mut global, &mut node, &edges, block)?;
    check(global.total_stake >= node.stake, "total stake underflow")?;
    global.total_stake -= node.stake;
    save_global(host, &global)?;
    table::remove::<Node>(host, me.0, args.user.0)?;
    table::remove::<Residual>(host, me.0, args.user.0)?;
    if node.stake > 0 {
        let amount =
            i64::try_from(node.stake).map_err(|_| ContractError::new("amount overflow"))?;
        let returned = Asset {
            amount,
            symbol: global.symbol,
        };
        add_balance(host, args.user, returned, args.user)?;
    }
    Ok(())
}

/// `setparams`: the contract account sets the emission rate and the minimum first stake.
pub fn setparams(host: &mut impl Host, args: SetParams) -> Result<()> {
    let me = host.receiver();
    host.require_auth(me)?;
    let mut global = load_global(host)?;
    global.emission_rate = args.emission_rate;
    global.min_stake = args.min_stake;
    save_global(host, &global)
}
