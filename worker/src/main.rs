//! `bittensor-worker` entry point (placeholder).
fn main() {}
