//! The network experiment on real text: N nodes, each on its own contiguous shard of one
//! corpus (the vocabulary is the whole corpus's, as every node of a network shares it).
//!
//! Rows, each scored on WordSim-353, SimLex-999 and the Google analogies, mean over nodes:
//! - alone: the plain model on the node's shard;
//! - with peers (live): all N peer-aware models train at once, chunk by chunk in turn, each
//!   fed the other N-1 nodes' *current* served vectors and sending them its gradients;
//!   scored on what each node serves (the serving path a downstream node receives);
//!   Beside it, the same live nodes scored on their own rows only (`syn0`) and on the gated
//!   peer part only (served minus `syn0`): where the served score comes from;
//! - with peers, no gradients: the same with the backward calls dropped (what the
//!   gradients do to the upstream nodes);
//! - peers only: the concatenation of the other nodes' alone vectors (each row unit length),
//!   without the node itself;
//! - centralised: the plain model on the whole corpus; gensim and fastText likewise.
//!
//! Repeated for several seeds; the table shows the mean and the spread (min to max).

use std::fmt;
use std::path::PathBuf;

use super::peered::{ChunkPlan, PeerW2v};
use super::sampling::{Lcg, Subsampler};
use super::schedule::{chunks, fit};
use super::{W2vParams, Word2Vec};
use crate::corpus::Corpus;
use crate::model::vectors::{load_word2vec_text, Scores, Vectors};
use crate::model::{baseline, ModelError};

/// What [`network_experiment`] runs.
#[derive(Debug, Clone)]
pub struct NetworkSettings {
    /// The corpus file.
    pub corpus: PathBuf,
    /// Training settings of every model (its seed is the first seed).
    pub params: W2vParams,
    /// Nodes N (k = N - 1 peers each).
    pub nodes: usize,
    /// Seeds run: `params.seed .. params.seed + seeds`.
    pub seeds: u64,
    /// Scale of the gradients sent upstream (times the sender's rate).
    pub grad_scale: f32,
    /// WordSim-353 file.
    pub wordsim: PathBuf,
    /// SimLex-999 file.
    pub simlex: PathBuf,
    /// Google analogy file.
    pub analogies: PathBuf,
    /// Python with gensim for the baselines (None = no gensim / fastText rows).
    pub python: Option<PathBuf>,
}

/// The rows of the table, in order.
pub const ROWS: [&str; 9] = [
    "node alone (own shard)",
    "node with peers, live, gradients on",
    "  its own rows only (syn0, no peer part)",
    "  its gated peer part only (served - syn0)",
    "node with peers, live, no gradients",
    "peers only (concatenated, without the node)",
    "centralised (one model, all shards)",
    "gensim Word2Vec, all shards",
    "fastText skipgram, all shards",
];

/// Scores per row and seed.
#[derive(Debug, Clone)]
pub struct NetworkTable {
    /// The settings.
    pub settings: NetworkSettings,
    /// Tokens per shard.
    pub shard_tokens: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// `rows[r]` holds one [`Scores`] per seed (empty when the row was not run).
    pub rows: Vec<Vec<Scores>>,
}

fn evaluate(s: &NetworkSettings, v: &Vectors) -> Result<Scores, ModelError> {
    Scores::of(v, &s.wordsim, &s.simlex, &s.analogies)
}

fn mean_scores(all: &[Scores]) -> Scores {
    let n = all.len().max(1) as f64;
    let m = |f: fn(&Scores) -> f64| all.iter().map(f).sum::<f64>() / n;
    Scores {
        wordsim: m(|s| s.wordsim),
        wordsim_oov: m(|s| s.wordsim_oov),
        simlex: m(|s| s.simlex),
        simlex_oov: m(|s| s.simlex_oov),
        analogy: m(|s| s.analogy),
        analogy_oov: m(|s| s.analogy_oov),
    }
}

/// One node of the live run: its model and where it is in its shard.
struct Live {
    model: PeerW2v,
    shard: Vec<i64>,
    rng: Lcg,
    chunk: usize,
    words: u64,
}

