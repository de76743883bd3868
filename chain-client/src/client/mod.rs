//! The HTTP client: chain info, signed transaction push, table reads.

pub mod time;
