//! The live strategy catalogue: per `max_self_weight`, a fresh local chain with the contract,
//! one private shard of a real text per node and the pinned vocabulary, equal stake, and
//! real worker processes on loopback: honest nodes (`bittensor-worker run`, the first of
//! them the one the copier copies) beside the `adversary` binary's noise, lazy, copier,
//! selfish and ring-of-two nodes. After every node is up, every node is settled (one
//! transaction, each by its own key) and its pool position read; after the run the same
//! again: the difference is the emission the node got during the run. Each node's share of
//! it divided by its share of stake is its `s` (1.0 = exactly its stake share). The posted
//! edge sets are sampled during the run and averaged into the table of who credits whom.
//!
//! Every worker leads its own process group, registered with `localnet`'s signal guard, so
//! Ctrl-C, SIGTERM or SIGHUP stop the workers with the chain; so does every error path (drop).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bittensor_tests::{deployed, funded, Localnet};
use bittensor_worker::corpus::{write_shards, Corpus, VocabFile};
use chain_client::contract as actions;
use chain_client::{Action, Name};
use localnet::ProcessGroup;
use serde_json::Value;

use crate::load::status::statuses;

/// 100.0000 BIT per account; each stakes 10.0000 BIT.
const FUNDS: u64 = 1_000_000;
/// How long a worker may take to write its ready file.
const READY_TIMEOUT: Duration = Duration::from_secs(180);
/// Seconds between samples of the posted edge sets.
const EDGE_SAMPLE_SECS: u64 = 10;

/// The roles of the catalogue, in node order (`honest` repeated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The production node.
    Honest,
    /// Serves noise.
    Noise,
    /// Never trains.
    Lazy,
    /// Relays the first honest node's updates.
    Copier,
    /// Posts self-only edges.
    Selfish,
    /// One of the ring of two.
    Ring,
}

