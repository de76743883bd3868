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
    /// The network's `max_self_weight` (parts per million); a row may set its own.
    pub max_self_weight: u32,
    /// The network's `max_idle` (blocks), after which the evict-your-targets attacker evicts.
    pub max_idle: u64,
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
            max_self_weight: WEIGHT_ONE,
            max_idle: emission::params::MIN_MAX_IDLE,
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
    /// Never emits (its stored set stays self-only); every `5 * interval` blocks it leaves and
    /// rejoins with its first stake in one block.
    Resubscriber,
    /// Points half at a throwaway account that leaves right after each emit (two throwaways
    /// taking turns), so every stored forward finds its target gone.
    ThrowawayTarget,
    /// Points half at two idle nodes (not its own) and evicts them once they may be evicted,
    /// then attributes that half pro rata.
    EvictTargets,
    /// The same attribution without the eviction (the evict row's baseline): half to the two
    /// idle nodes, then, from the block they could be evicted, pro rata.
    PointIdle,
    /// `k` accounts each keeping the cap and attributing the rest to the next one (a ring).
    RingOf(usize),
    /// `k` accounts playing honestly (a ring's baseline).
    HonestOf(usize),
    /// One account keeping half and attributing the other half to the honest nodes in
    /// proportion to their stake: the attribution the redirected part follows, played
    /// honestly (the baseline of the redirect rows).
    ProRata,
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
            Strategy::Resubscriber => {
                "never emits, leaves and rejoins (self-only set stored)".into()
            }
            Strategy::ThrowawayTarget => "forwards to throwaway targets that leave".into(),
            Strategy::EvictTargets => "forwards to idle targets, then evicts them".into(),
            Strategy::PointIdle => "forwards to idle targets, never evicts".into(),
            Strategy::RingOf(k) => format!("ring of {k}, keeping the cap, the rest to the next"),
            Strategy::HonestOf(k) => format!("{k} accounts, honest"),
            Strategy::ProRata => "honest, the other half pro rata to stake".into(),
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
    /// The network's `max_self_weight` for this row (`None`: the setup's).
    pub cap: Option<u32>,
}

/// The caps the ring rows are measured under, parts per million.
pub const RING_CAPS: [u32; 5] = [100_000, 250_000, 500_000, 750_000, WEIGHT_ONE];

/// Every row, in print order.
pub fn catalogue() -> Vec<Row> {
    let row = |strategy, baseline, kind| Row {
        strategy,
        baseline,
        kind,
        cap: None,
    };
    let capped = |strategy, baseline, kind, cap| Row {
        strategy,
        baseline,
        kind,
        cap: Some(cap),
    };
    let mut rows = vec![
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
        capped(
            Strategy::Resubscriber,
            Strategy::ProRata,
            Kind::Mechanical,
            500_000,
        ),
        capped(
            Strategy::ThrowawayTarget,
            Strategy::ProRata,
            Kind::Mechanical,
            500_000,
        ),
        capped(
            Strategy::EvictTargets,
            Strategy::PointIdle,
            Kind::Mechanical,
            500_000,
        ),
    ];
    for k in [2, 3] {
        for cap in RING_CAPS {
            rows.push(capped(
                Strategy::RingOf(k),
                Strategy::HonestOf(k),
                Kind::Attribution,
                cap,
            ));
        }
    }
    rows
}

/// The first attacker account's id (honest nodes are `0..honest`).
const ATTACKER: usize = 1_000;
/// The whale's id.
const WHALE: usize = 2_000;
/// The first throwaway (or idle target) account's id.
const THROWAWAY: usize = 3_000;

/// `[(id, self), rest split over `others` by `parts`]` with `self = min(wanted, cap)`.
fn capped_set(id: usize, wanted: u32, cap: u32, others: &[(usize, u32)]) -> Vec<Edge<usize>> {
    let own = wanted.min(cap);
    let rest = WEIGHT_ONE - own;
    let parts: u32 = others.iter().map(|(_, p)| p).sum();
    let mut list = vec![(id, own)];
    let mut given = 0;
    for (i, &(to, part)) in others.iter().enumerate() {
        let w = if i + 1 == others.len() {
            rest - given
        } else {
            (rest as u64 * part as u64 / parts as u64) as u32
        };
        given += w;
        if w > 0 {
            list.push((to, w));
        }
    }
    edges(&list)
}

