//! An exact integer mirror of the contract's metagraph state transitions.
//!
//! The contract (`contract/`) stores the same numbers in its `metagraph`, `residuals` and
//! `global` tables; integration tests replay the same actions here and compare the tables
//! with this ledger, so every rule below is part of the interface
//! (`docs/contract-interface.md`).
//!
//! # Order of operations
//!
//! `subscribe(id, stake, block)`:
//! 1. a new node needs `stake >= min_stake` ([`LedgerError::StakeBelowMinimum`]); its edge set
//!    becomes `[(id, WEIGHT_ONE)]`, its residual 0 and `last_emit = block`;
//! 2. an already subscribed node just adds `stake` (0 allowed); its edges, residual and
//!    `last_emit` are unchanged (the next emit accrues over the whole interval with the new stake);
//! 3. `total_stake += stake`, `deposited += stake`.
//!
//! `emit(id, edges, block)`:
//! 1. the caller must be subscribed ([`LedgerError::NotSubscribed`]);
//! 2. `validate_fixed(id, edges, is_known = subscribed)` ([`LedgerError::Edge`]);
//! 3. `accrued = accrue(rate, block.saturating_sub(last_emit), stake, total_stake)`, with the
//!    caller's stake and `total_stake` as they are BEFORE this emit's push;
//! 4. `minted += accrued`, `outstanding += accrued`, `residual[id] += accrued`;
//! 5. `push(residual[id], edges)`: `residual[id] = 0`; `stake[id] += keep`,
//!    `total_stake += keep`, `outstanding -= keep`; each forward is added to its target's
//!    residual (`outstanding` unchanged);
//! 6. the edge set is stored and `last_emit = max(last_emit, block)` (a block in the past
//!    accrues nothing and never rewinds the clock).
//!
//! `unsubscribe(id, block)`:
//! 1. the caller must be subscribed;
//! 2. steps 3–5 of `emit` with the STORED edge set, except that a forward whose target is no
//!    longer subscribed is added to the caller's keep instead (it "stays with the user");
//! 3. after that push the caller's residual is exactly 0 (a push always splits the whole
//!    residual into keep + forwards), so no residual is ever left over: everything the user
//!    had pending is either credited to the returned stake or forwarded to live neighbours;
//! 4. `returned += stake`, `total_stake -= stake`, the node's rows are erased; the returned
//!    amount is the result.
//!
//! # Conservation
//!
//! `deposited + minted == sum(stake) + outstanding + returned` and
//! `outstanding == sum(residual)`, `total_stake == sum(stake)` hold exactly after every
//! operation ([`Ledger::check`]). Any operation that would overflow `deposited + minted`
//! is refused with [`LedgerError::Overflow`] before any state changes, so all other counters
//! (bounded by that sum) can never overflow either.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::accrual::accrue;
use crate::edges::{validate_fixed, Edge};
use crate::error::EdgeError;
use crate::fixed::WEIGHT_ONE;
use crate::residual_push::push;

/// One subscribed node's row: the union of its `metagraph` and `residuals` rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState<Id> {
    /// Base units staked (grows with every kept share).
    pub stake: u64,
    /// Emission received or accrued but not yet pushed.
    pub residual: u64,
    /// Block of the last emit (or of the subscription).
    pub last_emit: u64,
    /// The last validated edge set, self first.
    pub edges: Vec<Edge<Id>>,
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
}

impl From<EdgeError> for LedgerError {
    fn from(e: EdgeError) -> Self {
        LedgerError::Edge(e)
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
        }
    }
}

/// What one emit (or an unsubscribe's settlement) did, for reports and work counting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitReport {
    /// Emission accrued since the last emit (newly minted).
    pub accrued: u64,
    /// The residual pushed (accrued plus what was pending).
    pub pushed: u64,
    /// The part credited to the caller's stake.
    pub kept: u64,
    /// The part added to neighbours' residuals.
    pub forwarded: u64,
    /// Edges visited (the edge set's length): the work of this emit.
    pub edge_visits: usize,
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
}

/// The metagraph's state: nodes by id plus the global counters of the `global` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger<Id: Ord + Clone> {
    emission_rate: u64,
    min_stake: u64,
    nodes: BTreeMap<Id, NodeState<Id>>,
    total_stake: u64,
    outstanding: u64,
    minted: u64,
    deposited: u64,
    returned: u64,
}

impl<Id: Ord + Clone> Ledger<Id> {
    /// An empty metagraph minting `emission_rate` base units per block.
    pub fn new(emission_rate: u64, min_stake: u64) -> Self {
        Ledger {
            emission_rate,
            min_stake,
            nodes: BTreeMap::new(),
            total_stake: 0,
            outstanding: 0,
            minted: 0,
            deposited: 0,
            returned: 0,
        }
    }

