//! Training text: real text (any UTF-8 file, or the first entry of a zip such as text8.zip)
//! or, for fast unit tests only, a generated synthetic language with known word classes,
//! turned into word ids.
//!
//! Tokenisation of a file: the text is lower-cased (Unicode) and split on whitespace; nothing
//! else is removed, so markup must be stripped beforehand (`scripts/prepare_corpus.py` does it
//! for the Wikipedia extract gensim ships, with gensim's `WikiCorpus` rules: alphabetic tokens
//! of 2 to 15 characters). Words seen fewer than `min_count` times, and words past the
//! `max_vocab` cap, map to `<unk>` (id 0), which word2vec training skips.
//!
//! All nodes of a network must use the same corpus file (or generator seed) so that their
//! vocabularies, hence word ids exchanged between peers, agree; each node then trains on its
//! own [`Corpus::shard`].

mod batch;
mod error;
mod read;
mod split;
mod synthetic;
mod vocab;
mod vocab_file;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

pub use batch::{Batch, Batches};
pub use error::CorpusError;
pub use split::write_shards;
pub use synthetic::{class_of_word, generate_words, word_name, SyntheticSpec};
pub use vocab::{Vocab, NO_CLASS};
pub use vocab_file::{sha256_hex, VocabFile};

/// Generator seed of the shipped `worker/data/synthetic.txt`.
pub const SHIPPED_SEED: u64 = 2026;
/// Token count of the shipped `worker/data/synthetic.txt`.
pub const SHIPPED_TOKENS: usize = 40_000;

/// A tokenised corpus: its vocabulary and the word id of every token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corpus {
    /// Word <-> id mapping.
    pub vocab: Vocab,
    /// Token ids, in text order.
    pub ids: Vec<i64>,
}

impl Corpus {
    /// Loads a text8-format corpus (whitespace-separated words, lower-cased here) from a plain
    /// file or the first entry of a zip, keeping the `max_vocab - 1` most frequent words.
    pub fn load(path: &Path, max_vocab: usize) -> Result<Corpus, CorpusError> {
        Self::load_with(path, 1, max_vocab)
    }

    /// Loads a corpus (see the module docs for the tokenisation) keeping the words seen at
    /// least `min_count` times, at most `max_vocab - 1` of them.
    pub fn load_with(path: &Path, min_count: u64, max_vocab: usize) -> Result<Corpus, CorpusError> {
        if max_vocab < 2 {
            return Err(CorpusError::VocabTooSmall(max_vocab));
        }
        let text = read::read_text(path)?.to_lowercase();
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() {
            return Err(CorpusError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(Self::from_words_min(&words, min_count, max_vocab))
    }

    /// Loads a node's own text with the network's vocabulary: ids from `vocab`, counts (for
    /// subsampling and negatives) from this text alone.
    pub fn load_in(path: &Path, vocab: &Vocab) -> Result<Corpus, CorpusError> {
        let text = read::read_text(path)?.to_lowercase();
        let ids: Vec<i64> = text.split_whitespace().map(|w| vocab.id(w)).collect();
        if ids.is_empty() {
            return Err(CorpusError::Empty {
                path: path.to_path_buf(),
            });
        }
        let mut counts = vec![0u64; vocab.len()];
        for &id in &ids {
            counts[id as usize] += 1;
        }
        Ok(Corpus {
            vocab: vocab.with_counts(counts),
            ids,
        })
    }

    /// Tokenises words with a vocabulary built from them.
    pub fn from_words<S: AsRef<str>>(words: &[S], max_vocab: usize) -> Corpus {
        Self::from_words_min(words, 1, max_vocab)
    }

    /// Tokenises words with a vocabulary of the words seen at least `min_count` times.
    pub fn from_words_min<S: AsRef<str>>(words: &[S], min_count: u64, max_vocab: usize) -> Corpus {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for w in words {
            *counts.entry(w.as_ref().to_string()).or_insert(0) += 1;
        }
        let vocab = Vocab::with_min_count(counts, min_count, max_vocab);
        let ids = words.iter().map(|w| vocab.id(w.as_ref())).collect();
        Corpus { vocab, ids }
    }

    /// A synthetic corpus of the default [`SyntheticSpec`] (20 classes x 25 words), deterministic
    /// per seed; its vocabulary knows every word's class.
    pub fn generate(seed: u64, n_tokens: usize) -> Corpus {
        Self::generate_with(&SyntheticSpec::default(), seed, n_tokens)
    }

    /// A synthetic corpus of the given shape, deterministic per seed.
    pub fn generate_with(spec: &SyntheticSpec, seed: u64, n_tokens: usize) -> Corpus {
        let words = generate_words(spec, seed, n_tokens);
        Self::from_words(&words, usize::MAX)
    }

    /// One epoch of shuffled (word, following word within `window`) batches of `batch` pairs.
    pub fn batches(&self, batch: usize, window: usize, seed: u64) -> Batches<'_> {
        Batches::new(self, batch, window, seed)
    }

    /// The `index`-th of `count` contiguous slices of the tokens, with the full vocabulary (so
    /// ids agree across shards). `count` 0 is treated as 1 and `index` wraps modulo `count`.
    pub fn shard(&self, index: usize, count: usize) -> Corpus {
        let count = count.max(1);
        let index = index % count;
        let n = self.ids.len();
        let (start, end) = (index * n / count, (index + 1) * n / count);
        Corpus {
            vocab: self.vocab.clone(),
            ids: self.ids[start..end].to_vec(),
        }
    }

    /// Ground-truth latent class per word id (synthetic corpora only), for evaluation.
    pub fn word_classes(&self) -> Option<&[usize]> {
        self.vocab.classes()
    }

    /// Writes the tokens as text (16 words a line), loadable again with [`Corpus::load`].
    pub fn write_text(&self, path: &Path) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for line in self.ids.chunks(16) {
            let words: Vec<&str> = line
                .iter()
                .map(|&id| self.vocab.word(id).unwrap_or(Vocab::UNK_WORD))
                .collect();
            writeln!(out, "{}", words.join(" "))?;
        }
        out.flush()
    }
}
