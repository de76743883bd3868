//! The two accruals the strategy catalogue compares, behind one small interface: the
//! contract's (the `emission` crate's ledger: stake-share pool, push along the edges in force)
//! and the legacy one (kept for comparison only, never on chain).

use std::collections::BTreeMap;

use emission::accrual::accrue;
use emission::ledger::Ledger;
use emission::params::Params;
use emission::residual_push::push;
use emission::Edge;

/// Which accrual an engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accrual {
    /// The contract's: time-weighted, compounding, paid along the stored edges.
    Pool,
    /// The original rule: `rate * (block - last_emit) * stake / total_stake(now)`, paid along
    /// the edges submitted with the emit. For comparison only.
    Legacy,
}

/// A metagraph the strategies act on; each account's balance is tracked as the net amount it
/// moved in (negative) and got back, so its gain is balance + stake + pending residual.
pub trait Engine {
    /// Moves `stake` from the account's balance into the metagraph.
    fn subscribe(&mut self, id: usize, stake: u64, block: u64);
    /// Returns the account's stake (with its settlement) to its balance; returns the amount.
    fn unsubscribe(&mut self, id: usize, block: u64) -> u64;
    /// `unsubscribe` by anyone, once the account has been idle `max_idle` blocks.
    fn evict(&mut self, id: usize, block: u64) -> u64;
    /// Emits `edges` at `block` (invalid emits are skipped: the strategies build valid ones).
    fn emit(&mut self, id: usize, edges: &[Edge<usize>], block: u64);
    /// Whether the account is subscribed.
    fn is_subscribed(&self, id: usize) -> bool;
    /// What the account gained: net balance + stake + pending residual.
    fn gain(&self, id: usize) -> i64;
}

/// The contract's accrual: the exact ledger plus balances.
pub struct PoolEngine {
    ledger: Ledger<usize>,
    balances: BTreeMap<usize, i64>,
}

impl PoolEngine {
    /// An empty metagraph issuing `rate` per block under `max_self_weight` and `max_idle`.
    pub fn new(rate: u64, max_self_weight: u32, max_idle: u64) -> Self {
        let mut ledger = Ledger::new(rate, 0);
        let params = Params {
            emission_rate: rate,
            min_stake: 1,
            max_self_weight,
            max_idle,
        };
        // No node yet: the parameters apply at once.
        if let Err(e) = ledger.set_params(params, 0) {
            tracing_free_note("setparams", 0, &e);
        }
        PoolEngine {
            ledger,
            balances: BTreeMap::new(),
        }
    }
}

impl Engine for PoolEngine {
    fn subscribe(&mut self, id: usize, stake: u64, block: u64) {
        *self.balances.entry(id).or_default() -= stake as i64;
        if let Err(e) = self.ledger.subscribe(id, stake, block) {
            tracing_free_note("subscribe", id, &e);
        }
    }

    fn unsubscribe(&mut self, id: usize, block: u64) -> u64 {
        let back = self.ledger.unsubscribe(&id, block).unwrap_or(0);
        *self.balances.entry(id).or_default() += back as i64;
        back
    }

    fn evict(&mut self, id: usize, block: u64) -> u64 {
        let back = match self.ledger.evict(&id, block) {
            Ok(back) => back,
            Err(e) => {
                tracing_free_note("evict", id, &e);
                0
            }
        };
        *self.balances.entry(id).or_default() += back as i64;
        back
    }

    fn emit(&mut self, id: usize, edges: &[Edge<usize>], block: u64) {
        if let Err(e) = self.ledger.emit(&id, edges, block) {
            tracing_free_note("emit", id, &e);
        }
    }

    fn is_subscribed(&self, id: usize) -> bool {
        self.ledger.is_subscribed(&id)
    }

    fn gain(&self, id: usize) -> i64 {
        let balance = self.balances.get(&id).copied().unwrap_or(0);
        // Stake, pending residual and what it is owed (emission redirected to it by others'
        // settlements waits in the pool until it settles).
        let held = self.ledger.stake(&id).unwrap_or(0)
            + self.ledger.residual(&id).unwrap_or(0)
            + self.ledger.owed(&id).unwrap_or(0);
        balance + held as i64
    }
}