fn edges(list: &[(usize, u32)]) -> Vec<Edge<usize>> {
    list.iter()
        .map(|&(to, weight)| Edge { to, weight })
        .collect()
}

fn self_only(id: usize) -> Vec<Edge<usize>> {
    edges(&[(id, WEIGHT_ONE)])
}

/// Honest node `i`'s edge set: half kept (at most the cap), the rest 3 : 2 to the next two.
fn honest_edges(setup: &Setup, i: usize) -> Vec<Edge<usize>> {
    let n = setup.honest;
    let third = if i == 3 { ATTACKER } else { (i + 2) % n };
    capped_set(
        i,
        500_000,
        setup.max_self_weight,
        &[((i + 1) % n, 3), (third, 2)],
    )
}

/// An attacker account's true edge set: half kept (at most the cap), the rest to nodes 1, 2.
fn attacker_edges(setup: &Setup, id: usize) -> Vec<Edge<usize>> {
    capped_set(id, 500_000, setup.max_self_weight, &[(1, 1), (2, 1)])
}

/// The attacker's set keeping half (at most the cap), the rest to the honest nodes by stake
/// (all honest stakes are equal at the start).
fn pro_rata(setup: &Setup) -> Vec<Edge<usize>> {
    let others: Vec<(usize, u32)> = (0..setup.honest).map(|i| (i, 1)).collect();
    capped_set(ATTACKER, 500_000, setup.max_self_weight, &others)
}

