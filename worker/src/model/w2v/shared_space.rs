//! Learning across shards: nodes start from one initialisation and, every `1/syncs` of an
//! epoch, send each other the sparse changes of *both* tables ([`SparseUpdate`]); each node
//! adds its peers' changes to its own model, so the models stay in one space and every
//! node's vectors carry the co-occurrence evidence of every shard (local SGD on the union,
//! as one model would see it), while no node ever sees another's text.
//!
//! A peer is a stranger: [`apply_update`] refuses malformed updates (shape, order,
//! non-finite values, rows outside the vocabulary, more rows than [`UpdateBound::max_rows`])
//! and clips each row's delta, per table, to [`UpdateBound::max_row_norm`] (L2). So one
//! update of one peer moves any row of a node's served table by at most `max_row_norm`,
//! whatever it holds (huge values, or deltas crafted to pull chosen words together).

use super::compress::{Compression, Compressor};
use super::sampling::Lcg;
use super::schedule::{Planner, CHUNK_WORDS};
use super::sparse_update::SparseUpdate;
use super::{W2vParams, Word2Vec};
use crate::corpus::Corpus;
use crate::model::ModelError;

/// Default of [`UpdateBound::max_row_norm`] (see docs/embeddings.md for how it was chosen).
pub const DEFAULT_MAX_ROW_NORM: f32 = 0.5;

/// What one peer's update may do to a node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateBound {
    /// Largest L2 change of one row of one table per update.
    pub max_row_norm: f32,
    /// Most rows one update may touch.
    pub max_rows: usize,
}

/// What [`apply_update`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Applied {
    /// Rows changed.
    pub rows: usize,
    /// Row deltas (of either table) scaled down to the bound.
    pub clipped: usize,
}

/// The rows where `now` differs from `base` (both `[vocab * dim]`), for either table.
fn changed_rows(dim: usize, pairs: [(&[f32], &[f32]); 2]) -> Vec<u32> {
    let vocab = pairs[0].0.len() / dim;
    (0..vocab)
        .filter(|&r| {
            pairs
                .iter()
                .any(|(now, base)| now[r * dim..(r + 1) * dim] != base[r * dim..(r + 1) * dim])
        })
        .map(|r| r as u32)
        .collect()
}

/// The model's changes since `base_input` / `base_context` as an update of `round`.
pub fn delta_since(
    model: &Word2Vec,
    base_input: &[f32],
    base_context: &[f32],
    round: u64,
) -> SparseUpdate {
    let dim = model.dim;
    let rows = changed_rows(
        dim,
        [(&model.syn0, base_input), (&model.syn1neg, base_context)],
    );
    let pick = |now: &[f32], base: &[f32]| -> Vec<f32> {
        let mut out = Vec::with_capacity(rows.len() * dim);
        for &r in &rows {
            let s = r as usize * dim..(r as usize + 1) * dim;
            out.extend(now[s.clone()].iter().zip(&base[s]).map(|(a, b)| a - b));
        }
        out
    };
    SparseUpdate {
        round,
        dim,
        input: pick(&model.syn0, base_input),
        context: pick(&model.syn1neg, base_context),
        rows,
    }
}

/// The handler of a peer's update (see the module docs): validates it against the model
/// and the bound, then adds each row's clipped deltas to both tables.
pub fn apply_update(
    model: &mut Word2Vec,
    update: &SparseUpdate,
    bound: &UpdateBound,
) -> Result<Applied, ModelError> {
    apply_to(model, update, bound, None)
}

/// [`apply_update`], adding the same clipped deltas to what the network knows of the model
/// (`known`), so the peer's update is not this node's to send.
pub fn apply_update_known(
    model: &mut Word2Vec,
    update: &SparseUpdate,
    bound: &UpdateBound,
    known: &mut Compressor,
) -> Result<Applied, ModelError> {
    apply_to(model, update, bound, Some(known))
}

/// The one body of both: admission, then the clipped deltas added to the model's tables
/// (and to `known`'s).
fn apply_to(
    model: &mut Word2Vec,
    update: &SparseUpdate,
    bound: &UpdateBound,
    known: Option<&mut Compressor>,
) -> Result<Applied, ModelError> {
    admit(model, update, bound)?;
    let mut targets = vec![(&mut model.syn0[..], &mut model.syn1neg[..])];
    targets.extend(known.map(Compressor::known_mut));
    Ok(Applied {
        rows: update.rows.len(),
        clipped: update.add_clipped_to(&mut targets, bound.max_row_norm),
    })
}

/// Checks a peer's update against the model and the bound (see [`apply_update`]).
pub fn admit(
    model: &Word2Vec,
    update: &SparseUpdate,
    bound: &UpdateBound,
) -> Result<(), ModelError> {
    update.validate()?;
    if update.dim != model.dim {
        return Err(ModelError::Config(format!(
            "sparse update of dim {} for a model of dim {}",
            update.dim, model.dim
        )));
    }
    if update.rows.len() > bound.max_rows {
        return Err(ModelError::Config(format!(
            "sparse update of {} rows, at most {} accepted",
            update.rows.len(),
            bound.max_rows
        )));
    }
    if update
        .rows
        .last()
        .is_some_and(|&r| r as usize >= model.vocab)
    {
        return Err(ModelError::Config(
            "sparse update names a row outside the vocabulary".into(),
        ));
    }
    Ok(())
}

