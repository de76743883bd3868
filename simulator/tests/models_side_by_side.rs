//! The simulator's runs: all three models on one schedule, reports, plots and the bench.

use emission::fixed::MAX_EDGES;
use simulator::random::RandomGraph;
use simulator::run::run;
use simulator::scenario::Scenario;
use simulator::{bench, plot, report, seed_example};

fn random_scenario(nodes: usize, blocks: u64, rate: f64) -> Scenario {
    let (graph, stake) = RandomGraph {
        nodes,
        max_degree: 4,
        seed: 9,
    }
    .build()
    .unwrap();
    let names = (0..nodes).map(|i| format!("n{i}")).collect();
    let mut s = Scenario::new(names, graph, stake);
    s.blocks = blocks;
    s.rate = rate;
    s
}

#[test]
fn with_a_small_rate_the_distributed_models_track_the_matrix_model() {
    // Emission per block is tiny next to the stake: order effects vanish and the residual
    // pending is small, so both distributed models stay close to the reference.
    let s = random_scenario(20, 200, 0.2);
    let o = run(&s, 5).unwrap();
    for m in 0..3 {
        let sum: f64 = o.fractions[m].iter().sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }
    assert!(
        o.distance(0, 2) < 1e-3,
        "matrix-residual {}",
        o.distance(0, 2)
    );
    assert!(
        o.distance(0, 1) < 1e-3,
        "matrix-recursive {}",
        o.distance(0, 1)
    );
    assert_eq!(o.emits, 20 * 200);
    assert!(o.residual_work.edge_visits <= o.emits * MAX_EDGES as u64);
    assert!(o.recursive_work.queue_pushes >= o.emits);
}

#[test]
fn runs_are_deterministic_given_the_seed() {
    let s = random_scenario(15, 30, 50.0);
    let a = run(&s, 3).unwrap();
    let b = run(&s, 3).unwrap();
    assert_eq!(a.fractions, b.fractions);
    let mut other = s.clone();
    other.seed = 1;
    assert_ne!(run(&other, 3).unwrap().fractions[2], a.fractions[2]);
}

#[test]
fn seed_example_prints_both_runs_and_the_notebook_check() {
    let (outcomes, text) = seed_example::run_all(0).unwrap();
    assert_eq!(outcomes.len(), 3);
    // At the small rate residual push tracks the matrix model closely; the recursive model
    // is further off because of the emission it drops below its threshold.
    assert!(
        outcomes[2].1.distance(0, 2) < 0.005,
        "{}",
        outcomes[2].1.distance(0, 2)
    );
    assert!(outcomes[2].1.dropped > 0.0);
    assert!(
        outcomes[2].1.distance(0, 1) < 0.05,
        "{}",
        outcomes[2].1.distance(0, 1)
    );
    assert!(text.contains("run 1") && text.contains("run 2"));
    let notebook = seed_example::notebook_attribution(10_000, 50.0).unwrap();
    assert!(text.contains(&report::line(&notebook)));
    for (_, o) in &outcomes {
        assert!(text.contains(&report::line(&o.fractions[0])));
        assert!(text.contains(&report::line(&o.matrix_attribution)));
    }
}

#[test]
fn seed_example_reproduces_the_published_attribution_lines() {
    let (outcomes, text) = seed_example::run_all(0).unwrap();
    // The published lines are the matrix model's last-step attribution, to 5 decimals.
    let run1 = report::line(&outcomes[0].1.matrix_attribution);
    let run2 = report::line(&outcomes[1].1.matrix_attribution);
    assert_eq!(run1, report::line(&seed_example::README_RUN1));
    assert_eq!(run2, report::line(&seed_example::QUOTED_RUN2));
    // ... and not the stake fractions, which the report prints beside them.
    assert_ne!(report::line(&outcomes[0].1.fractions[0]), run1);
    assert!(text.contains(&format!("matrix A   {run1}")));
    assert!(text.contains(&format!("published  {run1}")));
    assert!(text.contains(&format!("published  {run2}")));
}

#[test]
fn plot_writes_a_png() {
    let s = random_scenario(6, 20, 5.0);
    let o = run(&s, 6).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plot.png");
    plot::draw(&path, "test", &s.names, &o).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
}

#[test]
fn bench_measures_work_per_emit() {
    let row = bench::measure(50, 6, 1, 200, 1).unwrap();
    assert!(row.residual_visits >= 1.0 && row.residual_visits <= 7.0);
    assert!(row.recursive_pushes >= 1.0);
    // A thousand times more emission per emit: the recursive queue grows, residual push does not.
    let big = bench::measure(50, 6, 1, 200, 1_000).unwrap();
    assert!(big.recursive_pushes > row.recursive_pushes);
    assert_eq!(big.residual_visits, row.residual_visits);
    assert!(bench::render(&[row]).contains("ratio"));
}
