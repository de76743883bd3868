//! An exact integer mirror of the contract's metagraph state transitions.
//!
//! The contract (`contract/`) stores the same numbers in its `metagraph`, `residuals` and
//! `global` tables; integration tests replay the same actions here and compare the tables
//! with this ledger. Both run the ONE settlement of [`crate::settlement`] (the contract over
//! its tables, this ledger over a map), so every rule below is part of the interface
//! (`docs/contract-interface.md`).
//!
//! # Order of operations
//!
//! Every operation first advances the accumulator to `block` ([`settlement::advance`]), so the
//! interval before it is shared by the stake that was there during it.
//!
//! `subscribe(id, stake, block)`:
//! 1. a new node needs `stake >= min_stake` ([`LedgerError::StakeBelowMinimum`]); it joins
//!    the pool ([`settlement::join`]: shares bought at the current price), its edge set is
//!    `[(id, WEIGHT_ONE)]`, its residual 0 and `last_emit = block`;
//! 2. an already subscribed node is first settled along its stored edges, then adds `stake`
//!    (0 allowed, [`settlement::reprice`]); its edges and `last_emit` are unchanged;
//! 3. `total_stake += stake`, `deposited += stake`.
//!
//! `emit(id, edges, block)`:
//! 1. the caller must be subscribed ([`LedgerError::NotSubscribed`]);
//! 2. `validate_bounded(id, edges, max_self_weight, is_known = subscribed)` ([`LedgerError::Edge`]);
//! 3. [`settlement::settle`] along the STORED edge set (the one in force while the emission
//!    accrued): claim `shares * (total_stake + unsettled) / total_shares - stake` into the
//!    residual (`minted += accrued`, `outstanding += accrued`, `unsettled -= accrued`), push
//!    the whole residual once, re-price the shares at the new stake;
//! 4. the new edge set is stored and `last_emit = max(last_emit, block)`.
//!
//! `settle(id, block)`: step 3 alone (the contract's `settle`, which another account may send
//! only for a node idle `max_idle / 2` blocks: not modelled here);
//! edges and `last_emit` unchanged.
//!
//! `unsubscribe(id, block)` and `evict(id, block)` (the latter only once
//! `block - last_emit >= max_idle`, [`LedgerError::NotIdle`]): settle along the stored edges
//! (a forward to a target no longer subscribed goes to the other holders), then `returned += stake`,
//! `total_stake -= stake`, the node is erased; the returned amount is the result.
//!
//! `set_params(params, block)`: bounds checked ([`LedgerError::Param`]); with no node subscribed
//! the accumulator is advanced at the old rate and the new values apply from `block` on;
//! otherwise they are announced and apply from `block + PARAM_DELAY` on (every operation first
//! applies a change whose block has come, the accumulator advanced at the old rate up to it).
//!
//! Every settlement applies `min(stored self weight, max_self_weight)`: the rest of the kept
//! part, and every forward to a target no longer subscribed, goes to the other holders
//! ([`settlement::redirect`]), never back to the node.
//!
//! # Conservation
//!
//! `deposited + minted == sum(stake) + outstanding + returned`, `outstanding == sum(residual)`,
//! `total_stake == sum(stake)`, `total_shares == sum(shares)` hold exactly after every
//! operation, the shares are never worth more than `total_stake + unsettled`, and
//! `minted + unsettled` is everything issued ([`Ledger::check`]). The accumulator never issues past
//! `u64::MAX - deposited - minted - unsettled` (the ledger's supply cap), and a subscribe that
//! would overflow `deposited` is refused with [`LedgerError::Overflow`] before any state
//! changes, so no counter can overflow.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::edges::{validate_bounded, Edge};
use crate::error::EdgeError;
use crate::fixed::WEIGHT_ONE;
use crate::params::{ParamError, Params, PARAM_DELAY};
use crate::settlement::{self, Held, Pool, Position, SettleError, Settlement, Store};

/// What one emit (or another settlement) did: the settlement's report.
pub type EmitReport = Settlement;

