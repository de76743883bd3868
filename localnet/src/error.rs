//! Errors of the local chain harness.

use std::path::PathBuf;

/// Why starting or driving the local chain failed.
#[derive(Debug, thiserror::Error)]
pub enum LocalnetError {
    /// A required program (nodeos, cleos, keosd, cargo) is not installed where expected.
    #[error("{program} not found: {hint}")]
    MissingTool {
        /// The program name.
        program: String,
        /// How to get it.
        hint: String,
    },
    /// Filesystem or process spawning failure.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// nodeos or keosd did not come up; carries the log tail.
    #[error("{what} did not start: {detail}\n--- log tail ---\n{log_tail}")]
    StartFailed {
        /// Which process.
        what: String,
        /// What was observed.
        detail: String,
        /// The last lines of its log.
        log_tail: String,
    },
    /// A cleos command failed for a reason other than a contract assertion.
    #[error("cleos {args} failed: {stderr}")]
    Cleos {
        /// The arguments given.
        args: String,
        /// cleos' stderr.
        stderr: String,
    },
    /// The chain rejected the action; `message` is the assertion text.
    #[error("action rejected: {message}")]
    Rejected {
        /// The `eosio_assert` message (e.g. `overdrawn balance`).
        message: String,
    },
    /// Building the contract failed.
    #[error("contract build failed: {0}")]
    Build(String),
    /// A file the harness needs does not exist.
    #[error("missing file {path}: {hint}")]
    MissingFile {
        /// The path looked for.
        path: PathBuf,
        /// How to produce it.
        hint: String,
    },
    /// Output of cleos or nodeos was not in the expected shape.
    #[error("unexpected output: {0}")]
    Decode(String),
}

impl LocalnetError {
    /// Wraps an I/O error with what was being attempted.
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> LocalnetError {
        LocalnetError::Io {
            what: what.into(),
            source,
        }
    }
}
