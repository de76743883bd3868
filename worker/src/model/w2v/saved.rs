//! A model on disk: the vocabulary (words and counts) and both tables (`syn0`, `syn1neg`),
//! little-endian, behind a magic and the sizes (a third size, peer slots, is 0; files of the
//! retired peer-gated model carry their gates and cached peer rows after the tables, which
//! a load reads past). The file is self-contained, so `bittensor-worker export` can write a node's
//! embeddings from its checkpoint alone; a load checks that the length is exactly what the
//! header promises before allocating anything.

use std::io::{Read, Write};
use std::path::Path;

use super::{W2vParams, Word2Vec};
use crate::model::ModelError;

/// First bytes of a saved model (format version 1).
const MAGIC: &[u8; 8] = b"BTW2V\0\0\x01";
/// Longest word accepted in a saved vocabulary.
const MAX_WORD_BYTES: usize = 1 << 16;

/// A saved model as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedW2v {
    /// The vocabulary in id order (`<unk>` first).
    pub words: Vec<String>,
    /// Corpus count per id (for the negative table and subsampling).
    pub counts: Vec<u64>,
    /// Vector dimension.
    pub dim: usize,
    syn0: Vec<f32>,
    syn1neg: Vec<f32>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn bad(what: &str) -> ModelError {
    ModelError::Incompatible(what.to_string())
}

impl Word2Vec {
    /// Writes this model and its vocabulary to `path` (through a temporary file renamed
    /// into place, so a crash leaves the previous file intact).
    pub fn save(&self, words: &[String], counts: &[u64], path: &Path) -> Result<(), ModelError> {
        if words.len() != self.vocab || counts.len() != self.vocab {
            return Err(ModelError::Shape {
                what: "saved vocabulary".into(),
                expected: vec![self.vocab as i64],
                got: vec![words.len() as i64, counts.len() as i64],
            });
        }
        let mut out = Vec::with_capacity(
            64 + words.iter().map(|w| w.len() + 4).sum::<usize>() + 4 * self.syn0.len() * 2,
        );
        out.extend_from_slice(MAGIC);
        for n in [self.vocab, self.dim, 0] {
            out.extend_from_slice(&(n as u64).to_le_bytes());
        }
        for w in words {
            out.extend_from_slice(&(w.len() as u32).to_le_bytes());
            out.extend_from_slice(w.as_bytes());
        }
        for c in counts {
            out.extend_from_slice(&c.to_le_bytes());
        }
        for table in [&self.syn0, &self.syn1neg] {
            for x in table.iter() {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        let tmp = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&out)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(io(path))
    }

    /// Replaces this model's tables by a saved model's; refused (and nothing changed) when
    /// the vocabulary or dimension differ.
    pub fn restore(&mut self, saved: &SavedW2v) -> Result<(), ModelError> {
        if saved.dim != self.dim || saved.words.len() != self.vocab {
            return Err(ModelError::Incompatible(format!(
                "saved model has {} words x {} dims; this node has {} x {}",
                saved.words.len(),
                saved.dim,
                self.vocab,
                self.dim,
            )));
        }
        self.syn0.clone_from(&saved.syn0);
        self.syn1neg.clone_from(&saved.syn1neg);
        Ok(())
    }
}

impl SavedW2v {
    /// Reads a saved model, refusing a file that is not one or whose length disagrees
    /// with its header.
    pub fn load(path: &Path) -> Result<SavedW2v, ModelError> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(io(path))?;
        Self::parse(&bytes)
    }

    fn parse(bytes: &[u8]) -> Result<SavedW2v, ModelError> {
        if !bytes.starts_with(MAGIC) {
            return Err(bad("not a saved word2vec model (bad magic)"));
        }
        let mut r = Reader {
            bytes,
            at: MAGIC.len(),
        };
        let vocab = r.u64()? as usize;
        let dim = r.u64()? as usize;
        let peers = r.u64()? as usize;
        if vocab < 2 || dim == 0 || dim > 4096 || peers > 64 {
            return Err(bad("sizes out of range"));
        }
        // Every word takes at least its 4-byte length: bound the vocabulary by the file.
        if vocab > bytes.len() / 4 {
            return Err(bad("vocabulary larger than the file"));
        }
        let mut words = Vec::with_capacity(vocab);
        for _ in 0..vocab {
            let n = r.u32()? as usize;
            if n > MAX_WORD_BYTES {
                return Err(bad("word too long"));
            }
            let w = std::str::from_utf8(r.take(n)?).map_err(|_| bad("word is not UTF-8"))?;
            words.push(w.to_string());
        }
        let counts = (0..vocab).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
        let floats = vocab
            .checked_mul(dim)
            .and_then(|vd| vd.checked_mul(2 + peers))
            .and_then(|n| n.checked_add(peers * dim))
            .ok_or_else(|| bad("sizes overflow"))?;
        if r.rest() != floats.checked_mul(4).ok_or_else(|| bad("sizes overflow"))? {
            return Err(bad("file length disagrees with its header"));
        }
        let mut table = |n: usize| -> Result<Vec<f32>, ModelError> {
            let v: Vec<f32> = r
                .take(n * 4)?
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if v.iter().any(|x| !x.is_finite()) {
                return Err(ModelError::NotFinite {
                    what: "saved model".into(),
                });
            }
            Ok(v)
        };
        let syn0 = table(vocab * dim)?;
        let syn1neg = table(vocab * dim)?;
        // A retired peer-gated file's gates and cached peer rows: checked, not kept.
        table(peers * dim)?;
        table(peers * vocab * dim)?;
        Ok(SavedW2v {
            words,
            counts,
            dim,
            syn0,
            syn1neg,
        })
    }

    /// The saved model as a live one, trained on with `params` (its `dim` is the saved one).
    pub fn into_model(self, params: &W2vParams) -> Result<Word2Vec, ModelError> {
        let p = W2vParams {
            dim: self.dim,
            ..params.clone()
        };
        let mut m = Word2Vec::new(&self.counts, &p)?;
        m.restore(&self)?;
        Ok(m)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| bad("file ends early"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u64(&mut self) -> Result<u64, ModelError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
    }

    fn rest(&self) -> usize {
        self.bytes.len() - self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_model_round_trips_and_bad_files_are_refused() {
        let counts = [3u64, 10, 7, 5];
        let words: Vec<String> = ["<unk>", "a", "b", "c"].map(String::from).to_vec();
        let p = W2vParams {
            dim: 4,
            ..W2vParams::default()
        };
        let mut m = Word2Vec::new(&counts, &p).unwrap();
        m.syn1neg
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = i as f32 * 0.01);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.w2v");
        m.save(&words, &counts, &path).unwrap();
        let saved = SavedW2v::load(&path).unwrap();
        assert_eq!(saved.words, words);
        let back = saved.clone().into_model(&W2vParams::default()).unwrap();
        assert_eq!(back.syn0, m.syn0);
        assert_eq!(back.syn1neg, m.syn1neg);

        let mut other = Word2Vec::new(&counts, &W2vParams { dim: 3, ..p }).unwrap();
        assert!(other.restore(&saved).is_err(), "another dimension");
        let bytes = std::fs::read(&path).unwrap();
        for cut in [0, 7, 30, bytes.len() - 1] {
            assert!(SavedW2v::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(SavedW2v::parse(&longer).is_err());
        let mut huge = bytes.clone();
        huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(SavedW2v::parse(&huge).is_err(), "absurd vocabulary");
    }
}
