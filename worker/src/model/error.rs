//! Typed model failures: peer data is untrusted, so every bad tensor becomes an error, not a panic.

use std::path::PathBuf;

/// Why a model operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The configuration cannot build a model (zero sizes, bad learning rate...).
    #[error("invalid model configuration: {0}")]
    Config(String),
    /// A tensor has the wrong shape.
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    Shape {
        /// Which input was wrong.
        what: String,
        /// The shape required.
        expected: Vec<i64>,
        /// The shape received.
        got: Vec<i64>,
    },
    /// The number of peer inputs differs from the configured `peers`.
    #[error("expected {expected} peer inputs, got {got}")]
    PeerCount {
        /// Configured peers (k).
        expected: usize,
        /// Inputs received.
        got: usize,
    },
    /// A tensor or scalar holds NaN or infinity.
    #[error("{what} contains NaN or infinite values")]
    NotFinite {
        /// Which input was wrong.
        what: String,
    },
    /// A word id is outside the vocabulary.
    #[error("word id {id} is outside the vocabulary of {vocab} words")]
    OutOfVocab {
        /// The offending id.
        id: i64,
        /// Vocabulary size.
        vocab: i64,
    },
    /// A saved model file could not be read or written.
    #[error("model file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A saved model does not match this model's configuration.
    #[error("saved model is incompatible: {0}")]
    Incompatible(String),
}
