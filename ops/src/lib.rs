//! Benchmarks and operational runs against a local chain with the contract deployed (the
//! fixtures of `bittensor-tests`): the growing measured graph ([`graph`]) behind the `emit-cpu`
//! and `metagraph-reads` binaries, and the multi-worker load run ([`load`]) behind the
//! `load-run` binary and `scripts/load-run`; the strategy catalogue on live workers
//! ([`strategies`]) behind `adversary`, `strategies-live` and `scripts/strategies-live`.

pub mod graph;
pub mod load;
pub mod strategies;
