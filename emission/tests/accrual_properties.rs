//! The four properties of the time-weighted accrual (docs/emission.md), on random graphs and
//! schedules:
//! 1. everything issued over any window is `rate * blocks` (while stake exists), split exactly
//!    into `minted` and the visible `unsettled`, of which every node's claim is a part;
//! 2. every block's issue is split in proportion to each position's value (its stake, its
//!    pending residual and its unsettled emission), whenever and however often it settles: emitting every block earns
//!    what emitting once earns, up to rounding, except for a second-order term when what the
//!    node forwards can come back to it along a cycle of the graph (bounded below);
//! 3. k accounts holding s/k earn what one account holding s earns, unsubscribe/resubscribe
//!    churn inside a block included, up to rounding;
//! 4. stake that arrives at block t earns nothing before t and takes nothing from anyone
//!    before t (up to one unit of rounding per settlement).

mod common;

use emission::fixed::WEIGHT_ONE;
use emission::graph::Graph;
use emission::ledger::Ledger;
use emission::models::matrix::{propagate, Method};
use emission::Edge;
use proptest::prelude::*;

fn self_only(id: usize) -> Vec<Edge<usize>> {
    vec![Edge {
        to: id,
        weight: WEIGHT_ONE,
    }]
}

/// One step of a random schedule: who acts, how, after how many blocks.
#[derive(Debug, Clone)]
struct Step {
    node: usize,
    kind: u8,
    advance: u64,
}

fn steps(n: usize) -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        (0..n, 0u8..10, 0u64..6).prop_map(|(node, kind, advance)| Step {
            node,
            kind,
            advance,
        }),
        1..60,
    )
}

/// Whether something node `k` forwards can come back to it: `k` is on a cycle of the graph
/// (self edges aside).
fn returns_to(graph: &Graph, k: usize) -> bool {
    let mut seen = vec![false; graph.len()];
    let mut stack: Vec<usize> = graph.edges(k).iter().skip(1).map(|e| e.to).collect();
    while let Some(i) = stack.pop() {
        if i == k {
            return true;
        }
        if !std::mem::replace(&mut seen[i], true) {
            stack.extend(graph.edges(i).iter().skip(1).map(|e| e.to));
        }
    }
    false
}

/// Largest `|c|` of the timing term on a cycle: emitting every block or once over a window in
/// which the total stake grows by `g` moves a node's earnings by `c * ln(1 + g)` of them. In
/// the continuous limit `c = ((P^2)_kk - (1 + w) P_kk + w) / (2 P_kk)` (docs/emission.md,
/// "Timing on cycles"), which lies in `[-(1 - sqrt w)^2 / 2, (1 - w) / 2]`: above -0.405 at the
/// 1 % minimum self weight. Measured on the ledger over 60 000 random graphs of 2 to 6 nodes
/// and a grid of tight two-cycles: -0.30 to +0.08.
const CYCLE_TERM_BOUND: f64 = 0.5;

/// Node `node`'s earnings over `blocks` blocks when it emits on the blocks divisible by
/// `every` (`every > blocks`: only at the end) and every other node `i` when
/// `b % cadence == i % cadence`, then all emit once more, the node last; what is still in
/// transit counts where the push series takes it.
fn earnings_by_timing(
    graph: &Graph,
    stakes: &[u64],
    rate: u64,
    (blocks, cadence): (u64, u64),
    node: usize,
    every: u64,
) -> f64 {
    let n = graph.len();
    let mut ledger = common::subscribed(rate, graph, stakes);
    for b in 1..=blocks {
        for i in 0..n {
            let due = if i == node {
                b % every == 0
            } else {
                b % cadence == i as u64 % cadence
            };
            if due {
                ledger.emit(&i, graph.edges(i), b).unwrap();
            }
        }
    }
    for i in (0..n).filter(|i| *i != node).chain([node]) {
        ledger.emit(&i, graph.edges(i), blocks + 1).unwrap();
    }
    // What is still in transit ends where the push series takes it: count the node's
    // eventual part of every pending residual.
    let pending = common::residuals_f64(&ledger, n);
    let eventual = propagate(graph, &pending, Method::Solve).unwrap();
    (ledger.stake(&node).unwrap() - stakes[node]) as f64 + eventual[node]
}