impl Role {
    fn label(&self) -> &'static str {
        match self {
            Role::Honest => "honest",
            Role::Noise => "noise",
            Role::Lazy => "lazy",
            Role::Copier => "copier",
            Role::Selfish => "selfish",
            Role::Ring => "ring",
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Honest nodes (at least 3; the first is the one copied).
    pub honest: usize,
    /// Seconds of the measured run per cap (after every node is ready).
    pub seconds: u64,
    /// `max_self_weight` per run, ppm, in order.
    pub caps: Vec<u32>,
    /// The `bittensor-worker` and `adversary` executables.
    pub worker_bin: PathBuf,
    /// The `adversary` executable.
    pub adversary_bin: PathBuf,
    /// The real text the shards are cut from.
    pub corpus: PathBuf,
    /// Tokens of the corpus used (a prefix), cut into one shard per training node.
    pub max_tokens: usize,
    /// Vector dimension of every node.
    pub dim: usize,
    /// Seconds between each node's emits.
    pub emit_interval: f64,
    /// Where configs, shards and logs go.
    pub dir: PathBuf,
}

/// One node of a run.
#[derive(Debug, Clone)]
pub struct Node {
    /// Chain account.
    pub account: String,
    /// Its role.
    pub role: Role,
    /// The shard it trains on (the copier: the copied node's).
    pub shard: usize,
}

/// The catalogue's nodes: `honest` honest, then noise, lazy, copier, selfish, ring, ring.
pub fn catalogue(honest: usize) -> Vec<Node> {
    let mut roles = vec![Role::Honest; honest];
    roles.extend([
        Role::Noise,
        Role::Lazy,
        Role::Copier,
        Role::Selfish,
        Role::Ring,
        Role::Ring,
    ]);
    let mut next_shard = 0;
    roles
        .into_iter()
        .enumerate()
        .map(|(i, role)| {
            let shard = if role == Role::Copier {
                0
            } else {
                next_shard += 1;
                next_shard - 1
            };
            Node {
                account: format!("strat{}", char::from(b'a' + i as u8)),
                role,
                shard,
            }
        })
        .collect()
}

/// One cap's result: per node its `s`, the summary line, and the averaged edge table.
#[derive(Debug, Clone)]
pub struct CapResult {
    /// The cap, ppm.
    pub max_self_weight: u32,
    /// Per account, its share of the emission over its share of stake.
    pub ratio: BTreeMap<String, f64>,
    /// The JSON line of the issue.
    pub line: String,
    /// Who credits whom: markdown table of the averaged posted edge sets.
    pub table: String,
    /// Emission minted during the run (base units) and the measured seconds.
    pub minted: u128,
    /// Seconds measured.
    pub seconds: f64,
    /// Per account, its mean held-out loss when it started training and at the end of the
    /// run (from its `/status`; `None` where it did not answer): whether the nodes still
    /// learned what carries to text they did not train on while the incentives were measured.
    pub held_out: BTreeMap<String, (Option<f64>, Option<f64>)>,
}

/// Runs the catalogue once per cap, each on a fresh chain; `done` gets each cap's result as
/// soon as it is measured (so a later cap's failure loses nothing printed).
pub fn run(
    opts: &LiveOptions,
    done: &mut dyn FnMut(&CapResult) -> Result<()>,
) -> Result<Vec<CapResult>> {
    if opts.honest < 3 {
        bail!("at least 3 honest nodes (one is the copier's source)");
    }
    for bin in [&opts.worker_bin, &opts.adversary_bin] {
        if !bin.is_file() {
            bail!(
                "{} not found: build it first (scripts/strategies-live does)",
                bin.display()
            );
        }
    }
    let nodes = catalogue(opts.honest);
    fs::create_dir_all(&opts.dir)?;
    let shards = nodes.iter().map(|n| n.shard).max().unwrap_or(0) + 1;
    let (whole, shard_paths) = write_shards(
        &opts.corpus,
        Some(opts.max_tokens),
        shards,
        &opts.dir.join("shards"),
    )
    .with_context(|| format!("cutting {} into shards", opts.corpus.display()))?;
    let union = Corpus::load_with(&whole, 5, usize::MAX)?;
    let vocab = opts.dir.join("vocab.txt");
    let hash = VocabFile::write(&union.vocab, &vocab)?;
    let mut out = Vec::new();
    for &cap in &opts.caps {
        tracing::info!(max_self_weight = cap, "fresh chain for this cap");
        let dir = opts.dir.join(format!("cap-{cap}"));
        fs::create_dir_all(&dir)?;
        let shard_of = |n: &Node| shard_paths[n.shard].clone();
        let result = one_cap(
            opts,
            &nodes,
            cap,
            &dir,
            &vocab,
            &hash,
            union.vocab.len() - 1,
            &shard_of,
        )
        .with_context(|| format!("the run at max_self_weight {cap}"))?;
        done(&result)?;
        out.push(result);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn one_cap(
    opts: &LiveOptions,
    nodes: &[Node],
    cap: u32,
    dir: &Path,
    vocab: &Path,
    hash: &str,
    words: usize,
    shard_of: &dyn Fn(&Node) -> PathBuf,
) -> Result<CapResult> {
    let (net, contract) = deployed()?;
    let names: Vec<&str> = nodes.iter().map(|n| n.account.as_str()).collect();
    funded(&net, &contract, &names, FUNDS)?;
    let code = name(&contract)?;
    net.push_actions(vec![
        actions::setparams(code, 10_000, 10_000, cap, 1_209_600),
        actions::setvocab(code, hash, words as u32),
    ])
    .context("setparams and setvocab")?;
    let mut groups = Vec::new();
    for node in nodes {
        groups.push(spawn(
            opts, node, nodes, &net.url, &contract, dir, vocab, shard_of,
        )?);
    }
    wait_ready(nodes, dir, &mut groups)?;
    wait_subscribed(&net, &contract, nodes.len())?;
    settle_all(&net, code, &names)?;
    let before = positions(&net, &contract)?;
    let start = Instant::now();
    let deadline = start + Duration::from_secs(opts.seconds);
    let mut samples: Vec<BTreeMap<String, Vec<(String, u32)>>> = Vec::new();
    let mut next_sample = start;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
        for (node, g) in nodes.iter().zip(groups.iter_mut()) {
            if let Some(status) = g.exited() {
                bail!(
                    "{} ({}) exited early: {status}",
                    node.account,
                    node.role.label()
                );
            }
        }
        if Instant::now() >= next_sample {
            next_sample += Duration::from_secs(EDGE_SAMPLE_SECS);
            let edges = posted_edges(&net, &contract)?;
            let head = net
                .get_info()
                .ok()
                .and_then(|i| i["head_block_num"].as_u64());
            tracing::info!(
                elapsed_s = start.elapsed().as_secs(),
                head_block = head,
                nodes = edges.len(),
                "running"
            );
            samples.push(edges);
        }
    }
    settle_all(&net, code, &names)?;
    let after = positions(&net, &contract)?;
    let seconds = start.elapsed().as_secs_f64();
    let held_out = held_out_losses(nodes, dir);
    for g in &groups {
        g.terminate();
    }
    for mut g in groups {
        g.stop();
    }
    let gained: BTreeMap<String, u128> = names
        .iter()
        .map(|n| {
            let a = after.get(*n).copied().unwrap_or(0);
            let b = before.get(*n).copied().unwrap_or(0);
            (n.to_string(), a.saturating_sub(b))
        })
        .collect();
    let minted: u128 = gained.values().sum();
    if minted == 0 {
        bail!("no emission during the run");
    }
    let n = nodes.len() as f64;
    let ratio: BTreeMap<String, f64> = gained
        .iter()
        .map(|(k, g)| (k.clone(), *g as f64 / minted as f64 * n))
        .collect();
    let line = summary(cap, nodes, &ratio, &held_out);
    let table = edge_table(nodes, &samples, cap, &ratio, &held_out);
    Ok(CapResult {
        max_self_weight: cap,
        ratio,
        line,
        table,
        minted,
        seconds,
        held_out,
    })
}

fn name(text: &str) -> Result<Name> {
    text.parse()
        .map_err(|e| anyhow::anyhow!("account name {text:?}: {e:?}"))
}

/// The issue's line: honest = mean over honest nodes but the copied one, copied = node 0.
fn summary(
    cap: u32,
    nodes: &[Node],
    ratio: &BTreeMap<String, f64>,
    held_out: &BTreeMap<String, (Option<f64>, Option<f64>)>,
) -> String {
    let mean = |pick: &dyn Fn(usize, &Node) -> bool| {
        let v: Vec<f64> = nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| pick(*i, n))
            .map(|(_, n)| ratio[&n.account])
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let role = |r: Role| move |_: usize, n: &Node| n.role == r;
    let r4 = |x: f64| (x * 10_000.0).round() / 10_000.0;
    let fields = [
        ("honest", mean(&|i, n| n.role == Role::Honest && i > 0)),
        ("noise", mean(&role(Role::Noise))),
        ("lazy", mean(&role(Role::Lazy))),
        ("copier", mean(&role(Role::Copier))),
        ("copied", mean(&|i, _| i == 0)),
        ("selfish", mean(&role(Role::Selfish))),
        ("ring", mean(&role(Role::Ring))),
    ];
    // Written by hand so the keys keep the issue's order.
    let mut line = format!("{{\"max_self_weight\": {}", cap as f64 / 1e6);
    for (k, v) in fields {
        let _ = write!(line, ", \"{k}\": {}", r4(v));
    }
    // The honest nodes' mean held-out loss, at their start and at the end of the run.
    let honest: Vec<(f64, f64)> = nodes
        .iter()
        .filter(|n| n.role == Role::Honest)
        .filter_map(|n| match held_out.get(&n.account) {
            Some((Some(a), Some(b))) => Some((*a, *b)),
            _ => None,
        })
        .collect();
    if !honest.is_empty() {
        let k = honest.len() as f64;
        let start = honest.iter().map(|h| h.0).sum::<f64>() / k;
        let end = honest.iter().map(|h| h.1).sum::<f64>() / k;
        let _ = write!(
            line,
            ", \"honest_held_out_loss\": [{}, {}]",
            r4(start),
            r4(end)
        );
    }
    line.push('}');
    line
}

/// Each node's held-out loss at its start and now, from its `/status` (at the address its
/// ready file names); a node that does not answer gets `None`.
fn held_out_losses(nodes: &[Node], dir: &Path) -> BTreeMap<String, (Option<f64>, Option<f64>)> {
    let bases: Vec<String> = nodes
        .iter()
        .map(|n| {
            let ready = dir.join(format!("{}.ready", n.account));
            let listen = fs::read_to_string(&ready)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v["listen"].as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("http://{listen}")
        })
        .collect();
    nodes
        .iter()
        .zip(statuses(&bases))
        .map(|(n, status)| {
            let loss = |key: &str| status.as_ref().and_then(|s| s[key].as_f64());
            (
                n.account.clone(),
                (loss("start_held_out_loss"), loss("held_out_loss")),
            )
        })
        .collect()
}

/// Markdown: one row per crediting node, one column per credited node, the mean posted
/// weight (%) over the samples; the last column the node's `s`.
fn edge_table(
    nodes: &[Node],
    samples: &[BTreeMap<String, Vec<(String, u32)>>],
    cap: u32,
    ratio: &BTreeMap<String, f64>,
    held_out: &BTreeMap<String, (Option<f64>, Option<f64>)>,
) -> String {
    let label = |n: &Node, i: usize| format!("{} ({})", n.account, short(n, i));
    let mut t = String::new();
    let _ = writeln!(
        t,
        "max_self_weight {:.2}: mean posted edge weight (%) over {} samples, row credits column",
        cap as f64 / 1e6,
        samples.len()
    );
    let _ = write!(t, "\n| from \\ to |");
    for (i, n) in nodes.iter().enumerate() {
        let _ = write!(t, " {} |", short(n, i));
    }
    let _ = writeln!(t, " s | held-out loss, start -> end |");
    let _ = writeln!(t, "|---|{}---|---|", "---|".repeat(nodes.len()));
    for (i, from) in nodes.iter().enumerate() {
        let _ = write!(t, "| {} |", label(from, i));
        for to in nodes {
            let sum: f64 = samples
                .iter()
                .filter_map(|s| s.get(&from.account))
                .map(|edges| {
                    edges
                        .iter()
                        .find(|(t, _)| *t == to.account)
                        .map_or(0.0, |(_, w)| *w as f64 / 1e4)
                })
                .sum();
            let _ = write!(t, " {:.1} |", sum / samples.len().max(1) as f64);
        }
        let loss = |l: Option<f64>| l.map_or("-".to_string(), |l| format!("{l:.3}"));
        let (a, b) = held_out.get(&from.account).copied().unwrap_or_default();
        let _ = writeln!(
            t,
            " {:.3} | {} -> {} |",
            ratio[&from.account],
            loss(a),
            loss(b)
        );
    }
    t
}

fn short(n: &Node, i: usize) -> String {
    match n.role {
        Role::Honest if i == 0 => "copied".into(),
        Role::Honest => format!("honest{i}"),
        _ => n.role.label().into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn spawn(
    opts: &LiveOptions,
    node: &Node,
    nodes: &[Node],
    url: &str,
    contract: &str,
    dir: &Path,
    vocab: &Path,
    shard_of: &dyn Fn(&Node) -> PathBuf,
) -> Result<ProcessGroup> {
    let ready = dir.join(format!("{}.ready", node.account));
    let _ = fs::remove_file(&ready);
    let key = dir.join(format!("{}.key", node.account));
    fs::write(&key, localnet::DEV_PRIVATE_KEY)?;
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600))?;
    }
    let seed = nodes
        .iter()
        .position(|n| n.account == node.account)
        .unwrap_or(0)
        + 1;
    let toml = format!(
        r#"[node]
account = "{account}"
key_file = "{key}"
listen = "127.0.0.1:0"
seed = {seed}
ready_file = "{ready}"
start_with_peers = {peers}

[chain]
url = "{url}"
contract = "{contract}"
stake = "10.0000 BIT"
emit_interval_secs = {emit}
refresh_interval_secs = 5.0
subscribe_attempts = 40

[model]
corpus = "{corpus}"
vocab = "{vocab}"
dim = {dim}
epochs = 100
chunk_words = 1000
threads = 1
peers = {peers}
attribution_half_life_secs = 20.0

[peer]
timeout_ms = 2000
allow_loopback = true
"#,
        account = node.account,
        key = key.display(),
        ready = ready.display(),
        emit = opts.emit_interval,
        corpus = shard_of(node).display(),
        vocab = vocab.display(),
        dim = opts.dim,
        peers = nodes.len() - 1,
    );
    let cfg = dir.join(format!("{}.toml", node.account));
    fs::write(&cfg, toml)?;
    let mut cmd = match node.role {
        Role::Honest => {
            let mut c = Command::new(&opts.worker_bin);
            c.arg("run");
            c
        }
        _ => {
            let mut c = Command::new(&opts.adversary_bin);
            c.args(["--behaviour", node.role.label()]);
            if node.role == Role::Ring {
                let partner = nodes
                    .iter()
                    .find(|n| n.role == Role::Ring && n.account != node.account)
                    .context("the ring's partner")?;
                c.args(["--partner", &partner.account]);
            }
            c
        }
    };
    cmd.arg("--config")
        .arg(&cfg)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    bittensor_worker::node::parent::stop_with_this_process(&mut cmd);
    let log = dir.join(format!("{}.log", node.account));
    ProcessGroup::spawn(&node.account, cmd, &log)
        .with_context(|| format!("starting {} ({})", node.account, node.role.label()))
}

fn wait_ready(nodes: &[Node], dir: &Path, groups: &mut [ProcessGroup]) -> Result<()> {
    let start = Instant::now();
    for (node, g) in nodes.iter().zip(groups.iter_mut()) {
        let ready = dir.join(format!("{}.ready", node.account));
        while !ready.exists() {
            if let Some(status) = g.exited() {
                bail!(
                    "{} exited before it was ready ({status}); see {}",
                    node.account,
                    dir.join(format!("{}.log", node.account)).display()
                );
            }
            if start.elapsed() > READY_TIMEOUT {
                bail!("{} not ready after {READY_TIMEOUT:?}", node.account);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        tracing::info!(account = %node.account, role = node.role.label(), "ready");
    }
    Ok(())
}

fn wait_subscribed(net: &Localnet, contract: &str, n: usize) -> Result<()> {
    let start = Instant::now();
    loop {
        let rows = net.table(contract, contract, "metagraph")?;
        if rows.len() >= n {
            return Ok(());
        }
        if start.elapsed() > READY_TIMEOUT {
            bail!("only {} of {n} nodes subscribed", rows.len());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Settles every node (each by its own key) in one transaction.
fn settle_all(net: &Localnet, code: Name, names: &[&str]) -> Result<()> {
    let batch: Vec<Action> = names
        .iter()
        .map(|n| {
            let user = name(n)?;
            Ok(actions::settle(code, user, user))
        })
        .collect::<Result<_>>()?;
    net.push_actions(batch).context("settling every node")?;
    Ok(())
}

fn big(v: &Value) -> Result<u128> {
    match v {
        Value::Number(n) => n.as_u64().map(u128::from).context("not an integer"),
        Value::String(s) => s.parse().with_context(|| format!("not an integer: {s:?}")),
        other => bail!("not an integer: {other}"),
    }
}

/// Each node's pool position, `(shares + residual shares) * V / total_shares`.
fn positions(net: &Localnet, contract: &str) -> Result<BTreeMap<String, u128>> {
    let global = net
        .table(contract, contract, "global")?
        .into_iter()
        .next()
        .context("no global row")?;
    let value =
        big(&global["total_stake"])? + big(&global["outstanding"])? + big(&global["unsettled"])?;
    let total = big(&global["total_shares"])?.max(1);
    let mut shares: BTreeMap<String, u128> = BTreeMap::new();
    for row in net.table(contract, contract, "metagraph")? {
        *shares
            .entry(row["user"].as_str().unwrap_or_default().into())
            .or_default() += big(&row["shares"])?;
    }
    for row in net.table(contract, contract, "residuals")? {
        *shares
            .entry(row["user"].as_str().unwrap_or_default().into())
            .or_default() += big(&row["shares"])?;
    }
    // value * shares fits in u128 for any testnet (value < 2^62, shares < 2^64 here).
    Ok(shares
        .into_iter()
        .map(|(k, s)| (k, s.saturating_mul(value) / total))
        .collect())
}

/// Every node's stored edge set.
fn posted_edges(net: &Localnet, contract: &str) -> Result<BTreeMap<String, Vec<(String, u32)>>> {
    Ok(net
        .table(contract, contract, "metagraph")?
        .into_iter()
        .map(|row| {
            let edges = row["edges"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|e| {
                            (
                                e["to"].as_str().unwrap_or_default().to_string(),
                                e["weight"].as_u64().unwrap_or(0) as u32,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            (row["user"].as_str().unwrap_or_default().to_string(), edges)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_every_role_and_the_copier_shares_the_copied_shard() {
        let nodes = catalogue(3);
        assert_eq!(nodes.len(), 9);
        let copier = nodes.iter().find(|n| n.role == Role::Copier).unwrap();
        assert_eq!(copier.shard, nodes[0].shard);
        let mut shards: Vec<usize> = nodes
            .iter()
            .filter(|n| n.role != Role::Copier)
            .map(|n| n.shard)
            .collect();
        shards.sort();
        shards.dedup();
        assert_eq!(shards.len(), 8, "every other node has a shard of its own");
        for n in &nodes {
            assert!(n.account.parse::<Name>().is_ok(), "{}", n.account);
        }
        let ratio: BTreeMap<String, f64> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.account.clone(), i as f64))
            .collect();
        // Honest nodes 0..3 held-out 4.0 -> 3.0 + i; node 1 did not answer.
        let held_out: BTreeMap<String, (Option<f64>, Option<f64>)> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let end = (i != 1).then_some(3.0 + i as f64);
                (n.account.clone(), (Some(4.0), end))
            })
            .collect();
        let text = summary(200_000, &nodes, &ratio, &held_out);
        assert!(
            text.starts_with("{\"max_self_weight\": 0.2, \"honest\": "),
            "{text}"
        );
        let line: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(line["copied"], 0.0);
        assert_eq!(line["honest"], 1.5);
        assert_eq!(line["ring"], 7.5);
        assert_eq!(line["max_self_weight"], 0.2);
        // The mean over the honest nodes that answered (0 and 2).
        let losses = &line["honest_held_out_loss"];
        assert_eq!(
            (losses[0].as_f64(), losses[1].as_f64()),
            (Some(4.0), Some(4.0))
        );
    }
}
