//! `bittensor-worker`: run a node (`run`), measure training throughput (`bench`, `bench
//! --vs-gensim`), export word vectors (`export`: a fresh model, a node's checkpoint or a
//! running node), score a vector file (`evaluate`), run the network experiment on real text
//! (`experiment`), or write a generated corpus (`gen-corpus`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use bittensor_worker::chain::eos::EosChain;
use bittensor_worker::config::Config;
use bittensor_worker::corpus::{Corpus, VocabFile, SHIPPED_SEED, SHIPPED_TOKENS};
use bittensor_worker::model::baseline;
use bittensor_worker::model::vectors::{self, Format, Vectors};
use bittensor_worker::model::w2v::{self, W2vParams};
use bittensor_worker::node::bench::{live_node, vs_gensim, SpeedRow};
use bittensor_worker::node::export::write_embeddings;
use bittensor_worker::peer::client::PeerClient;
use bittensor_worker::peer::Limits;

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
    /// Training throughput of the node loop with live peers (or, with --vs-gensim, every
    /// trainer against gensim and fastText on real text).
    Bench(BenchArgs),
    /// Write a generated corpus (text8 format) to a file.
    GenCorpus(GenArgs),
    /// Write the network's vocabulary file from a text (the booter's step) and print the
    /// hash and word count that `setvocab` pins on chain.
    Vocab(VocabArgs),
    /// Write word vectors: a fresh word2vec model (--out), a node's checkpoint
    /// (--checkpoint), or a running node's (--node; it writes its own files).
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
    /// Output file of a freshly trained model: `.fifu` writes finalfusion, anything else
    /// word2vec text.
    #[arg(long, required_unless_present_any = ["checkpoint", "node"])]
    out: Option<PathBuf>,
    /// Instead: a node's checkpoint (`<data_dir>/<account>.model`); writes its served and
    /// input embeddings, each as word2vec text and finalfusion, into --out-dir.
    #[arg(long, conflicts_with_all = ["out", "node"])]
    checkpoint: Option<PathBuf>,
    /// Directory of the --checkpoint export (default: `export/` next to the checkpoint).
    #[arg(long, requires = "checkpoint")]
    out_dir: Option<PathBuf>,
    /// Instead: ask the running node whose peer server is at this address (on this host,
    /// e.g. 127.0.0.1:7001) to write its embeddings into its export directory.
    #[arg(long, conflicts_with = "out")]
    node: Option<String>,
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
    /// Seeds to run (each seed's models are members of their row).
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Train on this many tokens of the corpus (its prefix).
    #[arg(long)]
    max_tokens: Option<usize>,
    /// Print one JSON line (rows and differences with their intervals) after the table.
    #[arg(long)]
    json: bool,
    /// Sparse-update exchanges per epoch of a node's shard (0: one init, no exchange).
    #[arg(long, default_value_t = 16)]
    syncs_per_epoch: usize,
    /// How a node combines a round's updates.
    #[arg(long, value_enum, default_value_t = w2v::Aggregate::Sum)]
    aggregate: w2v::Aggregate,
    /// Largest L2 change one peer's update may make to one row of one table.
    #[arg(long, default_value_t = w2v::DEFAULT_MAX_ROW_NORM)]
    max_row_norm: f32,
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

/// `bench` flags.
#[derive(Args)]
struct BenchArgs {
    /// Timed steps of the node loop (the live-peer bench; --vs-gensim trains 5 epochs).
    #[arg(long, default_value_t = 40)]
    steps: u64,
    /// Tokens per step of the node loop (the node's default).
    #[arg(long, default_value_t = w2v::CHUNK_WORDS)]
    chunk_words: usize,
    /// Live upstream peers.
    #[arg(long, default_value_t = 3)]
    peers: usize,
    /// Tokens of the generated corpus the live-peer bench trains on.
    #[arg(long, default_value_t = 400_000)]
    tokens: usize,
    /// Instead: gensim, fastText and this project's word2vec trainers (plain, with peers in
    /// process, and the node loop with live HTTP/2 peers) on one real corpus, words/s and
    /// ratios from one run.
    #[arg(long)]
    vs_gensim: bool,
    #[command(flatten)]
    w2v: W2vArgs,
    /// Python with gensim (default: .venv/bin/python).
    #[arg(long)]
    python: Option<PathBuf>,
}

