//! Unit tests of the model: learning, typed errors, importance, remote gradients, persistence,
//! and the peers-help experiment on a small configuration.

use tch::{Kind, Tensor};

use super::eval::{chance_score, try_neighbour_score};
use super::*;
use crate::corpus::{Batch, Corpus, NO_CLASS};

const OPTS: (Kind, tch::Device) = (Kind::Float, tch::Device::Cpu);

fn cfg(vocab: i64, peers: usize) -> ModelConfig {
    // One libtorch thread: on a shared 2-core machine OpenMP spinning makes tests ~20x slower.
    tch::set_num_threads(1);
    ModelConfig {
        vocab,
        embed_dim: 8,
        out_dim: 8,
        peers,
        negatives: 4,
        lr: 0.02,
        seed: 3,
    }
}

fn zeros(n: usize, e: i64, k: usize) -> Vec<Tensor> {
    (0..k).map(|_| Tensor::zeros([n as i64, e], OPTS)).collect()
}

fn batches(corpus: &Corpus, steps: usize, batch: usize) -> Vec<Batch> {
    (0u64..)
        .flat_map(|epoch| corpus.batches(batch, 2, epoch).collect::<Vec<_>>())
        .take(steps)
        .collect()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn loss_falls_on_generated_corpus() {
    let corpus = Corpus::generate(1, 6000);
    let mut model = Model::new(&cfg(corpus.vocab.len() as i64, 2)).unwrap();
    let losses: Vec<f64> = batches(&corpus, 200, 64)
        .iter()
        .map(|b| model.train_step(b, &zeros(b.len(), 8, 2)).unwrap().loss)
        .collect();
    let (first, last) = (mean(&losses[..20]), mean(&losses[180..]));
    assert!(last < 0.8 * first, "loss {first:.3} -> {last:.3}");
}

#[test]
fn training_is_deterministic_per_seed() {
    let corpus = Corpus::generate(2, 2000);
    let run = || {
        let mut model = Model::new(&cfg(corpus.vocab.len() as i64, 1)).unwrap();
        let losses: Vec<f64> = batches(&corpus, 20, 32)
            .iter()
            .map(|b| model.train_step(b, &zeros(b.len(), 8, 1)).unwrap().loss)
            .collect();
        (losses, model.embeddings())
    };
    let (a, ea) = run();
    let (b, eb) = run();
    assert_eq!(a, b);
    assert!(ea.equal(&eb));
}

#[test]
fn bad_inputs_are_typed_errors() {
    let mut model = Model::new(&cfg(10, 2)).unwrap();
    let batch = Batch {
        words: vec![1, 2, 3],
        targets: vec![2, 3, 4],
    };
    let ok = zeros(3, 8, 2);
    let err = model.train_step(&batch, &ok[..1]).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::PeerCount {
                expected: 2,
                got: 1
            }
        ),
        "{err}"
    );
    let wrong = vec![ok[0].shallow_clone(), Tensor::zeros([3, 7], OPTS)];
    let err = model.train_step(&batch, &wrong).unwrap_err();
    assert!(
        matches!(err, ModelError::Shape { ref got, .. } if got == &vec![3, 7]),
        "{err}"
    );
    let wrong = vec![
        ok[0].shallow_clone(),
        Tensor::zeros([3, 8], (Kind::Double, tch::Device::Cpu)),
    ];
    assert!(matches!(
        model.train_step(&batch, &wrong),
        Err(ModelError::Kind { .. })
    ));
    let nan = vec![ok[0].shallow_clone(), Tensor::full([3, 8], f64::NAN, OPTS)];
    assert!(matches!(
        model.train_step(&batch, &nan),
        Err(ModelError::NotFinite { .. })
    ));
    let oov = Batch {
        words: vec![1, 10, 3],
        targets: vec![2, 3, 4],
    };
    assert!(matches!(
        model.train_step(&oov, &ok),
        Err(ModelError::OutOfVocab { id: 10, vocab: 10 })
    ));
    let uneven = Batch {
        words: vec![1, 2],
        targets: vec![2],
    };
    assert!(matches!(
        model.train_step(&uneven, &ok),
        Err(ModelError::Batch(_))
    ));
    assert!(matches!(
        model.train_step(&Batch::default(), &[]),
        Err(ModelError::Batch(_))
    ));
    assert!(matches!(
        model.serve(&[-1]),
        Err(ModelError::OutOfVocab { id: -1, .. })
    ));
    let grad = Tensor::zeros([2, 8], OPTS);
    assert!(matches!(
        model.apply_remote_grad(&[1, 2, 3], &grad, 1.0),
        Err(ModelError::Shape { .. })
    ));
    let grad = Tensor::full([3, 8], f64::INFINITY, OPTS);
    assert!(matches!(
        model.apply_remote_grad(&[1, 2, 3], &grad, 1.0),
        Err(ModelError::NotFinite { .. })
    ));
    let grad = Tensor::zeros([3, 8], OPTS);
    assert!(model
        .apply_remote_grad(&[1, 2, 3], &grad, f64::NAN)
        .is_err());
    let bad = ModelConfig {
        out_dim: 0,
        ..cfg(10, 2)
    };
    assert!(matches!(Model::new(&bad), Err(ModelError::Config(_))));
}