/// `ln(1 + g)`, `g` the issue over the window (`blocks + 1` blocks) over the starting stake.
fn window_growth(rate: u64, blocks: u64, stakes: &[u64]) -> f64 {
    let total: u64 = stakes.iter().sum();
    ((rate * (blocks + 1)) as f64 / total as f64).ln_1p()
}

/// How far emitting every block and emitting once may differ: the third-order term (0.2 % of
/// the earnings at 5 % growth) and rounding, plus the cycle term when forwards come back.
fn timing_slack(graph: &Graph, node: usize, growth: f64, blocks: u64, earnings: f64) -> f64 {
    let cycle = if returns_to(graph, node) {
        CYCLE_TERM_BOUND * growth
    } else {
        0.0
    };
    (0.002 + cycle) * earnings + 4.0 * (blocks * graph.len() as u64) as f64
}

/// Emits node `i`'s graph edges when every target is subscribed, else its self edge.
fn edges_for(ledger: &Ledger<usize>, graph: &Graph, i: usize) -> Vec<Edge<usize>> {
    let set = graph.edges(i);
    if set.iter().all(|e| ledger.is_subscribed(&e.to)) {
        set.to_vec()
    } else {
        self_only(i)
    }
}

/// Properties 1 and 2: exact issue per window, claims equal to the time-weighted share.
///
/// The shares are exact at any growth (the pool has one price; the rate here reaches
/// thousands of times the stakes per block): what moves them is a forfeit. A `fresh`
/// position (settling again in a block it already settled in) forfeits what it is owed to
/// the other holders, but with no other holder nothing moves (`settlement::redirect`): it
/// keeps it and claims it at its next settlement; if it leaves, the amount stays in the
/// empty pool and the next position opened there is owed it (`stranded` below).
fn claims_are_time_weighted_shares(
    graph: &Graph,
    stakes: &[u64],
    rate: u64,
    schedule: Vec<Step>,
) -> Result<(), TestCaseError> {
    let n = graph.len();
    let mut ledger = common::subscribed(rate, graph, stakes);
    let mut block = 0u64;
    let mut issued = 0u128;
    let mut expected = vec![0f64; n];
    let mut claimed = vec![0u64; n];
    let mut settles = vec![0u64; n];
    let mut advances = 0u64;
    let mut leavers = 0u64;
    // Left in an empty pool by a leaver that had no one to forfeit to.
    let mut stranded = 0u64;
    for step in schedule {
        let i = step.node % n;
        block += step.advance;
        let subscribed = ledger.is_subscribed(&i);
        let acts = subscribed || step.kind <= 1;
        let from = ledger.pool().acc_block;
        if acts && block > from && ledger.total_stake() > 0 {
            // Positions are constant between two actions: the issue of the interval is
            // split in proportion to each one's value (stake, pending residual and
            // unsettled emission).
            let pool = (ledger.total_stake() + ledger.outstanding() + ledger.unsettled()) as f64;
            for (j, share) in expected.iter_mut().enumerate() {
                if let (Some(s), Some(r), Some(o)) =
                    (ledger.stake(&j), ledger.residual(&j), ledger.owed(&j))
                {
                    *share += (rate * (block - from)) as f64 * (s + r + o) as f64 / pool;
                }
            }
            issued += (rate * (block - from)) as u128;
            advances += 1;
        }
        let redirected_before = ledger.pool().redirected;
        // What node `i` forfeits by settling twice in one block (redirects it received in
        // the block go to the others instead), and what it is owed when it leaves.
        let mut forfeited = 0u64;
        let mut left_owed = 0u64;
        match step.kind {
            0 if subscribed => {
                // Leave: settle (to see the claim), then unsubscribe in the same block.
                let r = ledger.settle(&i, block).unwrap();
                claimed[i] += r.accrued;
                forfeited += r.forfeited;
                settles[i] += 1;
                left_owed = ledger.owed(&i).unwrap_or(0);
                ledger.unsubscribe(&i, block).unwrap();
                leavers += 1;
            }
            0 | 1 if !subscribed => {
                // The first position of an empty pool is owed what was left in it.
                if ledger.is_empty() {
                    expected[i] += std::mem::take(&mut stranded) as f64;
                }
                ledger.subscribe(i, stakes[i], block).unwrap()
            }
            1 => {
                // A top-up settles first: count that claim, then add stake.
                let r = ledger.settle(&i, block).unwrap();
                claimed[i] += r.accrued;
                forfeited += r.forfeited;
                settles[i] += 1;
                ledger.subscribe(i, 1_000, block).unwrap();
            }
            2 if subscribed => {
                let r = ledger.settle(&i, block).unwrap();
                claimed[i] += r.accrued;
                forfeited += r.forfeited;
                settles[i] += 1;
            }
            _ if subscribed => {
                let set = edges_for(&ledger, graph, i);
                let r = ledger.emit(&i, &set, block).unwrap();
                claimed[i] += r.accrued;
                forfeited += r.forfeited;
                settles[i] += 1;
            }
            _ => {}
        }
        // A forward to a target that left, a forfeit and what a leaver was owed went to the
        // other holders, in proportion to their value: theirs to claim on top of their
        // share of the issue. With no other holder nothing moved (nothing is redirected
        // then): the node keeps its forfeit, and what it leaves is stranded.
        let value = |j: usize| match (ledger.stake(&j), ledger.residual(&j), ledger.owed(&j)) {
            (Some(s), Some(r), Some(o)) => (s + r + o) as f64,
            _ => 0.0,
        };
        let others: f64 = (0..n).filter(|j| *j != i).map(value).sum();
        if others > 0.0 {
            let moved = forfeited + left_owed;
            expected[i] -= moved as f64;
            let redirected = ledger.pool().redirected - redirected_before + moved;
            for (j, share) in expected.iter_mut().enumerate() {
                if j != i {
                    *share += redirected as f64 * value(j) / others;
                }
            }
        } else {
            prop_assert_eq!(ledger.pool().redirected, redirected_before);
            expected[i] -= left_owed as f64;
            stranded += left_owed;
        }
        // 1: issue is exact and visible; claims never exceed it; dust is bounded.
        prop_assert_eq!(ledger.minted() as u128 + ledger.unsettled() as u128, issued);
        prop_assert_eq!(ledger.check(), Ok(()));
        let owed: u64 = (0..n).filter_map(|j| ledger.owed(&j)).sum();
        prop_assert!(
            ledger.unsettled().abs_diff(owed + stranded) <= n as u64 + leavers + advances,
            "dust {} vs owed {} beyond the rounding bound",
            ledger.unsettled(),
            owed
        );
    }
    // 2: every node's claims plus what it is owed are its time-weighted share.
    for j in 0..n {
        let total = claimed[j] + ledger.owed(&j).unwrap_or(0);
        let slack = 2.0 * settles[j] as f64 + 2.0 * advances as f64 + 2.0 + expected[j] * 1e-9;
        prop_assert!(
            (total as f64 - expected[j]).abs() <= slack,
            "node {}: claimed {} vs share {}",
            j,
            total,
            expected[j]
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(common::config("proptest-regressions/accrual_properties.txt", 96))]

    /// Properties 1 and 2 ([`claims_are_time_weighted_shares`]).
    #[test]
    fn issue_is_rate_times_blocks_and_claims_are_time_weighted_shares(
        (graph, stakes) in common::graph_and_stakes(8, 4),
        rate in 1u64..10_000_000,
        schedule in steps(8),
    ) {
        claims_are_time_weighted_shares(&graph, &stakes, rate, schedule)?;
    }

    /// Property 2 directly: emitting every block vs once over the same window.
    #[test]
    fn emitting_every_block_earns_what_emitting_once_earns(
        stakes in proptest::collection::vec(1_000_000u64..100_000_000, 3..6),
        rate in 1u64..100_000,
        blocks in 2u64..60,
    ) {
        let run = |every_block: bool| -> u64 {
            let mut ledger: Ledger<usize> = Ledger::new(rate, 0);
            for (i, s) in stakes.iter().enumerate() {
                ledger.subscribe(i, *s, 0).unwrap();
            }
            for b in 1..=blocks {
                if every_block || b == blocks {
                    ledger.emit(&0, &self_only(0), b).unwrap();
                }
                if b % 7 == 0 || b == blocks {
                    for j in 1..stakes.len() {
                        ledger.emit(&j, &self_only(j), b).unwrap();
                    }
                }
            }
            ledger.stake(&0).unwrap() - stakes[0]
        };
        let often = run(true);
        let once = run(false);
        // Unsettled emission compounds like settled stake: only rounding differs (each
        // settlement rounds down by less than one unit, each re-price by less than one).
        prop_assert!(
            often.abs_diff(once) <= 2 * blocks + 2,
            "often {} once {}", often, once
        );
    }

    /// Property 2 with real edge sets: a node that forwards part of its emission (and receives
    /// from others) earns the same emitting every block as emitting once at the end, up to the
    /// third-order term of the growth (at most 5 % over the window here) and rounding, when
    /// nothing it forwards can come back to it. On a cycle the two differ by a second-order
    /// term, `c * ln(1 + g)` of its earnings (`g` the growth of the total stake over the
    /// window, `|c| <` [`CYCLE_TERM_BOUND`]): the compounding rule withholds as if forwards never
    /// returned, so what comes back does not compound for the node while it waits. Measured in
    /// two runs of `PROPTEST_CASES=5000`: beyond rounding, `c` from -0.052 to +0.046 on cycles,
    /// 0 elsewhere, the largest difference 0.20 of its slack; CI once saw +0.049 (pinned below).
    #[test]
    fn emitting_every_block_or_once_along_edges_earns_the_same(
        (graph, stakes) in common::graph_and_stakes(6, 3),
        blocks in 20u64..100,
        cadence in 2u64..10,
        pick in any::<usize>(),
    ) {
        let node = pick % graph.len();
        let total: u64 = stakes.iter().sum();
        let rate = (total / 20 / blocks).max(1);
        let run = |every| earnings_by_timing(&graph, &stakes, rate, (blocks, cadence), node, every);
        let (often, once) = (run(1), run(blocks + 1));
        let growth = window_growth(rate, blocks, &stakes);
        let slack = timing_slack(&graph, node, growth, blocks, often.max(once));
        prop_assert!(
            (often - once).abs() <= slack,
            "every block {:.0} vs once {:.0} (slack {:.0})", often, once, slack
        );
    }

    /// Any mix of joins, leaves, cranks and emits with changing edges runs without a
    /// settlement error and keeps the books.
    #[test]
    fn random_churn_never_breaks_a_settlement(
        ops in proptest::collection::vec((0usize..5, 0u8..6, 0u64..3, any::<u32>()), 1..300),
    ) {
        let mut ledger: Ledger<usize> = Ledger::new(10_000, 10_000);
        let mut block = 0u64;
        for (user, kind, advance, salt) in ops {
            block += advance;
            let result = match kind {
                0 => ledger.subscribe(user, 10_000, block).map(|_| ()),
                1 => ledger.unsubscribe(&user, block).map(|_| ()),
                2 => ledger.settle(&user, block).map(|_| ()),
                _ => {
                    let others: Vec<usize> =
                        (0..5).filter(|j| *j != user && ledger.is_subscribed(j)).collect();
                    let mut set = vec![Edge { to: user, weight: WEIGHT_ONE }];
                    if let Some(&to) = others.get(salt as usize % (others.len() + 1)) {
                        let w = 10_000 + salt % 900_000;
                        set[0].weight = WEIGHT_ONE - w;
                        set.push(Edge { to, weight: w });
                    }
                    ledger.emit(&user, &set, block).map(|_| ())
                }
            };
            if let Err(e) = result {
                prop_assert_eq!(e, emission::ledger::LedgerError::NotSubscribed);
            }
            prop_assert_eq!(ledger.check(), Ok(()));
        }
    }

    /// Properties 3 and 4: splitting with churn gains nothing; late stake takes nothing.
    #[test]
    fn a_split_stake_with_churn_earns_what_one_stake_earns_and_late_stake_takes_nothing(
        (graph, stakes) in common::graph_and_stakes(6, 3),
        k in 2usize..6,
        rate in 1u64..100_000,
        churn in proptest::collection::vec(any::<bool>(), 20),
        join_at in 1u64..20,
        whale in 1_000_000u64..1_000_000_000,
    ) {
        let n = graph.len();
        let attacker = n; // ids n.. are the attacker's accounts
        let share = 1_000_000u64;
        // One account with k * share, or k accounts with `share`, each settling on the same
        // blocks; the split ones unsubscribe and resubscribe in some blocks (same block).
        let run = |split: bool| -> (u64, Vec<u64>) {
            let mut ledger = common::subscribed(rate, &graph, &stakes);
            let accounts: Vec<usize> = if split { (0..k).map(|a| attacker + a).collect() } else { vec![attacker] };
            for &a in &accounts {
                ledger.subscribe(a, if split { share } else { share * k as u64 }, 0).unwrap();
            }
            let mut balance = 0u64;
            for (b, &flip) in churn.iter().enumerate() {
                let b = b as u64 + 1;
                for i in 0..n {
                    ledger.emit(&i, graph.edges(i), b).unwrap();
                }
                for &a in &accounts {
                    if split && flip {
                        let back = ledger.unsubscribe(&a, b).unwrap();
                        ledger.subscribe(a, back, b).unwrap();
                    } else {
                        ledger.emit(&a, &self_only(a), b).unwrap();
                    }
                }
            }
            let end = churn.len() as u64 + 1;
            for &a in &accounts {
                balance += ledger.unsubscribe(&a, end).unwrap();
            }
            let others = (0..n).map(|i| ledger.settle(&i, end).unwrap().accrued).collect();
            (balance, others)
        };
        let (one, _) = run(false);
        let (many, _) = run(true);
        let rounding = (2 * (k + n) * (churn.len() + 2)) as u64;
        prop_assert!(
            one.abs_diff(many) <= rounding,
            "one account got {}, {} accounts {}", one, k, many
        );

        // 4: a whale joining at `join_at` changes nobody's claims for the blocks before it.
        let before = |with_whale: bool| -> Result<Vec<u64>, TestCaseError> {
            let mut ledger = common::subscribed(rate, &graph, &stakes);
            if with_whale {
                ledger.subscribe(attacker, whale, join_at).unwrap();
                prop_assert_eq!(ledger.owed(&attacker), Some(0));
            }
            Ok((0..n).map(|i| ledger.settle(&i, join_at).unwrap().accrued).collect())
        };
        // Each settlement before a node's own re-prices the pool by less than a unit.
        let (with, without) = (before(true)?, before(false)?);
        for (a, b) in with.iter().zip(&without) {
            prop_assert!(
                a.abs_diff(*b) <= n as u64,
                "with the whale {:?}, without {:?}", with, without
            );
        }
    }
}

/// The input that failed in CI under the old bound (`0.002` of the earnings plus rounding:
/// every block 450 202 vs once 449 049, slack 1 152). Nodes 0 and 2 forward about 80 % to
/// each other, so node 2 gets back half of what it forwards (`P_22 = 0.504` against its self
/// weight 0.178) and, emitting every block, that half compounds as its stake for the rest of
/// the window: a second-order gain, `c * ln(1 + g)` of its earnings.
#[test]
fn on_a_two_cycle_emitting_every_block_gains_a_second_order_term() {
    let e = |to: usize, weight: u32| Edge { to, weight };
    let graph = Graph::from_fixed(vec![
        vec![e(0, 212_840), e(2, 787_160)],
        vec![e(1, 271_972), e(0, 29_894), e(2, 698_134)],
        vec![e(2, 177_806), e(0, 822_194)],
    ])
    .unwrap();
    let (node, stakes) = (2, [2_870_203u64, 8_132_351, 8_892_111]);
    assert!(returns_to(&graph, node) && !returns_to(&graph, 1));
    let gain = |stakes: &[u64], (blocks, cadence): (u64, u64), divisor: u64| {
        let rate = stakes.iter().sum::<u64>() / 20 / blocks / divisor;
        let run = |every| earnings_by_timing(&graph, stakes, rate, (blocks, cadence), node, every);
        let (often, once) = (run(1), run(blocks + 1));
        (often, once, window_growth(rate, blocks, stakes))
    };
    // The CI case itself (21 blocks, the others every 8, g = 5.2 %) is within the bound.
    let (often, once, growth) = gain(&stakes, (21, 8), 1);
    let slack = timing_slack(&graph, node, growth, 21, often.max(once));
    assert!(
        (often - once).abs() <= slack,
        "every block {often:.0} vs once {once:.0} (slack {slack:.0})"
    );
    // Without rounding (stakes x 1000), at g = 5.2 %, 2.6 %, 1.3 % and 0.65 %: the relative
    // gain halves with g (second order, measured c = 0.050 to 0.0503), well inside the bound.
    let large: Vec<u64> = stakes.iter().map(|s| s * 1_000).collect();
    for divisor in [1, 2, 4, 8] {
        let (often, once, growth) = gain(&large, (21, 8), divisor);
        let c = (often - once) / often / growth;
        assert!(
            (0.045..=0.055).contains(&c) && c < CYCLE_TERM_BOUND,
            "rate / {divisor}: c = {c:.4}"
        );
    }
    // With every node emitting every block over many blocks the ledger reaches the continuous
    // limit, `c = ((P^2)_22 - (1 + w) P_22 + w) / (2 P_22)` with `P = N (I - M)^-1`: 0.0347.
    let mut unit = vec![0.0; 3];
    unit[node] = 1.0;
    let column = propagate(&graph, &unit, Method::Solve).unwrap();
    let p2 = propagate(&graph, &column, Method::Solve).unwrap()[node];
    let (p, w) = (column[node], graph.self_weight(node));
    let limit = (p2 - (1.0 + w) * p + w) / (2.0 * p);
    assert!((limit - 0.0347).abs() < 5e-4, "limit {limit:.4}");
    let (often, once, growth) = gain(&large, (400, 1), 4);
    let c = (often - once) / often / growth;
    assert!(
        (c - limit).abs() < 0.002,
        "400 blocks: c = {c:.4} vs {limit:.4}"
    );
}

fn step(node: usize, kind: u8, advance: u64) -> Step {
    Step {
        node,
        kind,
        advance,
    }
}

/// The input that failed with `PROPTEST_CASES=5000` (seed `cc 5a35d50a…c96f`, shrunk) under a
/// model that took every forfeit from the node ("node 2: claimed 570030969 vs share
/// 359463348.8"). At block 34 node 0 leaves and the 81.6 % of its residual that it forwards to
/// node 1 (gone since block 32) is redirected to node 2, the only holder left; node 2 had
/// emitted in that block, so its settlement is `fresh` and forfeits the 210 567 618 it is owed,
/// but with no other holder nothing moves: it keeps the amount and claims it at block 35. The
/// difference was exactly that amount; nothing depends on the growth (here the issue of one
/// block is 700 times the stakes of block 0).
#[test]
fn shrunk_case_a_sole_holder_keeps_what_it_forfeits() {
    let e = |to: usize, weight: u32| Edge { to, weight };
    let graph = Graph::from_fixed(vec![
        vec![e(0, 184_319), e(1, 815_681)],
        vec![e(1, 86_129), e(0, 780_474), e(2, 133_397)],
        vec![e(2, 21_133), e(0, 978_867)],
    ])
    .unwrap();
    let schedule = [
        (1, 0, 0),
        (1, 1, 0),
        (7, 7, 1),
        (4, 5, 1),
        (4, 2, 2),
        (0, 2, 1),
        (4, 3, 3),
        (5, 6, 5),
        (4, 2, 1),
        (7, 3, 5),
        (6, 3, 4),
        (3, 9, 4),
        (1, 0, 5),
        (2, 3, 0),
        (2, 9, 2),
        (6, 0, 0),
        (5, 2, 0),
        (1, 9, 0),
        (2, 4, 1),
        (3, 0, 2),
        (0, 0, 5),
        (4, 9, 5),
        (6, 3, 4),
        (2, 7, 5),
        (7, 1, 5),
        (2, 5, 4),
        (0, 2, 3),
    ];
    let schedule = schedule.iter().map(|&(n, k, a)| step(n, k, a)).collect();
    let stakes = [1_000, 4_969_175, 7_175_426];
    claims_are_time_weighted_shares(&graph, &stakes, 8_881_256, schedule).unwrap();
}

/// The rule the shrunk case hit, on its own: a `fresh` position with no other holder forfeits
/// into nothing. Node 0 (forwarding 99 % to node 1) leaves after node 1 did; its forward is
/// redirected to node 2, which settled earlier in the block and settles again: it is owed the
/// redirect before and after, claims it in the next block, and the issue of that block on top.
/// If it leaves in the block instead, the amount stays in the empty pool and the next position
/// opened there is owed it (no one else holds a share of it).
#[test]
fn with_no_other_holder_a_forfeit_moves_nothing() {
    let e = |to: usize, weight: u32| Edge { to, weight };
    let graph = Graph::from_fixed(vec![
        vec![e(0, 10_000), e(1, 990_000)],
        vec![e(1, WEIGHT_ONE)],
        vec![e(2, WEIGHT_ONE)],
    ])
    .unwrap();
    let (rate, stakes) = (8_881_256, [1_000; 3]);
    let forfeit = || {
        let mut ledger = common::subscribed(rate, &graph, &stakes);
        ledger.unsubscribe(&1, 1).unwrap();
        ledger.settle(&2, 2).unwrap();
        ledger.unsubscribe(&0, 2).unwrap();
        let redirected = ledger.pool().redirected;
        let owed = ledger.owed(&2).unwrap();
        assert!(
            redirected > rate / 2 && owed.abs_diff(redirected) <= 2,
            "{owed} {redirected}"
        );
        let r = ledger.settle(&2, 2).unwrap();
        assert_eq!((r.accrued, r.forfeited), (0, owed));
        assert_eq!(ledger.pool().redirected, redirected);
        assert_eq!(ledger.owed(&2), Some(owed));
        (ledger, owed)
    };
    let (mut ledger, owed) = forfeit();
    let r = ledger.settle(&2, 3).unwrap();
    assert!(
        r.accrued.abs_diff(owed + rate) <= 2,
        "{} vs {owed} + {rate}",
        r.accrued
    );
    let (mut ledger, owed) = forfeit();
    let held = ledger.stake(&2).unwrap() + ledger.residual(&2).unwrap();
    assert_eq!(
        ledger.unsubscribe(&2, 2).unwrap(),
        held,
        "it leaves without the amount"
    );
    assert!(ledger.is_empty() && ledger.unsettled().abs_diff(owed) <= 2);
    ledger.subscribe(1, 1_000, 5).unwrap();
    assert!(ledger.owed(&1).unwrap().abs_diff(owed) <= 2);
    // The property's model on both schedules: node 2 stays, or leaves and node 1 rejoins.
    let common = [step(1, 0, 1), step(2, 2, 1), step(0, 0, 0)];
    for end in [
        vec![step(2, 2, 0), step(2, 2, 1)],
        vec![step(2, 0, 0), step(1, 0, 3), step(1, 2, 2)],
    ] {
        let schedule = common.iter().cloned().chain(end).collect();
        claims_are_time_weighted_shares(&graph, &stakes, rate, schedule).unwrap();
    }
}
