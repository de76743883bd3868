//! The network experiment on real text, on real nodes: N `bittensor-worker run` processes,
//! each given only its own contiguous shard (a file cut from a prefix of one corpus, lines
//! kept) and the network's vocabulary (that of the whole prefix, pinned by the local
//! experiment chain the processes share), exchanging over their peer sessions on loopback.
//! When every node says its training is done, each is asked (a session as its own account)
//! to export what it serves, and those vectors are scored.
//!
//! Rows, scored together with paired bootstrap 95 % intervals ([`ScoreTable`]):
//! - `alone`: the plain model on each node's shard (mean over nodes; a node's words it never
//!   saw are out of vocabulary for it);
//! - `networked`: what each node process serves (mean over nodes);
//! - `centralised`: the plain model on the whole prefix;
//! - `gensim`, `fasttext`: the reference trainers with our settings on the whole prefix;
//! - `gensim_own`, `fasttext_own`: the same with their own defaults.
//!
//! With several seeds, every seed's models are members of their row.
//!
//! - [`setup`]: shards, vocabulary, keys, the chain's roster and each node's configuration;
//! - [`nodes`]: the worker processes, their progress, the export, the stop;
//! - [`rows`]: the rows trained in this process.
//! - [`compare`]: the plain core against the reference trainers on one text (how the
//!   defaults are chosen).

pub mod compare;
pub mod nodes;
pub mod rows;
pub mod setup;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::ModelSection;
use crate::corpus::{write_shards, Corpus};
use crate::model::vectors::{ScoreTable, Vectors};
use crate::model::w2v::{machine_threads, Precision, W2vParams, CHUNK_WORDS};

/// The differences every experiment reports.
pub const DIFFS: [(&str, &str); 3] = [
    ("networked", "centralised"),
    ("networked", "alone"),
    ("centralised", "gensim"),
];

/// The rows in table order.
const ROWS: [&str; 7] = [
    "alone",
    "networked",
    "centralised",
    "gensim",
    "fasttext",
    "gensim_own",
    "fasttext_own",
];

/// What [`run`] runs.
#[derive(Debug, Clone)]
pub struct ExperimentSettings {
    /// The corpus file.
    pub corpus: PathBuf,
    /// Train on this many tokens of the corpus (its prefix); None = all.
    pub max_tokens: Option<usize>,
    /// Training settings of every model (its seed is the first seed).
    pub params: W2vParams,
    /// Nodes N (each has the N - 1 others as upstreams).
    pub nodes: usize,
    /// Seeds run: `params.seed .. params.seed + seeds`.
    pub seeds: u64,
    /// Sparse-update exchanges per epoch of a node's shard (None: the node's default).
    pub syncs_per_epoch: Option<usize>,
    /// Largest L2 change one peer's update may make to one row (None: the node's default).
    pub max_row_norm: Option<f32>,
    /// Fraction of its residual's rows a node sends per round (None: the node's default).
    pub top_fraction: Option<f32>,
    /// Element type of the values a node sends (None: the node's default).
    pub precision: Option<Precision>,
    /// WordSim-353 file.
    pub wordsim: PathBuf,
    /// SimLex-999 file.
    pub simlex: PathBuf,
    /// Python with gensim for the baselines (None = no gensim / fastText rows).
    pub python: Option<PathBuf>,
    /// The `bittensor-worker` binary the nodes run.
    pub worker: PathBuf,
}

/// The experiment's result: its scale and the scored table.
#[derive(Debug, Clone)]
pub struct ExperimentTable {
    /// The settings.
    pub settings: ExperimentSettings,
    /// Tokens of the whole prefix.
    pub tokens: usize,
    /// Tokens per shard.
    pub shard_tokens: Vec<usize>,
    /// Vocabulary size (without `<unk>`).
    pub vocab: usize,
    /// The exchange settings the nodes ran with: exchanges per epoch, row bound, top
    /// fraction, element type.
    pub exchange: (usize, f32, f32, Precision),
    /// What the nodes' exchange did (summed over nodes and seeds): rounds, peer updates
    /// applied, refused, copies, missed, row deltas clipped.
    pub exchanged: [u64; 6],
    /// The scores.
    pub table: ScoreTable,
}

