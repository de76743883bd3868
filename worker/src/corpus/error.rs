//! Typed failures of corpus loading, so a bad `--corpus` path gets a clear message instead of a panic.

use std::path::PathBuf;

/// Why a corpus could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The file does not exist.
    #[error("corpus file {path} does not exist")]
    Missing {
        /// The path that was asked for.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read corpus file {path}: {source}")]
    Io {
        /// The path being read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file holds no words at all.
    #[error("corpus file {path} contains no words")]
    Empty {
        /// The empty file.
        path: PathBuf,
    },
    /// The file looks like (or is named like) a zip archive but cannot be read as one.
    #[error("corpus file {path} is not a readable zip archive: {reason}")]
    BadZip {
        /// The archive.
        path: PathBuf,
        /// What the zip reader reported.
        reason: String,
    },
    /// The text is not UTF-8.
    #[error("corpus file {path} is not UTF-8 text")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// A vocabulary file that is not one lower-case word per line.
    #[error("vocabulary file {path} is malformed: {reason}")]
    BadVocab {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The vocabulary cap leaves no room for real words beside `<unk>`.
    #[error("max_vocab must be at least 2 (one word plus <unk>), got {0}")]
    VocabTooSmall(usize),
}