/// Trains N peer-aware nodes together (see the module docs); returns the models.
pub fn train_live(
    corpus: &Corpus,
    params: &W2vParams,
    nodes: usize,
    grad_scale: f32,
) -> Result<Vec<PeerW2v>, ModelError> {
    let counts = corpus.vocab.counts();
    let sub = Subsampler::new(counts, params.sample);
    let k = nodes - 1;
    let mut live: Vec<Live> = (0..nodes)
        .map(|i| {
            let p = W2vParams {
                seed: params.seed.wrapping_mul(1000).wrapping_add(i as u64),
                ..params.clone()
            };
            Ok(Live {
                model: PeerW2v::new(counts, &p, k)?,
                shard: corpus.shard(i, nodes).ids,
                rng: Lcg::new(p.seed.wrapping_add(1)),
                chunk: 0,
                words: 0,
            })
        })
        .collect::<Result<_, ModelError>>()?;
    let per_epoch: Vec<usize> = live.iter().map(|l| chunks(&l.shard).len()).collect();
    let rounds = per_epoch.iter().max().copied().unwrap_or(0) * params.epochs;
    let mut sentence = Vec::new();
    for round in 0..rounds {
        for i in 0..nodes {
            let n_chunks = per_epoch[i];
            if live[i].chunk >= n_chunks * params.epochs || n_chunks == 0 {
                continue;
            }
            let total = (live[i].shard.len() * params.epochs).max(1) as f64;
            let alpha = params.alpha_at(live[i].words as f64 / total);
            let c = live[i].chunk % n_chunks;
            let chunk: Vec<i64> = chunks(&live[i].shard).nth(c).unwrap_or(&[]).to_vec();
            sub.filter(&chunk, &mut live[i].rng, &mut sentence);
            let plan = ChunkPlan::new(sentence.clone());
            let ids = plan.ids();
            let peers: Vec<usize> = (1..nodes).map(|o| (i + o) % nodes).collect();
            let served: Vec<Vec<f32>> = peers
                .iter()
                .map(|&j| live[j].model.serve(&ids))
                .collect::<Result<_, _>>()?;
            let views: Vec<Option<&[f32]>> = served.iter().map(|v| Some(v.as_slice())).collect();
            let me = &mut live[i];
            let out = me.model.train_chunk(&plan, &views, alpha, &mut me.rng)?;
            me.chunk += 1;
            me.words += chunk.len() as u64;
            if grad_scale > 0.0 {
                for (slot, &j) in peers.iter().enumerate() {
                    if let Some(g) = &out.peer_grads[slot] {
                        live[j]
                            .model
                            .apply_remote_grad(&ids, g, alpha * grad_scale)?;
                    }
                }
            }
        }
        if round % 50 == 0 {
            tracing::debug!(round, rounds, "live network training");
        }
    }
    Ok(live.into_iter().map(|l| l.model).collect())
}

fn concat_peers(alone: &[Vectors], i: usize) -> Result<Vectors, ModelError> {
    let n = alone.len();
    let words = alone[0].words().to_vec();
    let d = alone[0].dim();
    let units: Vec<Vec<f32>> = (1..n).map(|o| alone[(i + o) % n].unit_rows()).collect();
    let mut data = Vec::with_capacity(words.len() * d * units.len());
    for w in 0..words.len() {
        for u in &units {
            data.extend_from_slice(&u[w * d..(w + 1) * d]);
        }
    }
    Vectors::new(words, d * units.len(), data)
}

