//! The strategy catalogue: on one graph and one block schedule, honest play and each known
//! manipulation, each under the contract's accrual and under the legacy one, with the
//! attacker's payoff relative to honest play.
//!
//! The network: `honest` nodes (node `i` keeps half its emission and attributes 30 % to
//! `i + 1` and 20 % to `i + 2`; node 3 attributes its 20 % to the attacker instead), each
//! emitting every `interval` blocks at its own offset, except node 0, which emits only every
//! `idle_interval` blocks (the long-idle node). The attacker's honest play: one account with
//! `attacker_stake`, keeping half and attributing a quarter to nodes 1 and 2, emitting every
//! `interval` blocks. At the end every account settles.
//!
//! A strategy's payoff is the attacker's share of all emission gained over the run; the table
//! prints `payoff / honest payoff - 1`. Mechanical manipulations (timing in either direction,
//! splitting, churn, laundering) should gain nothing; attribution choices (self-only edges, a closed ring) gain by design of
//! the model and are priced by `max_self_weight` and by what peers attribute.

pub mod engine;

use emission::fixed::WEIGHT_ONE;
use emission::Edge;

use engine::{engine, Accrual, Engine};

/// The network and schedule every strategy runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// Honest nodes (at least 4).
    pub honest: usize,
    /// Blocks simulated.
    pub blocks: u64,
    /// Base units issued per block.
    pub rate: u64,
    /// Each honest node's stake, base units.
    pub stake: u64,
    /// The attacker's stake, base units (divisible by 12 for the splits).
    pub attacker_stake: u64,
    /// Blocks between an honest node's emits.
    pub interval: u64,
    /// Blocks between the long-idle node's emits.
    pub idle_interval: u64,
}

impl Default for Setup {
    /// 6 honest nodes of 1 000 BIT, an attacker of 1 200 BIT, 1.0000 BIT per block for 1 200
    /// blocks (10 minutes), emits every 10 blocks, the idle node every 200.
    fn default() -> Self {
        Setup {
            honest: 6,
            blocks: 1_200,
            rate: 10_000,
            stake: 10_000_000,
            attacker_stake: 12_000_000,
            interval: 10,
            idle_interval: 200,
        }
    }
}

/// One play of the attacker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// One account, true edges, emits every `interval` blocks.
    Honest,
    /// Emits every block.
    EveryBlock,
    /// Emits every `idle_interval` blocks.
    Rarely,
    /// The stake split over `k` accounts, each playing honestly.
    Split(usize),
    /// `k` accounts that emit only every `idle_interval` blocks and then, right before the
    /// long-idle node's emit, unsubscribe one by one and resubscribe what came back (one block).
    Flash(usize),
    /// A whale (10x the network) joining in the block the long-idle node emits, leaving the
    /// next block.
    WhaleJoinLeave,
    /// The same whale joining and leaving half an idle interval later (aligned with nothing).
    WhaleUnaligned,
    /// Each emit preceded, in the same block, by an emit of the self-only set.
    Laundering,
    /// Self-only edges.
    SelfOnly,
    /// Three accounts attributing only to each other.
    Ring,
    /// Three accounts playing honestly (the ring's baseline).
    Three,
}

impl Strategy {
    /// Name in the table.
    pub fn label(&self) -> String {
        match self {
            Strategy::Honest => "honest (baseline)".into(),
            Strategy::EveryBlock => "emit every block".into(),
            Strategy::Rarely => "emit rarely (every idle interval)".into(),
            Strategy::Split(k) => format!("{k}-way sybil split"),
            Strategy::Flash(k) => format!("flash unsubscribe/resubscribe, {k} accounts"),
            Strategy::WhaleJoinLeave => "whale join-and-leave at an idle emit".into(),
            Strategy::WhaleUnaligned => "whale join-and-leave, unaligned".into(),
            Strategy::Laundering => "edge laundering (self-only, then generous)".into(),
            Strategy::SelfOnly => "self-only edges".into(),
            Strategy::Ring => "colluding ring of 3, pointing only at itself".into(),
            Strategy::Three => "3 accounts, honest".into(),
        }
    }
}

/// What kind of manipulation a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Timing, splitting, churn, laundering: must gain at most 0.1 %.
    Mechanical,
    /// A choice of attributions (self-only, a closed ring): gains by the model's design; priced
    /// by `max_self_weight` and by what the rest of the network attributes.
    Attribution,
}

impl Kind {
    /// Name in the table.
    pub fn label(&self) -> &'static str {
        match self {
            Kind::Mechanical => "mechanical",
            Kind::Attribution => "attribution",
        }
    }
}