/// The attacker's accounts under `strategy`, and the edge set each emits.
fn accounts(setup: &Setup, strategy: Strategy) -> Vec<(usize, Vec<Edge<usize>>)> {
    let honest = |k: usize| -> Vec<(usize, Vec<Edge<usize>>)> {
        (0..k)
            .map(|a| (ATTACKER + a, attacker_edges(setup, ATTACKER + a)))
            .collect()
    };
    match strategy {
        Strategy::Split(k) | Strategy::Flash(k) | Strategy::HonestOf(k) => honest(k),
        Strategy::Three => honest(3),
        Strategy::RingOf(k) => (0..k)
            .map(|a| {
                let me = ATTACKER + a;
                let next = ATTACKER + (a + 1) % k;
                (
                    me,
                    capped_set(me, WEIGHT_ONE, setup.max_self_weight, &[(next, 1)]),
                )
            })
            .collect(),
        Strategy::Resubscriber => vec![(ATTACKER, self_only(ATTACKER))],
        Strategy::ProRata => vec![(ATTACKER, pro_rata(setup))],
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
    let mut chain: Box<dyn Engine> =
        engine(accrual, setup.rate, setup.max_self_weight, setup.max_idle);
    let accounts = accounts(setup, strategy);
    let per_account = setup.attacker_stake / accounts.len() as u64;
    // Throwaway and idle target accounts hold a small stake of the attacker's.
    let small = setup.stake / 1_000;
    let targets = [THROWAWAY, THROWAWAY + 1];
    for i in 0..setup.honest {
        chain.subscribe(i, setup.stake, 0);
    }
    for (id, _) in &accounts {
        chain.subscribe(*id, per_account, 0);
    }
    let idle_targets = matches!(strategy, Strategy::EvictTargets | Strategy::PointIdle);
    if idle_targets {
        for t in targets {
            chain.subscribe(t, small, 0);
        }
    }
    // The attacker's set while its targets are there.
    let pointing = |to: &[usize]| {
        let others: Vec<(usize, u32)> = to.iter().map(|t| (*t, 1)).collect();
        capped_set(ATTACKER, 500_000, setup.max_self_weight, &others)
    };
    let mut turn = 0usize;
    let mut evicted = false;
    // The attacker's play at an emit of its.
    let attack =
        |chain: &mut Box<dyn Engine>, turn: &mut usize, evicted: bool, block: u64| match strategy {
            Strategy::ThrowawayTarget => {
                let t = targets[*turn % 2];
                *turn += 1;
                chain.subscribe(t, small, block);
                chain.emit(ATTACKER, &pointing(&[t]), block);
                chain.unsubscribe(t, block);
            }
            Strategy::EvictTargets | Strategy::PointIdle if !evicted => {
                chain.emit(ATTACKER, &pointing(&targets), block)
            }
            Strategy::EvictTargets | Strategy::PointIdle => {
                chain.emit(ATTACKER, &pro_rata(setup), block)
            }
            _ => {}
        };
    // Store every edge set at block 0 (nothing has accrued yet).
    for i in 0..setup.honest {
        chain.emit(i, &honest_edges(setup, i), 0);
    }
    match strategy {
        // The re-subscriber never emits: its stored set stays the self-only one.
        Strategy::Resubscriber => {}
        Strategy::ThrowawayTarget | Strategy::EvictTargets | Strategy::PointIdle => {
            attack(&mut chain, &mut turn, evicted, 0)
        }
        _ => {
            for (id, set) in &accounts {
                chain.emit(*id, set, 0);
            }
        }
    }
    let whale = setup.stake * setup.honest as u64 * 10;
    let attacker_every = match strategy {
        Strategy::EveryBlock => 1,
        Strategy::Rarely | Strategy::Flash(_) => setup.idle_interval,
        Strategy::Resubscriber => 5 * setup.interval,
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
            Strategy::EvictTargets if !evicted && block >= setup.max_idle => {
                for t in targets {
                    chain.evict(t, block);
                }
                evicted = true;
            }
            // `evicted` here only marks the switch to the pro-rata set.
            Strategy::PointIdle if !evicted && block >= setup.max_idle => evicted = true,
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
            match strategy {
                Strategy::ThrowawayTarget | Strategy::EvictTargets | Strategy::PointIdle => {
                    attack(&mut chain, &mut turn, evicted, block)
                }
                Strategy::Resubscriber => {
                    chain.unsubscribe(ATTACKER, block);
                    chain.subscribe(ATTACKER, per_account, block);
                }
                _ => {
                    for (id, set) in &accounts {
                        if strategy == Strategy::Laundering {
                            chain.emit(*id, &self_only(*id), block);
                        }
                        chain.emit(*id, set, block);
                    }
                }
            }
        }
    }
    // Everyone settles at the end (the attacker along the set it stored, then honestly).
    let end = setup.blocks + 1;
    for i in 0..setup.honest {
        chain.emit(i, &honest_edges(setup, i), end);
    }
    match strategy {
        Strategy::Resubscriber => {
            chain.unsubscribe(ATTACKER, end);
        }
        Strategy::ThrowawayTarget | Strategy::EvictTargets | Strategy::PointIdle => {
            chain.emit(ATTACKER, &pro_rata(setup), end)
        }
        _ => {
            for (id, set) in &accounts {
                chain.emit(*id, set, end);
            }
        }
    }
    for t in targets {
        if chain.is_subscribed(t) {
            chain.unsubscribe(t, end);
        }
    }
    if chain.is_subscribed(WHALE) {
        chain.unsubscribe(WHALE, end);
    }
    // Throwaways are the attacker's own accounts; idle targets are other people's nodes.
    let target_gain: i64 = targets.iter().map(|t| chain.gain(*t)).sum();
    let own_targets = if idle_targets { 0 } else { target_gain };
    let mut attacker: i64 =
        accounts.iter().map(|(id, _)| chain.gain(*id)).sum::<i64>() + own_targets;
    let mut total: i64 =
        (0..setup.honest).map(|i| chain.gain(i)).sum::<i64>() + attacker + target_gain
            - own_targets;
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

/// A strategy's payoff relative to its baseline: `share / baseline share - 1`, under the
/// row's cap.
pub fn relative_gain(setup: &Setup, row: &Row, accrual: Accrual) -> f64 {
    let setup = Setup {
        max_self_weight: row.cap.unwrap_or(setup.max_self_weight),
        ..*setup
    };
    let share = |s: Strategy| {
        let (attacker, total) = play(&setup, s, accrual);
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
        "| strategy | kind | max_self_weight | payoff vs honest, pool accrual | payoff vs honest, legacy accrual |\n",
    );
    out.push_str("|---|---|---:|---:|---:|\n");
    for row in catalogue() {
        let kind = row.kind.label();
        let cap = row.cap.unwrap_or(setup.max_self_weight);
        out.push_str(&format!(
            "| {} | {} | {} % | {:+.4} % | {:+.4} % |\n",
            row.strategy.label(),
            kind,
            cap / 10_000,
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
            // The eviction row needs a run past `max_idle`.
            let setup = if row.strategy == Strategy::EvictTargets {
                Setup::default()
            } else {
                setup
            };
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
