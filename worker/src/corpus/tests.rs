//! Unit tests of corpus loading, the synthetic generator, batching and sharding.

use std::io::Write;

use super::*;

#[test]
fn generated_corpus_is_deterministic_per_seed() {
    let a = Corpus::generate(11, 3000);
    let b = Corpus::generate(11, 3000);
    let c = Corpus::generate(12, 3000);
    assert_eq!(a, b);
    assert_ne!(a.ids, c.ids);
    assert_eq!(a.ids.len(), 3000);
}

#[test]
fn generated_words_carry_their_class() {
    let corpus = Corpus::generate(1, 20_000);
    let classes = corpus.word_classes().expect("synthetic corpus has classes");
    assert_eq!(classes.len(), corpus.vocab.len());
    assert_eq!(classes[Vocab::UNK as usize], NO_CLASS);
    for id in 1..corpus.vocab.len() as i64 {
        let word = corpus.vocab.word(id).unwrap();
        assert_eq!(Some(classes[id as usize]), class_of_word(word));
        assert!(classes[id as usize] < SyntheticSpec::default().classes);
    }
    // With 20 x 25 words and 20k tokens nearly every word appears.
    assert!(corpus.vocab.len() > 450, "vocab {}", corpus.vocab.len());
    assert_eq!(class_of_word("c07w12"), Some(7));
    assert_eq!(class_of_word("cat"), None);
    assert_eq!(class_of_word("c7w"), None);
}

#[test]
fn next_word_class_follows_the_markov_chain() {
    // Each class has only `successors` next classes: the data must show that structure.
    let spec = SyntheticSpec::default();
    let corpus = Corpus::generate(2, 30_000);
    let classes = corpus.word_classes().unwrap();
    let mut seen = vec![std::collections::BTreeSet::new(); spec.classes];
    for pair in corpus.ids.windows(2) {
        seen[classes[pair[0] as usize]].insert(classes[pair[1] as usize]);
    }
    assert!(
        seen.iter()
            .all(|s| !s.is_empty() && s.len() <= spec.successors),
        "{seen:?}"
    );
}

#[test]
fn vocab_is_capped_and_frequency_ordered() {
    let corpus = Corpus::from_words(&["b", "a", "b", "c", "b", "a", "d"], 3);
    assert_eq!(corpus.vocab.len(), 3);
    assert_eq!(corpus.vocab.word(1), Some("b"));
    assert_eq!(corpus.vocab.word(2), Some("a"));
    assert_eq!(corpus.vocab.id("c"), Vocab::UNK);
    assert_eq!(corpus.vocab.count(Vocab::UNK), Some(2));
    assert_eq!(corpus.ids, vec![1, 2, 1, 0, 1, 2, 0]);
    assert!(corpus.word_classes().is_none());
}

#[test]
fn written_corpus_loads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synthetic.txt");
    let corpus = Corpus::generate(3, 5000);
    corpus.write_text(&path).unwrap();
    let loaded = Corpus::load(&path, usize::MAX).unwrap();
    assert_eq!(loaded, corpus);
}

#[test]
fn zip_corpus_loads_first_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("text8.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("text8", options).unwrap();
    zip.write_all(b" The cat sat on the mat the end").unwrap();
    zip.start_file("other", options).unwrap();
    zip.write_all(b"ignored words").unwrap();
    zip.finish().unwrap();
    let corpus = Corpus::load(&path, 100).unwrap();
    assert_eq!(corpus.ids.len(), 8);
    assert_eq!(corpus.vocab.word(1), Some("the"));
    assert_eq!(corpus.vocab.id("ignored"), Vocab::UNK);
}