/// Runs the experiment (see the module docs).
pub fn network_experiment(s: &NetworkSettings) -> Result<NetworkTable, ModelError> {
    if s.nodes < 2 || s.seeds == 0 {
        return Err(ModelError::Config(
            "need at least 2 nodes and 1 seed".into(),
        ));
    }
    let corpus = Corpus::load_with(&s.corpus, s.params.min_count, usize::MAX)
        .map_err(|e| ModelError::Config(e.to_string()))?;
    let counts = corpus.vocab.counts().to_vec();
    let words = corpus.vocab.words();
    let mut rows: Vec<Vec<Scores>> = vec![Vec::new(); ROWS.len()];
    let tmp = std::env::temp_dir().join(format!("bittensor-experiment-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| ModelError::Io {
        path: tmp.clone(),
        source: e,
    })?;
    for seed in s.params.seed..s.params.seed + s.seeds {
        let params = W2vParams {
            seed,
            ..s.params.clone()
        };
        tracing::info!(seed, "training each node alone");
        let mut alone = Vec::new();
        for i in 0..s.nodes {
            let p = W2vParams {
                seed: seed.wrapping_mul(1000).wrapping_add(i as u64),
                ..params.clone()
            };
            let mut m = Word2Vec::new(&counts, &p)?;
            fit(&mut m, &corpus.shard(i, s.nodes).ids, &counts, &p)?;
            alone.push(Vectors::from_vocab(words, p.dim, &m.syn0)?);
        }
        let per_node = |vs: &[Vectors]| -> Result<Scores, ModelError> {
            let all: Vec<Scores> = vs
                .iter()
                .map(|v| evaluate(s, v))
                .collect::<Result<_, _>>()?;
            Ok(mean_scores(&all))
        };
        rows[0].push(per_node(&alone)?);
        for (row, scale) in [(1, s.grad_scale), (4, 0.0)] {
            tracing::info!(
                seed,
                grad_scale = scale,
                "training the nodes together, live"
            );
            let models = train_live(&corpus, &params, s.nodes, scale)?;
            let served: Vec<Vectors> = models
                .iter()
                .map(|m| Vectors::from_vocab(words, m.dim, &m.served_table()))
                .collect::<Result<_, _>>()?;
            rows[row].push(per_node(&served)?);
            if row == 1 {
                // Where the served score comes from: the node's own rows, and the rest.
                let own: Vec<Vectors> = models
                    .iter()
                    .map(|m| Vectors::from_vocab(words, m.dim, &m.syn0))
                    .collect::<Result<_, _>>()?;
                rows[2].push(per_node(&own)?);
                let peer_part: Vec<Vectors> = models
                    .iter()
                    .map(|m| {
                        let part: Vec<f32> = m
                            .served_table()
                            .iter()
                            .zip(&m.syn0)
                            .map(|(h, x)| h - x)
                            .collect();
                        Vectors::from_vocab(words, m.dim, &part)
                    })
                    .collect::<Result<_, _>>()?;
                rows[3].push(per_node(&peer_part)?);
            }
        }
        let concat: Vec<Vectors> = (0..s.nodes)
            .map(|i| concat_peers(&alone, i))
            .collect::<Result<_, _>>()?;
        rows[5].push(per_node(&concat)?);
        tracing::info!(seed, "training the centralised model");
        let mut central = Word2Vec::new(&counts, &params)?;
        fit(&mut central, &corpus.ids, &counts, &params)?;
        rows[6].push(evaluate(
            s,
            &Vectors::from_vocab(words, params.dim, &central.syn0)?,
        )?);
        if let Some(python) = &s.python {
            tracing::info!(seed, "training gensim");
            let g = baseline::gensim(python, &s.corpus, &params, &tmp.join("gensim.txt"))?;
            rows[7].push(evaluate(s, &load_word2vec_text(&g.vectors)?)?);
            if baseline::fasttext_available() {
                tracing::info!(seed, "training fastText");
                let f = baseline::fasttext(&s.corpus, &params, 0, &tmp.join("ft"))?;
                rows[8].push(evaluate(s, &load_word2vec_text(&f.vectors)?)?);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(NetworkTable {
        settings: s.clone(),
        shard_tokens: corpus.ids.len() / s.nodes,
        vocab: counts.len() - 1,
        rows,
    })
}

impl fmt::Display for NetworkTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        let p = &s.params;
        writeln!(
            f,
            "network experiment: {} nodes x {} tokens of {} (vocabulary {}), dim {}, window {}, {} epochs, seeds {}..{}",
            s.nodes,
            self.shard_tokens,
            s.corpus.display(),
            self.vocab,
            p.dim,
            p.window,
            p.epochs,
            p.seed,
            p.seed + s.seeds - 1
        )?;
        writeln!(
            f,
            "mean over nodes, then mean [min..max] over seeds; OOV: WordSim {:.1}%, SimLex {:.1}%, analogy {:.1}%",
            self.rows[0].first().map(|x| x.wordsim_oov).unwrap_or(0.0),
            self.rows[0].first().map(|x| x.simlex_oov).unwrap_or(0.0),
            self.rows[0].first().map(|x| x.analogy_oov).unwrap_or(0.0)
        )?;
        writeln!(
            f,
            "| {:<44} | {:^21} | {:^21} | {:^21} |",
            "model", "WordSim-353", "SimLex-999", "analogy"
        )?;
        writeln!(f, "|{:-<46}|{:-<23}|{:-<23}|{:-<23}|", "", "", "", "")?;
        let cell = |v: Vec<f64>| {
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{mean:.3} [{lo:.3}..{hi:.3}]")
        };
        for (name, scores) in ROWS.iter().zip(&self.rows) {
            if scores.is_empty() {
                continue;
            }
            writeln!(
                f,
                "| {:<44} | {:^21} | {:^21} | {:^21} |",
                name,
                cell(scores.iter().map(|x| x.wordsim).collect()),
                cell(scores.iter().map(|x| x.simlex).collect()),
                cell(scores.iter().map(|x| x.analogy).collect())
            )?;
        }
        Ok(())
    }
}
