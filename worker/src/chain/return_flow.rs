//! Why a node credits a peer less when the emission it forwards there does not flow on by
//! merit: the chain pushes every forward on along the receiver's posted edge set, so credit
//! given to a ring (nodes that attribute only to each other) stays in the ring for good,
//! however well its members train; and what a node keeps above `max_self_weight` the
//! contract spreads over all holders by holdings, rings included. The valuer measures what a
//! peer's update is worth; this measures whether credit given to the peer keeps following
//! merit through the network.
//!
//! From the metagraph (every node's posted set, public on chain) and the network's
//! `max_self_weight`, [`returns`] computes, for each subscribed node `j`, the fraction of a
//! token pushed from `j` that ends in this node's stake along posted edges: a node keeps
//! `min(self weight, cap)` of what it pushes and forwards each edge's weight to its target.
//! What the contract redirects (the self weight above the cap, forwards to accounts that
//! are not subscribed) goes to every holder by holdings, not by anyone's attribution, and is
//! not counted as returned. That is the fixed point of `x = keep_me * e_me + P x`, found by
//! iteration, O(edges) per pass.
//!
//! [`discounts`] turns returns into a factor per peer: 1 for a peer that returns at least
//! [`RETURN_FLOOR`] of the stake-weighted mean return of the other holders, proportionally
//! less below. A ring that credits nobody else returns nothing and gets 0; so does a node
//! whose stored set is self-only (one that never emits, or has not emitted yet: it is
//! credited from its first emit on); honest nodes that credit each other return about the
//! mean. A ring escapes the discount only by forwarding real emission to the nodes that
//! credit it, at which point it is no longer a sink.

use std::collections::HashMap;

use emission::fixed::{weight_to_f64, WEIGHT_ONE};

use super::api::PeerRow;

/// A peer returning less than this share of the average holder's return is discounted in
/// proportion (at half the average, honest nodes below the mean by chance keep full credit).
pub const RETURN_FLOOR: f64 = 0.5;
/// Iterations of the fixed point at most (each node keeps at least the contract's minimum
/// self weight, so the series converges geometrically).
const MAX_PASSES: usize = 4000;
/// Largest change of a pass at which the fixed point is taken as reached.
const TOLERANCE: f64 = 1e-12;

/// For each subscribed node (by account), the fraction of a token pushed from it that ends in
/// `me`'s stake along posted edges; empty when `me` is not subscribed.
pub fn returns(rows: &[PeerRow], me: &str, max_self_weight: u32) -> HashMap<String, f64> {
    let index: HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.user.as_str(), i))
        .collect();
    let Some(&mine) = index.get(me) else {
        return HashMap::new();
    };
    let cap = weight_to_f64(max_self_weight.min(WEIGHT_ONE));
    // Per node: what it keeps and its forwards to subscribed targets.
    let mut keep = vec![0.0; rows.len()];
    let mut forwards: Vec<Vec<(usize, f64)>> = vec![Vec::new(); rows.len()];
    for (j, row) in rows.iter().enumerate() {
        let mut self_weight = 0.0;
        for (to, w) in &row.edges {
            let w = weight_to_f64(*w);
            if to == &row.user {
                self_weight += w;
            } else if let Some(&t) = index.get(to.as_str()) {
                forwards[j].push((t, w));
            }
        }
        if row.edges.is_empty() {
            self_weight = 1.0;
        }
        keep[j] = self_weight.min(cap);
    }
    let mut x = vec![0.0; rows.len()];
    for _ in 0..MAX_PASSES {
        let mut change: f64 = 0.0;
        let next: Vec<f64> = (0..rows.len())
            .map(|j| {
                let own = if j == mine { keep[j] } else { 0.0 };
                let v = own + forwards[j].iter().map(|&(t, w)| w * x[t]).sum::<f64>();
                change = change.max((v - x[j]).abs());
                v
            })
            .collect();
        x = next;
        if change < TOLERANCE {
            break;
        }
    }
    rows.iter().map(|r| r.user.clone()).zip(x).collect()
}

