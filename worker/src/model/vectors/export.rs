//! Saving and loading [`Vectors`]: word2vec text format (`V D` header, then `word x1 .. xD`
//! per line; gensim's `KeyedVectors.load_word2vec_format(path)` reads it) and finalfusion
//! format (through the `finalfusion` crate: vocabulary, unit rows and their norms).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use finalfusion::io::WriteEmbeddings;
use finalfusion::norms::NdNorms;
use finalfusion::prelude::*;
use finalfusion::storage::{NdArray, Storage};
use finalfusion::vocab::{SimpleVocab, Vocab};
use ndarray::{Array1, Array2};

use super::Vectors;
use crate::model::ModelError;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// word2vec text format.
    Word2vecText,
    /// finalfusion binary format.
    Finalfusion,
}

impl Format {
    /// The format a path names: `.fifu` is finalfusion, anything else word2vec text.
    pub fn of_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("fifu") => Format::Finalfusion,
            _ => Format::Word2vecText,
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ModelError {
    ModelError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn bad_file(path: &Path, msg: String) -> ModelError {
    io_error(
        path,
        std::io::Error::new(std::io::ErrorKind::InvalidData, msg),
    )
}

/// Writes `vectors` in word2vec text format (shortest round-tripping decimals).
pub fn save_word2vec_text(vectors: &Vectors, path: &Path) -> Result<(), ModelError> {
    let file = File::create(path).map_err(|e| io_error(path, e))?;
    let mut out = BufWriter::new(file);
    let write = |out: &mut BufWriter<File>| -> std::io::Result<()> {
        writeln!(out, "{} {}", vectors.words().len(), vectors.dim())?;
        for (i, w) in vectors.words().iter().enumerate() {
            out.write_all(w.as_bytes())?;
            for x in vectors.row(i) {
                write!(out, " {x}")?;
            }
            out.write_all(b"\n")?;
        }
        out.flush()
    };
    write(&mut out).map_err(|e| io_error(path, e))
}

/// Reads a word2vec text file (a finalfusion file if it ends in `.fifu`).
pub fn load_word2vec_text(path: &Path) -> Result<Vectors, ModelError> {
    if Format::of_path(path) == Format::Finalfusion {
        return load_finalfusion(path);
    }
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut lines = BufReader::new(file).lines();
    let header = lines
        .next()
        .ok_or_else(|| bad_file(path, "empty file".into()))?
        .map_err(|e| io_error(path, e))?;
    let dims: Vec<usize> = header
        .split_whitespace()
        .map(|x| x.parse())
        .collect::<Result<_, _>>()
        .map_err(|_| bad_file(path, format!("bad header {header:?}, want \"WORDS DIM\"")))?;
    let [n, dim] = dims[..] else {
        return Err(bad_file(
            path,
            format!("bad header {header:?}, want \"WORDS DIM\""),
        ));
    };
    let mut words = Vec::with_capacity(n);
    let mut data = Vec::with_capacity(n * dim);
    for (lineno, line) in lines.enumerate() {
        let line = line.map_err(|e| io_error(path, e))?;
        let mut parts = line.split_whitespace();
        let Some(word) = parts.next() else { continue };
        let before = data.len();
        for x in parts {
            let v: f32 = x
                .parse()
                .map_err(|_| bad_file(path, format!("line {}: bad number {x:?}", lineno + 2)))?;
            data.push(v);
        }
        if data.len() - before != dim {
            return Err(bad_file(
                path,
                format!(
                    "line {}: {} values, want {dim}",
                    lineno + 2,
                    data.len() - before
                ),
            ));
        }
        words.push(word.to_string());
    }
    if words.len() != n {
        return Err(bad_file(
            path,
            format!("{} rows, header says {n}", words.len()),
        ));
    }
    Vectors::new(words, dim, data)
}

/// Writes `vectors` in finalfusion format (unit rows plus norms, as finalfusion stores them).
pub fn save_finalfusion(vectors: &Vectors, path: &Path) -> Result<(), ModelError> {
    let (n, d) = (vectors.words().len(), vectors.dim());
    let unit = vectors.unit_rows();
    let norms: Vec<f32> = (0..n)
        .map(|i| vectors.row(i).iter().map(|x| x * x).sum::<f32>().sqrt())
        .collect();
    let array = Array2::from_shape_vec((n, d), unit)
        .map_err(|e| bad_file(path, format!("vector table: {e}")))?;
    let embeddings = Embeddings::new(
        None,
        SimpleVocab::new(vectors.words().to_vec()),
        NdArray::new(array),
        NdNorms::new(Array1::from(norms)),
    );
    let file = File::create(path).map_err(|e| io_error(path, e))?;
    let mut out = BufWriter::new(file);
    embeddings
        .write_embeddings(&mut out)
        .map_err(|e| bad_file(path, e.to_string()))?;
    out.flush().map_err(|e| io_error(path, e))
}

fn load_finalfusion(path: &Path) -> Result<Vectors, ModelError> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let embeddings: Embeddings<VocabWrap, StorageWrap> =
        Embeddings::read_embeddings(&mut BufReader::new(file))
            .map_err(|e| bad_file(path, e.to_string()))?;
    let words = embeddings.vocab().words().to_vec();
    let d = embeddings.storage().shape().1;
    let mut data = Vec::with_capacity(words.len() * d);
    for i in 0..words.len() {
        let row = embeddings.storage().embedding(i);
        let norm = embeddings
            .norms()
            .map(|n| n.get(i).copied().unwrap_or(1.0))
            .unwrap_or(1.0);
        data.extend(row.iter().map(|x| x * norm));
    }
    Vectors::new(words, d, data)
}
