//! Workers' `GET /status`: parsed leniently ([`status`]) and fetched for every subscribed node
//! at once ([`fetch`]); an unreachable worker is reported as down, never an error of the poll.

pub mod fetch;
pub mod status;

pub use fetch::{fetch_all, WorkerReport};
pub use status::{Attribution, WorkerStatus};
