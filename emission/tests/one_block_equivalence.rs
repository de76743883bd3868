//! One block of residual push equals the matrix model's one-step attribution.
//!
//! Every node emits once at block 1 (in a random order) and accrues `x_i`, of which `c_i` is the
//! compounding on what it forwards (`docs/emission.md`): that part goes straight to its forward
//! targets by weight, so the injection is `x_i - c_i` at node `i` plus `c_i * w_ij / (1 - w_ii)`
//! at each target `j`. What is compared: `credited + P(r) == P(x)` where `P(v) = N ⊙ (I - M)^{-1} v` is the matrix model's eventual
//! credit for an injection `v`, `credited` the stake each node gained and `r` the residual still
//! pending. Push is linear, so the identity is exact in real arithmetic; the integer ledger
//! deviates only by its rounding (each push gives at most one base unit per forward to the
//! keeper instead of the target, so L1 error <= 2 * edges visited). Consequently
//! `|credited - P(x)|_1 <= outstanding + rounding`: the outstanding residual bounds the error.
//! The notebook's truncated series is within `truncation_bound` of `P`.

mod common;

use emission::models::l1;
use emission::models::matrix::{propagate, truncation_bound, Method};
use proptest::prelude::*;

proptest! {
    #![proptest_config(common::config("proptest-regressions/one_block_equivalence.txt", 96))]

    #[test]
    fn credited_plus_pending_equals_the_matrix_attribution(
        (graph, stakes) in common::graph_and_stakes(12, 6),
        rate in 1_000u64..1_000_000_000,
        order_seed in any::<u64>(),
    ) {
        let n = graph.len();
        let mut ledger = common::subscribed(rate, &graph, &stakes);
        let mut order = emission::schedule::Schedule::new(order_seed, 1.0);
        let mut injected = vec![0.0; n];
        let mut visits = 0u64;
        for node in order.next_block(n) {
            let report = ledger.emit(&node, graph.edges(node), 1).unwrap();
            common::add_injection(&mut injected, &report, graph.edges(node), node);
            visits += 2 * report.edge_visits as u64;
        }
        let credited: Vec<f64> = common::stakes_f64(&ledger, n)
            .iter()
            .zip(&stakes)
            .map(|(now, before)| now - *before as f64)
            .collect();
        let pending = common::residuals_f64(&ledger, n);
        let target = propagate(&graph, &injected, Method::Solve).unwrap();
        let drained = propagate(&graph, &pending, Method::Solve).unwrap();
        let total: f64 = injected.iter().sum();
        let float_slack = 1e-9 * total + 1e-6;
        let rounding = 2.0 * visits as f64;

        let eventual: Vec<f64> = credited.iter().zip(&drained).map(|(c, d)| c + d).collect();
        let err = l1(&eventual, &target);
        prop_assert!(err <= rounding + float_slack, "eventual error {} > {}", err, rounding);

        let outstanding = ledger.outstanding() as f64;
        let lag = l1(&credited, &target);
        prop_assert!(lag <= outstanding + rounding + float_slack,
            "credited lag {} > outstanding {} + rounding {}", lag, outstanding, rounding);

        let series = propagate(&graph, &injected, Method::Series { terms: 100 }).unwrap();
        let bound = truncation_bound(&graph, total, 100);
        prop_assert!(l1(&series, &target) <= bound + float_slack);
    }
}
