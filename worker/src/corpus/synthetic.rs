//! A synthetic language with latent word classes, so embedding quality can be measured: words of
//! one class share their context distribution, hence a good embedding puts them close together.
//!
//! Generation: a Markov chain over classes (each class has a few weighted successor classes,
//! one of them the next class in a cycle through all classes, so all are reachable);
//! every token is a word drawn from the current class with a Zipf-like law, so some words are
//! frequent and some rare (rare words are where peers' knowledge helps). Words are spelled
//! `c07w12` (class 7, word 12) so a corpus written to a file keeps its ground-truth classes.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Shape of the synthetic language.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticSpec {
    /// Number of latent classes.
    pub classes: usize,
    /// Words per class.
    pub words_per_class: usize,
    /// Successor classes per class in the Markov chain.
    pub successors: usize,
    /// Zipf exponent of word frequency inside a class (0 = uniform).
    pub zipf: f64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        SyntheticSpec {
            classes: 20,
            words_per_class: 25,
            successors: 3,
            zipf: 1.0,
        }
    }
}

/// Spelling of word `word` of class `class`.
pub fn word_name(class: usize, word: usize) -> String {
    format!("c{class:02}w{word:02}")
}

/// Latent class encoded in a synthetic word's spelling (`c07w12` -> 7), `None` for other words.
pub fn class_of_word(word: &str) -> Option<usize> {
    let rest = word.strip_prefix('c')?;
    let (class, index) = rest.split_once('w')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(class) || !digits(index) {
        return None;
    }
    class.parse().ok()
}

/// Draws an index from unnormalised non-negative weights.
fn draw(rng: &mut ChaCha8Rng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let x = rng.gen::<f64>() * total;
    cumulative
        .iter()
        .position(|&c| x < c)
        .unwrap_or(cumulative.len().saturating_sub(1))
}

fn cumulate(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// Generates `n_tokens` words of the language (deterministic per seed).
pub fn generate_words(spec: &SyntheticSpec, seed: u64, n_tokens: usize) -> Vec<String> {
    let classes = spec.classes.max(1);
    let per_class = spec.words_per_class.max(1);
    let succ = spec.successors.clamp(1, classes);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Successor classes and their cumulative weights, per class.
    let chain: Vec<(Vec<usize>, Vec<f64>)> = (0..classes)
        .map(|c| {
            // The first successor closes a cycle through all classes, so every class is reachable.
            let first = (c + 1) % classes;
            let mut pool: Vec<usize> = (0..classes).filter(|&x| x != first).collect();
            let mut next = vec![first];
            for _ in 1..succ {
                let i = rng.gen_range(0..pool.len());
                next.push(pool.swap_remove(i));
            }
            let weights = cumulate((0..succ).map(|_| rng.gen_range(0.2..1.0)));
            (next, weights)
        })
        .collect();
    let word_law = cumulate((0..per_class).map(|r| 1.0 / ((r + 1) as f64).powf(spec.zipf)));
    let names: Vec<Vec<String>> = (0..classes)
        .map(|c| (0..per_class).map(|w| word_name(c, w)).collect())
        .collect();
    let mut class = rng.gen_range(0..classes);
    let mut out = Vec::with_capacity(n_tokens);
    for _ in 0..n_tokens {
        let w = draw(&mut rng, &word_law);
        out.push(names[class][w].clone());
        let (next, weights) = &chain[class];
        class = next[draw(&mut rng, weights)];
    }
    out
}
