//! Measures what a worker's metagraph refresh costs the API node: response bytes of a full
//! paged read against an incremental one (the change sequence), at 100 and 1000 subscribed
//! nodes, on the graph `emit-cpu` builds.
//!
//! For each size: a fresh reader's first (full) refresh; a refresh with nothing changed;
//! one after `--changed-pct` percent of the nodes emitted; one after a single node emitted
//! `--churn` times (it must cost one row). Each incremental copy is checked equal to a full
//! read of the table. Prints one table; every figure is measured in this run.
//!
//! `cargo run -p bittensor-ops --bin metagraph-reads --release -- [--seed N] [--changed-pct P] [--churn N]`

use anyhow::{bail, Result};
use bittensor_ops::graph::Graph;
use chain_client::{Client, MetagraphRow, MetagraphView, Refresh};

/// Graph sizes measured, cumulatively.
const SIZES: [usize; 2] = [100, 1000];

/// Command line of `metagraph-reads`.
#[derive(clap::Parser)]
#[command(
    about = "Bytes a metagraph refresh reads: full against incremental, at 100 and 1000 nodes"
)]
struct Args {
    /// Seed of the random graph.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Percent of the nodes that emit between two refreshes.
    #[arg(long, default_value_t = 1)]
    changed_pct: usize,
    /// Emits of one node between two refreshes (it must cost one row).
    #[arg(long, default_value_t = 20)]
    churn: usize,
}

fn parse_args() -> Result<Args> {
    let args = <Args as clap::Parser>::parse();
    if !(1..=100).contains(&args.changed_pct) {
        bail!("--changed-pct must be between 1 and 100");
    }
    Ok(args)
}

/// One size's figures.
struct Row {
    nodes: usize,
    full: Refresh,
    idle: Refresh,
    changed: usize,
    partial: Refresh,
    churn: Refresh,
}

/// The reader's copy and the table, sorted alike, must be equal.
async fn check_equal(graph: &Graph, view: &MetagraphView) -> Result<()> {
    let mut table: Vec<MetagraphRow> = graph.client.metagraph(graph.contract).await?;
    let mut copy: Vec<MetagraphRow> = view.rows().cloned().collect();
    table.sort_by_key(|r| r.user.as_u64());
    copy.sort_by_key(|r| r.user.as_u64());
    if table != copy {
        bail!(
            "the incremental copy ({} rows) differs from the table ({} rows)",
            copy.len(),
            table.len()
        );
    }
    Ok(())
}

async fn refreshed(view: &mut MetagraphView, reader: &Client, graph: &Graph) -> Result<Refresh> {
    graph.wait_irreversible().await?;
    let r = view.refresh(reader, graph.contract).await?;
    check_equal(graph, view).await?;
    Ok(r)
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
        graph.grow(subscribed, size).await?;
        subscribed = size;
        tracing::info!("{size} nodes subscribed with edges");
        // A reader of its own, so the byte counter holds only its requests.
        let reader = Client::new(&graph.net.url);
        let mut view = MetagraphView::new();
        let full = refreshed(&mut view, &reader, &graph).await?;
        let idle = refreshed(&mut view, &reader, &graph).await?;
        let changed = (size * args.changed_pct / 100).max(1);
        let mut emits = Vec::with_capacity(changed);
        let mut picked = Vec::new();
        while picked.len() < changed {
            let i = graph.rng.below(size as u64) as usize;
            if !picked.contains(&i) {
                picked.push(i);
                emits.push(graph.random_emit(i, size, 500_000));
            }
        }
        graph.push_batched(emits).await?;
        let partial = refreshed(&mut view, &reader, &graph).await?;
        for round in 0..args.churn {
            let action = graph.random_emit(0, size, 400_000 + round as u32);
            graph.push_batched(vec![action]).await?;
        }
        let churn = refreshed(&mut view, &reader, &graph).await?;
        if full.nodes != size || [&idle, &partial, &churn].iter().any(|r| r.full) {
            bail!("expected one full read of {size} nodes, then incremental reads");
        }
        rows.push(Row {
            nodes: size,
            full,
            idle,
            changed,
            partial,
            churn,
        });
    }
    println!(
        "| nodes | full read: rows / bytes | nothing changed: rows / bytes | {} % changed: rows / bytes | full / incremental | one node emitted {} times: rows / bytes |",
        args.changed_pct, args.churn
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} / {} | {} / {} | {} ({} emitted) / {} | {:.1} | {} / {} |",
            r.nodes,
            r.full.rows_read,
            r.full.bytes,
            r.idle.rows_read + r.idle.departures_read,
            r.idle.bytes,
            r.partial.rows_read + r.partial.departures_read,
            r.changed,
            r.partial.bytes,
            r.full.bytes as f64 / r.partial.bytes.max(1) as f64,
            r.churn.rows_read + r.churn.departures_read,
            r.churn.bytes,
        );
    }
    Ok(())
}