/// One subscribed node's row: the union of its `metagraph` and `residuals` rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState<Id> {
    /// Base units staked (grows with every kept share).
    pub stake: u64,
    /// Emission received or accrued but not yet pushed.
    pub residual: u64,
    /// Block of the last emit (or of the subscription): the idle clock.
    pub last_emit: u64,
    /// The node's shares of the pool for its stake (`settlement::Position::shares`).
    pub shares: u128,
    /// The shares its residual holds (`settlement::Held::shares`).
    pub residual_shares: u128,
    /// Pushed along the stored edges since they took force (`settlement::Held::pushed`).
    pub residual_pushed: u64,
    /// `Pool::lump_per_share` and `Pool::lump_shares_per_share` at its last settlement or
    /// re-price (`settlement::Position::lump_at`, `lump_shares_at`): how a settlement tells
    /// the redirects it received from growth of its stake.
    pub lump_at: (u128, u128),
    /// Block of its last join or settlement (the contract reads it from the row's `seq`):
    /// a settlement in that same block forfeits what it is owed (`settlement::settle`).
    pub settled_at: u64,
    /// The stored edge set, self first: the one that carries the next settlement.
    pub edges: Vec<Edge<Id>>,
}

impl<Id> NodeState<Id> {
    fn position(&self) -> Position {
        Position {
            stake: self.stake,
            shares: self.shares,
            lump_at: self.lump_at.0,
            lump_shares_at: self.lump_at.1,
        }
    }

    fn set_position(&mut self, p: Position) {
        self.stake = p.stake;
        self.shares = p.shares;
        self.lump_at = (p.lump_at, p.lump_shares_at);
    }

    fn held(&self) -> Held {
        Held {
            amount: self.residual,
            shares: self.residual_shares,
            pushed: self.residual_pushed,
        }
    }
}

/// Why a ledger operation was refused; the state is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq)]
pub enum LedgerError {
    /// The edge set is malformed (see [`EdgeError`]).
    Edge(EdgeError),
    /// The caller is not subscribed.
    NotSubscribed,
    /// A new subscription below the global minimum stake.
    StakeBelowMinimum { stake: u64, min: u64 },
    /// The operation would push `deposited + minted` past `u64::MAX`.
    Overflow,
    /// An eviction of a node that emitted fewer than `max_idle` blocks ago.
    NotIdle { idle: u64, max_idle: u64 },
    /// Parameters out of bounds.
    Param(ParamError),
    /// The settlement refused (never expected: see [`SettleError`]).
    Settle(SettleError),
}

impl From<EdgeError> for LedgerError {
    fn from(e: EdgeError) -> Self {
        LedgerError::Edge(e)
    }
}

impl From<SettleError> for LedgerError {
    fn from(e: SettleError) -> Self {
        match e {
            SettleError::Overflow => LedgerError::Overflow,
            other => LedgerError::Settle(other),
        }
    }
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::Edge(e) => write!(f, "{e}"),
            LedgerError::NotSubscribed => write!(f, "user not subscribed"),
            LedgerError::StakeBelowMinimum { stake, min } => {
                write!(f, "stake {stake} below minimum stake {min}")
            }
            LedgerError::Overflow => write!(f, "amount overflow"),
            LedgerError::NotIdle { idle, max_idle } => {
                write!(
                    f,
                    "node is not idle: {idle} blocks since its emit < {max_idle}"
                )
            }
            LedgerError::Param(e) => write!(f, "{}", e.message()),
            LedgerError::Settle(e) => write!(f, "{}", e.message()),
        }
    }
}

/// A broken conservation law, found by [`Ledger::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvariantError {
    /// `total_stake != sum(stake)`.
    TotalStake { stored: u64, summed: u128 },
    /// `outstanding != sum(residual)`.
    Outstanding { stored: u64, summed: u128 },
    /// `deposited + minted != sum(stake) + outstanding + returned`.
    Conservation { sources: u128, sinks: u128 },
    /// `total_shares != sum(shares)`, or the shares are worth more than the pool.
    Shares {
        stored: u128,
        summed: u128,
        value: u128,
        pool: u128,
    },
}

/// The ledger's side of the [`Store`] trait: residuals in the node map, a supply cap of
/// `u64::MAX - deposited` so no counter can overflow.
struct Nodes<'a, Id: Ord> {
    nodes: &'a mut BTreeMap<Id, NodeState<Id>>,
    deposited: u64,
}

