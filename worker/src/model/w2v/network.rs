//! The network experiment on real text: N nodes, each given only its own contiguous shard
//! (a file of its own, cut from a prefix of one corpus, lines kept), sharing the network's
//! vocabulary (that of the whole prefix, as the network's booter pins it) and counting their
//! own words for subsampling and negatives.
//!
//! Rows, scored together with paired bootstrap 95 % intervals ([`ScoreTable`]); a node's
//! words it never saw are out of vocabulary for that node:
//! - `alone`: the plain model on the node's shard (mean over nodes);
//! - `networked`: what each node serves after training with its peers (mean over nodes);
//! - `centralised`: the plain model on the whole prefix;
//! - `gensim`, `fasttext`: the reference trainers with our settings on the whole prefix;
//! - `gensim_own`, `fasttext_own`: the same with their own defaults.
//!
//! With several seeds, every seed's models are members of their row.

use std::fmt;
use std::path::{Path, PathBuf};

use super::schedule::fit;
use super::shared_space::{train_exchanging, ExchangeSettings, ExchangeStats};
use super::{W2vParams, Word2Vec};
use crate::corpus::{write_shards, Corpus};
use crate::model::vectors::{load_word2vec_text, ScoreTable, Vectors};
use crate::model::{baseline, ModelError};

/// What [`network_experiment`] runs.
#[derive(Debug, Clone)]
pub struct NetworkSettings {
    /// The corpus file.
    pub corpus: PathBuf,
    /// Train on this many tokens of the corpus (its prefix); None = all.
    pub max_tokens: Option<usize>,
    /// Training settings of every model (its seed is the first seed).
    pub params: W2vParams,
    /// Nodes N (k = N - 1 peers each).
    pub nodes: usize,
    /// Seeds run: `params.seed .. params.seed + seeds`.
    pub seeds: u64,
    /// How the networked nodes exchange their sparse updates.
    pub exchange: ExchangeSettings,
    /// WordSim-353 file.
    pub wordsim: PathBuf,
    /// SimLex-999 file.
    pub simlex: PathBuf,
    /// Python with gensim for the baselines (None = no gensim / fastText rows).
    pub python: Option<PathBuf>,
}

/// The differences every experiment reports.
pub const DIFFS: [(&str, &str); 3] = [
    ("networked", "centralised"),
    ("networked", "alone"),
    ("centralised", "gensim"),
];

/// The experiment's result: its scale and the scored table.
#[derive(Debug, Clone)]
pub struct NetworkTable {
    /// The settings.
    pub settings: NetworkSettings,
    /// Tokens of the whole prefix.
    pub tokens: usize,
    /// Tokens per shard.
    pub shard_tokens: Vec<usize>,
    /// Vocabulary size (without `<unk>`).
    pub vocab: usize,
    /// The last seed's exchange counters.
    pub exchange: ExchangeStats,
    /// The scores.
    pub table: ScoreTable,
}

/// A node's own vectors: the words it never counted are left out (out of vocabulary).
fn own_vectors(
    words: &[String],
    dim: usize,
    table: &[f32],
    shard: &Corpus,
) -> Result<Vectors, ModelError> {
    Vectors::from_vocab_seen(words, dim, table, shard.vocab.counts())
}

fn io_dir(dir: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: dir.to_path_buf(),
        source,
    }
}

