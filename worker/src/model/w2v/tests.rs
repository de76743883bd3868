//! Unit tests of the word2vec core: sampling laws, learning, determinism, the peer-aware
//! model's gradients (they must move the upstream's vectors in the direction that lowers the
//! downstream's loss) and its refusal of bad peer data.

use super::*;
use crate::corpus::Corpus;

fn small() -> W2vParams {
    W2vParams {
        dim: 16,
        window: 3,
        negatives: 4,
        min_count: 1,
        sample: 0.0,
        alpha: 0.05,
        epochs: 3,
        ..W2vParams::default()
    }
}

/// Mean cosine of same-class word pairs minus that of different-class pairs.
fn class_margin(corpus: &Corpus, table: &[f32], dim: usize) -> f64 {
    let classes = corpus.word_classes().expect("synthetic corpus");
    let unit: Vec<Vec<f32>> = table
        .chunks_exact(dim)
        .map(|r| {
            let n = dot(r, r).sqrt().max(1e-12);
            r.iter().map(|x| x / n).collect()
        })
        .collect();
    let (mut same, mut ns, mut diff, mut nd) = (0f64, 0f64, 0f64, 0f64);
    for i in 1..unit.len() {
        for j in i + 1..unit.len() {
            let c = dot(&unit[i], &unit[j]) as f64;
            if classes[i] == classes[j] {
                same += c;
                ns += 1.0;
            } else {
                diff += c;
                nd += 1.0;
            }
        }
    }
    same / ns - diff / nd
}

#[test]
fn negatives_follow_unigram_to_the_three_quarters() {
    let table = NegativeTable::new(&[500, 1000, 10], 0.75);
    let mut rng = Lcg::new(1);
    let mut seen = [0u32; 3];
    for _ in 0..200_000 {
        seen[table.draw(&mut rng) as usize] += 1;
    }
    assert_eq!(seen[0], 0, "<unk> is never a negative");
    let ratio = seen[1] as f64 / seen[2] as f64;
    let want = 100f64.powf(0.75);
    assert!(
        (ratio / want - 1.0).abs() < 0.1,
        "ratio {ratio:.2}, want {want:.2}"
    );
}

#[test]
fn subsampling_drops_frequent_words_and_unk() {
    let counts = [7, 100_000, 100, 10];
    let sub = Subsampler::new(&counts, 1e-3);
    let t = 1e-3 * 100_110.0;
    let expected = ((100_000f64 / t).sqrt() + 1.0) * t / 100_000.0;
    assert!((sub.keep_probability(1) as f64 - expected).abs() < 1e-6);
    assert_eq!(sub.keep_probability(3), 1.0);
    let mut rng = Lcg::new(3);
    let ids: Vec<i64> = (0..10_000).map(|i| [0, 1, 1, 1, 2, 3][i % 6]).collect();
    let mut out = Vec::new();
    sub.filter(&ids, &mut rng, &mut out);
    assert!(!out.contains(&0));
    let kept_frequent = out.iter().filter(|&&w| w == 1).count() as f64 / 5000.0;
    assert!((kept_frequent - expected).abs() < 0.05, "{kept_frequent}");
    assert_eq!(out.iter().filter(|&&w| w == 3).count(), 10_000 / 6);
    let keep_all = Subsampler::new(&counts, 0.0);
    keep_all.filter(&ids[..60], &mut rng, &mut out);
    assert_eq!(out.len(), 50);
}

#[test]
fn learning_rate_decays_linearly() {
    let p = W2vParams::default();
    assert_eq!(p.alpha_at(0.0), p.alpha as f32);
    assert!((p.alpha_at(0.5) - ((p.alpha + p.min_alpha) / 2.0) as f32).abs() < 1e-7);
    assert_eq!(p.alpha_at(2.0), p.min_alpha as f32);
}

#[test]
fn bad_parameters_are_refused() {
    for bad in [
        W2vParams { dim: 0, ..small() },
        W2vParams {
            window: 0,
            ..small()
        },
        W2vParams {
            alpha: f64::NAN,
            ..small()
        },
        W2vParams {
            min_alpha: 1.0,
            ..small()
        },
        W2vParams {
            epochs: 0,
            ..small()
        },
    ] {
        assert!(Word2Vec::new(&[1, 2, 3], &bad).is_err(), "{bad:?}");
    }
    assert!(Word2Vec::new(&[1], &small()).is_err(), "no words");
}