impl<Id: Ord> Store<Id> for Nodes<'_, Id> {
    type Error = LedgerError;

    fn residual(&mut self, id: &Id) -> Result<Option<Held>, LedgerError> {
        Ok(self.nodes.get(id).map(|n| n.held()))
    }

    fn set_residual(&mut self, id: &Id, residual: Held) -> Result<(), LedgerError> {
        let node = self.nodes.get_mut(id).ok_or(LedgerError::NotSubscribed)?;
        node.residual = residual.amount;
        node.residual_shares = residual.shares;
        node.residual_pushed = residual.pushed;
        Ok(())
    }

    fn mint_room(&mut self, pool: &Pool) -> Result<u64, LedgerError> {
        Ok(u64::MAX
            .saturating_sub(self.deposited)
            .saturating_sub(pool.minted)
            .saturating_sub(pool.unsettled))
    }

    fn mint(&mut self, _amount: u64) -> Result<(), LedgerError> {
        Ok(())
    }

    fn unmint(&mut self, _amount: u64) -> Result<(), LedgerError> {
        Ok(())
    }
}

/// The metagraph's state: nodes by id plus the global counters of the `global` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger<Id: Ord + Clone> {
    pool: Pool,
    params: Params,
    /// Parameters announced by `set_params` and the block they take effect.
    pending: Option<(Params, u64)>,
    nodes: BTreeMap<Id, NodeState<Id>>,
    deposited: u64,
    returned: u64,
}

impl<Id: Ord + Clone> Ledger<Id> {
    /// An empty metagraph minting `emission_rate` base units per block (other parameters at
    /// their defaults, `min_stake` as given, unchecked: tests and models use 0).
    pub fn new(emission_rate: u64, min_stake: u64) -> Self {
        let params = Params {
            emission_rate,
            min_stake,
            ..Params::default()
        };
        Ledger {
            pool: Pool {
                emission_rate,
                max_self_weight: params.max_self_weight,
                ..Pool::default()
            },
            params,
            pending: None,
            nodes: BTreeMap::new(),
            deposited: 0,
            returned: 0,
        }
    }

    /// Runs the settlement of `id` along `edges` at `block` (ending that set when `flush`)
    /// and writes its position back.
    fn settle_along(
        &mut self,
        id: &Id,
        edges: &[Edge<Id>],
        block: u64,
        flush: bool,
    ) -> Result<Settlement, LedgerError> {
        let node = self.nodes.get(id).ok_or(LedgerError::NotSubscribed)?;
        let mut position = node.position();
        let fresh = node.settled_at >= block;
        let mut store = Nodes {
            nodes: &mut self.nodes,
            deposited: self.deposited,
        };
        let report = settlement::settle(
            &mut store,
            &mut self.pool,
            id,
            &mut position,
            edges,
            block,
            flush,
            fresh,
        )?;
        if let Some(node) = self.nodes.get_mut(id) {
            node.set_position(position);
            node.settled_at = node.settled_at.max(block);
        }
        Ok(report)
    }

    /// Advances the accumulator to `block` (what every operation does first).
    fn advance(&mut self, block: u64) -> Result<u64, LedgerError> {
        let mut store = Nodes {
            nodes: &mut self.nodes,
            deposited: self.deposited,
        };
        settlement::advance(&mut store, &mut self.pool, block)
    }

    /// Stakes `stake` for `id` (new node: self-only edge set, position opened at `block`; a
    /// subscribed node is settled along its stored edges first, so a top-up never earns for
    /// past blocks).
    pub fn subscribe(&mut self, id: Id, stake: u64, block: u64) -> Result<(), LedgerError> {
        self.apply_due(block)?;
        self.deposited
            .checked_add(self.pool.minted)
            .and_then(|v| v.checked_add(self.pool.unsettled))
            .and_then(|v| v.checked_add(stake))
            .ok_or(LedgerError::Overflow)?;
        let stored = self.nodes.get(&id).map(|node| node.edges.clone());
        match stored {
            Some(edges) => {
                self.settle_along(&id, &edges, block, false)?;
                if let Some(node) = self.nodes.get_mut(&id) {
                    let mut position = node.position();
                    let topped = position.stake + stake;
                    settlement::reprice(&mut self.pool, &mut position, topped)?;
                    node.set_position(position);
                }
            }
            None => {
                if stake < self.params.min_stake {
                    return Err(LedgerError::StakeBelowMinimum {
                        stake,
                        min: self.params.min_stake,
                    });
                }
                let mut store = Nodes {
                    nodes: &mut self.nodes,
                    deposited: self.deposited,
                };
                let position = settlement::join(&mut store, &mut self.pool, stake, block)?;
                let edges = vec![Edge {
                    to: id.clone(),
                    weight: WEIGHT_ONE,
                }];
                self.nodes.insert(
                    id,
                    NodeState {
                        stake: position.stake,
                        residual: 0,
                        last_emit: block,
                        shares: position.shares,
                        residual_shares: 0,
                        residual_pushed: 0,
                        lump_at: (position.lump_at, position.lump_shares_at),
                        settled_at: block,
                        edges,
                    },
                );
            }
        }
        self.deposited += stake;
        Ok(())
    }

