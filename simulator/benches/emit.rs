//! Criterion bench: one emit of each distributed model on random graphs of 10..10 000 nodes.
//! Small samples keep the whole bench under two minutes; `simulator bench` prints the ratio.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use emission::models::recursive::{RecursiveModel, DEFAULT_MIN_INCREMENT};
use emission::models::residual::LedgerNetwork;
use emission::models::Distributed;
use simulator::random::RandomGraph;

/// Emits round-robin: node `k % n` at block `k / n + 1` (one block of accrual per emit).
fn emit_next(model: &mut dyn Distributed, k: &mut u64, n: usize) -> u64 {
    let node = (*k % n as u64) as usize;
    let work = model.emit(node, *k / n as u64 + 1);
    *k += 1;
    work.edge_visits
}

fn one_emit(c: &mut Criterion) {
    let mut group = c.benchmark_group("one_emit");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for nodes in [10usize, 100, 1_000, 10_000] {
        let (graph, stake) = match (RandomGraph {
            nodes,
            max_degree: 8,
            seed: 1,
        })
        .build()
        {
            Ok(g) => g,
            Err(e) => panic!("bench graph rejected: {e}"),
        };
        let rate = nodes as f64;
        let mut recursive = RecursiveModel::new(&graph, stake.clone(), rate, DEFAULT_MIN_INCREMENT);
        let mut k = 0u64;
        group.bench_with_input(BenchmarkId::new("recursive", nodes), &nodes, |b, &n| {
            b.iter(|| black_box(emit_next(&mut recursive, &mut k, n)))
        });
        let mut residual = match LedgerNetwork::new(&graph, &stake, rate, 1e9) {
            Ok(net) => net,
            Err(e) => panic!("bench ledger rejected: {e}"),
        };
        let mut k = 0u64;
        group.bench_with_input(BenchmarkId::new("residual", nodes), &nodes, |b, &n| {
            b.iter(|| black_box(emit_next(&mut residual, &mut k, n)))
        });
    }
    group.finish();
}

criterion_group!(benches, one_emit);
criterion_main!(benches);