/// `vocab` flags.
#[derive(Args)]
struct VocabArgs {
    /// Text the vocabulary is built from.
    #[arg(long)]
    corpus: PathBuf,
    /// Words seen fewer times are left out.
    #[arg(long, default_value_t = W2vParams::default().min_count)]
    min_count: u64,
    /// Most words kept.
    #[arg(long, default_value_t = 100_000)]
    max_vocab: usize,
    /// Output file (one word a line).
    #[arg(long)]
    out: PathBuf,
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
    println!("  (words/s: wall clock; words/cpu-s: CPU time of the trainer's process, all threads, the fair figure on a shared machine;");
    println!("   the live peers run in this process: 'whole process' counts their CPU too, 'the node's CPU' leaves their threads out)");
    Ok(())
}

fn export(a: ExportArgs) -> anyhow::Result<()> {
    if let Some(node) = &a.node {
        return export_from_node(node);
    }
    if let Some(path) = &a.checkpoint {
        return export_checkpoint(path, a.out_dir.as_deref());
    }
    let out = a.out.context("--out is required")?;
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
    match Format::of_path(&out) {
        Format::Finalfusion => vectors::save_finalfusion(&vectors, &out)?,
        Format::Word2vecText => vectors::save_word2vec_text(&vectors, &out)?,
    }
    println!(
        "trained {} words in {:.1} s ({:.0} words/s); wrote {} vectors of dim {} to {}",
        r.words,
        r.seconds,
        r.words_per_sec(),
        vectors.words().len(),
        vectors.dim(),
        out.display()
    );
    Ok(())
}

/// Writes a checkpoint's served and input embeddings.
fn export_checkpoint(
    path: &std::path::Path,
    out_dir: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let saved = w2v::SavedW2v::load(path).with_context(|| format!("reading {}", path.display()))?;
    let words = saved.words.clone();
    let model = saved.into_model(&W2vParams::default())?;
    let dir = match out_dir {
        Some(d) => d.to_path_buf(),
        None => path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("export"),
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "node".into());
    let files = write_embeddings(&dir, &stem, &words, &model)?;
    println!(
        "wrote the served and input embeddings of {} ({} words, dim {}, {} peer slots):",
        path.display(),
        words.len() - 1,
        model.dim,
        model.peers
    );
    for f in files {
        println!("  {}", f.display());
    }
    Ok(())
}

/// Asks a running node on this host to export (`POST /export`).
fn export_from_node(node: &str) -> anyhow::Result<()> {
    let base = if node.starts_with("http://") {
        node.to_string()
    } else {
        format!("http://{node}")
    };
    let client = PeerClient::new(std::time::Duration::from_secs(120), Limits::default());
    let files = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting tokio")?
        .block_on(client.export(&base))
        .with_context(|| format!("asking {base} to export"))?;
    println!("{base} wrote:");
    for f in files {
        println!("  {f}");
    }
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
        max_tokens: a.max_tokens,
        params: a.w2v.params(),
        nodes: a.nodes,
        seeds: a.seeds,
        exchange: w2v::ExchangeSettings {
            syncs_per_epoch: a.syncs_per_epoch,
            aggregate: a.aggregate,
            bound: w2v::UpdateBound {
                max_row_norm: a.max_row_norm,
                max_rows: usize::MAX,
            },
        },
        wordsim: a.sets.wordsim.clone(),
        simlex: a.sets.simlex.clone(),
        python: (!a.no_baselines)
            .then(|| a.python.clone().unwrap_or_else(baseline::default_python)),
    };
    let table = w2v::network_experiment(&settings)?;
    println!("{table}");
    if a.json {
        println!("{}", table.table.json());
    }
    Ok(())
}

