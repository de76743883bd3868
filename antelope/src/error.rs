//! The failure of a rule of the format, carrying the message the CDT gives for it.

use core::fmt;

/// Why bytes did not decode or an asset sum left its range: the CDT's wording, which the
/// contract aborts the transaction with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// The message, e.g. `datastream attempted to read past the end`.
    pub message: &'static str,
}

impl Error {
    /// An error with a fixed message.
    pub const fn new(message: &'static str) -> Self {
        Error { message }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl core::error::Error for Error {}

/// A read past the end of the input (the CDT's datastream wording).
pub const SHORT: Error = Error::new("datastream attempted to read past the end");
/// A `varuint32` longer than 5 bytes or above `u32::MAX`.
pub const VARUINT_RANGE: Error = Error::new("varuint32 out of range");
/// Bytes left after the one value the input must hold.
pub const TRAILING: Error = Error::new("action data has trailing bytes");
/// A string field that is not UTF-8.
pub const NOT_UTF8: Error = Error::new("string is not valid UTF-8");
/// `asset + asset` of two symbols.
pub const ADD_SYMBOLS: Error = Error::new("attempt to add asset with different symbol");
/// `asset + asset` below `-MAX_AMOUNT`.
pub const ADD_UNDERFLOW: Error = Error::new("addition underflow");
/// `asset + asset` above `MAX_AMOUNT`.
pub const ADD_OVERFLOW: Error = Error::new("addition overflow");
/// `asset - asset` of two symbols.
pub const SUB_SYMBOLS: Error = Error::new("attempt to subtract asset with different symbol");
/// `asset - asset` below `-MAX_AMOUNT`.
pub const SUB_UNDERFLOW: Error = Error::new("subtraction underflow");
/// `asset - asset` above `MAX_AMOUNT`.
pub const SUB_OVERFLOW: Error = Error::new("subtraction overflow");

/// Every error this crate returns, for the contract's documented list of messages.
pub const ALL: [Error; 10] = [
    SHORT,
    VARUINT_RANGE,
    TRAILING,
    NOT_UTF8,
    ADD_SYMBOLS,
    ADD_UNDERFLOW,
    ADD_OVERFLOW,
    SUB_SYMBOLS,
    SUB_UNDERFLOW,
    SUB_OVERFLOW,
];
