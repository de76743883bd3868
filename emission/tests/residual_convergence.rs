//! Repeated emits without new accrual drain the residual: monotone convergence to the matrix model.

mod common;

use emission::models::l1;
use emission::models::matrix::{propagate, Method};
use proptest::prelude::*;

proptest! {
    #![proptest_config(common::config("proptest-regressions/residual_convergence.txt", 64))]

    #[test]
    fn outstanding_and_distance_shrink_as_emits_repeat(
        (graph, stakes) in common::graph_and_stakes(10, 5),
        rate in 1_000_000u64..1_000_000_000,
        order_seed in any::<u64>(),
    ) {
        let n = graph.len();
        let mut ledger = common::subscribed(rate, &graph, &stakes);
        let mut order = emission::schedule::Schedule::new(order_seed, 1.0);
        let mut injected = vec![0.0; n];
        for node in order.next_block(n) {
            let report = ledger.emit(&node, graph.edges(node), 1).unwrap();
            common::add_injection(&mut injected, &report, graph.edges(node), node);
        }
        let target = propagate(&graph, &injected, Method::Solve).unwrap();
        let total: f64 = injected.iter().sum();
        let credited = |l: &emission::ledger::Ledger<usize>| -> Vec<f64> {
            (0..n).map(|i| (l.stake(&i).unwrap() - stakes[i]) as f64).collect()
        };
        let decay = 1.0 - graph.min_self_weight();
        let edges_per_round: usize = (0..n).map(|i| graph.edges(i).len()).sum();
        let mut distance = l1(&credited(&ledger), &target);
        let mut visits = 0.0;
        // Further emits in the same block issue nothing: only the residual moves (and a claim
        // may pick up the rounding dust other re-prices left, under a unit each).
        let issued = ledger.minted() + ledger.unsettled();
        let mut dust = 0u64;
        for _round in 0..30 {
            let round_start = ledger.outstanding();
            for node in order.next_block(n) {
                let before = ledger.outstanding();
                let report = ledger.emit(&node, graph.edges(node), 1).unwrap();
                prop_assert!(report.accrued <= n as u64, "accrued {} in the same block", report.accrued);
                dust += report.accrued;
                prop_assert!(ledger.outstanding() <= before + report.accrued, "outstanding grew");
            }
            prop_assert_eq!(ledger.minted() + ledger.unsettled(), issued);
            visits += edges_per_round as f64;
            // Every unit pending at the round's start is pushed at least once: >= min N retired
            // (each push carries its rounding remainder, under one unit per edge).
            prop_assert!(
                ledger.outstanding() as f64
                    <= decay * round_start as f64 + 1.0 + dust as f64 + edges_per_round as f64
            );
            let now = l1(&credited(&ledger), &target);
            prop_assert!(now <= distance + 2.0 * edges_per_round as f64 + 1e-9 * total,
                "distance grew: {} -> {}", distance, now);
            distance = now;
        }
        // The remaining distance is the pending residual plus accumulated rounding.
        prop_assert!(distance <= ledger.outstanding() as f64 + 2.0 * visits + 1e-9 * total + n as f64 * 2.0 + 2.0 * dust as f64);
    }
}