#[test]
fn step_output_shapes() {
    let mut model = Model::new(&cfg(20, 3)).unwrap();
    let batch = Batch {
        words: vec![1, 2, 3, 4, 5],
        targets: vec![2, 3, 4, 5, 6],
    };
    let peers: Vec<Tensor> = (0..3).map(|_| Tensor::randn([5, 8], OPTS)).collect();
    let out = model.train_step(&batch, &peers).unwrap();
    assert!(out.loss.is_finite());
    assert_eq!(out.peer_grads.len(), 3);
    for g in &out.peer_grads {
        assert_eq!(g.size(), vec![5, 8]);
    }
    assert_eq!(out.importance.len(), 4);
    assert!(out.importance.iter().all(|x| x.is_finite() && *x >= 0.0));
    assert_eq!(model.serve(&[1, 2]).unwrap().size(), vec![2, 8]);
    assert_eq!(model.serve(&[]).unwrap().size(), vec![0, 8]);
    assert_eq!(model.embeddings().size(), vec![20, 8]);
}

/// An informative peer (a fixed random code per latent class) must get more importance than
/// a peer sending fresh noise, which must get more than a dead (all-zero) peer.
#[test]
fn informative_peer_outranks_noise_and_dead_peers() {
    let corpus = Corpus::generate(4, 8000);
    let classes = corpus.word_classes().unwrap().to_vec();
    let codes = Tensor::randn([21, 8], OPTS).tanh();
    let class_ids: Vec<i64> = classes
        .iter()
        .map(|&c| if c == NO_CLASS { 20 } else { c as i64 })
        .collect();
    let class_ids = Tensor::from_slice(&class_ids);
    let mut model = Model::new(&cfg(corpus.vocab.len() as i64, 3)).unwrap();
    let mut totals = [0.0; 4];
    let steps = batches(&corpus, 300, 64);
    for (i, b) in steps.iter().enumerate() {
        let words = Tensor::from_slice(&b.words);
        let informative = codes.index_select(0, &class_ids.index_select(0, &words));
        let noise = Tensor::randn([b.len() as i64, 8], OPTS).tanh();
        let dead = Tensor::zeros([b.len() as i64, 8], OPTS);
        let out = model.train_step(b, &[informative, noise, dead]).unwrap();
        if i >= 200 {
            for (t, x) in totals.iter_mut().zip(&out.importance) {
                *t += x;
            }
        }
    }
    let [own, informative, noise, dead] = totals;
    println!("importance (sum of last 100 steps): own {own:.4}, informative {informative:.4}, noise {noise:.4}, dead {dead}");
    assert!(
        informative > 2.0 * noise,
        "informative {informative} vs noise {noise}"
    );
    assert!(noise > dead, "noise {noise} vs dead {dead}");
    assert_eq!(dead, 0.0);
}

/// A downstream gradient of `0.5 * |served|^2` must shrink what the node serves.
#[test]
fn remote_gradient_moves_served_embeddings_downhill() {
    let mut model = Model::new(&cfg(30, 1)).unwrap();
    let words = [1, 2, 3, 4];
    let before = model.serve(&words).unwrap();
    let energy = |t: &Tensor| t.square().sum(Kind::Double).double_value(&[]);
    let e0 = energy(&before);
    for _ in 0..20 {
        let served = model.serve(&words).unwrap();
        model.apply_remote_grad(&words, &served, 5.0).unwrap();
    }
    let e1 = energy(&model.serve(&words).unwrap());
    assert!(e1 < e0, "energy {e0} -> {e1}");
    // Scale 0 is a no-op.
    let fixed = model.serve(&words).unwrap();
    model.apply_remote_grad(&words, &fixed, 0.0).unwrap();
    assert!(model.serve(&words).unwrap().equal(&fixed));
}