/// The factor in `[0, 1]` by which `me` scales each other node's credit: its return over
/// [`RETURN_FLOOR`] times the stake-weighted mean return of the nodes other than `me`, at
/// most 1. Nodes missing from the map (not subscribed) are not discounted here.
pub fn discounts(rows: &[PeerRow], me: &str, max_self_weight: u32) -> HashMap<String, f64> {
    let back = returns(rows, me, max_self_weight);
    let (mut weighted, mut stake) = (0.0, 0.0);
    for r in rows.iter().filter(|r| r.user != me) {
        weighted += back.get(&r.user).copied().unwrap_or(0.0) * r.stake as f64;
        stake += r.stake as f64;
    }
    let floor = RETURN_FLOOR * weighted / stake.max(1.0);
    back.into_iter()
        .filter(|(user, _)| user != me)
        .map(|(user, x)| {
            let f = if floor > 0.0 {
                (x / floor).min(1.0)
            } else {
                1.0
            };
            (user, f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: u32 = 100_000;

    fn row(user: &str, edges: &[(&str, u32)]) -> PeerRow {
        PeerRow {
            user: user.into(),
            address: "127.0.0.1".into(),
            port: 1,
            stake: 100_000,
            edges: edges.iter().map(|(t, w)| (t.to_string(), *w)).collect(),
        }
    }

    /// Three honest nodes crediting each other (and the ring), a selfish node and a ring.
    fn network(ring_back_to_a: u32) -> Vec<PeerRow> {
        let ring_out = 900_000 - ring_back_to_a;
        let mut r1 = vec![("r1", 100_000), ("r2", ring_out)];
        let mut r2 = vec![("r2", 100_000), ("r1", ring_out)];
        if ring_back_to_a > 0 {
            r1.push(("a", ring_back_to_a));
            r2.push(("a", ring_back_to_a));
        }
        vec![
            row(
                "a",
                &[
                    ("a", 100_000),
                    ("b", 200_000),
                    ("c", 200_000),
                    ("s", 100_000),
                    ("r1", 200_000),
                    ("r2", 200_000),
                ],
            ),
            row(
                "b",
                &[
                    ("b", 100_000),
                    ("a", 200_000),
                    ("c", 200_000),
                    ("s", 100_000),
                    ("r1", 200_000),
                    ("r2", 200_000),
                ],
            ),
            row(
                "c",
                &[
                    ("c", 100_000),
                    ("a", 300_000),
                    ("b", 300_000),
                    ("r1", 300_000),
                ],
            ),
            row("s", &[("s", 1_000_000)]),
            row("r1", &r1),
            row("r2", &r2),
        ]
    }

    #[test]
    fn a_ring_that_credits_nobody_else_returns_nothing_and_is_not_credited() {
        let rows = network(0);
        let back = returns(&rows, "a", CAP);
        assert!(back["r1"] < 1e-9 && back["r2"] < 1e-9, "{back:?}");
        assert!(back["b"] > 0.02 && back["c"] > 0.02, "{back:?}");
        // What a keeps of its own push: the cap and some of what comes back.
        assert!(back["a"] > 0.1, "{back:?}");
        let f = discounts(&rows, "a", CAP);
        assert!(f["r1"] < 1e-6 && f["r2"] < 1e-6, "{f:?}");
        assert_eq!((f["b"], f["c"]), (1.0, 1.0), "{f:?}");
        assert!(!f.contains_key("a"));
    }

    #[test]
    fn a_self_only_node_is_not_credited_its_excess_follows_holdings_not_merit() {
        for cap in [CAP, WEIGHT_ONE] {
            let rows = network(0);
            assert!(returns(&rows, "a", cap)["s"] < 1e-12);
            assert!(discounts(&rows, "a", cap)["s"] < 1e-6);
        }
        // Once it posts a set that credits others, it is credited in full.
        let mut rows = network(0);
        rows[3] = row("s", &[("s", 100_000), ("a", 450_000), ("b", 450_000)]);
        assert_eq!(discounts(&rows, "a", CAP)["s"], 1.0);
    }

    #[test]
    fn a_ring_is_credited_in_proportion_to_what_it_forwards_back() {
        // A 0.1 % edge back from each member lets about 1 % of the ring's inflow out (it leaks
        // at each of the bounces it makes before the 10 % kept settles it) and buys about a
        // tenth of full credit; forwarding like an honest node buys full credit.
        let token = discounts(&network(1_000), "a", CAP)["r1"];
        let some = discounts(&network(5_000), "a", CAP)["r1"];
        let honest = discounts(&network(300_000), "a", CAP)["r1"];
        assert!(token < 0.15, "{token}");
        assert!(some > token && some < 1.0, "{token} {some}");
        assert_eq!(honest, 1.0);
    }

    #[test]
    fn returns_are_fractions_of_one_token_and_the_loop_ends_without_a_cap() {
        // Nobody above the cap, every target subscribed: every token ends in someone's stake
        // along posted edges, so the returns to each node, summed, make 1.
        let mut rows = network(50_000);
        rows[3] = row("s", &[("s", 100_000), ("a", 450_000), ("b", 450_000)]);
        let users = ["a", "b", "c", "s", "r1", "r2"];
        for from in users {
            let back: Vec<f64> = users
                .iter()
                .map(|me| returns(&rows, me, CAP)[from])
                .collect();
            assert!(back
                .iter()
                .all(|x| x.is_finite() && (0.0..=1.0).contains(x)));
            let total: f64 = back.iter().sum();
            assert!((total - 1.0).abs() < 1e-6, "{from}: {total}");
        }
        // A self-only node keeps the cap; the rest is redirected by holdings, not returned.
        let rows = network(50_000);
        let total: f64 = users.iter().map(|me| returns(&rows, me, CAP)["s"]).sum();
        assert!((total - 0.1).abs() < 1e-12, "{total}");
        assert!(returns(&rows, "nobody", CAP).is_empty());
        assert!(returns(&rows, "a", WEIGHT_ONE)
            .values()
            .all(|x| x.is_finite()));
    }
}
