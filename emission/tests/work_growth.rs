//! Work per emit: the recursive model's queue grows with emission / threshold; residual push
//! always visits exactly the emitter's edge set.

mod common;

use emission::fixed::MAX_EDGES;
use emission::models::recursive::RecursiveModel;
use emission::models::residual::LedgerNetwork;
use emission::models::Distributed;
use proptest::prelude::*;

proptest! {
    #![proptest_config(common::config("proptest-regressions/work_growth.txt", 96))]

    #[test]
    fn recursive_pushes_are_monotone_in_emission_over_threshold(
        graph in common::graph(12, 6),
        node_pick in any::<usize>(),
        amount in 1e-3f64..1e3,
        factor in 1.0f64..1e4,
        threshold in 1e-7f64..1e-3,
    ) {
        let node = node_pick % graph.len();
        let zero = vec![0.0; graph.len()];
        let pushes = |amount: f64, threshold: f64| {
            RecursiveModel::new(&graph, zero.clone(), 1.0, threshold)
                .distribute(node, amount)
                .queue_pushes
        };
        let small = pushes(amount, threshold);
        prop_assert!(pushes(amount * factor, threshold) >= small);
        prop_assert!(pushes(amount, threshold / factor) >= small);
    }

    #[test]
    fn residual_push_work_is_the_edge_set_whatever_the_emission(
        (graph, stakes) in common::graph_and_stakes(12, 6),
        rate in 1.0f64..1e6,
        delta in 1u64..1_000,
    ) {
        let units: Vec<f64> = stakes.iter().map(|s| *s as f64 / 1e3).collect();
        let mut net = LedgerNetwork::new(&graph, &units, rate, 1e3).unwrap();
        for node in 0..graph.len() {
            let work = net.emit(node, delta);
            prop_assert_eq!(work.edge_visits as usize, graph.edges(node).len());
            prop_assert!(work.edge_visits as usize <= MAX_EDGES);
            prop_assert_eq!(work.queue_pushes, 0);
        }
    }
}

#[test]
fn recursive_queue_grows_without_bound_on_a_cycle_while_residual_push_stays_constant() {
    let graph = emission::graph::Graph::from_float(
        &[vec![(0, 0.5), (1, 0.5)], vec![(1, 0.5), (0, 0.5)]],
        1e-9,
    )
    .unwrap();
    let pushes: Vec<u64> = [1.0, 1e3, 1e6]
        .iter()
        .map(|a| {
            RecursiveModel::new(&graph, vec![0.0, 0.0], 1.0, 1e-5)
                .distribute(0, *a)
                .queue_pushes
        })
        .collect();
    assert!(pushes[0] < pushes[1] && pushes[1] < pushes[2], "{pushes:?}");
    let mut net = LedgerNetwork::new(&graph, &[1.0, 1.0], 1e6, 1e6).unwrap();
    assert_eq!(net.emit(0, 1_000).edge_visits, 2);
}