#[test]
fn load_errors_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.txt");
    assert!(matches!(
        Corpus::load(&missing, 10),
        Err(CorpusError::Missing { .. })
    ));
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, " \n\t ").unwrap();
    assert!(matches!(
        Corpus::load(&empty, 10),
        Err(CorpusError::Empty { .. })
    ));
    let bad_zip = dir.path().join("bad.zip");
    std::fs::write(&bad_zip, b"this is not a zip archive").unwrap();
    assert!(matches!(
        Corpus::load(&bad_zip, 10),
        Err(CorpusError::BadZip { .. })
    ));
    let truncated = dir.path().join("truncated.txt");
    std::fs::write(&truncated, b"PK\x03\x04garbage").unwrap();
    assert!(matches!(
        Corpus::load(&truncated, 10),
        Err(CorpusError::BadZip { .. })
    ));
    let binary = dir.path().join("binary.txt");
    std::fs::write(&binary, [0xffu8, 0xfe, 0x20, 0x41]).unwrap();
    assert!(matches!(
        Corpus::load(&binary, 10),
        Err(CorpusError::NotUtf8 { .. })
    ));
    assert!(matches!(
        Corpus::load(dir.path(), 10),
        Err(CorpusError::Io { .. })
    ));
    assert!(matches!(
        Corpus::load(&empty, 1),
        Err(CorpusError::VocabTooSmall(1))
    ));
}

#[test]
fn batches_are_deterministic_valid_pairs() {
    let corpus = Corpus::from_words(&"a b c a b d a b c e".split(' ').collect::<Vec<_>>(), 4);
    let collect = |seed| corpus.batches(4, 2, seed).collect::<Vec<_>>();
    assert_eq!(collect(1), collect(1));
    assert_ne!(collect(1), collect(2));
    let batches = collect(1);
    let sizes: Vec<usize> = batches.iter().map(Batch::len).collect();
    assert!(sizes[..sizes.len() - 1].iter().all(|&s| s == 4));
    // Every (word, target) pair of the text within the window, none touching <unk>, once.
    let mut got: Vec<(i64, i64)> = batches
        .iter()
        .flat_map(|b| b.words.iter().copied().zip(b.targets.iter().copied()))
        .collect();
    let mut want = Vec::new();
    for i in 0..corpus.ids.len() {
        for j in 1..=2 {
            if let Some(&t) = corpus.ids.get(i + j) {
                if corpus.ids[i] != Vocab::UNK && t != Vocab::UNK {
                    want.push((corpus.ids[i], t));
                }
            }
        }
    }
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn shards_partition_the_corpus() {
    let corpus = Corpus::generate(4, 1001);
    let parts: Vec<Corpus> = (0..3).map(|i| corpus.shard(i, 3)).collect();
    let joined: Vec<i64> = parts.iter().flat_map(|p| p.ids.clone()).collect();
    assert_eq!(joined, corpus.ids);
    assert!(parts.iter().all(|p| p.vocab == corpus.vocab));
    assert_eq!(corpus.shard(4, 3).ids, parts[1].ids);
    assert_eq!(corpus.shard(0, 0).ids, corpus.ids);
}

#[test]
fn shipped_corpus_matches_its_generator() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/synthetic.txt");
    let shipped = Corpus::load(&path, usize::MAX).unwrap();
    assert_eq!(shipped, Corpus::generate(SHIPPED_SEED, SHIPPED_TOKENS));
    assert!(shipped.word_classes().is_some());
}

#[test]
fn shards_keep_lines_and_a_node_counts_only_its_own_text() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("all.txt");
    std::fs::write(&src, "a b c\nd e\nf g h i\nj\nk l m n o p\n").unwrap();
    let (whole, shards) = write_shards(&src, Some(12), 2, &dir.path().join("s")).unwrap();
    assert_eq!(
        std::fs::read_to_string(&whole).unwrap(),
        "a b c\nd e\nf g h i\nj\nk l\n"
    );
    // A line goes where its first token falls: tokens 0..6 to shard 0, 6..12 to shard 1.
    assert_eq!(
        std::fs::read_to_string(&shards[0]).unwrap(),
        "a b c\nd e\nf g h i\n"
    );
    assert_eq!(std::fs::read_to_string(&shards[1]).unwrap(), "j\nk l\n");
    let all = Corpus::load(&whole, usize::MAX).unwrap();
    let own = Corpus::load_in(&shards[0], &all.vocab).unwrap();
    assert_eq!(own.vocab.words(), all.vocab.words());
    assert_eq!(own.vocab.count(all.vocab.id("a")), Some(1));
    assert_eq!(own.vocab.count(all.vocab.id("k")), Some(0));
    assert_eq!(own.ids.len(), 9);
}
