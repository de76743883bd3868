//! What the metagraph costs a chain running `eosio.system`: the RAM a node's rows take and
//! who pays it, and how many emits per second a P-producer `localnet::Cluster` takes in.
//!
//! 1. Boots P producers with `eosio.system`, deploys the contract on a metered account, makes
//!    metered node accounts and funds them with BIT.
//! 2. RAM: `get_account` `ram_usage` of the node and of the contract before and after the
//!    node's `subscribe`, an `emit` with 4 edges, `unsubscribe`, and a second `subscribe`.
//! 3. Throughput: for `--seconds`, `--workers` tasks push transactions of `--batch` emits
//!    (each from another node) round-robin over the producers' endpoints as fast as the
//!    chain accepts them; prints emits accepted per second and the CPU billed per emit.
//!    On this 2-core machine the pushing client shares the cores with every nodeos, so
//!    the rate is a lower bound of what the chain itself sustains.
//!
//! `cargo run -p bittensor-ops --bin chain-capacity --release -- [--producers P] [--nodes N] [--seconds S] [--batch B] [--workers W]`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bittensor_ops::graph::{edge_set, node_name};
use bittensor_tests::MAX_SUPPLY;
use chain_client::contract as actions;
use chain_client::{Action, Asset, Client, MetagraphView, Name, PrivateKey, Refresh, Symbol};
use localnet::{contract_abi, contract_wasm, Cluster, Localnet, Resources, DEV_PRIVATE_KEY};

const CONTRACT: &str = "bittensor";
/// Stake per node, base units of BIT.
const STAKE: u64 = 100_000;

/// Command line of `chain-capacity`.
#[derive(clap::Parser)]
#[command(
    about = "Emits per second a cluster of producers sustains, and the RAM a node's rows cost"
)]
struct Args {
    /// Producers of the cluster.
    #[arg(long, default_value_t = 2)]
    producers: usize,
    /// Metered nodes that emit.
    #[arg(long, default_value_t = 40)]
    nodes: usize,
    /// How long the emits are pushed.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Emits per transaction.
    #[arg(long, default_value_t = 20)]
    batch: usize,
    /// Concurrent pushing tasks.
    #[arg(long, default_value_t = 4)]
    workers: usize,
}

fn parse_args() -> Result<Args> {
    let args = <Args as clap::Parser>::parse();
    if args.nodes < 5 || args.batch == 0 || args.batch > args.nodes || args.workers == 0 {
        bail!("need --nodes >= 5, 1 <= --batch <= --nodes, --workers >= 1");
    }
    Ok(args)
}

fn ram(net: &Localnet, account: &str) -> Result<i64> {
    Ok(net.limits(account)?.ram_usage)
}

/// RAM used by `node` and by the contract, measured around one action.
struct RamStep {
    what: &'static str,
    node: i64,
    contract: i64,
}

async fn measure_ram(
    net: &Localnet,
    client: &Client,
    key: &PrivateKey,
    action: Action,
    what: &'static str,
    node: &str,
) -> Result<RamStep> {
    let (n0, c0) = (ram(net, node)?, ram(net, CONTRACT)?);
    client
        .push(vec![action], std::slice::from_ref(key))
        .await
        .with_context(|| what.to_string())?;
    wait_applied(client).await?;
    Ok(RamStep {
        what,
        node: ram(net, node)? - n0,
        contract: ram(net, CONTRACT)? - c0,
    })
}

