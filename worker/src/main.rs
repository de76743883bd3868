//! `bittensor-worker`: run a node (`run`), measure embedding quality (`eval`) and
//! training throughput (`bench`, `bench --vs-gensim`), train and export word vectors
//! (`export`), score a vector file (`evaluate`), run the network experiment on real text
//! (`experiment`), or write a generated corpus (`gen-corpus`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use bittensor_worker::chain::eos::EosChain;
use bittensor_worker::config::Config;
use bittensor_worker::corpus::{Corpus, SHIPPED_SEED, SHIPPED_TOKENS};
use bittensor_worker::model::baseline;
use bittensor_worker::model::vectors::{self, Format, Vectors};
use bittensor_worker::model::w2v::{self, W2vParams};
use bittensor_worker::model::{self, ExperimentConfig, ModelConfig, DEFAULT_BATCH};
use bittensor_worker::node::bench::{live_throughput, vs_gensim, SpeedRow};

/// Command line of the worker.
#[derive(Parser)]
#[command(name = "bittensor-worker", version, about = "BitTensor worker node")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The worker's subcommands.
#[derive(Subcommand)]
enum Command {
    /// Run a node: train with peers, serve embeddings, post attributions on chain.
    Run(Box<RunArgs>),
    /// Quality experiment: nodes on corpus shards, alone vs. with peers.
    Eval(EvalArgs),
    /// Training throughput: plain skip-gram, model alone, model with peers.
    Bench(BenchArgs),
    /// Write a generated corpus (text8 format) to a file.
    GenCorpus(GenArgs),
    /// Train word2vec on a corpus and write the vectors (word2vec text or finalfusion).
    Export(ExportArgs),
    /// Score a vector file: WordSim-353, SimLex-999 (Spearman), Google analogies (3CosAdd).
    Evaluate(EvaluateArgs),
    /// The network experiment on real text: nodes alone, with peers, peers only, centralised.
    Experiment(ExperimentArgs),
}

/// word2vec settings; every unset flag takes the default of `W2vParams`.
#[derive(Args, Clone)]
struct W2vArgs {
    /// Corpus: plain UTF-8 text (lower-cased, split on whitespace) or a text8 zip.
    #[arg(long, default_value = ".data/wiki.txt")]
    corpus: PathBuf,
    /// Embedding dimension.
    #[arg(long)]
    dim: Option<usize>,
    /// Context window (shrunk at random per position).
    #[arg(long)]
    window: Option<usize>,
    /// Negative samples per pair.
    #[arg(long)]
    negatives: Option<usize>,
    /// Words seen fewer times are dropped.
    #[arg(long)]
    min_count: Option<u64>,
    /// Subsampling threshold.
    #[arg(long)]
    sample: Option<f64>,
    /// Starting learning rate.
    #[arg(long)]
    alpha: Option<f64>,
    /// Passes over the corpus.
    #[arg(long)]
    epochs: Option<usize>,
    /// Seed.
    #[arg(long)]
    seed: Option<u64>,
}

impl W2vArgs {
    fn params(&self) -> W2vParams {
        let d = W2vParams::default();
        W2vParams {
            dim: self.dim.unwrap_or(d.dim),
            window: self.window.unwrap_or(d.window),
            negatives: self.negatives.unwrap_or(d.negatives),
            min_count: self.min_count.unwrap_or(d.min_count),
            sample: self.sample.unwrap_or(d.sample),
            alpha: self.alpha.unwrap_or(d.alpha),
            epochs: self.epochs.unwrap_or(d.epochs),
            seed: self.seed.unwrap_or(d.seed),
            ..d
        }
    }
}

/// `export` flags.
#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    w2v: W2vArgs,
    /// Output file: `.fifu` writes finalfusion, anything else word2vec text.
    #[arg(long)]
    out: PathBuf,
}

