//! Typed errors: every bad input the viewer reads maps to one clear message, never a panic.

use thiserror::Error;

/// Everything that can go wrong while reading the chain or a worker.
#[derive(Debug, Error)]
pub enum ViewError {
    /// The chain or worker could not be reached or answered with a transport error.
    #[error("request to {url} failed: {reason}")]
    Transport {
        /// The address asked.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The peer answered with a non-success HTTP status.
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        /// The address asked.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the answer's body, for the message.
        body: String,
    },
    /// The address policy does not allow dialling this chain row's address.
    #[error("not dialled: {address}: {reason}")]
    Refused {
        /// The `address:port` the chain row gives.
        address: String,
        /// The policy's reason.
        reason: String,
    },
    /// The answer was not the JSON expected.
    #[error("bad JSON from {url}: {reason}")]
    Json {
        /// The address asked.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A chain read failed (transport, HTTP status or a row of the wrong shape).
    #[error("chain read `{what}` failed: {source}")]
    Chain {
        /// The read that failed (`get_info`, a table name).
        what: &'static str,
        /// `chain-client`'s error.
        source: chain_client::ChainError,
    },
    /// A table the viewer needs was absent or empty (e.g. the `global` singleton).
    #[error("table `{table}` is missing: {reason}")]
    MissingTable {
        /// The table expected.
        table: String,
        /// Why it counts as missing.
        reason: String,
    },
}
