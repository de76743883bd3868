//! `bittensor-worker`: run a node (`run`), measure training throughput (`bench`, `bench
//! --vs-gensim`), export word vectors (`export`: a fresh model, a node's checkpoint or a
//! running node), score a vector file (`evaluate`), run the network experiment on real text
//! (`experiment`), or write a generated corpus (`gen-corpus`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use bittensor_worker::chain::connect;
use bittensor_worker::config::Config;
use bittensor_worker::corpus::{Corpus, VocabFile, SHIPPED_SEED, SHIPPED_TOKENS};
use bittensor_worker::model::baseline;
use bittensor_worker::model::vectors::{self, Format, Vectors};
use bittensor_worker::model::w2v::{self, W2vParams};
use bittensor_worker::node::bench::{distinct_per_chunk, live_node, vs_gensim, Around};
use bittensor_worker::node::bench_format;
use bittensor_worker::node::export::write_embeddings;
use bittensor_worker::node::export_request::{node_base, request_export};

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
    #[command(after_long_help = RUN_HELP)]
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
    /// The plain core against gensim and fastText (ours and their own settings) on one
    /// text or one part of it, scored together: how the defaults are chosen and checked.
    Compare(CompareArgs),
    /// The network experiment on real text: N worker processes on private shards (what each
    /// serves), each shard alone, one model on all of it, gensim and fastText.
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
    /// Threads of the --out training (default: the machine's cores; 1 is deterministic for
    /// a seed).
    #[arg(long, requires = "out", value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
    /// Instead: a node's checkpoint (`<data_dir>/<account>.model`); writes its served and
    /// input embeddings, each as word2vec text and finalfusion, into --out-dir.
    #[arg(long, conflicts_with_all = ["out", "node"])]
    checkpoint: Option<PathBuf>,
    /// Directory of the --checkpoint export (default: `export/` next to the checkpoint).
    #[arg(long, requires = "checkpoint")]
    out_dir: Option<PathBuf>,
    /// Instead: ask the running node whose peer server is at this address (e.g.
    /// 127.0.0.1:7001) to write its embeddings into its export directory; only the node's
    /// own key may ask, so --config names the node's configuration (account, key, chain).
    #[arg(long, conflicts_with = "out", requires = "config")]
    node: Option<String>,
    /// The running node's configuration file (with --node).
    #[arg(long, requires = "node")]
    config: Option<PathBuf>,
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

/// `compare` flags.
#[derive(Args)]
struct CompareArgs {
    #[command(flatten)]
    w2v: W2vArgs,
    #[command(flatten)]
    sets: EvalSets,
    /// Train on part I of N contiguous parts of the corpus (by tokens), e.g. 1/2.
    #[arg(long, default_value = "1/1")]
    part: String,
    /// Train on this many tokens of the part (its prefix).
    #[arg(long)]
    max_tokens: Option<usize>,
    /// Print one JSON line (rows and differences with their intervals) after the table.
    #[arg(long)]
    json: bool,
    /// Skip the gensim and fastText rows.
    #[arg(long)]
    no_baselines: bool,
    /// Python with gensim (default: .venv/bin/python).
    #[arg(long)]
    python: Option<PathBuf>,
}

/// `experiment` flags.
#[derive(Args)]
struct ExperimentArgs {
    #[command(flatten)]
    w2v: W2vArgs,
    #[command(flatten)]
    sets: EvalSets,
    /// Nodes: worker processes, each on its own contiguous shard of the corpus.
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
    /// Sparse-update exchanges per epoch of a node's shard (default: the node's,
    /// `model.syncs_per_epoch`).
    #[arg(long)]
    syncs_per_epoch: Option<usize>,
    /// Largest L2 change one peer's update may make to one row of one table (default: the
    /// node's, `model.max_row_norm`).
    #[arg(long)]
    max_row_norm: Option<f32>,
    /// Fraction of its residual's rows a node sends per round (default: the node's,
    /// `model.update_top_fraction`).
    #[arg(long)]
    top_fraction: Option<f32>,
    /// Element type of the values a node sends (default: the node's,
    /// `model.update_precision`).
    #[arg(long, value_enum)]
    precision: Option<w2v::Precision>,
    /// Skip the gensim and fastText rows.
    #[arg(long)]
    no_baselines: bool,
    /// Python with gensim (default: .venv/bin/python).
    #[arg(long)]
    python: Option<PathBuf>,
}