/// Evaluation set locations (gensim's test data, copied by `scripts/setup`).
#[derive(Args, Clone)]
struct EvalSets {
    /// WordSim-353 pairs.
    #[arg(long, default_value = ".data/wordsim353.tsv")]
    wordsim: PathBuf,
    /// SimLex-999 pairs.
    #[arg(long, default_value = ".data/simlex999.txt")]
    simlex: PathBuf,
    /// Google analogy questions.
    #[arg(long, default_value = ".data/questions-words.txt")]
    analogies: PathBuf,
}

/// `evaluate` flags.
#[derive(Args)]
struct EvaluateArgs {
    /// Vector file (word2vec text; `.fifu` for finalfusion).
    file: PathBuf,
    #[command(flatten)]
    sets: EvalSets,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// `experiment` flags.
#[derive(Args)]
struct ExperimentArgs {
    #[command(flatten)]
    w2v: W2vArgs,
    #[command(flatten)]
    sets: EvalSets,
    /// Nodes, each on its own contiguous shard of the corpus.
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// Seeds to run (the table shows mean and spread).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Scale of the gradients sent upstream (times the sender's rate).
    #[arg(long, default_value_t = 1.0)]
    grad_scale: f32,
    /// Skip the gensim and fastText rows.
    #[arg(long)]
    no_baselines: bool,
    /// Python with gensim (default: .venv/bin/python).
    #[arg(long)]
    python: Option<PathBuf>,
}

/// `run` flags; each overrides the config file.
#[derive(Args)]
struct RunArgs {
    /// TOML config file (see worker.example.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Chain account of this node.
    #[arg(long)]
    account: Option<String>,
    /// File holding the WIF private key (the key itself never goes on the command line;
    /// BITTENSOR_WORKER_KEY may hold it instead).
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// nodeos HTTP endpoint, or several of one chain separated by commas (failover in order).
    #[arg(long)]
    chain_url: Option<String>,
    /// Account holding the bittensor contract.
    #[arg(long)]
    contract: Option<String>,
    /// Peer server listen address (port 0 = any free port).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Corpus file (text or text8 zip).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Upstream peer slots k.
    #[arg(long)]
    peers: Option<usize>,
    /// Seed of the model, batch order and peer choice.
    #[arg(long)]
    seed: Option<u64>,
    /// Steps to train (0 = until stopped).
    #[arg(long)]
    steps: Option<u64>,
    /// Seconds between emits.
    #[arg(long)]
    emit_interval: Option<f64>,
    /// Stake moved in at subscribe, e.g. "10.0000 BIT".
    #[arg(long)]
    stake: Option<String>,
    /// This node's corpus shard, as INDEX/COUNT (e.g. 0/3).
    #[arg(long)]
    shard: Option<String>,
    /// File written with {"listen": ADDR} once the server listens.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Directory of the node's checkpoint (saved periodically and at shutdown, resumed at start).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// `eval` flags.
#[derive(Args)]
struct EvalArgs {
    /// Experiment seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Training steps per node.
    #[arg(long)]
    steps: Option<usize>,
    /// Generated corpus length.
    #[arg(long)]
    tokens: Option<usize>,
    /// Nodes (corpus shards).
    #[arg(long)]
    shards: Option<usize>,
    /// libtorch intra-op threads (0 = libtorch default; 1 keeps reductions in one order).
    #[arg(long, default_value_t = 1)]
    threads: i32,
}

/// `bench` flags.
#[derive(Args)]
struct BenchArgs {
    /// Timed steps per configuration.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Pairs per batch.
    #[arg(long, default_value_t = DEFAULT_BATCH)]
    batch: usize,
    /// Peer inputs for the "with peers" row.
    #[arg(long, default_value_t = ModelConfig::default().peers)]
    peers: usize,
    /// Vocabulary size.
    #[arg(long, default_value_t = ModelConfig::default().vocab)]
    vocab: i64,
    /// libtorch intra-op threads (0 = libtorch default).
    #[arg(long, default_value_t = 1)]
    threads: i32,
    /// Instead: gensim, fastText and this project's word2vec cores (plain, with peers in
    /// process and over HTTP/2) on one real corpus, words/s and ratios from one run.
    #[arg(long)]
    vs_gensim: bool,
    #[command(flatten)]
    w2v: W2vArgs,
    /// Python with gensim (default: .venv/bin/python).
    #[arg(long)]
    python: Option<PathBuf>,
}

/// `gen-corpus` arguments; the defaults regenerate the shipped `worker/data/synthetic.txt`.
#[derive(Args)]
struct GenArgs {
    /// Output file.
    out: PathBuf,
    /// Generator seed.
    #[arg(long, default_value_t = SHIPPED_SEED)]
    seed: u64,
    /// Tokens to generate.
    #[arg(long, default_value_t = SHIPPED_TOKENS)]
    tokens: usize,
}

fn apply_flags(cfg: &mut Config, a: RunArgs) -> anyhow::Result<()> {
    if let Some(v) = a.account {
        cfg.node.account = v;
    }
    if let Some(v) = a.key_file {
        cfg.node.key_file = Some(v);
    }
    if let Some(v) = a.chain_url {
        cfg.chain.url = v;
    }
    if let Some(v) = a.contract {
        cfg.chain.contract = v;
    }
    if let Some(v) = a.listen {
        cfg.node.listen = v;
    }
    if let Some(v) = a.corpus {
        cfg.model.corpus = Some(v);
    }
    if let Some(v) = a.peers {
        cfg.model.peers = v;
    }
    if let Some(v) = a.seed {
        cfg.node.seed = v;
    }
    if let Some(v) = a.steps {
        cfg.node.steps = v;
    }
    if let Some(v) = a.emit_interval {
        cfg.chain.emit_interval_secs = v;
    }
    if let Some(v) = a.stake {
        cfg.chain.stake = v;
    }
    if let Some(v) = a.ready_file {
        cfg.node.ready_file = Some(v);
    }
    if let Some(v) = a.data_dir {
        cfg.node.data_dir = Some(v);
    }
    if let Some(v) = a.shard {
        let (i, n) = v
            .split_once('/')
            .and_then(|(i, n)| Some((i.parse().ok()?, n.parse().ok()?)))
            .with_context(|| format!("--shard {v:?} is not INDEX/COUNT"))?;
        cfg.model.shard = i;
        cfg.model.shards = n;
    }
    Ok(())
}

async fn run(a: RunArgs) -> anyhow::Result<()> {
    let mut cfg = match &a.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    apply_flags(&mut cfg, a)?;
    cfg.validate()?;
    let key = cfg.signing_key()?;
    let chain = EosChain::new(
        &cfg.chain.url,
        &cfg.chain.contract,
        &cfg.node.account,
        key.clone(),
    )
    .map_err(anyhow::Error::msg)?;
    bittensor_worker::node::run(cfg, key, Arc::new(chain)).await
}

fn eval(a: EvalArgs) -> anyhow::Result<()> {
    if a.threads > 0 {
        tch::set_num_threads(a.threads);
    }
    let mut cfg = ExperimentConfig {
        seed: a.seed,
        ..ExperimentConfig::default()
    };
    if let Some(v) = a.steps {
        cfg.steps = v;
    }
    if let Some(v) = a.tokens {
        cfg.corpus_tokens = v;
    }
    if let Some(v) = a.shards {
        cfg.shards = v;
    }
    tracing::info!(?cfg, "running quality experiment");
    let r = model::quality_experiment(&cfg)?;
    println!("quality experiment (same-class neighbour fraction; higher is better)");
    println!(
        "  shards: {}, tokens per shard: {}",
        cfg.shards, r.shard_tokens
    );
    println!("  chance:     {:.4}", r.chance);
    println!("  alone:      {:.4}", r.alone);
    println!("  with peers: {:.4}", r.with_peers);
    println!(
        "  final loss (alone, with peers): {:.4}, {:.4}",
        r.final_loss.0, r.final_loss.1
    );
    println!("  peers help: {}", r.peers_help());
    Ok(())
}

fn bench_vs_gensim(a: &BenchArgs) -> anyhow::Result<()> {
    let params = a.w2v.params();
    let python = a.python.clone().unwrap_or_else(baseline::default_python);
    let rows = vs_gensim(&a.w2v.corpus, &params, a.peers, &python)?;
    println!(
        "word2vec skip-gram on {} (dim {}, window {}, {} negatives, min_count {}, sample {}, {} epochs), one thread each:",
        a.w2v.corpus.display(), params.dim, params.window, params.negatives, params.min_count, params.sample, params.epochs
    );
    let find = |key: &str, f: fn(&SpeedRow) -> f64| {
        rows.iter()
            .find(|r| r.name.contains(key))
            .map(f)
            .unwrap_or(0.0)
    };
    let (gensim_wall, gensim_cpu) = (
        find("gensim", |r| r.words_per_sec),
        find("gensim", |r| r.words_per_cpu_sec),
    );
    let (plain_wall, plain_cpu) = (
        find("plain", |r| r.words_per_sec),
        find("plain", |r| r.words_per_cpu_sec),
    );
    println!(
        "  {:<50} {:>10} {:>12} {:>9} {:>9} {:>9} {:>9}",
        "trainer", "words/s", "words/cpu-s", "x gensim", "(cpu)", "x plain", "(cpu)"
    );
    for r in &rows {
        println!(
            "  {:<50} {:>10.0} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            r.name,
            r.words_per_sec,
            r.words_per_cpu_sec,
            r.words_per_sec / gensim_wall.max(1e-9),
            r.words_per_cpu_sec / gensim_cpu.max(1e-9),
            r.words_per_sec / plain_wall.max(1e-9),
            r.words_per_cpu_sec / plain_cpu.max(1e-9)
        );
    }
    println!("  (words/s: wall clock; words/cpu-s: CPU time of the trainer's process, all threads, the fair figure on a shared machine)");
    Ok(())
}

fn export(a: ExportArgs) -> anyhow::Result<()> {
    let params = a.w2v.params();
    let corpus = Corpus::load_with(&a.w2v.corpus, params.min_count, usize::MAX)
        .with_context(|| format!("loading {}", a.w2v.corpus.display()))?;
    let counts = corpus.vocab.counts();
    tracing::info!(
        tokens = corpus.ids.len(),
        vocab = counts.len() - 1,
        ?params,
        "training word2vec"
    );
    let mut model = w2v::Word2Vec::new(counts, &params)?;
    let r = w2v::fit(&mut model, &corpus.ids, counts, &params)?;
    let vectors = Vectors::from_vocab(corpus.vocab.words(), params.dim, &model.syn0)?;
    match Format::of_path(&a.out) {
        Format::Finalfusion => vectors::save_finalfusion(&vectors, &a.out)?,
        Format::Word2vecText => vectors::save_word2vec_text(&vectors, &a.out)?,
    }
    println!(
        "trained {} words in {:.1} s ({:.0} words/s); wrote {} vectors of dim {} to {}",
        r.words,
        r.seconds,
        r.words_per_sec(),
        vectors.words().len(),
        vectors.dim(),
        a.out.display()
    );
    Ok(())
}

fn evaluate(a: EvaluateArgs) -> anyhow::Result<()> {
    let v = vectors::load_word2vec_text(&a.file)
        .with_context(|| format!("loading {}", a.file.display()))?;
    let scores = vectors::Scores::of(&v, &a.sets.wordsim, &a.sets.simlex, &a.sets.analogies)?;
    if a.json {
        println!("{}", serde_json::to_string(&scores)?);
    } else {
        println!(
            "{} ({} words, dim {}):",
            a.file.display(),
            v.words().len(),
            v.dim()
        );
        println!("{scores}");
    }
    Ok(())
}

fn experiment(a: ExperimentArgs) -> anyhow::Result<()> {
    let settings = w2v::NetworkSettings {
        corpus: a.w2v.corpus.clone(),
        params: a.w2v.params(),
        nodes: a.nodes,
        seeds: a.seeds,
        grad_scale: a.grad_scale,
        wordsim: a.sets.wordsim.clone(),
        simlex: a.sets.simlex.clone(),
        analogies: a.sets.analogies.clone(),
        python: (!a.no_baselines)
            .then(|| a.python.clone().unwrap_or_else(baseline::default_python)),
    };
    let table = w2v::network_experiment(&settings)?;
    println!("{table}");
    Ok(())
}

fn bench(a: BenchArgs) -> anyhow::Result<()> {
    if a.vs_gensim {
        return bench_vs_gensim(&a);
    }
    if a.threads > 0 {
        tch::set_num_threads(a.threads);
    }
    let cfg = ModelConfig {
        vocab: a.vocab,
        peers: a.peers,
        ..ModelConfig::default()
    };
    tracing::info!(steps = a.steps, batch = a.batch, "measuring throughput");
    let r = model::eval::throughput_report(&cfg, a.steps, a.batch)?;
    println!("{r}");
    if a.peers > 0 {
        tracing::info!(
            peers = a.peers,
            "measuring the training loop with live HTTP/2 peers"
        );
        let live = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting tokio")?
            .block_on(live_throughput(&cfg, a.steps as u64, a.batch))?;
        println!(
            "  node loop, {} live HTTP/2 loopback peers: {:>10.0} pairs/s  ({:.2}x plain, {:.2}x in-process peers; {} peer failures)",
            a.peers,
            live.pairs_per_sec,
            live.pairs_per_sec / r.plain.max(1e-9),
            live.pairs_per_sec / r.with_peers.max(1e-9),
            live.peer_failures
        );
        print_auth_cost(&cfg, a.batch, Some(live.pairs_per_sec))?;
    } else {
        print_auth_cost(&cfg, a.batch, None)?;
    }
    Ok(())
}

/// Signing and verification of peer traffic: time per operation and the share of a step.
fn print_auth_cost(
    cfg: &ModelConfig,
    batch: usize,
    live_pairs_per_sec: Option<f64>,
) -> anyhow::Result<()> {
    use bittensor_worker::peer::cost::auth_cost;
    let c = auth_cost(2_000, batch, cfg.out_dim as usize).context("measuring signing")?;
    println!(
        "  peer authentication (K1, {batch} ids per request, [{batch}, {}] answers):",
        cfg.out_dim
    );
    println!(
        "    sign request {:.1} us, verify request {:.1} us, sign answer {:.1} us, verify answer {:.1} us",
        c.sign_request_us, c.verify_request_us, c.sign_answer_us, c.verify_answer_us
    );
    println!(
        "    per peer per step (signed forward and answer, signed backward; both sides): {:.0} us, i.e. {:.0} peer steps/s per core",
        c.per_peer_step_us(),
        1e6 / c.per_peer_step_us().max(1e-9)
    );
    if let Some(rate) = live_pairs_per_sec {
        let step_us = batch as f64 / rate.max(1e-9) * 1e6;
        println!(
            "    with {} peers: {:.0} us of crypto per {:.0} us step of the live loop ({:.1}% of its time, summed over both sides)",
            cfg.peers,
            c.per_peer_step_us() * cfg.peers as f64,
            step_us,
            100.0 * c.per_peer_step_us() * cfg.peers as f64 / step_us
        );
    }
    Ok(())
}

fn gen_corpus(a: GenArgs) -> anyhow::Result<()> {
    let corpus = Corpus::generate(a.seed, a.tokens);
    corpus
        .write_text(&a.out)
        .with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "wrote {} tokens ({} words in the vocabulary) to {}",
        corpus.ids.len(),
        corpus.vocab.len(),
        a.out.display()
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    bittensor_logging::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting tokio")
            .and_then(|rt| rt.block_on(run(*a))),
        Command::Eval(a) => eval(a),
        Command::Bench(a) => bench(a),
        Command::GenCorpus(a) => gen_corpus(a),
        Command::Export(a) => export(a),
        Command::Evaluate(a) => evaluate(a),
        Command::Experiment(a) => experiment(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
