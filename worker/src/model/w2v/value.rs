//! PLACEHOLDER, replaced by the valuation estimator when it lands: the interface the node's
//! loop calls to value each round's inputs on held-out text. This stand-in values every
//! input at zero and finds no copies, so the node applies every admitted update and its
//! attribution stays on itself.

use super::shared_space::UpdateBound;
use super::sparse_update::SparseUpdate;
use super::{W2vParams, Word2Vec};

/// Held-out text of the node (never trained on), prepared for the estimator.
pub struct HeldOut {
    /// Held-out sentences (word ids).
    pub sentences: usize,
}

impl HeldOut {
    /// Prepares at most `max_pairs` evaluation pairs of `sentences`.
    pub fn new(
        sentences: &[Vec<u32>],
        _counts: &[u64],
        _params: &W2vParams,
        _max_pairs: usize,
        _seed: u64,
    ) -> HeldOut {
        HeldOut {
            sentences: sentences.len(),
        }
    }
}

/// What one round's inputs were worth.
#[derive(Debug, Clone, PartialEq)]
pub struct Valuation {
    /// The node's own update.
    pub own: f64,
    /// Each peer update, in the order given.
    pub peers: Vec<f64>,
    /// Which peer updates are copies (not applied, valued 0).
    pub copy_of: Vec<Option<CopyOf>>,
}

/// What a peer's update copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyOf {
    /// The node's own update.
    Own,
    /// Another peer's update of this round (its index).
    Peer(usize),
    /// An update of an earlier round.
    Earlier,
}

/// Values each round's inputs on the held-out text.
pub struct Valuer {
    _held_out: HeldOut,
}

impl Valuer {
    /// A valuer over `held_out`, remembering `history_rounds` rounds for copy detection.
    pub fn new(held_out: HeldOut, _history_rounds: usize) -> Valuer {
        Valuer {
            _held_out: held_out,
        }
    }

    /// Importance >= 0 per input; a copy gets 0 (placeholder: all zero, no copies).
    pub fn value(
        &mut self,
        _model: &Word2Vec,
        _own: &SparseUpdate,
        peers: &[SparseUpdate],
        _bound: &UpdateBound,
    ) -> Valuation {
        Valuation {
            own: 0.0,
            peers: vec![0.0; peers.len()],
            copy_of: vec![None; peers.len()],
        }
    }
}