/// A refused action in a strategy is a bug in the strategy, not an outcome: say so loudly.
fn tracing_free_note(action: &str, id: usize, error: &dyn std::fmt::Display) {
    eprintln!("strategies: {action} by account {id} refused: {error}");
}

/// One node of the legacy metagraph.
#[derive(Debug, Clone)]
struct LegacyNode {
    stake: u64,
    residual: u64,
    last_emit: u64,
    edges: Vec<Edge<usize>>,
}

/// The legacy accrual, as the contract had it before the stake pool (comparison only).
pub struct LegacyEngine {
    rate: u64,
    nodes: BTreeMap<usize, LegacyNode>,
    balances: BTreeMap<usize, i64>,
    total_stake: u64,
}

impl LegacyEngine {
    /// An empty legacy metagraph minting `rate` per block.
    pub fn new(rate: u64) -> Self {
        LegacyEngine {
            rate,
            nodes: BTreeMap::new(),
            balances: BTreeMap::new(),
            total_stake: 0,
        }
    }

    /// Accrues `id`'s interval against the current total and pushes along `edges`.
    fn settle(&mut self, id: usize, edges: &[Edge<usize>], block: u64) {
        let Some(node) = self.nodes.get(&id) else {
            return;
        };
        let delta = block.saturating_sub(node.last_emit);
        let accrued = accrue(self.rate, delta, node.stake, self.total_stake);
        let split = push(node.residual + accrued, edges);
        let mut kept = split.keep;
        for (edge, amount) in edges.iter().skip(1).zip(split.forwards) {
            match self.nodes.get_mut(&edge.to) {
                Some(target) => target.residual += amount,
                None => kept += amount,
            }
        }
        if let Some(node) = self.nodes.get_mut(&id) {
            node.residual = 0;
            node.stake += kept;
            node.last_emit = node.last_emit.max(block);
        }
        self.total_stake += kept;
    }
}

impl Engine for LegacyEngine {
    fn subscribe(&mut self, id: usize, stake: u64, block: u64) {
        *self.balances.entry(id).or_default() -= stake as i64;
        if let Some(edges) = self.nodes.get(&id).map(|n| n.edges.clone()) {
            self.settle(id, &edges, block);
            if let Some(node) = self.nodes.get_mut(&id) {
                node.stake += stake;
            }
        } else {
            let edges = vec![Edge {
                to: id,
                weight: emission::fixed::WEIGHT_ONE,
            }];
            let node = LegacyNode {
                stake,
                residual: 0,
                last_emit: block,
                edges,
            };
            self.nodes.insert(id, node);
        }
        self.total_stake += stake;
    }

    fn unsubscribe(&mut self, id: usize, block: u64) -> u64 {
        let Some(edges) = self.nodes.get(&id).map(|n| n.edges.clone()) else {
            return 0;
        };
        self.settle(id, &edges, block);
        let back = self.nodes.remove(&id).map_or(0, |node| node.stake);
        self.total_stake -= back;
        *self.balances.entry(id).or_default() += back as i64;
        back
    }

    fn evict(&mut self, id: usize, block: u64) -> u64 {
        self.unsubscribe(id, block)
    }

    fn emit(&mut self, id: usize, edges: &[Edge<usize>], block: u64) {
        if !self.nodes.contains_key(&id) {
            return;
        }
        self.settle(id, edges, block);
        if let Some(node) = self.nodes.get_mut(&id) {
            node.edges = edges.to_vec();
        }
    }

    fn is_subscribed(&self, id: usize) -> bool {
        self.nodes.contains_key(&id)
    }

    fn gain(&self, id: usize) -> i64 {
        let balance = self.balances.get(&id).copied().unwrap_or(0);
        balance
            + self
                .nodes
                .get(&id)
                .map_or(0, |n| (n.stake + n.residual) as i64)
    }
}

/// An engine of the given accrual (the legacy one has no cap and no idle rule).
pub fn engine(accrual: Accrual, rate: u64, max_self_weight: u32, max_idle: u64) -> Box<dyn Engine> {
    match accrual {
        Accrual::Pool => Box::new(PoolEngine::new(rate, max_self_weight, max_idle)),
        Accrual::Legacy => Box::new(LegacyEngine::new(rate)),
    }
}
