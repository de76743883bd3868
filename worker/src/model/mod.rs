//! The node's model: word2vec's skip-gram with negative sampling in plain Rust ([`w2v`]),
//! plain and peer-aware (its input vector of a word also sums its upstream peers' served
//! vectors; it reports the importance of each input for attributions, returns gradients
//! for its peers and learns from its downstream peers' gradients); [`vectors`] exports and
//! scores word vectors; [`baseline`] runs gensim and fastText on the same corpus.

pub mod baseline;
mod error;
pub mod vectors;
pub mod w2v;

pub use error::ModelError;
