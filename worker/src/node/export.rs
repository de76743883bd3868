//! Export of a node's embeddings: what it serves (its input vectors `syn0`, exactly what a
//! forward answers, written as `served` and, for readers of earlier exports, `input`),
//! each in word2vec text format (gensim's `KeyedVectors.load_word2vec_format` reads it) and
//! in finalfusion format. A running node writes them on an export request from its own
//! key; `bittensor-worker export --checkpoint` writes them from a saved model.

use std::path::{Path, PathBuf};

use super::state::{lock, Shared};
use crate::model::vectors::{save_finalfusion, save_word2vec_text, Vectors};
use crate::model::w2v::Word2Vec;
use crate::model::ModelError;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The node has no export directory.
    #[error("export is not configured: set node.export_dir (or node.data_dir)")]
    NotConfigured,
    /// The directory could not be created.
    #[error("cannot create {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing a file failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Writes `<stem>.served.{txt,fifu}` and `<stem>.input.{txt,fifu}` into `dir` from a model
/// and its vocabulary; returns the files in that order.
pub fn write_embeddings(
    dir: &Path,
    stem: &str,
    words: &[String],
    model: &Word2Vec,
) -> Result<Vec<PathBuf>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Dir {
        path: dir.to_path_buf(),
        source,
    })?;
    let served = Vectors::from_vocab(words, model.dim, &model.syn0)?;
    let mut files = Vec::new();
    for (what, v) in [("served", &served), ("input", &served)] {
        let text = dir.join(format!("{stem}.{what}.txt"));
        save_word2vec_text(v, &text)?;
        let fifu = dir.join(format!("{stem}.{what}.fifu"));
        save_finalfusion(v, &fifu)?;
        files.extend([text, fifu]);
    }
    Ok(files)
}

/// Exports a running node's embeddings into its export directory (the model is copied
/// under its lock, between training steps, and written after).
pub fn export_now(shared: &Shared) -> Result<Vec<PathBuf>, ExportError> {
    let dir = shared
        .export_dir
        .clone()
        .ok_or(ExportError::NotConfigured)?;
    let model = lock(&shared.model).clone();
    let files = write_embeddings(&dir, &shared.identity, &shared.words, &model)?;
    tracing::info!(dir = %dir.display(), files = files.len(), "embeddings exported");
    Ok(files)
}
