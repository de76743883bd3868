//! gensim and `bittensor-worker evaluate` score the same vector file alike: the worker's
//! export is loaded by gensim's `KeyedVectors.load_word2vec_format`, and its
//! `evaluate_word_pairs` (WordSim-353, SimLex-999) and `evaluate_word_analogies` agree with
//! the Rust figures within 0.001. Needs `scripts/setup` (gensim in .venv, the sets in .data/).

use std::path::{Path, PathBuf};
use std::process::Command;

use bittensor_worker::corpus::Corpus;
use bittensor_worker::model::vectors::{save_word2vec_text, Vectors};
use bittensor_worker::model::w2v::{fit, W2vParams, Word2Vec};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn need(path: &Path) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup",
        path.display()
    );
    path.to_path_buf()
}

fn gensim(python: &Path, what: &str, vectors: &Path, set: &Path) -> serde_json::Value {
    let script = root().join("scripts/w2v_baseline.py");
    let out = Command::new(python)
        .arg(&script)
        .args([
            what,
            &vectors.display().to_string(),
            &set.display().to_string(),
        ])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "gensim failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or("")).expect("gensim prints JSON")
}

#[test]
fn gensim_loads_the_export_and_agrees_with_evaluate() {
    let data = root().join(".data");
    let python = need(&root().join(".venv/bin/python"));
    let wiki = need(&data.join("wiki.txt"));
    let sets =
        ["wordsim353.tsv", "simlex999.txt", "questions-words.txt"].map(|s| need(&data.join(s)));

    // Real vectors, quickly: one epoch of 32 dimensions on the first 60k tokens.
    let text = std::fs::read_to_string(&wiki).unwrap();
    let words: Vec<&str> = text.split_whitespace().take(60_000).collect();
    let corpus = Corpus::from_words_min(&words, 3, usize::MAX);
    let p = W2vParams {
        dim: 32,
        epochs: 1,
        min_count: 3,
        ..W2vParams::default()
    };
    let counts = corpus.vocab.counts();
    let mut model = Word2Vec::new(counts, &p).unwrap();
    fit(&mut model, &corpus.ids, counts, &p).unwrap();
    let vectors = Vectors::from_vocab(corpus.vocab.words(), p.dim, &model.syn0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vectors.txt");
    save_word2vec_text(&vectors, &file).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_bittensor-worker"))
        .arg("evaluate")
        .arg(&file)
        .args(["--wordsim", &sets[0].display().to_string()])
        .args(["--simlex", &sets[1].display().to_string()])
        .args(["--analogies", &sets[2].display().to_string()])
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    for (key, set) in [("wordsim", &sets[0]), ("simlex", &sets[1])] {
        let g = gensim(&python, "pairs", &file, set);
        let (a, b) = (ours[key].as_f64().unwrap(), g["spearman"].as_f64().unwrap());
        assert!((a - b).abs() < 1e-3, "{key}: ours {a}, gensim {b}");
        assert!(a.abs() > 1e-3, "{key}: a non-trivial correlation ({a})");
        let (a, b) = (
            ours[&format!("{key}_oov")].as_f64().unwrap(),
            g["oov_percent"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-3, "{key} OOV: ours {a}, gensim {b}");
    }
    let g = gensim(&python, "analogies", &file, &sets[2]);
    let (a, b) = (
        ours["analogy"].as_f64().unwrap(),
        g["accuracy"].as_f64().unwrap(),
    );
    assert!((a - b).abs() < 1e-3, "analogy: ours {a}, gensim {b}");
}
