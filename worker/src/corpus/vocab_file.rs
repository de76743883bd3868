//! The network's vocabulary file: the words in id order after `<unk>`, one per line. Its
//! SHA-256 is what the contract pins (`setvocab`), so every node loads the same ids without
//! anyone sharing text; each node then counts its own words ([`super::Corpus::load_in`]).

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{CorpusError, Vocab};

/// A vocabulary file as loaded: the vocabulary (no counts yet) and the file's hash.
#[derive(Debug, Clone)]
pub struct VocabFile {
    /// Words and ids; counts are zero until a node counts its own text.
    pub vocab: Vocab,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub hash: String,
}

/// SHA-256 of `bytes` in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl VocabFile {
    /// The file's text for `vocab` (every word but `<unk>`, in id order).
    pub fn text(vocab: &Vocab) -> String {
        let mut out = String::new();
        for w in &vocab.words()[1..] {
            out.push_str(w);
            out.push('\n');
        }
        out
    }

    /// Writes `vocab` to `path`; returns the file's hash.
    pub fn write(vocab: &Vocab, path: &Path) -> Result<String, CorpusError> {
        let text = Self::text(vocab);
        std::fs::write(path, &text).map_err(|source| CorpusError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(sha256_hex(text.as_bytes()))
    }

    /// Reads a vocabulary file, refusing blank lines, spaces inside a word, upper case
    /// (the corpus is lower-cased) and repeated words.
    pub fn read(path: &Path) -> Result<VocabFile, CorpusError> {
        let bytes = std::fs::read(path).map_err(|source| CorpusError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |reason: String| CorpusError::BadVocab {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| bad("not UTF-8".into()))?;
        let mut counts = HashMap::new();
        let mut words = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() || line.chars().any(char::is_whitespace) {
                return Err(bad(format!("line {}: one word per line, no spaces", n + 1)));
            }
            if line != line.to_lowercase() || line == Vocab::UNK_WORD {
                return Err(bad(format!(
                    "line {}: {line:?} is not a lower-case word",
                    n + 1
                )));
            }
            if counts.insert(line.to_string(), 0u64).is_some() {
                return Err(bad(format!("line {}: {line:?} repeated", n + 1)));
            }
            words.push(line.to_string());
        }
        if words.is_empty() {
            return Err(bad("no words".into()));
        }
        Ok(VocabFile {
            vocab: Vocab::in_order(words),
            hash: sha256_hex(&bytes),
        })
    }
}