#[test]
fn plain_model_learns_the_classes_and_is_deterministic() {
    let corpus = Corpus::generate(5, 20_000);
    let counts = corpus.vocab.counts();
    let p = small();
    let mut a = Word2Vec::new(counts, &p).unwrap();
    let before = class_margin(&corpus, &a.syn0, p.dim);
    let r = fit(&mut a, &corpus.ids, counts, &p).unwrap();
    let after = class_margin(&corpus, &a.syn0, p.dim);
    assert!(
        after > before + 0.2,
        "class margin {before:.3} -> {after:.3}"
    );
    assert_eq!(r.words, (corpus.ids.len() * p.epochs) as u64);
    assert!(r.pairs > r.words, "window 3 gives several pairs a word");
    let mut b = Word2Vec::new(counts, &p).unwrap();
    fit(&mut b, &corpus.ids, counts, &p).unwrap();
    assert_eq!(a.syn0, b.syn0, "same seed, same vectors");
    let mut c = Word2Vec::new(counts, &W2vParams { seed: 2, ..p }).unwrap();
    fit(
        &mut c,
        &corpus.ids,
        counts,
        &W2vParams { seed: 2, ..small() },
    )
    .unwrap();
    assert_ne!(a.syn0, c.syn0);
}

/// Every way of training the plain model (both updates, one and two threads, every kernel
/// this processor has) learns the classes; one thread is bit-identical run to run.
#[test]
fn every_update_thread_count_and_kernel_learns_the_classes() {
    let corpus = Corpus::generate(5, 20_000);
    let counts = corpus.vocab.counts();
    let p = small();
    let before = class_margin(&corpus, &Word2Vec::new(counts, &p).unwrap().syn0, p.dim);
    for update in [Update::SharedNegatives, Update::PerPair] {
        for threads in [1, 2] {
            let opts = FitOptions { threads, update };
            let mut a = Word2Vec::new(counts, &p).unwrap();
            let r = fit_with(&mut a, &corpus.ids, counts, &p, opts).unwrap();
            assert_eq!(r.words, (corpus.ids.len() * p.epochs) as u64, "{opts:?}");
            assert!(
                r.pairs > r.words,
                "{opts:?}: window 3 gives several pairs a word"
            );
            let after = class_margin(&corpus, &a.syn0, p.dim);
            assert!(
                after > before + 0.2,
                "{opts:?}: class margin {before:.3} -> {after:.3}"
            );
            if threads == 1 {
                let mut b = Word2Vec::new(counts, &p).unwrap();
                fit_with(&mut b, &corpus.ids, counts, &p, opts).unwrap();
                assert_eq!(a.syn0, b.syn0, "{opts:?}: one thread, same vectors");
                assert_eq!(a.syn1neg, b.syn1neg, "{opts:?}");
            }
        }
    }
}
/// The same sentence trained with each kernel of this processor gives the same vectors up to
/// rounding (FMA rounds once where the portable loop rounds twice).
#[test]
fn kernels_train_alike() {
    let corpus = Corpus::generate(5, 4_000);
    let counts = corpus.vocab.counts();
    let p = small();
    let sentence: Vec<u32> = corpus
        .ids
        .iter()
        .filter(|&&i| i > 0)
        .map(|&i| i as u32)
        .collect();
    let mut reference: Option<Vec<f32>> = None;
    for isa in simd::Isa::available() {
        let mut m = Word2Vec::new(counts, &p).unwrap();
        let (pairs, loss) = {
            let shared = m.shared();
            let mut scratch = plain::Scratch::new(p.window, p.dim);
            let mut rng = Lcg::new(3);
            shared.train(
                isa,
                Update::SharedNegatives,
                &sentence,
                0.05,
                &mut rng,
                &mut scratch,
            )
        };
        assert!(pairs > 0 && loss.is_finite(), "{}", isa.name());
        match &reference {
            None => reference = Some(m.syn0.clone()),
            Some(r) => {
                let worst = r
                    .iter()
                    .zip(&m.syn0)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(worst < 1e-3, "{}: max difference {worst}", isa.name());
            }
        }
    }
}

/// Rounds of the node's loop on one thread are the sequential run bit for bit, and on two
/// threads they learn too.
#[test]
fn rounds_on_one_thread_are_the_sequential_run_and_two_threads_learn() {
    let corpus = Corpus::generate(5, 20_000);
    let counts = corpus.vocab.counts();
    let p = small();
    let mut seq = Word2Vec::new(counts, &p).unwrap();
    fit(&mut seq, &corpus.ids, counts, &p).unwrap();
    for threads in [1usize, 2] {
        let mut m = Word2Vec::new(counts, &p).unwrap();
        let mut planner = Planner::new(&corpus.ids, counts, &p, CHUNK_WORDS).unwrap();
        let until = planner.scheduled_chunks();
        let mut rngs: Vec<Lcg> = (0..threads)
            .map(|t| Lcg::new(p.seed.wrapping_add(2 + t as u64)))
            .collect();
        let mut done = 0;
        while planner.position() < until {
            let r = train_round(&mut m, &mut planner, 3, until, &mut rngs, Update::default());
            assert!(r.chunks > 0 && r.chunks <= 3);
            done += r.words;
        }
        assert_eq!(done, (corpus.ids.len() * p.epochs) as u64);
        if threads == 1 {
            assert_eq!(m.syn0, seq.syn0, "one thread: the sequential run");
        } else {
            let margin = class_margin(&corpus, &m.syn0, p.dim);
            assert!(margin > 0.2, "two threads learn: margin {margin:.3}");
        }
    }
}