/// One row of the catalogue: a manipulation and the honest play it is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The manipulation.
    pub strategy: Strategy,
    /// Its honest counterpart.
    pub baseline: Strategy,
    /// What kind of manipulation it is.
    pub kind: Kind,
}

/// Every row, in print order.
pub fn catalogue() -> Vec<Row> {
    let row = |strategy, baseline, kind| Row {
        strategy,
        baseline,
        kind,
    };
    vec![
        row(Strategy::EveryBlock, Strategy::Honest, Kind::Mechanical),
        row(Strategy::Split(4), Strategy::Honest, Kind::Mechanical),
        row(Strategy::Flash(4), Strategy::Rarely, Kind::Mechanical),
        row(
            Strategy::WhaleJoinLeave,
            Strategy::WhaleUnaligned,
            Kind::Mechanical,
        ),
        row(Strategy::Laundering, Strategy::Honest, Kind::Mechanical),
        row(Strategy::Rarely, Strategy::Honest, Kind::Mechanical),
        row(Strategy::SelfOnly, Strategy::Honest, Kind::Attribution),
        row(Strategy::Ring, Strategy::Three, Kind::Attribution),
    ]
}

/// The first attacker account's id (honest nodes are `0..honest`).
const ATTACKER: usize = 1_000;
/// The whale's id.
const WHALE: usize = 2_000;

fn edges(list: &[(usize, u32)]) -> Vec<Edge<usize>> {
    list.iter()
        .map(|&(to, weight)| Edge { to, weight })
        .collect()
}

fn self_only(id: usize) -> Vec<Edge<usize>> {
    edges(&[(id, WEIGHT_ONE)])
}

/// Honest node `i`'s edge set.
fn honest_edges(setup: &Setup, i: usize) -> Vec<Edge<usize>> {
    let n = setup.honest;
    let third = if i == 3 { ATTACKER } else { (i + 2) % n };
    edges(&[(i, 500_000), ((i + 1) % n, 300_000), (third, 200_000)])
}

/// An attacker account's true edge set.
fn attacker_edges(id: usize) -> Vec<Edge<usize>> {
    edges(&[(id, 500_000), (1, 250_000), (2, 250_000)])
}

/// The attacker's accounts under `strategy`, and the edge set each emits.
fn accounts(strategy: Strategy) -> Vec<(usize, Vec<Edge<usize>>)> {
    let honest = |k: usize| -> Vec<(usize, Vec<Edge<usize>>)> {
        (0..k)
            .map(|a| (ATTACKER + a, attacker_edges(ATTACKER + a)))
            .collect()
    };
    match strategy {
        Strategy::Split(k) | Strategy::Flash(k) => honest(k),
        Strategy::Three => honest(3),
        Strategy::Ring => (0..3)
            .map(|a| {
                let me = ATTACKER + a;
                let next = ATTACKER + (a + 1) % 3;
                (me, edges(&[(me, 500_000), (next, 500_000)]))
            })
            .collect(),
        Strategy::SelfOnly => vec![(ATTACKER, self_only(ATTACKER))],
        _ => honest(1),
    }
}

