//! Word <-> id mapping shared by every node: peers exchange word ids, so all nodes must build the
//! same vocabulary from the same corpus (it is deterministic: by count, ties by spelling).

use std::collections::HashMap;

use super::synthetic::class_of_word;

/// Class label of words that have no latent class (`<unk>`, or any word of a natural corpus).
pub const NO_CLASS: usize = usize::MAX;

/// A capped vocabulary, most frequent word first after the `<unk>` slot (id 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocab {
    words: Vec<String>,
    counts: Vec<u64>,
    index: HashMap<String, i64>,
    classes: Option<Vec<usize>>,
}

impl Vocab {
    /// Id of the out-of-vocabulary token: words beyond the cap map here.
    pub const UNK: i64 = 0;
    /// Spelling of the out-of-vocabulary token.
    pub const UNK_WORD: &'static str = "<unk>";

    /// Builds the vocabulary from word counts, keeping the `max_vocab - 1` most frequent words
    /// (ties broken by spelling so every node gets the same ids).
    pub fn from_counts(counts: HashMap<String, u64>, max_vocab: usize) -> Vocab {
        Self::with_min_count(counts, 1, max_vocab)
    }

    /// Like [`Vocab::from_counts`], also dropping words seen fewer than `min_count` times
    /// (word2vec's `min_count`); dropped words map to `<unk>`, which training skips.
    pub fn with_min_count(counts: HashMap<String, u64>, min_count: u64, max_vocab: usize) -> Vocab {
        let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let frequent = ranked.iter().take_while(|(_, c)| *c >= min_count).count();
        let keep = max_vocab.saturating_sub(1).min(frequent);
        let dropped: u64 = ranked[keep..].iter().map(|(_, c)| c).sum();
        ranked.truncate(keep);
        let mut words = vec![Self::UNK_WORD.to_string()];
        let mut freq = vec![dropped];
        for (w, c) in ranked {
            words.push(w);
            freq.push(c);
        }
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as i64))
            .collect();
        let classes = Self::parse_classes(&words);
        Vocab {
            words,
            counts: freq,
            index,
            classes,
        }
    }

    /// A vocabulary of `words` in this id order (after `<unk>`), every count zero.
    pub fn in_order(words: Vec<String>) -> Vocab {
        let mut all = vec![Self::UNK_WORD.to_string()];
        all.extend(words);
        let index = all
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as i64))
            .collect();
        let classes = Self::parse_classes(&all);
        Vocab {
            counts: vec![0; all.len()],
            words: all,
            index,
            classes,
        }
    }

    /// The same words and ids with other counts (a node's own counts of its own text).
    pub fn with_counts(&self, counts: Vec<u64>) -> Vocab {
        assert_eq!(counts.len(), self.words.len(), "one count per id");
        Vocab {
            counts,
            ..self.clone()
        }
    }

    /// Ground-truth classes when every real word is spelled like a synthetic word (`c07w12`).
    fn parse_classes(words: &[String]) -> Option<Vec<usize>> {
        let mut out = vec![NO_CLASS];
        for w in &words[1..] {
            out.push(class_of_word(w)?);
        }
        (words.len() > 1).then_some(out)
    }

    /// Number of ids, `<unk>` included: the model's embedding table size.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True only for a vocabulary without even `<unk>` (never built by this module).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Id of a word, `<unk>` when it is not in the vocabulary.
    pub fn id(&self, word: &str) -> i64 {
        self.index.get(word).copied().unwrap_or(Self::UNK)
    }

    /// Spelling of an id, if it is in range.
    pub fn word(&self, id: i64) -> Option<&str> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.words.get(i))
            .map(String::as_str)
    }

    /// Corpus count of an id (for `<unk>`: the total count of words dropped by the cap).
    pub fn count(&self, id: i64) -> Option<u64> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.counts.get(i))
            .copied()
    }

    /// Corpus count of every id, `<unk>` first (for subsampling and negative sampling).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Every word, by id (`<unk>` first).
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Ground-truth latent class per id (`NO_CLASS` for `<unk>`), for synthetic corpora only.
    pub fn classes(&self) -> Option<&[usize]> {
        self.classes.as_deref()
    }
}