/// Runs the experiment (see the module docs).
pub fn network_experiment(s: &NetworkSettings) -> Result<NetworkTable, ModelError> {
    if s.nodes < 2 || s.seeds == 0 {
        return Err(ModelError::Config(
            "need at least 2 nodes and 1 seed".into(),
        ));
    }
    let tmp = std::env::temp_dir().join(format!("bittensor-experiment-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(io_dir(&tmp))?;
    let result = run_experiment(s, &tmp);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn run_experiment(s: &NetworkSettings, tmp: &Path) -> Result<NetworkTable, ModelError> {
    let cfg = |e: crate::corpus::CorpusError| ModelError::Config(e.to_string());
    let (whole, shard_paths) = write_shards(&s.corpus, s.max_tokens, s.nodes, tmp).map_err(cfg)?;
    let corpus = Corpus::load_with(&whole, s.params.min_count, usize::MAX).map_err(cfg)?;
    let shards: Vec<Corpus> = shard_paths
        .iter()
        .map(|p| Corpus::load_in(p, &corpus.vocab))
        .collect::<Result<_, _>>()
        .map_err(cfg)?;
    let counts = corpus.vocab.counts().to_vec();
    let words = corpus.vocab.words();
    let mut rows: Vec<(String, Vec<Vectors>)> = [
        "alone",
        "networked",
        "centralised",
        "gensim",
        "fasttext",
        "gensim_own",
        "fasttext_own",
    ]
    .iter()
    .map(|n| (n.to_string(), Vec::new()))
    .collect();
    let mut exchange = ExchangeStats::default();
    for seed in s.params.seed..s.params.seed + s.seeds {
        let params = W2vParams {
            seed,
            ..s.params.clone()
        };
        tracing::info!(
            seed,
            nodes = s.nodes,
            "training each node alone on its shard"
        );
        for (i, shard) in shards.iter().enumerate() {
            let p = W2vParams {
                seed: seed.wrapping_mul(1000).wrapping_add(i as u64),
                ..params.clone()
            };
            let own = shard.vocab.counts();
            let mut m = Word2Vec::new(own, &p)?;
            fit(&mut m, &shard.ids, own, &p)?;
            rows[0].1.push(own_vectors(words, p.dim, &m.syn0, shard)?);
        }
        tracing::info!(
            seed,
            syncs_per_epoch = s.exchange.syncs_per_epoch,
            "training the nodes together"
        );
        let (models, stats) = train_exchanging(&shards, &params, &s.exchange, None)?;
        tracing::info!(?stats, "exchange done");
        exchange = stats;
        for m in &models {
            rows[1].1.push(Vectors::from_vocab(words, m.dim, &m.syn0)?);
        }
        tracing::info!(seed, "training the centralised model");
        let mut central = Word2Vec::new(&counts, &params)?;
        fit(&mut central, &corpus.ids, &counts, &params)?;
        rows[2]
            .1
            .push(Vectors::from_vocab(words, params.dim, &central.syn0)?);
        if let Some(python) = &s.python {
            tracing::info!(seed, "training gensim, ours and its own settings");
            let g = baseline::gensim(python, &whole, &params, &tmp.join("gensim.txt"))?;
            rows[3].1.push(load_word2vec_text(&g.vectors)?);
            let own = W2vParams {
                seed,
                ..W2vParams::default()
            };
            let g = baseline::gensim(python, &whole, &own, &tmp.join("gensim-own.txt"))?;
            rows[5].1.push(load_word2vec_text(&g.vectors)?);
            if baseline::fasttext_available() {
                tracing::info!(seed, "training fastText, ours and its own settings");
                let f = baseline::fasttext(&whole, &params, 0, &tmp.join("ft"))?;
                rows[4].1.push(load_word2vec_text(&f.vectors)?);
                let f = baseline::fasttext_own(&whole, seed, &tmp.join("ft-own"))?;
                rows[6].1.push(load_word2vec_text(&f)?);
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
    Ok(NetworkTable {
        settings: s.clone(),
        tokens: corpus.ids.len(),
        shard_tokens: shards.iter().map(|c| c.ids.len()).collect(),
        vocab: counts.len() - 1,
        exchange,
        table,
    })
}

impl fmt::Display for NetworkTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        let p = &s.params;
        writeln!(
            f,
            "network experiment: {} nodes on {} tokens of {} (shards {:?} tokens; vocabulary {}), dim {}, window {}, sample {}, alpha {}, {} epochs, seeds {}..{}",
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
            "networked: {} exchanges per epoch, {:?}, row bound {}, top {} of the residual's rows in {:?}; {} rounds, {} rows applied ({} clipped), {:.1} MB sent ({:.0} kB per round per peer)",
            s.exchange.syncs_per_epoch,
            s.exchange.aggregate,
            s.exchange.bound.max_row_norm,
            s.exchange.compression.top_fraction,
            s.exchange.compression.precision,
            self.exchange.rounds,
            self.exchange.rows,
            self.exchange.clipped,
            self.exchange.bytes as f64 / 1e6,
            self.exchange.bytes as f64
                / 1e3
                / (self.exchange.rounds.max(1) * (s.nodes * s.nodes.saturating_sub(1)).max(1) as u64)
                    as f64
        )?;
        writeln!(
            f,
            "Spearman with paired bootstrap 95% intervals over the pairs; a node's unseen words are out of vocabulary"
        )?;
        write!(f, "{}", self.table)
    }
}