#[test]
fn save_load_round_trip_gives_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.pt");
    let corpus = Corpus::generate(5, 1000);
    let vocab = corpus.vocab.len() as i64;
    let mut model = Model::new(&cfg(vocab, 2)).unwrap();
    for b in batches(&corpus, 10, 32) {
        let peers: Vec<Tensor> = (0..2)
            .map(|_| Tensor::randn([b.len() as i64, 8], OPTS))
            .collect();
        model.train_step(&b, &peers).unwrap();
    }
    model.save(&path).unwrap();
    let mut other = Model::new(&ModelConfig {
        seed: 99,
        ..cfg(vocab, 2)
    })
    .unwrap();
    let all: Vec<i64> = (0..vocab).collect();
    assert!(!other
        .serve(&all)
        .unwrap()
        .equal(&model.serve(&all).unwrap()));
    other.load(&path).unwrap();
    assert!(other
        .serve(&all)
        .unwrap()
        .equal(&model.serve(&all).unwrap()));
    assert!(other.embeddings().equal(&model.embeddings()));

    let mut wrong = Model::new(&cfg(vocab, 3)).unwrap();
    assert!(matches!(
        wrong.load(&path),
        Err(ModelError::Incompatible(_))
    ));
    let missing = dir.path().join("missing.pt");
    assert!(matches!(other.load(&missing), Err(ModelError::Io { .. })));
    std::fs::write(dir.path().join("junk.pt"), b"not a model").unwrap();
    assert!(other.load(&dir.path().join("junk.pt")).is_err());
}

#[test]
fn neighbour_score_sees_class_structure() {
    tch::set_num_threads(1);
    let classes = vec![NO_CLASS, 0, 0, 0, 1, 1, 1];
    // Class 0 near the x axis, class 1 near the y axis.
    let emb = Tensor::from_slice(&[
        0.5f32, 0.5, 1.0, 0.1, 0.9, 0.0, 1.0, 0.2, 0.1, 1.0, 0.0, 0.9, 0.2, 1.0,
    ])
    .view([7, 2]);
    assert_eq!(neighbour_score(&emb, &classes, 2), 1.0);
    let shuffled = emb.index_select(0, &Tensor::from_slice(&[0i64, 1, 4, 3, 2, 5, 6]));
    assert!(neighbour_score(&shuffled, &classes, 2) < 1.0);
    assert!(neighbour_score(&emb, &classes[..3], 2).is_nan());
    assert!(try_neighbour_score(&emb, &classes, 6).is_err());
    assert!((chance_score(&classes) - 2.0 / 5.0).abs() < 1e-12);
}

#[test]
fn peers_improve_embeddings() {
    tch::set_num_threads(1);
    let cfg = ExperimentConfig {
        corpus_tokens: 40_000,
        steps: 300,
        batch: 128,
        embed_dim: 16,
        out_dim: 16,
        lr: 0.05,
        ..ExperimentConfig::default()
    };
    let report = quality_experiment(&cfg).unwrap();
    println!("{report}");
    assert!(report.alone > report.chance, "{report}");
    assert!(report.with_peers > report.alone + 0.05, "{report}");
    assert_eq!(report.importance.len(), 4);
    assert!(
        report.importance.iter().all(|&x| x.is_finite() && x > 0.0),
        "{report}"
    );
}

#[test]
fn plain_baseline_learns() {
    let corpus = Corpus::generate(6, 4000);
    let mut model = PlainSkipGram::new(&cfg(corpus.vocab.len() as i64, 0)).unwrap();
    let losses: Vec<f64> = batches(&corpus, 150, 64)
        .iter()
        .map(|b| model.train_step(b).unwrap())
        .collect();
    assert!(mean(&losses[130..]) < mean(&losses[..20]));
    let emb = model.embeddings();
    assert_eq!(emb.size(), vec![corpus.vocab.len() as i64, 8]);
}

/// `serve` uses the last peer inputs seen for each word (zero before any).
#[test]
fn serve_uses_cached_peer_inputs() {
    let mut model = Model::new(&cfg(20, 2)).unwrap();
    let words = vec![3, 5, 7];
    let before = model.serve(&words).unwrap();
    assert!(before.equal(&model.embed_with(&words, &zeros(3, 8, 2)).unwrap()));
    let batch = Batch {
        words: words.clone(),
        targets: vec![4, 6, 8],
    };
    let peers: Vec<Tensor> = (0..2).map(|_| Tensor::randn([3, 8], OPTS)).collect();
    model.train_step(&batch, &peers).unwrap();
    let served = model.serve(&words).unwrap();
    assert!(served.equal(&model.embed_with(&words, &peers).unwrap()));
    assert!(!served.equal(&model.embed_with(&words, &zeros(3, 8, 2)).unwrap()));
}
