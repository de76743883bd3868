//! `bittensor-viewer` entry point (placeholder).
fn main() {}