/// The exchange settings of the nodes (the node's defaults where none is given) and the
/// `[model]` lines that set them.
fn exchange(s: &ExperimentSettings) -> ((usize, f32, f32, Precision), String) {
    let d = ModelSection::default();
    let syncs = s.syncs_per_epoch.unwrap_or(d.syncs_per_epoch);
    let bound = s.max_row_norm.unwrap_or(d.max_row_norm);
    let top = s.top_fraction.unwrap_or(d.update_top_fraction);
    let precision = s.precision.unwrap_or(d.update_precision);
    (
        (syncs, bound, top, precision),
        format!(
            "syncs_per_epoch = {syncs}\nmax_row_norm = {bound:?}\nupdate_top_fraction = {top:?}\nupdate_precision = \"{}\"\n",
            precision.name()
        ),
    )
}

/// Runs the experiment (see the module docs) in a fresh directory, removed afterwards
/// unless the run failed (the nodes' logs are there).
pub fn run(s: &ExperimentSettings) -> anyhow::Result<ExperimentTable> {
    if s.nodes < 2 || s.nodes > setup::MAX_NODES || s.seeds == 0 {
        anyhow::bail!("need 2 to {} nodes and at least 1 seed", setup::MAX_NODES);
    }
    if s.syncs_per_epoch == Some(0) {
        anyhow::bail!("--syncs-per-epoch must be at least 1");
    }
    if s.top_fraction.is_some_and(|f| !(f > 0.0 && f <= 1.0)) {
        anyhow::bail!("--top-fraction must be in (0, 1]");
    }
    if s.max_row_norm.is_some_and(|b| !(b.is_finite() && b > 0.0)) {
        anyhow::bail!("--max-row-norm must be positive");
    }
    s.params.validate().map_err(anyhow::Error::msg)?;
    let tmp = std::env::temp_dir().join(format!("bittensor-experiment-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    match run_in(s, &tmp) {
        Ok(t) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(t)
        }
        Err(e) => Err(e.context(format!("the run's files are kept in {}", tmp.display()))),
    }
}

fn run_in(s: &ExperimentSettings, tmp: &Path) -> anyhow::Result<ExperimentTable> {
    let (whole_path, shard_paths) = write_shards(&s.corpus, s.max_tokens, s.nodes, tmp)
        .with_context(|| format!("cutting {} into {} shards", s.corpus.display(), s.nodes))?;
    let whole = Corpus::load_with(&whole_path, s.params.min_count, usize::MAX)?;
    let shards: Vec<Corpus> = shard_paths
        .iter()
        .map(|p| Corpus::load_in(p, &whole.vocab))
        .collect::<Result<_, _>>()?;
    let (vocab_path, hash, words) = setup::write_vocab(&whole, tmp)?;
    let shard_tokens: Vec<usize> = shards.iter().map(|c| c.ids.len()).collect();
    let (exchange, model_extra) = exchange(s);
    let mut rows: Vec<(String, Vec<Vectors>)> =
        ROWS.iter().map(|n| (n.to_string(), Vec::new())).collect();
    let mut push = |name: &str, v: Vectors| {
        if let Some(r) = rows.iter_mut().find(|r| r.0 == name) {
            r.1.push(v);
        }
    };
    let mut exchanged = [0u64; 6];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    for seed in s.params.seed..s.params.seed + s.seeds {
        let params = W2vParams {
            seed,
            ..s.params.clone()
        };
        let dir = tmp.join(format!("seed-{seed}"));
        std::fs::create_dir_all(&dir)?;
        let template = setup::NodeTemplate {
            params: params.clone(),
            nodes: s.nodes,
            threads: (machine_threads() / s.nodes).max(1),
            model_extra: model_extra.clone(),
        };
        let files =
            setup::write_network(&dir, &shard_paths, (&vocab_path, &hash, words), &template)?;
        tracing::info!(seed, nodes = s.nodes, dir = %dir.display(), "starting the node processes");
        let mut net =
            nodes::Network::start(&s.worker, &files, &shard_tokens, CHUNK_WORDS, params.epochs)?;
        net.wait_ready()?;
        let done = rt.block_on(net.wait_done(&format!("seed {seed}")))?;
        let mut this_seed = [0u64; 6];
        for p in &done {
            for (sum, n) in this_seed.iter_mut().zip(p.exchange) {
                *sum += n;
            }
        }
        check_exchanged(seed, s.nodes, &this_seed)?;
        for (sum, n) in exchanged.iter_mut().zip(this_seed) {
            *sum += n;
        }
        let served = rt.block_on(net.export_served())?;
        net.stop();
        for v in served {
            push("networked", v);
        }
        tracing::info!(seed, "training each shard alone");
        for v in rows::alone(&shards, whole.vocab.words(), &params)? {
            push("alone", v);
        }
        tracing::info!(seed, "training the centralised model");
        push("centralised", rows::centralised(&whole, &params)?);
        if let Some(python) = &s.python {
            tracing::info!(
                seed,
                "training gensim and fastText, ours and their own settings"
            );
            for (name, v) in rows::baselines(python, &whole_path, &params, &dir)? {
                push(name, v);
            }
        }
    }
    rows.retain(|(_, members)| !members.is_empty());
    let diffs: Vec<(&str, &str)> = DIFFS
        .iter()
        .copied()
        .filter(|(a, b)| rows.iter().any(|r| r.0 == *a) && rows.iter().any(|r| r.0 == *b))
        .collect();
    let table = ScoreTable::score(&rows, &diffs, &s.wordsim, &s.simlex, s.params.seed)?;
    Ok(ExperimentTable {
        settings: s.clone(),
        tokens: whole.ids.len(),
        shard_tokens,
        vocab: whole.vocab.len() - 1,
        exchange,
        exchanged,
        table,
    })
}