fn bench(a: BenchArgs) -> anyhow::Result<()> {
    if a.vs_gensim {
        return bench_vs_gensim(&a);
    }
    let params = a.w2v.params();
    let corpus = Corpus::generate(params.seed, a.tokens);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting tokio")?;
    println!(
        "node loop on a generated corpus ({} tokens, vocabulary {}), dim {}, window {}, {} negatives, {} steps of {} tokens:",
        corpus.ids.len(),
        corpus.vocab.len(),
        params.dim,
        params.window,
        params.negatives,
        a.steps,
        a.chunk_words
    );
    tracing::info!("the node loop without peers");
    let alone = rt.block_on(live_node(&corpus, &params, 0, a.chunk_words, a.steps, 1.0))?;
    let mut rows = vec![("no peers".to_string(), alone.clone())];
    if a.peers > 0 {
        tracing::info!(peers = a.peers, "the node loop with live HTTP/2 peers");
        let live = rt.block_on(live_node(
            &corpus,
            &params,
            a.peers,
            a.chunk_words,
            a.steps,
            1.0,
        ))?;
        rows.push((format!("{} live HTTP/2 loopback peers", a.peers), live));
    }
    println!(
        "  {:<34} {:>10} {:>12} {:>11} {:>9} {:>9}",
        "peers", "words/s", "words/cpu-s", "pairs/s", "x alone", "(cpu)"
    );
    for (name, r) in &rows {
        println!(
            "  {:<34} {:>10.0} {:>12.0} {:>11.0} {:>9.2} {:>9.2}  ({} peer failures; upstream served vectors moved {:.2e} RMS)",
            name,
            r.words_per_sec(),
            r.words_per_cpu_sec(),
            r.pairs_per_sec(),
            r.words_per_sec() / alone.words_per_sec().max(1e-9),
            r.words_per_cpu_sec() / alone.words_per_cpu_sec().max(1e-9),
            r.peer_failures,
            r.upstream_moved
        );
    }
    let ids = distinct_per_chunk(&corpus, &params, a.chunk_words);
    let step_us = rows
        .last()
        .map(|(_, r)| r.seconds * 1e6 / a.steps.max(1) as f64);
    print_auth_cost(ids, params.dim, a.peers, step_us)
}

/// Mean distinct words of a subsampled chunk: the ids of one peer request.
fn distinct_per_chunk(corpus: &Corpus, params: &W2vParams, chunk_words: usize) -> usize {
    let Ok(mut planner) =
        w2v::Planner::new(&corpus.ids, corpus.vocab.counts(), params, chunk_words)
    else {
        return 0;
    };
    let n = planner.chunks_per_epoch().clamp(1, 20);
    let total: usize = (0..n)
        .filter_map(|_| planner.next_chunk())
        .map(|c| w2v::ChunkPlan::new(c.sentence).distinct.len())
        .sum();
    total / n as usize
}

/// Signing and verification of peer traffic: time per operation and the share of a step.
fn print_auth_cost(
    ids: usize,
    dim: usize,
    peers: usize,
    step_us: Option<f64>,
) -> anyhow::Result<()> {
    use bittensor_worker::peer::cost::auth_cost;
    let c = auth_cost(200, ids.max(1), dim).context("measuring signing")?;
    println!("  peer authentication (K1, {ids} ids per request, [{ids}, {dim}] answers):");
    println!(
        "    sign request {:.1} us, verify request {:.1} us, sign answer {:.1} us, verify answer {:.1} us",
        c.sign_request_us, c.verify_request_us, c.sign_answer_us, c.verify_answer_us
    );
    println!(
        "    per peer per step (signed forward and answer, signed backward; both sides): {:.0} us",
        c.per_peer_step_us()
    );
    if let Some(step_us) = step_us.filter(|_| peers > 0) {
        println!(
            "    with {peers} peers: {:.0} us of crypto per {:.0} us step of the live loop ({:.1}% of its time, summed over both sides)",
            c.per_peer_step_us() * peers as f64,
            step_us,
            100.0 * c.per_peer_step_us() * peers as f64 / step_us.max(1e-9)
        );
    }
    Ok(())
}

fn vocab(a: VocabArgs) -> anyhow::Result<()> {
    let corpus = Corpus::load_with(&a.corpus, a.min_count, a.max_vocab)
        .with_context(|| format!("loading {}", a.corpus.display()))?;
    let hash = VocabFile::write(&corpus.vocab, &a.out)
        .with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "{}",
        serde_json::json!({"hash": hash, "words": corpus.vocab.len() - 1, "file": a.out})
    );
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
        Command::Bench(a) => bench(a),
        Command::GenCorpus(a) => gen_corpus(a),
        Command::Vocab(a) => vocab(a),
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
