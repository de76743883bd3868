//! Regenerates the shipped synthetic corpus `worker/data/synthetic.txt` (or writes one of a
//! chosen seed and size): `cargo run -p bittensor-worker --example gen_corpus [PATH [SEED [TOKENS]]]`.

use std::path::PathBuf;

use bittensor_worker::corpus::{Corpus, SHIPPED_SEED, SHIPPED_TOKENS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/synthetic.txt"));
    let seed = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(SHIPPED_SEED);
    let tokens = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(SHIPPED_TOKENS);
    let corpus = Corpus::generate(seed, tokens);
    corpus.write_text(&path)?;
    println!(
        "wrote {} tokens ({} words in vocabulary) of seed {seed} to {}",
        corpus.ids.len(),
        corpus.vocab.len(),
        path.display()
    );
    Ok(())
}
