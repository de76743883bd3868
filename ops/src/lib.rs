//! Benchmarks and operational runs against a local chain with the contract deployed (the
//! fixtures of `bittensor-tests`): the `emit-cpu` benchmark binary, and the multi-worker
//! load run ([`load`]) behind the `load-run` binary and `scripts/load-run`.

pub mod load;