/// Until the head moves past the block a push went into (the genesis node's view).
async fn wait_applied(client: &Client) -> Result<()> {
    let head = client.get_info().await?.head_block_num;
    for _ in 0..100 {
        if client.get_info().await?.head_block_num > head + 2 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the chain stopped at block {head}")
}

/// Creates BIT, issues it and gives each node `10 * STAKE`, waiting for each step to be in
/// a block: on a chain of several producers the next step may reach a node that has not
/// applied the previous one yet.
async fn fund(client: &Client, key: &PrivateKey, contract: Name, users: &[Name]) -> Result<()> {
    let bit =
        |amount: u64| -> Result<Asset> { Ok(Asset::new(amount as i64, Symbol::new(4, "BIT")?)) };
    let keys = std::slice::from_ref(key);
    let max: Asset = MAX_SUPPLY.parse()?;
    client
        .push(vec![actions::create(contract, contract, max)], keys)
        .await?;
    wait_applied(client).await?;
    let each = 10 * STAKE;
    let total = bit(each * users.len() as u64)?;
    client
        .push(
            vec![actions::issue(contract, contract, total, "fund")],
            keys,
        )
        .await?;
    wait_applied(client).await?;
    for chunk in users.chunks(50) {
        let transfers = chunk
            .iter()
            .map(|&u| Ok(actions::transfer(contract, contract, u, bit(each)?, "fund")))
            .collect::<Result<Vec<_>>>()?;
        client.push(transfers, keys).await?;
    }
    wait_applied(client).await
}

#[tokio::main]
async fn main() -> Result<()> {
    bittensor_logging::init();
    let args = parse_args()?;
    tracing::info!(
        producers = args.producers,
        "booting the cluster (eosio.system)"
    );
    let wasm = tokio::task::spawn_blocking(contract_wasm).await??;
    let producers = args.producers;
    let cluster = tokio::task::spawn_blocking(move || Cluster::boot(producers)).await??;
    let net = &cluster.genesis;
    let contract_res = Resources {
        ram_bytes: 4 * 1024 * 1024,
        net: "1000.0000 SYS".into(),
        cpu: "1000.0000 SYS".into(),
    };
    tokio::task::block_in_place(|| -> Result<()> {
        net.create_metered_account(CONTRACT, &contract_res)?;
        net.deploy_contract(CONTRACT, &wasm, &contract_abi())?;
        Ok(())
    })
    .context("deploying the contract on a metered account")?;
    let node_res = Resources {
        ram_bytes: 8 * 1024,
        net: "100000.0000 SYS".into(),
        cpu: "1000000.0000 SYS".into(),
    };
    let names: Vec<String> = (0..args.nodes).map(node_name).collect();
    tokio::task::block_in_place(|| -> Result<()> {
        for (i, n) in names.iter().enumerate() {
            net.create_metered_account(n, &node_res)?;
            if (i + 1) % 10 == 0 {
                tracing::info!("{} metered node accounts", i + 1);
            }
        }
        Ok(())
    })
    .context("metered node accounts")?;

    let client = Client::new(&net.url);
    let key = PrivateKey::from_wif(DEV_PRIVATE_KEY)?;
    let contract: Name = CONTRACT.parse()?;
    let users: Vec<Name> = names.iter().map(|n| n.parse()).collect::<Result<_, _>>()?;
    let stake = Asset::new(STAKE as i64, Symbol::new(4, "BIT")?);
    fund(&client, &key, contract, &users)
        .await
        .context("funding the nodes with BIT")?;
    let subscribe = |u: Name| actions::subscribe(contract, u, "127.0.0.1", 9000, stake);

    // RAM: node 4 alone, with nodes 0..4 subscribed as its edge targets.
    client
        .push(
            (0..4).map(|i| subscribe(users[i])).collect(),
            std::slice::from_ref(&key),
        )
        .await?;
    wait_applied(&client).await?;
    let me = users[4];
    let four_edges = edge_set(me, &users[..3], 600_000);
    let leave = |u: Name| actions::unsubscribe(contract, u);
    let node = &names[4];
    let steps = vec![
        measure_ram(
            net,
            &client,
            &key,
            subscribe(me),
            "subscribe (new node)",
            node,
        )
        .await?,
        measure_ram(
            net,
            &client,
            &key,
            actions::emit(contract, me, &four_edges),
            "emit, 1 -> 4 edges",
            node,
        )
        .await?,
        measure_ram(
            net,
            &client,
            &key,
            leave(users[3]),
            "another node's unsubscribe (the first: creates the `departed` table)",
            &names[3],
        )
        .await?,
        measure_ram(net, &client, &key, leave(me), "unsubscribe (4 edges)", node).await?,
        measure_ram(net, &client, &key, subscribe(me), "subscribe again", node).await?,
        measure_ram(
            net,
            &client,
            &key,
            subscribe(users[3]),
            "the other node subscribes again (the last departure: frees the table)",
            &names[3],
        )
        .await?,
    ];

    // Throughput: every node subscribed, then batches of emits from distinct nodes.
    let rest: Vec<Action> = users[5..].iter().map(|&u| subscribe(u)).collect();
    for chunk in rest.chunks(50) {
        client
            .push(chunk.to_vec(), std::slice::from_ref(&key))
            .await?;
    }
    wait_applied(&client).await?;
    let clients: Vec<Client> = cluster.urls().iter().map(|u| Client::new(u)).collect();
    let accepted = Arc::new(AtomicU64::new(0));
    let cpu_us = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let first_block = client.get_info().await?.head_block_num;
    let mut tasks = Vec::new();
    for w in 0..args.workers {
        let client = clients[w % clients.len()].clone();
        let (key, users) = (key.clone(), users.clone());
        let (accepted, cpu_us, refused) = (accepted.clone(), cpu_us.clone(), refused.clone());
        let batch = args.batch;
        tasks.push(tokio::spawn(async move {
            let mut round = 0u32;
            while Instant::now() < until {
                round += 1;
                let start = (w * batch + round as usize * 7) % users.len();
                let emits: Vec<Action> = (0..batch)
                    .map(|k| {
                        let i = (start + k) % users.len();
                        let targets: Vec<Name> =
                            (1..4).map(|d| users[(i + d) % users.len()]).collect();
                        let spread = 300_000 + (round * 64 + w as u32) % 100_000;
                        actions::emit(contract, users[i], &edge_set(users[i], &targets, spread))
                    })
                    .collect();
                match client.push(emits, std::slice::from_ref(&key)).await {
                    Ok(r) => {
                        accepted.fetch_add(batch as u64, Ordering::Relaxed);
                        cpu_us.fetch_add(r.cpu_usage_us, Ordering::Relaxed);
                    }
                    Err(e) => {
                        if refused.fetch_add(1, Ordering::Relaxed) < 3 {
                            tracing::warn!("emit batch refused: {e}");
                        }
                    }
                }
            }
        }));
    }
    // A reader on the last producer's endpoint refreshes its copy every second meanwhile:
    // incremental reads on a chain of several producers, whose LIB trails the head.
    let reader_url = clients[clients.len() - 1].url().to_string();
    let reader = tokio::spawn(async move {
        let reader = Client::new(&reader_url);
        let mut view = MetagraphView::new();
        let mut log: Vec<Refresh> = Vec::new();
        while Instant::now() < until {
            match view.refresh(&reader, contract).await {
                Ok(r) => log.push(r),
                Err(e) => tracing::warn!("reader refresh failed: {e}"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        (reader, view, log)
    });
    for t in tasks {
        t.await?;
    }
    let (reader, mut view, log) = reader.await?;
    let elapsed = started.elapsed().as_secs_f64();
    let last_block = client.get_info().await?.head_block_num;
    let emits = accepted.load(Ordering::Relaxed);
    let blocks = (last_block - first_block).max(1);
    // What the blocks hold: emits included and CPU billed per block (the chain's view).
    let mut included = 0u64;
    let mut block_cpu = Vec::new();
    for num in first_block + 1..=last_block {
        let block = client.get_block(num).await?;
        let mut cpu = 0u64;
        for t in block["transactions"].as_array().into_iter().flatten() {
            cpu += t["cpu_usage_us"].as_u64().unwrap_or(0);
            let acts = t["trx"]["transaction"]["actions"].as_array();
            included += acts
                .into_iter()
                .flatten()
                .filter(|a| a["name"] == "emit" && a["account"] == CONTRACT)
                .count() as u64;
        }
        block_cpu.push(cpu);
    }
    block_cpu.sort_unstable();
    // Once everything is irreversible, the reader's copy must equal the table.
    let head = client.get_info().await?.head_block_num;
    while client.get_info().await?.last_irreversible_block_num < head {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let last = view.refresh(&reader, contract).await?;
    let mut table = client.metagraph(contract).await?;
    let mut copy: Vec<_> = view.rows().cloned().collect();
    table.sort_by_key(|r| r.user.as_u64());
    copy.sort_by_key(|r| r.user.as_u64());
    if table != copy {
        bail!(
            "the reader's copy ({} rows) differs from the table ({} rows)",
            copy.len(),
            table.len()
        );
    }
    let median_cpu = block_cpu.get(block_cpu.len() / 2).copied().unwrap_or(0);
    let max_cpu = block_cpu.last().copied().unwrap_or(0);

    println!(
        "RAM per node ({} producers, eosio.system; bytes, from get_account ram_usage):",
        args.producers
    );
    println!("| action | node's ram_usage | contract's ram_usage |");
    println!("|---|---:|---:|");
    for s in &steps {
        println!("| {} | {:+} | {:+} |", s.what, s.node, s.contract);
    }
    println!();
    println!(
        "Throughput: {} workers, {} emits per transaction, {} nodes, {:.1} s, blocks {}..{}",
        args.workers, args.batch, args.nodes, elapsed, first_block, last_block
    );
    println!("| emits accepted by the API | emits in blocks | per second | per block | billed CPU per emit (us) | block CPU median / max (us) | batches refused |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.0} | {:.1} | {:.0} | {} / {} | {} |",
        emits,
        included,
        included as f64 / elapsed,
        included as f64 / blocks as f64,
        cpu_us.load(Ordering::Relaxed) as f64 / emits.max(1) as f64,
        median_cpu,
        max_cpu,
        refused.load(Ordering::Relaxed)
    );
    let full = log.iter().filter(|r| r.full).count();
    let incremental: Vec<&Refresh> = log.iter().filter(|r| !r.full).collect();
    let mean = |f: &dyn Fn(&Refresh) -> f64| {
        incremental.iter().map(|r| f(r)).sum::<f64>() / incremental.len().max(1) as f64
    };
    println!();
    println!(
        "Reader during the run ({} nodes, refreshed every second on another endpoint): {} refreshes, {} full, incremental mean {:.1} rows / {:.0} bytes; final refresh full={} and its copy equals the table",
        args.nodes,
        log.len(),
        full,
        mean(&|r| (r.rows_read + r.departures_read) as f64),
        mean(&|r| r.bytes as f64),
        last.full
    );
    Ok(())
}
