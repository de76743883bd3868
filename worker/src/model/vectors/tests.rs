//! Unit tests of vector files and the evaluation arithmetic (gensim's agreement on real
//! files is checked by `tests/gensim_agreement.rs`).

use std::io::Write;

use super::*;

fn vectors() -> Vectors {
    let words = ["king", "queen", "man", "woman", "Paris"]
        .map(String::from)
        .to_vec();
    let data = vec![
        1.0, 1.0, 0.0, //
        1.0, 1.0, 1.0, //
        1.0, 0.0, 0.0, //
        1.0, 0.0, 1.0, //
        -1.0, 0.5, -0.25,
    ];
    Vectors::new(words, 3, data).unwrap()
}

#[test]
fn word2vec_text_and_finalfusion_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let v = vectors();
    let text = dir.path().join("v.txt");
    save_word2vec_text(&v, &text).unwrap();
    assert_eq!(load_word2vec_text(&text).unwrap(), v);
    let fifu = dir.path().join("v.fifu");
    save_finalfusion(&v, &fifu).unwrap();
    let back = load_word2vec_text(&fifu).unwrap();
    assert_eq!(back.words(), v.words());
    for i in 0..v.words().len() {
        for (a, b) in back.row(i).iter().zip(v.row(i)) {
            assert!((a - b).abs() < 1e-5);
        }
    }
}

#[test]
fn malformed_vector_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in [
        ("header", "two 3\na 1 2 3\n"),
        ("short", "1 3\na 1 2\n"),
        ("count", "2 3\na 1 2 3\n"),
        ("number", "1 3\na 1 x 3\n"),
        ("nan", "1 3\na 1 NaN 3\n"),
    ] {
        let p = dir.path().join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        assert!(load_word2vec_text(&p).is_err(), "{name}");
    }
    assert!(load_word2vec_text(&dir.path().join("missing")).is_err());
}

#[test]
fn spearman_gives_ties_their_average_rank() {
    // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 0.8207826816681233
    let r = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]);
    assert!((r - 0.820_782_681_668_123_3).abs() < 1e-12, "{r}");
    assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
}

#[test]
fn word_pairs_are_case_insensitive_and_count_oov() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pairs.tsv");
    std::fs::write(
        &p,
        "# comment\nKing\tqueen\t9\nman\twoman\t8\nking\tparis\t1\nking\tunknown\t5\nbad line\n",
    )
    .unwrap();
    let r = evaluate_word_pairs(&vectors(), &p).unwrap();
    assert_eq!(r.pairs, 3);
    assert!((r.oov_percent - 25.0).abs() < 1e-9);
    assert!((r.spearman - 1.0).abs() < 1e-9, "{}", r.spearman);
}

#[test]
fn analogies_use_3cosadd_and_exclude_the_question_words() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("q.txt");
    std::fs::write(
        &p,
        ": family\nman king woman queen\nman woman king queen\nman king woman unknown\n",
    )
    .unwrap();
    let r = evaluate_word_analogies(&vectors(), &p).unwrap();
    assert_eq!(r.questions, 2);
    assert!((r.accuracy - 1.0).abs() < 1e-12);
    assert!((r.oov_percent - 100.0 / 3.0).abs() < 1e-9);
}
