//! Measures the billed CPU of the contract's `emit` as the metagraph grows.
//!
//! Starts a local chain, deploys the contract, subscribes 10, then 100, then 1000 nodes
//! (batched transactions signed by chain-client), gives every node a few random edges, and
//! pushes several `emit` transactions from one node at each size. Prints the median
//! `cpu_usage_us` per graph size: `emit` is designed to be O(edges), so it should stay flat.
//!
//! `cargo run -p bittensor-ops --bin emit-cpu --release -- [--seed N] [--samples N]`

use anyhow::{bail, Context, Result};
use bittensor_ops::graph::{edge_set, Graph};
use chain_client::contract as actions;

/// Graph sizes measured, cumulatively.
const SIZES: [usize; 3] = [10, 100, 1000];

/// Command line of `emit-cpu`.
#[derive(clap::Parser)]
#[command(about = "Billed CPU of one emit as the metagraph grows (10, 100, 1000 nodes)")]
struct Args {
    /// Seed of the random graph.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Emits measured per graph size.
    #[arg(long, default_value_t = 9)]
    samples: usize,
}

fn parse_args() -> Result<Args> {
    let args = <Args as clap::Parser>::parse();
    if args.samples == 0 {
        bail!("--samples must be positive");
    }
    Ok(args)
}

fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

#[tokio::main]
async fn main() -> Result<()> {
    bittensor_logging::init();
    let args = parse_args()?;
    tracing::info!("building the contract and starting a local chain");
    let max = *SIZES.iter().max().unwrap_or(&0);
    let mut graph = Graph::deploy(max, args.seed).await?;
    let mut rows = Vec::new();
    let mut subscribed = 0;
    for &size in &SIZES {
        let started = std::time::Instant::now();
        graph.grow(subscribed, size).await?;
        subscribed = size;
        tracing::info!(
            "{size} nodes subscribed with edges in {:.1?}",
            started.elapsed()
        );

        // Measure: single-action emit transactions from node 0, weights varied so no two
        // transactions are identical.
        let targets = graph.random_targets(0, size);
        let me = graph.names(1)[0];
        let mut cpu = Vec::with_capacity(args.samples);
        for s in 0..args.samples {
            let edges = edge_set(me, &targets, 600_000 - 3 * s as u32);
            let receipt = graph
                .client
                .push(
                    vec![actions::emit(graph.contract, me, &edges)],
                    std::slice::from_ref(&graph.key),
                )
                .await
                .context("measured emit")?;
            cpu.push(receipt.cpu_usage_us);
        }
        let (min, max) = (
            *cpu.iter().min().unwrap_or(&0),
            *cpu.iter().max().unwrap_or(&0),
        );
        rows.push((size, targets.len() + 1, median(&mut cpu), min, max));
    }
    let metagraph = graph.client.metagraph(graph.contract).await?;
    if metagraph.len() != max {
        bail!("expected {max} metagraph rows, found {}", metagraph.len());
    }

    println!("| nodes | edges/emit | median cpu_us | min | max | samples |");
    println!("|------:|-----------:|--------------:|----:|----:|--------:|");
    for (size, edges, med, min, max) in rows {
        println!(
            "| {size} | {edges} | {med} | {min} | {max} | {} |",
            args.samples
        );
    }
    Ok(())
}