fn shards_of(corpus: &Corpus, nodes: usize) -> Vec<Corpus> {
    (0..nodes)
        .map(|i| {
            let ids = corpus.shard(i, nodes).ids;
            let mut counts = vec![0u64; corpus.vocab.len()];
            for &id in &ids {
                counts[id as usize] += 1;
            }
            Corpus {
                vocab: corpus.vocab.with_counts(counts),
                ids,
            }
        })
        .collect()
}

fn row_moves(before: &[f32], after: &[f32], dim: usize) -> f32 {
    before
        .chunks_exact(dim)
        .zip(after.chunks_exact(dim))
        .map(|(a, b)| dot(&sub(b, a), &sub(b, a)).sqrt())
        .fold(0.0, f32::max)
}

fn sub(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

const BOUND: UpdateBound = UpdateBound {
    max_row_norm: 0.05,
    max_rows: 10_000,
};

#[test]
fn a_hostile_update_moves_any_served_row_by_at_most_the_bound() {
    let corpus = Corpus::generate(4, 4_000);
    let counts = corpus.vocab.counts();
    let p = small();
    let model = Word2Vec::new(counts, &p).unwrap();
    let (vocab, dim) = (model.vocab, model.dim);
    let all: Vec<u32> = (0..vocab as u32).collect();
    // Huge values in every row of both tables.
    let huge = SparseUpdate {
        round: 0,
        dim,
        rows: all.clone(),
        input: vec![1e30; vocab * dim],
        context: vec![-1e30; vocab * dim],
    };
    // Crafted to pull word 1 onto word 2 (and every word onto word 2).
    let target = model.vector(2).to_vec();
    let mut pull = vec![0f32; vocab * dim];
    for r in 0..vocab {
        let d = sub(&target, model.vector(r));
        pull[r * dim..(r + 1) * dim]
            .copy_from_slice(&d.iter().map(|x| x * 1e6).collect::<Vec<_>>());
    }
    let crafted = SparseUpdate {
        round: 0,
        dim,
        rows: all,
        input: pull.clone(),
        context: pull,
    };
    for hostile in [&huge, &crafted] {
        let mut m = model.clone();
        let applied = apply_update(&mut m, hostile, &BOUND).unwrap();
        assert_eq!(applied.rows, vocab);
        assert!(row_moves(&model.syn0, &m.syn0, dim) <= BOUND.max_row_norm * 1.0001);
        assert!(row_moves(&model.syn1neg, &m.syn1neg, dim) <= BOUND.max_row_norm * 1.0001);
    }
    // Garbage is refused and changes nothing.
    let mut nan = crafted.clone();
    nan.input[3] = f32::NAN;
    let mut outside = crafted.clone();
    outside.rows[vocab - 1] = vocab as u32;
    let mut too_many = crafted.clone();
    too_many.rows.truncate(vocab);
    for bad in [&nan, &outside] {
        let mut m = model.clone();
        assert!(apply_update(&mut m, bad, &BOUND).is_err());
        assert!(m.syn0 == model.syn0 && m.syn1neg == model.syn1neg);
    }
    let tight = UpdateBound {
        max_rows: vocab - 1,
        ..BOUND
    };
    let mut m = model.clone();
    assert!(apply_update(&mut m, &too_many, &tight).is_err());
    assert!(m.syn0 == model.syn0);
}

#[test]
fn exchanging_nodes_learn_more_than_alone_and_a_hostile_peer_cannot_undo_it() {
    let corpus = Corpus::generate(4, 120_000);
    let p = W2vParams {
        epochs: 2,
        ..small()
    };
    let shards = shards_of(&corpus, 4);
    let margin = |models: &[Word2Vec], skip: usize| -> f64 {
        let kept: Vec<f64> = models
            .iter()
            .skip(skip)
            .map(|m| class_margin(&corpus, &m.syn0, p.dim))
            .collect();
        kept.iter().sum::<f64>() / kept.len() as f64
    };
    let settings = |syncs| ExchangeSettings {
        syncs_per_epoch: syncs,
        bound: UpdateBound {
            max_row_norm: 0.2,
            max_rows: usize::MAX,
        },
        compression: crate::model::w2v::Compression::NONE,
    };
    let (alone, _) = train_exchanging(&shards, &p, &settings(0), None).unwrap();
    let (honest, stats) = train_exchanging(&shards, &p, &settings(16), None).unwrap();
    assert!(stats.rounds > 0 && stats.rows > 0);
    let (alone_m, honest_m) = (margin(&alone, 1), margin(&honest, 1));
    assert!(
        honest_m > alone_m,
        "exchanging {honest_m:.3}, alone {alone_m:.3}"
    );
    // Node 0 turns hostile: every round it sends huge updates pulling every word together.
    let mut attack = |m: &Word2Vec, honest: SparseUpdate| -> SparseUpdate {
        let target = m.vector(1).to_vec();
        let mut input = vec![0f32; honest.rows.len() * m.dim];
        for (k, &r) in honest.rows.iter().enumerate() {
            let d = sub(&target, m.vector(r as usize));
            for (x, v) in input[k * m.dim..(k + 1) * m.dim].iter_mut().zip(d) {
                *x = v * 1e6;
            }
        }
        SparseUpdate {
            context: input.iter().map(|x| -x).collect(),
            input,
            ..honest
        }
    };
    let (attacked, _) = train_exchanging(&shards, &p, &settings(16), Some(&mut attack)).unwrap();
    let attacked_m = margin(&attacked, 1);
    assert!(
        attacked_m > alone_m && attacked_m > 0.5 * honest_m,
        "attacked {attacked_m:.3}, honest {honest_m:.3}, alone {alone_m:.3}"
    );
}

#[test]
fn compressed_exchange_ships_less_learns_across_shards_and_is_deterministic() {
    let corpus = Corpus::generate(4, 120_000);
    let p = W2vParams {
        epochs: 2,
        ..small()
    };
    let shards = shards_of(&corpus, 4);
    let settings = |compression| ExchangeSettings {
        syncs_per_epoch: 16,
        bound: UpdateBound {
            max_row_norm: 0.2,
            max_rows: usize::MAX,
        },
        compression,
    };
    let margin = |models: &[Word2Vec]| -> f64 {
        models
            .iter()
            .map(|m| class_margin(&corpus, &m.syn0, p.dim))
            .sum::<f64>()
            / models.len() as f64
    };
    let none = crate::model::w2v::Compression::NONE;
    // The top-fraction rule: the largest quarter of the residual's rows, in f16.
    let packed = crate::model::w2v::Compression {
        top_fraction: 0.25,
        precision: crate::model::w2v::Precision::F16,
    };
    let (full, full_stats) = train_exchanging(&shards, &p, &settings(none), None).unwrap();
    let (a, a_stats) = train_exchanging(&shards, &p, &settings(packed), None).unwrap();
    let (b, _) = train_exchanging(&shards, &p, &settings(packed), None).unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.syn0, y.syn0, "same seed, same models");
        assert_eq!(x.syn1neg, y.syn1neg);
    }
    assert!(
        a_stats.bytes * 3 < full_stats.bytes,
        "compressed {} bytes, full {}",
        a_stats.bytes,
        full_stats.bytes
    );
    // f16 on every row learns as f32 does; the top-fraction rule learns across shards
    // (above alone) but, on this small hot vocabulary with a tight bound, less than every
    // row (docs/embeddings.md, "Compressing the exchange").
    assert_eq!(
        packed,
        crate::model::w2v::Compression::default(),
        "the default is the top quarter in f16"
    );
    let half = crate::model::w2v::Compression {
        top_fraction: 1.0,
        precision: crate::model::w2v::Precision::F16,
    };
    let (h, h_stats) = train_exchanging(&shards, &p, &settings(half), None).unwrap();
    // Eight bits a value and a scale a row: fewer bytes than f16, learning as f32 does.
    let eight = crate::model::w2v::Compression {
        top_fraction: 1.0,
        precision: crate::model::w2v::Precision::I8,
    };
    let (e, e_stats) = train_exchanging(&shards, &p, &settings(eight), None).unwrap();
    let alone_settings = ExchangeSettings {
        syncs_per_epoch: 0,
        ..settings(none)
    };
    let (alone, _) = train_exchanging(&shards, &p, &alone_settings, None).unwrap();
    let (full_m, half_m, packed_m, alone_m) =
        (margin(&full), margin(&h), margin(&a), margin(&alone));
    assert!(
        (half_m - full_m).abs() < 0.02 * full_m,
        "f16 {half_m:.3}, f32 {full_m:.3}"
    );
    let eight_m = margin(&e);
    assert!(
        (eight_m - full_m).abs() < 0.02 * full_m,
        "i8 {eight_m:.3}, f32 {full_m:.3}"
    );
    // At dim 16 a row is 20 bytes in eight bits against 32 in f16 (ids aside): 0.65.
    assert!(
        e_stats.bytes * 10 < h_stats.bytes * 7,
        "i8 {} bytes, f16 {}",
        e_stats.bytes,
        h_stats.bytes
    );
    assert!(
        packed_m > alone_m + 0.05,
        "compressed {packed_m:.3}, alone {alone_m:.3}"
    );
}
