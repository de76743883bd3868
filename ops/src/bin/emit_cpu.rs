//! Measures the billed CPU of the contract's `emit` as the metagraph grows.
//!
//! Starts a local chain, deploys the contract, subscribes 10, then 100, then 1000 nodes
//! (batched transactions signed by chain-client), gives every node a few random edges, and
//! pushes several `emit` transactions from one node at each size. Prints the median
//! `cpu_usage_us` per graph size: `emit` is designed to be O(edges), so it should stay flat.
//!
//! `cargo run -p bittensor-ops --bin emit-cpu --release -- [--seed N] [--samples N]`

use anyhow::{bail, Context, Result};
use bittensor_tests::{deployed, funded};
use chain_client::contract as actions;
use chain_client::{Action, Asset, Client, Name, PrivateKey, Symbol};
use localnet::DEV_PRIVATE_KEY;

/// Graph sizes measured, cumulatively.
const SIZES: [usize; 3] = [10, 100, 1000];
/// Out-edges per node besides itself.
const EDGES_PER_NODE: usize = 3;
/// Actions per batched set-up transaction.
const BATCH: usize = 50;
/// Stake per node, base units (10.0000 BIT).
const STAKE: u64 = 100_000;

/// splitmix64: a tiny deterministic generator so the graph depends only on `--seed`.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Args {
    seed: u64,
    samples: usize,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        seed: 42,
        samples: 9,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seed" => args.seed = value.parse().context("--seed")?,
            "--samples" => args.samples = value.parse().context("--samples")?,
            _ => bail!("unknown flag {flag} (use --seed N, --samples N)"),
        }
    }
    if args.samples == 0 {
        bail!("--samples must be positive");
    }
    Ok(args)
}

/// Node `i`'s account name: `node` + 5 base-5 digits (names allow only 1-5 as digits).
fn node_name(i: usize) -> String {
    let mut digits = String::new();
    let mut v = i;
    for _ in 0..5 {
        digits.insert(0, char::from(b'1' + (v % 5) as u8));
        v /= 5;
    }
    format!("node{digits}")
}

/// An edge set: self first with the remaining weight, then `targets` sharing `spread`.
fn edge_set(me: Name, targets: &[Name], spread: u32) -> Vec<(Name, u32)> {
    let each = spread / targets.len().max(1) as u32;
    let mut edges = vec![(me, 1_000_000 - each * targets.len() as u32)];
    edges.extend(targets.iter().map(|&t| (t, each)));
    edges
}

fn random_targets(rng: &mut SplitMix, me: usize, count: usize, names: &[Name]) -> Vec<Name> {
    let mut picked: Vec<usize> = Vec::new();
    while picked.len() < EDGES_PER_NODE.min(count.saturating_sub(1)) {
        let j = rng.below(count);
        if j != me && !picked.contains(&j) {
            picked.push(j);
        }
    }
    picked.into_iter().map(|j| names[j]).collect()
}

async fn push_batched(client: &Client, key: &PrivateKey, all: Vec<Action>) -> Result<()> {
    for chunk in all.chunks(BATCH) {
        client
            .push(chunk.to_vec(), std::slice::from_ref(key))
            .await
            .context("batched set-up transaction")?;
    }
    Ok(())
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
    let (net, contract_account) = tokio::task::spawn_blocking(deployed).await??;
    let contract: Name = contract_account.parse()?;
    let client = Client::new(&net.url);
    let key = PrivateKey::from_wif(DEV_PRIVATE_KEY)?;
    let symbol = Symbol::new(4, "BIT")?;

    let max = *SIZES.iter().max().unwrap_or(&0);
    let names_text: Vec<String> = (0..max).map(node_name).collect();
    let names: Vec<Name> = names_text
        .iter()
        .map(|n| n.parse())
        .collect::<Result<_, _>>()?;
    let mut rng = SplitMix(args.seed);
    let mut rows = Vec::new();
    let mut subscribed = 0;
    for &size in &SIZES {
        let started = std::time::Instant::now();
        let new: Vec<&str> = names_text[subscribed..size]
            .iter()
            .map(String::as_str)
            .collect();
        // The harness is blocking; run it off the async workers.
        tokio::task::block_in_place(|| funded(&net, &contract_account, &new, STAKE))?;
        let stake = Asset::new(STAKE as i64, symbol);
        let subscribes = names[subscribed..size]
            .iter()
            .map(|&u| actions::subscribe(contract, u, "127.0.0.1", 8000, stake))
            .collect();
        push_batched(&client, &key, subscribes).await?;
        // Every node (old and new) gets a fresh random edge set over the current graph.
        let emits = (0..size)
            .map(|i| {
                let targets = random_targets(&mut rng, i, size, &names);
                actions::emit(contract, names[i], &edge_set(names[i], &targets, 600_000))
            })
            .collect();
        push_batched(&client, &key, emits).await?;
        subscribed = size;
        tracing::info!(
            "{size} nodes subscribed with edges in {:.1?}",
            started.elapsed()
        );

        // Measure: single-action emit transactions from node 0, weights varied so no two
        // transactions are identical.
        let targets = random_targets(&mut rng, 0, size, &names);
        let mut cpu = Vec::with_capacity(args.samples);
        for s in 0..args.samples {
            let edges = edge_set(names[0], &targets, 600_000 - 3 * s as u32);
            let receipt = client
                .push(
                    vec![actions::emit(contract, names[0], &edges)],
                    std::slice::from_ref(&key),
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
    let metagraph = client.metagraph(contract).await?;
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