/// Runs `strategy` under `accrual`; returns (attacker's gain, everyone's gain).
pub fn play(setup: &Setup, strategy: Strategy, accrual: Accrual) -> (i64, i64) {
    let mut chain: Box<dyn Engine> = engine(accrual, setup.rate);
    let accounts = accounts(strategy);
    let per_account = setup.attacker_stake / accounts.len() as u64;
    for i in 0..setup.honest {
        chain.subscribe(i, setup.stake, 0);
    }
    for (id, _) in &accounts {
        chain.subscribe(*id, per_account, 0);
    }
    // Store every edge set at block 0 (nothing has accrued yet).
    for i in 0..setup.honest {
        chain.emit(i, &honest_edges(setup, i), 0);
    }
    for (id, set) in &accounts {
        chain.emit(*id, set, 0);
    }
    let whale = setup.stake * setup.honest as u64 * 10;
    let attacker_every = match strategy {
        Strategy::EveryBlock => 1,
        Strategy::Rarely | Strategy::Flash(_) => setup.idle_interval,
        _ => setup.interval,
    };
    let half = setup.idle_interval / 2;
    for block in 1..=setup.blocks {
        let idle_emits = block % setup.idle_interval == 0;
        if idle_emits {
            match strategy {
                Strategy::Flash(_) => {
                    let back: Vec<u64> = accounts
                        .iter()
                        .map(|(id, _)| chain.unsubscribe(*id, block))
                        .collect();
                    for ((id, set), stake) in accounts.iter().zip(back) {
                        chain.subscribe(*id, stake, block);
                        chain.emit(*id, set, block);
                    }
                }
                Strategy::WhaleJoinLeave => chain.subscribe(WHALE, whale, block),
                _ => {}
            }
        }
        let phase = block % setup.idle_interval;
        match strategy {
            Strategy::WhaleJoinLeave if phase == 1 => {
                chain.unsubscribe(WHALE, block);
            }
            Strategy::WhaleUnaligned if phase == half => chain.subscribe(WHALE, whale, block),
            Strategy::WhaleUnaligned if phase == half + 1 => {
                chain.unsubscribe(WHALE, block);
            }
            _ => {}
        }
        for i in 0..setup.honest {
            let due = if i == 0 {
                idle_emits
            } else {
                block % setup.interval == i as u64 % setup.interval
            };
            if due {
                chain.emit(i, &honest_edges(setup, i), block);
            }
        }
        let flashed = matches!(strategy, Strategy::Flash(_)) && idle_emits;
        if block % attacker_every == 0 && !flashed {
            for (id, set) in &accounts {
                if strategy == Strategy::Laundering {
                    chain.emit(*id, &self_only(*id), block);
                }
                chain.emit(*id, set, block);
            }
        }
    }
    // Everyone settles at the end.
    let end = setup.blocks + 1;
    for i in 0..setup.honest {
        chain.emit(i, &honest_edges(setup, i), end);
    }
    for (id, set) in &accounts {
        chain.emit(*id, set, end);
    }
    if chain.is_subscribed(WHALE) {
        chain.unsubscribe(WHALE, end);
    }
    let mut attacker: i64 = accounts.iter().map(|(id, _)| chain.gain(*id)).sum();
    let mut total: i64 = (0..setup.honest).map(|i| chain.gain(i)).sum::<i64>() + attacker;
    if matches!(
        strategy,
        Strategy::WhaleJoinLeave | Strategy::WhaleUnaligned
    ) {
        // The whale is the attacker here; account 1000 plays honestly.
        attacker = chain.gain(WHALE);
        total += attacker;
    }
    (attacker, total)
}

/// A strategy's payoff relative to its baseline: `share / baseline share - 1`.
pub fn relative_gain(setup: &Setup, row: &Row, accrual: Accrual) -> f64 {
    let share = |s: Strategy| {
        let (attacker, total) = play(setup, s, accrual);
        attacker as f64 / total as f64
    };
    share(row.strategy) / share(row.baseline) - 1.0
}

/// The printed table: one line per row, the pool and legacy columns in percent.
pub fn table(setup: &Setup) -> String {
    let mut out = format!(
        "{} honest nodes of {} units, attacker {} units, rate {} per block, {} blocks, emits every {} blocks (idle node every {})\n\n",
        setup.honest, setup.stake, setup.attacker_stake, setup.rate, setup.blocks, setup.interval, setup.idle_interval
    );
    out.push_str(
        "| strategy | kind | payoff vs honest, pool accrual | payoff vs honest, legacy accrual |\n",
    );
    out.push_str("|---|---|---:|---:|\n");
    for row in catalogue() {
        let kind = row.kind.label();
        out.push_str(&format!(
            "| {} | {} | {:+.4} % | {:+.4} % |\n",
            row.strategy.label(),
            kind,
            100.0 * relative_gain(setup, &row, Accrual::Pool),
            100.0 * relative_gain(setup, &row, Accrual::Legacy),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_mechanical_manipulation_gains_more_than_a_tenth_of_a_percent() {
        let setup = Setup {
            blocks: 400,
            ..Setup::default()
        };
        for row in catalogue().iter().filter(|r| r.kind == Kind::Mechanical) {
            let gain = relative_gain(&setup, row, Accrual::Pool);
            assert!(
                gain <= 0.001,
                "{}: {:+.4} %",
                row.strategy.label(),
                100.0 * gain
            );
        }
    }

    #[test]
    fn the_legacy_accrual_rewards_flash_churn_whales_and_laundering() {
        let setup = Setup {
            blocks: 400,
            ..Setup::default()
        };
        for row in catalogue().iter().filter(|r| {
            matches!(
                r.strategy,
                Strategy::Flash(_) | Strategy::WhaleJoinLeave | Strategy::Laundering
            )
        }) {
            let gain = relative_gain(&setup, row, Accrual::Legacy);
            assert!(
                gain > 0.01,
                "{}: {:+.4} %",
                row.strategy.label(),
                100.0 * gain
            );
        }
    }

    #[test]
    fn attribution_choices_gain_under_both() {
        let setup = Setup {
            blocks: 400,
            ..Setup::default()
        };
        let row = catalogue()
            .into_iter()
            .find(|r| r.strategy == Strategy::SelfOnly)
            .expect("self-only row");
        assert!(relative_gain(&setup, &row, Accrual::Pool) > 0.0);
    }
}