    /// Settles the caller along its stored edges, then stores `edges` for the next interval.
    pub fn emit(
        &mut self,
        id: &Id,
        edges: &[Edge<Id>],
        block: u64,
    ) -> Result<EmitReport, LedgerError> {
        self.apply_due(block)?;
        let stored = match self.nodes.get(id) {
            Some(node) => node.edges.clone(),
            None => return Err(LedgerError::NotSubscribed),
        };
        validate_bounded(id, edges, self.params.max_self_weight, |t| {
            self.nodes.contains_key(t)
        })?;
        let report = self.settle_along(id, &stored, block, stored[..] != *edges)?;
        if let Some(node) = self.nodes.get_mut(id) {
            node.edges = edges.to_vec();
            node.last_emit = node.last_emit.max(block);
        }
        Ok(report)
    }

    /// Settles `id` along its stored edges (anyone may): no stranded residual.
    pub fn settle(&mut self, id: &Id, block: u64) -> Result<EmitReport, LedgerError> {
        self.apply_due(block)?;
        let stored = match self.nodes.get(id) {
            Some(node) => node.edges.clone(),
            None => return Err(LedgerError::NotSubscribed),
        };
        self.settle_along(id, &stored, block, false)
    }

    /// Settles the caller with its stored edges, returns its whole stake and erases it.
    pub fn unsubscribe(&mut self, id: &Id, block: u64) -> Result<u64, LedgerError> {
        self.apply_due(block)?;
        let stored = match self.nodes.get(id) {
            Some(node) => node.edges.clone(),
            None => return Err(LedgerError::NotSubscribed),
        };
        self.settle_along(id, &stored, block, true)?;
        let node = self.nodes.remove(id).ok_or(LedgerError::NotSubscribed)?;
        let back = settlement::close(&mut self.pool, &node.position(), &node.held())?;
        self.returned += back;
        Ok(back)
    }

    /// `unsubscribe` on behalf of a node idle for at least `max_idle` blocks (anyone may).
    pub fn evict(&mut self, id: &Id, block: u64) -> Result<u64, LedgerError> {
        self.apply_due(block)?;
        let last = self.last_emit(id).ok_or(LedgerError::NotSubscribed)?;
        let idle = block.saturating_sub(last);
        if idle < self.params.max_idle {
            return Err(LedgerError::NotIdle {
                idle,
                max_idle: self.params.max_idle,
            });
        }
        self.unsubscribe(id, block)
    }

    /// Announces every parameter: bounds first; with no node subscribed they apply at once,
    /// otherwise from `block + PARAM_DELAY` on (replacing any change still pending). Either
    /// way the accumulator runs at the old rate up to the block they apply.
    pub fn set_params(&mut self, params: Params, block: u64) -> Result<(), LedgerError> {
        params.validate().map_err(LedgerError::Param)?;
        self.apply_due(block)?;
        if self.nodes.is_empty() {
            self.advance(block)?;
            self.apply(params);
            self.pending = None;
        } else {
            self.pending = Some((params, block + PARAM_DELAY));
        }
        Ok(())
    }

    /// The announced parameters and the block they take effect, if a change is pending.
    pub fn pending_params(&self) -> Option<(Params, u64)> {
        self.pending
    }

    /// Applies a pending change whose block has come: the accumulator first runs at the old
    /// rate up to that block. Every operation calls it first.
    fn apply_due(&mut self, block: u64) -> Result<(), LedgerError> {
        if let Some((params, at)) = self.pending {
            if block >= at {
                self.advance(at)?;
                self.apply(params);
                self.pending = None;
            }
        }
        Ok(())
    }

    fn apply(&mut self, params: Params) {
        self.params = params;
        self.pool.emission_rate = params.emission_rate;
        self.pool.max_self_weight = params.max_self_weight;
    }

