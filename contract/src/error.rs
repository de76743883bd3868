//! The one error type of the contract: an English message that aborts the transaction.

use alloc::borrow::Cow;
use alloc::string::String;

/// Why an action was rejected; on chain its message goes to `eosio_assert_message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractError {
    /// The message shown to the user (tests match on substrings of it).
    pub message: Cow<'static, str>,
}

impl ContractError {
    /// An error with a fixed message (no allocation).
    pub const fn new(message: &'static str) -> Self {
        ContractError {
            message: Cow::Borrowed(message),
        }
    }

    /// An error whose message was built at run time.
    pub fn owned(message: String) -> Self {
        ContractError {
            message: Cow::Owned(message),
        }
    }
}

/// Result of every contract operation.
pub type Result<T> = core::result::Result<T, ContractError>;

/// `eosio::check`: turns a failed condition into an error carrying `message`.
pub fn check(condition: bool, message: &'static str) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(ContractError::new(message))
    }
}
