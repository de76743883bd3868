//! Skip-gram training pairs: (word, following word within `window`), in a seeded shuffled order
//! so every run with the same seed sees the same batches.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Corpus, Vocab};

/// One minibatch of (word, target) pairs; `words[i]` should predict `targets[i]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Batch {
    /// Input word ids.
    pub words: Vec<i64>,
    /// Target (context) word ids, same length as `words`.
    pub targets: Vec<i64>,
}

impl Batch {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when the batch holds no pairs.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// One epoch of batches over a corpus (see [`Corpus::batches`]).
pub struct Batches<'a> {
    ids: &'a [i64],
    order: Vec<u32>,
    next_position: usize,
    current: Option<usize>,
    offset: usize,
    batch: usize,
    window: usize,
}

impl<'a> Batches<'a> {
    pub(super) fn new(corpus: &'a Corpus, batch: usize, window: usize, seed: u64) -> Self {
        let ids = corpus.ids.as_slice();
        let positions = ids.len().saturating_sub(1).min(u32::MAX as usize);
        let mut order: Vec<u32> = (0..positions as u32).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        Batches {
            ids,
            order,
            next_position: 0,
            current: None,
            offset: 1,
            batch: batch.max(1),
            window: window.max(1),
        }
    }

    /// Next (word, target) pair of the epoch, skipping pairs that touch `<unk>`.
    fn next_pair(&mut self) -> Option<(i64, i64)> {
        loop {
            if let Some(i) = self.current {
                while self.offset <= self.window {
                    let j = self.offset;
                    self.offset += 1;
                    match self.ids.get(i + j) {
                        Some(&t) if t != Vocab::UNK => return Some((self.ids[i], t)),
                        _ => {}
                    }
                }
            }
            let i = *self.order.get(self.next_position)? as usize;
            self.next_position += 1;
            self.current = (self.ids[i] != Vocab::UNK).then_some(i);
            self.offset = 1;
        }
    }
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    /// Exactly `batch` pairs, except possibly the last batch of the epoch.
    fn next(&mut self) -> Option<Batch> {
        let mut out = Batch {
            words: Vec::with_capacity(self.batch),
            targets: Vec::with_capacity(self.batch),
        };
        while out.len() < self.batch {
            let Some((w, t)) = self.next_pair() else {
                break;
            };
            out.words.push(w);
            out.targets.push(t);
        }
        (!out.is_empty()).then_some(out)
    }
}