    /// Verifies the conservation laws of the module doc by summing every row.
    pub fn check(&self) -> Result<(), InvariantError> {
        let stakes: u128 = self.nodes.values().map(|n| n.stake as u128).sum();
        let residuals: u128 = self.nodes.values().map(|n| n.residual as u128).sum();
        if stakes != self.pool.total_stake as u128 {
            return Err(InvariantError::TotalStake {
                stored: self.pool.total_stake,
                summed: stakes,
            });
        }
        if residuals != self.pool.outstanding as u128 {
            return Err(InvariantError::Outstanding {
                stored: self.pool.outstanding,
                summed: residuals,
            });
        }
        let sources = self.deposited as u128 + self.pool.minted as u128;
        let sinks = stakes + residuals + self.returned as u128;
        if sources != sinks {
            return Err(InvariantError::Conservation { sources, sinks });
        }
        // The pool's books: the shares add up, and together they are never worth more than
        // the pool (stakes, residuals and unsettled emission), whatever each claim rounds to.
        let shares: u128 = self
            .nodes
            .values()
            .map(|n| n.shares + n.residual_shares)
            .sum();
        let pool = settlement::value_of_pool(&self.pool) as u128;
        let worth = |n: &NodeState<Id>| {
            settlement::mul_div(
                n.shares + n.residual_shares,
                pool as u64,
                self.pool.total_shares.max(1),
            )
            .unwrap_or(u128::MAX)
        };
        let value: u128 = self.nodes.values().map(worth).sum();
        if shares != self.pool.total_shares || value > pool {
            return Err(InvariantError::Shares {
                stored: self.pool.total_shares,
                summed: shares,
                value,
                pool,
            });
        }
        Ok(())
    }

    /// What `id` would claim if it settled now (at the accumulator's last advance).
    pub fn owed(&self, id: &Id) -> Option<u64> {
        let node = self.nodes.get(id)?;
        settlement::owed(&self.pool, &node.position(), &node.held()).ok()
    }

    /// A node's stake, `None` when not subscribed.
    pub fn stake(&self, id: &Id) -> Option<u64> {
        self.nodes.get(id).map(|n| n.stake)
    }

    /// A node's pending residual, `None` when not subscribed.
    pub fn residual(&self, id: &Id) -> Option<u64> {
        self.nodes.get(id).map(|n| n.residual)
    }

    /// A node's stored edge set, `None` when not subscribed.
    pub fn edges(&self, id: &Id) -> Option<&[Edge<Id>]> {
        self.nodes.get(id).map(|n| n.edges.as_slice())
    }

    /// A node's last emit block, `None` when not subscribed.
    pub fn last_emit(&self, id: &Id) -> Option<u64> {
        self.nodes.get(id).map(|n| n.last_emit)
    }

    /// Whether `id` is subscribed (a valid edge target).
    pub fn is_subscribed(&self, id: &Id) -> bool {
        self.nodes.contains_key(id)
    }

    /// A node's whole row, for table comparisons.
    pub fn node(&self, id: &Id) -> Option<&NodeState<Id>> {
        self.nodes.get(id)
    }

    /// All rows in id order (the order of the contract's tables for `name` ids).
    pub fn nodes(&self) -> impl Iterator<Item = (&Id, &NodeState<Id>)> {
        self.nodes.iter()
    }

    /// Number of subscribed nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node is subscribed.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// `global.total_stake`: the sum of all stakes.
    pub fn total_stake(&self) -> u64 {
        self.pool.total_stake
    }

    /// `global.outstanding`: the sum of all residuals (minted, not yet credited).
    pub fn outstanding(&self) -> u64 {
        self.pool.outstanding
    }

    /// `global.minted`: all emission ever settled into residuals.
    pub fn minted(&self) -> u64 {
        self.pool.minted
    }

    /// `global.unsettled`: issued by the accumulator, not yet claimed (plus rounding dust).
    pub fn unsettled(&self) -> u64 {
        self.pool.unsettled
    }

    /// The global numbers the settlement keeps (`acc`, `acc_block`, counters).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The parameters in force.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// All stake ever subscribed (moved in from balances).
    pub fn deposited(&self) -> u64 {
        self.deposited
    }

    /// All stake ever returned by unsubscribe (moved back to balances).
    pub fn returned(&self) -> u64 {
        self.returned
    }

    /// `global.emission_rate`: base units minted per block.
    pub fn emission_rate(&self) -> u64 {
        self.pool.emission_rate
    }

    /// `global.min_stake`: the smallest first subscription.
    pub fn min_stake(&self) -> u64 {
        self.params.min_stake
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cap;
