//! The vocabulary fingerprint: peers exchange embeddings indexed by word id, so two nodes may
//! only work together when their id -> word tables are identical.

use sha2::{Digest, Sha256};

/// Hex characters of a fingerprint (128 bits: collisions need deliberate work, not luck).
const FINGERPRINT_HEX: usize = 32;

/// A short hex digest of the words in id order (each length-prefixed, so no two lists collide
/// by concatenation).
pub fn vocab_fingerprint<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for w in words {
        h.update((w.len() as u64).to_le_bytes());
        h.update(w.as_bytes());
    }
    let mut text = hex::encode(h.finalize());
    text.truncate(FINGERPRINT_HEX);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_content_and_boundaries_change_the_fingerprint() {
        let a = vocab_fingerprint(["<unk>", "the", "cat"]);
        assert_eq!(a.len(), FINGERPRINT_HEX);
        assert_eq!(a, vocab_fingerprint(["<unk>", "the", "cat"]));
        assert_ne!(a, vocab_fingerprint(["<unk>", "cat", "the"]));
        assert_ne!(a, vocab_fingerprint(["<unk>", "the", "cats"]));
        assert_ne!(
            vocab_fingerprint(["ab", "c"]),
            vocab_fingerprint(["a", "bc"])
        );
    }
}