    /// Stakes `stake` for `id` (new node: self-only edge set, clock at `block`; a subscribed
    /// node is settled along its stored edges first, so a top-up never earns for past blocks).
    pub fn subscribe(&mut self, id: Id, stake: u64, block: u64) -> Result<(), LedgerError> {
        self.deposited
            .checked_add(self.minted)
            .and_then(|v| v.checked_add(stake))
            .ok_or(LedgerError::Overflow)?;
        let stored = self.nodes.get(&id).map(|node| node.edges.clone());
        match stored {
            Some(edges) => {
                // A top-up first settles what accrued at the old stake, as an emit with the
                // stored edges would, so added stake never earns for blocks before it arrived.
                self.settle(&id, &edges, block)?;
                if let Some(node) = self.nodes.get_mut(&id) {
                    node.stake += stake;
                }
            }
            None => {
                if stake < self.min_stake {
                    return Err(LedgerError::StakeBelowMinimum {
                        stake,
                        min: self.min_stake,
                    });
                }
                let edges = vec![Edge {
                    to: id.clone(),
                    weight: WEIGHT_ONE,
                }];
                self.nodes.insert(
                    id,
                    NodeState {
                        stake,
                        residual: 0,
                        last_emit: block,
                        edges,
                    },
                );
            }
        }
        self.total_stake += stake;
        self.deposited += stake;
        Ok(())
    }

    /// Accrues the caller's emission and pushes its residual one hop along `edges`.
    pub fn emit(
        &mut self,
        id: &Id,
        edges: &[Edge<Id>],
        block: u64,
    ) -> Result<EmitReport, LedgerError> {
        if !self.nodes.contains_key(id) {
            return Err(LedgerError::NotSubscribed);
        }
        validate_fixed(id, edges, |t| self.nodes.contains_key(t))?;
        let report = self.settle(id, edges, block)?;
        if let Some(node) = self.nodes.get_mut(id) {
            node.edges = edges.to_vec();
        }
        Ok(report)
    }

    /// Settles the caller with its stored edges, returns its whole stake and erases it.
    pub fn unsubscribe(&mut self, id: &Id, block: u64) -> Result<u64, LedgerError> {
        let edges = match self.nodes.get(id) {
            Some(node) => node.edges.clone(),
            None => return Err(LedgerError::NotSubscribed),
        };
        self.settle(id, &edges, block)?;
        let node = self.nodes.remove(id).ok_or(LedgerError::NotSubscribed)?;
        debug_assert_eq!(node.residual, 0);
        self.total_stake -= node.stake;
        self.returned += node.stake;
        Ok(node.stake)
    }

    /// Steps 3–5 of `emit` (see the module doc); forwards to unknown targets are kept.
    fn settle(
        &mut self,
        id: &Id,
        edges: &[Edge<Id>],
        block: u64,
    ) -> Result<EmitReport, LedgerError> {
        let (stake, residual, last_emit) = match self.nodes.get(id) {
            Some(n) => (n.stake, n.residual, n.last_emit),
            None => return Err(LedgerError::NotSubscribed),
        };
        let accrued = accrue(
            self.emission_rate,
            block.saturating_sub(last_emit),
            stake,
            self.total_stake,
        );
        self.deposited
            .checked_add(self.minted)
            .and_then(|v| v.checked_add(accrued))
            .ok_or(LedgerError::Overflow)?;
        self.minted += accrued;
        self.outstanding += accrued;
        let pushed = residual + accrued;
        let split = push(pushed, edges);
        let mut kept = split.keep;
        let mut forwarded = 0;
        for (edge, amount) in edges.iter().skip(1).zip(split.forwards.iter()) {
            match self.nodes.get_mut(&edge.to) {
                Some(target) => {
                    target.residual += amount;
                    forwarded += amount;
                }
                None => kept += amount,
            }
        }
        let node = self.nodes.get_mut(id).ok_or(LedgerError::NotSubscribed)?;
        node.residual = 0;
        node.stake += kept;
        node.last_emit = node.last_emit.max(block);
        self.total_stake += kept;
        self.outstanding -= kept;
        Ok(EmitReport {
            accrued,
            pushed,
            kept,
            forwarded,
            edge_visits: edges.len(),
        })
    }

    /// Verifies the conservation laws of the module doc by summing every row.
    pub fn check(&self) -> Result<(), InvariantError> {
        let stakes: u128 = self.nodes.values().map(|n| n.stake as u128).sum();
        let residuals: u128 = self.nodes.values().map(|n| n.residual as u128).sum();
        if stakes != self.total_stake as u128 {
            return Err(InvariantError::TotalStake {
                stored: self.total_stake,
                summed: stakes,
            });
        }
        if residuals != self.outstanding as u128 {
            return Err(InvariantError::Outstanding {
                stored: self.outstanding,
                summed: residuals,
            });
        }
        let sources = self.deposited as u128 + self.minted as u128;
        let sinks = stakes + residuals + self.returned as u128;
        if sources != sinks {
            return Err(InvariantError::Conservation { sources, sinks });
        }
        Ok(())
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
        self.total_stake
    }

    /// `global.outstanding`: the sum of all residuals (minted, not yet credited).
    pub fn outstanding(&self) -> u64 {
        self.outstanding
    }

    /// `global.minted`: all emission ever accrued.
    pub fn minted(&self) -> u64 {
        self.minted
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
        self.emission_rate
    }

    /// `global.min_stake`: the smallest first subscription.
    pub fn min_stake(&self) -> u64 {
        self.min_stake
    }
}

#[cfg(test)]
mod tests;
