//! The strategy catalogue on live workers: the behaviours a strategic node plugs into the
//! production node's loop ([`behaviour`], run by the `adversary` binary), and the live run
//! that puts honest and strategic worker processes on one real chain and reads what each
//! earned ([`live`], the `strategies-live` binary and `scripts/strategies-live`).
//!
//! None of this is in the worker binary: an operator cannot switch a behaviour on by accident.

pub mod behaviour;
pub mod live;