/// What an operator needs beyond the flags (`run --help`).
const RUN_HELP: &str = "\
Configuration: every flag overrides the TOML file given with --config; worker/worker.example.toml
documents every key. For a public chain set at least:
  node.account         your chain account (it needs RAM for its rows, CPU/NET stake and BIT for
                       chain.stake; the contract account's operator funds it)
  node.key_file        a file (chmod 600) holding the WIF key of the account's active permission,
                       or the BITTENSOR_WORKER_KEY variable; never a command-line flag
  node.listen          the address the peer server binds (e.g. 0.0.0.0:7001); open this TCP port
  node.advertise       the public IP other nodes dial (published on chain; only public
                       addresses are dialled unless peer.allow_* says otherwise)
  chain.url            one or more nodeos API URLs, comma-separated, tried in order
  chain.contract       the account holding the bittensor contract
  model.corpus         the text this node trains on: every node of a network must use the same
                       file (the vocabulary is checked with each peer); .data/wiki.txt is the
                       Wikipedia extract scripts/setup prepares. Without it the node trains on
                       a generated test corpus and says so in its first log lines.
The node logs the text it trains on at start, then progress every node.log_every steps;
GET /status on its peer port reports steps, loss, emits and the last chain error.
Stop it with SIGINT or SIGTERM: it emits a last time and unsubscribes (stake back to its balance).";

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
    /// Corpus file (UTF-8 text or text8 zip), the same on every node of the network,
    /// e.g. .data/wiki.txt (scripts/setup prepares it); overrides model.corpus.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Upstream peer slots k.
    #[arg(long)]
    peers: Option<usize>,
    /// Training threads (default: the machine's cores; 1 is deterministic for a seed).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
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
    /// process, and the node loop with live session peers) on one real corpus, words/s and
    /// ratios from one run.
    #[arg(long)]
    vs_gensim: bool,
    /// Instead: the node on one thread serving honest downstreams, quietly and under a flood
    /// of forged handshakes and greedy requests (success rate, CPU per step, bytes per step).
    #[arg(long, conflicts_with = "vs_gensim")]
    flood: bool,
    /// With --vs-gensim: end with one JSON line of the figures and the goals' ratios.
    #[arg(long, requires = "vs_gensim")]
    json: bool,
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
    if let Some(v) = a.threads {
        cfg.model.threads = v.into();
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
    let chain = connect(&cfg, key.clone())?;
    bittensor_worker::node::run(cfg, key, chain).await
}

fn bench_vs_gensim(a: &BenchArgs) -> anyhow::Result<()> {
    let params = a.w2v.params();
    let python = a.python.clone().unwrap_or_else(baseline::default_python);
    let run = vs_gensim(&a.w2v.corpus, &params, a.peers, &python)?;
    print!(
        "{}",
        bench_format::vs_gensim_table(&run, &a.w2v.corpus.display().to_string(), &params)
    );
    if a.json {
        println!("{}", bench_format::vs_gensim_json(&run));
    }
    Ok(())
}

fn export(a: ExportArgs) -> anyhow::Result<()> {
    if let (Some(node), Some(config)) = (&a.node, &a.config) {
        return export_from_node(node, config);
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
    let opts = w2v::FitOptions {
        threads: a.threads.map_or_else(w2v::machine_threads, usize::from),
        ..w2v::FitOptions::default()
    };
    let r = w2v::fit_with(&mut model, &corpus.ids, counts, &params, opts)?;
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
        "wrote the served and input embeddings of {} ({} words, dim {}):",
        path.display(),
        words.len() - 1,
        model.dim,
    );
    for f in files {
        println!("  {}", f.display());
    }
    Ok(())
}

/// Asks a running node to export (a session as its own account) and lists what it wrote.
fn export_from_node(node: &str, config: &std::path::Path) -> anyhow::Result<()> {
    let cfg = Config::load(config)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    let files = rt.block_on(request_export(node, &cfg))?;
    println!("{} wrote:", node_base(node));
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
    let settings = bittensor_worker::experiment::ExperimentSettings {
        corpus: a.w2v.corpus.clone(),
        max_tokens: a.max_tokens,
        params: a.w2v.params(),
        nodes: a.nodes,
        seeds: a.seeds,
        syncs_per_epoch: a.syncs_per_epoch,
        max_row_norm: a.max_row_norm,
        top_fraction: a.top_fraction,
        precision: a.precision,
        wordsim: a.sets.wordsim.clone(),
        simlex: a.sets.simlex.clone(),
        python: (!a.no_baselines)
            .then(|| a.python.clone().unwrap_or_else(baseline::default_python)),
        worker: std::env::current_exe().context("locating this binary (the nodes run it)")?,
    };
    let table = bittensor_worker::experiment::run(&settings)?;
    println!("{table}");
    if a.json {
        println!("{}", table.table.json());
    }
    Ok(())
}

fn compare(a: CompareArgs) -> anyhow::Result<()> {
    use bittensor_worker::experiment::compare::{compare, parse_part, CompareSettings};
    let s = CompareSettings {
        corpus: a.w2v.corpus.clone(),
        part: parse_part(&a.part)?,
        max_tokens: a.max_tokens,
        params: a.w2v.params(),
        wordsim: a.sets.wordsim.clone(),
        simlex: a.sets.simlex.clone(),
        python: (!a.no_baselines)
            .then(|| a.python.clone().unwrap_or_else(baseline::default_python)),
    };
    let (tokens, table) = compare(&s)?;
    let p = &s.params;
    println!(
        "{} part {} ({} tokens): dim {}, window {}, negatives {}, sample {}, alpha {}, {} epochs, seed {}",
        s.corpus.display(),
        a.part,
        tokens,
        p.dim,
        p.window,
        p.negatives,
        p.sample,
        p.alpha,
        p.epochs,
        p.seed
    );
    print!("{table}");
    if a.json {
        println!("{}", table.json());
    }
    Ok(())
}

fn bench(a: BenchArgs) -> anyhow::Result<()> {
    if a.vs_gensim {
        return bench_vs_gensim(&a);
    }
    if a.flood {
        let params = a.w2v.params();
        let corpus = Corpus::generate(params.seed, a.tokens);
        let report = bittensor_worker::node::bench_flood::flood_bench(
            &corpus,
            &params,
            a.chunk_words,
            a.steps.max(200),
        )?;
        println!("{report}");
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
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
    let none = Around {
        upstreams: 0,
        downstreams: 0,
    };
    let alone = rt.block_on(live_node(&corpus, &params, none, a.chunk_words, a.steps))?;
    let mut rows = vec![("no peers".to_string(), alone.clone())];
    if a.peers > 0 {
        tracing::info!(peers = a.peers, "the node loop with live session peers");
        let around = Around {
            upstreams: a.peers,
            downstreams: a.peers,
        };
        let live = rt.block_on(live_node(&corpus, &params, around, a.chunk_words, a.steps))?;
        rows.push((
            format!("{0} up / {0} down live session loopback peers", a.peers),
            live,
        ));
    }
    print!("{}", bench_format::live_table(&rows));
    let ids = distinct_per_chunk(&corpus, &params, a.chunk_words);
    let step_us = rows
        .last()
        .map(|(_, r)| r.seconds * 1e6 / a.steps.max(1) as f64);
    print_auth_cost(ids, params.dim, a.peers, step_us)
}

/// Signing and verification of peer traffic: time per operation and the share of a step.
fn print_auth_cost(
    ids: usize,
    dim: usize,
    peers: usize,
    step_us: Option<f64>,
) -> anyhow::Result<()> {
    use bittensor_worker::peer::cost::auth_cost;
    let c = auth_cost(50, ids.max(1), dim).context("measuring the peer channel")?;
    print!(
        "{}",
        bench_format::auth_cost_lines(&c, ids, dim, peers, step_us)
    );
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
        Command::Compare(a) => compare(a),
        Command::Experiment(a) => experiment(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // A failure caused by the signal guard stopping the experiment's nodes is the
            // signal's: the guard exits with 128 + the signal.
            localnet::yield_to_signal_guard();
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