/// Fails when the nodes of a seed had rounds to exchange in (more than one each) and none
/// applied a single peer update: the `networked` row would then be N shards trained alone.
fn check_exchanged(seed: u64, nodes: usize, exchanged: &[u64; 6]) -> anyhow::Result<()> {
    let [rounds, applied, refused, copied, missed, _] = *exchanged;
    if applied == 0 && rounds > nodes as u64 {
        anyhow::bail!(
            "seed {seed}: no node applied a peer update in {rounds} rounds ({refused} refused, \
             {copied} copies, {missed} missed): the exchange did not work (see the nodes' logs)"
        );
    }
    Ok(())
}

impl fmt::Display for ExperimentTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        let p = &s.params;
        writeln!(
            f,
            "network experiment: {} worker processes on {} tokens of {} (shards {:?} tokens; vocabulary {}), dim {}, window {}, sample {}, alpha {}, {} epochs, seeds {}..{}",
            s.nodes,
            self.tokens,
            s.corpus.display(),
            self.shard_tokens,
            self.vocab,
            p.dim,
            p.window,
            p.sample,
            p.alpha,
            p.epochs,
            p.seed,
            p.seed + s.seeds - 1
        )?;
        writeln!(
            f,
            "networked: what each node process serves; {} exchanges per epoch, row bound {}, top {} of the rows in {}; all nodes: {} rounds, peer updates {} applied, {} refused, {} copies, {} missed; {} row deltas clipped to the bound",
            self.exchange.0,
            self.exchange.1,
            self.exchange.2,
            self.exchange.3.name(),
            self.exchanged[0],
            self.exchanged[1],
            self.exchanged[2],
            self.exchanged[3],
            self.exchanged[4],
            self.exchanged[5]
        )?;
        writeln!(
            f,
            "Spearman with paired bootstrap 95% intervals over the pairs; a node's unseen words are out of vocabulary"
        )?;
        write!(f, "{}", self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::check_exchanged;

    #[test]
    fn a_run_whose_nodes_exchanged_nothing_is_an_error() {
        let err = check_exchanged(3, 4, &[120, 0, 7, 0, 0, 0]).unwrap_err();
        assert!(
            err.to_string()
                .contains("seed 3: no node applied a peer update in 120 rounds (7 refused"),
            "{err}"
        );
        assert!(check_exchanged(3, 4, &[120, 1, 0, 0, 0, 0]).is_ok());
        // One round a node (too short to exchange anything) is not an error.
        assert!(check_exchanged(3, 4, &[4, 0, 0, 0, 0, 0]).is_ok());
    }
}