/// How the in-process network of [`train_exchanging`] exchanges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExchangeSettings {
    /// Exchanges per epoch of a node's shard (0 = never: each node alone, one init).
    pub syncs_per_epoch: usize,
    /// The bound on each peer's update.
    pub bound: UpdateBound,
    /// What of its own change each node sends per round.
    pub compression: Compression,
}

/// Counters of a run of [`train_exchanging`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExchangeStats {
    /// Exchange rounds.
    pub rounds: u64,
    /// Rows applied from peers' updates.
    pub rows: u64,
    /// Row deltas clipped to the bound.
    pub clipped: u64,
    /// Bytes of updates sent (rows, ids and values at the compression's precision), over
    /// all nodes and peers.
    pub bytes: u64,
    /// Rows of updates sent, over all nodes and peers.
    pub rows_sent: u64,
}

/// Rewrites the update node 0 sends (a hostile peer, in tests and experiments).
pub type Rewrite<'a> = dyn FnMut(&Word2Vec, SparseUpdate) -> SparseUpdate + 'a;

/// One node: its model, its own planner over its shard, and what the network knows of it.
struct Node<'a> {
    model: Word2Vec,
    planner: Planner<'a>,
    rng: Lcg,
    compressor: Compressor,
}

/// Trains one model per shard (each with its own counts for subsampling and negatives),
/// all from the initialisation of `params.seed`, exchanging sparse updates of both tables
/// `syncs_per_epoch` times per epoch; `hostile`, if given, rewrites the update one node
/// (index 0) sends (to test what a hostile peer can do). Returns the models.
pub fn train_exchanging(
    shards: &[Corpus],
    params: &W2vParams,
    settings: &ExchangeSettings,
    mut hostile: Option<&mut Rewrite<'_>>,
) -> Result<(Vec<Word2Vec>, ExchangeStats), ModelError> {
    let mut nodes: Vec<Node<'_>> = shards
        .iter()
        .enumerate()
        .map(|(i, shard)| {
            let own = W2vParams {
                seed: params.seed.wrapping_mul(1000).wrapping_add(i as u64),
                ..params.clone()
            };
            let model = Word2Vec::new(shard.vocab.counts(), params)?;
            Ok(Node {
                compressor: Compressor::for_model(
                    &model,
                    settings.compression,
                    settings.bound.max_row_norm,
                ),
                model,
                planner: Planner::new(&shard.ids, shard.vocab.counts(), &own, CHUNK_WORDS)?,
                rng: Lcg::new(own.seed.wrapping_add(2)),
            })
        })
        .collect::<Result<_, ModelError>>()?;
    let syncs = settings.syncs_per_epoch.max(1) as u64;
    let per_round: Vec<u64> = nodes
        .iter()
        .map(|n| n.planner.chunks_per_epoch().div_ceil(syncs).max(1))
        .collect();
    let rounds = nodes
        .iter()
        .zip(&per_round)
        .map(|(n, per)| n.planner.scheduled_chunks().div_ceil(*per))
        .max()
        .unwrap_or(0);
    let mut stats = ExchangeStats::default();
    for round in 0..rounds {
        for (node, per) in nodes.iter_mut().zip(&per_round) {
            for _ in 0..*per {
                if node.planner.position() >= node.planner.scheduled_chunks() {
                    break;
                }
                if let Some(chunk) = node.planner.next_chunk() {
                    node.model
                        .train_sentence(&chunk.sentence, chunk.alpha, &mut node.rng);
                }
            }
        }
        if settings.syncs_per_epoch == 0 {
            continue;
        }
        let mut updates: Vec<SparseUpdate> = nodes
            .iter_mut()
            .map(|n| {
                n.compressor
                    .compress(&n.model.syn0, &n.model.syn1neg, round)
            })
            .collect();
        if let Some(h) = hostile.as_mut() {
            let honest = std::mem::replace(
                &mut updates[0],
                SparseUpdate {
                    round,
                    dim: params.dim,
                    rows: vec![],
                    input: vec![],
                    context: vec![],
                },
            );
            updates[0] = h(&nodes[0].model, honest);
        }
        for (j, node) in nodes.iter_mut().enumerate() {
            let peers: Vec<&SparseUpdate> = (0..updates.len())
                .filter(|&i| i != j)
                .map(|i| &updates[i])
                .collect();
            let c = &settings.compression;
            stats.bytes += peers.iter().map(|u| c.wire_bytes(u) as u64).sum::<u64>();
            stats.rows_sent += peers.iter().map(|u| u.rows.len() as u64).sum::<u64>();
            for u in &peers {
                match apply_update_known(&mut node.model, u, &settings.bound, &mut node.compressor)
                {
                    Ok(a) => {
                        stats.rows += a.rows as u64;
                        stats.clipped += a.clipped as u64;
                    }
                    Err(e) => tracing::warn!(to = j, error = %e, "update refused"),
                }
            }
        }
        stats.rounds += 1;
        if round % 16 == 0 {
            tracing::debug!(round, rounds, "exchange round");
        }
    }
    Ok((nodes.into_iter().map(|n| n.model).collect(), stats))
}
