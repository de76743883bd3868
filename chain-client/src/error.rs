//! Everything that can go wrong talking to nodeos, classified for retry decisions.

/// A failed chain request.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// No connection could be made (node down, wrong URL).
    #[error("chain at {url} unreachable: {detail}")]
    Unreachable {
        /// The base URL tried.
        url: String,
        /// What the HTTP layer reported.
        detail: String,
    },
    /// The request did not complete within the client's timeout.
    #[error("chain request timed out")]
    Timeout,
    /// nodeos answered with an error status that is not a contract rejection.
    #[error("chain HTTP {status}: {body}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// Response body (truncated).
        body: String,
    },
    /// The transaction was rejected by the contract or by chain rules; `message` is the
    /// assertion text (e.g. `overdrawn balance`).
    #[error("transaction rejected: {message}")]
    Rejected {
        /// The `eosio_assert` message, or nodeos' error description.
        message: String,
    },
    /// The transaction expired before inclusion, or its TaPoS block is unknown: rebuild it.
    #[error("transaction expired or reference block unknown: {0}")]
    Expired(String),
    /// The account has used up a metered resource; CPU and NET come back as the chain's
    /// averaging window passes, RAM only when more is bought.
    #[error("{resource} exhausted (stake or buy more, then retry): {message}")]
    Exhausted {
        /// Which resource.
        resource: Resource,
        /// nodeos' description.
        message: String,
    },
    /// The same signed transaction is already known to the chain (e.g. sent again after a
    /// timeout): it was not applied twice.
    #[error("duplicate transaction: {0}")]
    Duplicate(String),
    /// A response did not have the expected shape.
    #[error("cannot decode chain response: {0}")]
    Decode(String),
    /// A key could not sign.
    #[error("signing failed: {0}")]
    Key(#[from] crate::crypto::KeyError),
}

/// A resource the chain meters per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// CPU time (staked or powered up).
    Cpu,
    /// NET bandwidth (staked or powered up).
    Net,
    /// RAM (bought).
    Ram,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Resource::Cpu => "CPU",
            Resource::Net => "NET",
            Resource::Ram => "RAM",
        })
    }
}

impl ChainError {
    /// Whether retrying the same request later may succeed (network trouble, overload,
    /// expiry), as opposed to a deterministic rejection.
    pub fn is_transient(&self) -> bool {
        match self {
            ChainError::Unreachable { .. } | ChainError::Timeout | ChainError::Expired(_) => true,
            ChainError::Http { status, .. } => *status >= 500 || *status == 429,
            ChainError::Exhausted { resource, .. } => *resource != Resource::Ram,
            ChainError::Rejected { .. }
            | ChainError::Duplicate(_)
            | ChainError::Decode(_)
            | ChainError::Key(_) => false,
        }
    }

    /// The metered resource this failure ran out of, if any: the caller should back off
    /// for long (CPU, NET) or stop until an operator acts (RAM), not retry at once.
    pub fn exhausted(&self) -> Option<Resource> {
        match self {
            ChainError::Exhausted { resource, .. } => Some(*resource),
            _ => None,
        }
    }
}
