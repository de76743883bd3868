//! Criterion benchmark of one training step: the plain skip-gram baseline, the peer-aware model
//! without peers and with 3 peers (vocab 501, dims 32, batch 256; one libtorch thread).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use bittensor_worker::corpus::Batch;
use bittensor_worker::model::{Model, ModelConfig, PlainSkipGram};

const BATCH: usize = 256;

fn batch(rng: &mut ChaCha8Rng, vocab: i64) -> Batch {
    Batch {
        words: (0..BATCH).map(|_| rng.gen_range(1..vocab)).collect(),
        targets: (0..BATCH).map(|_| rng.gen_range(1..vocab)).collect(),
    }
}

fn bench(c: &mut Criterion) {
    tch::set_num_threads(1);
    let cfg = ModelConfig::default();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let b = batch(&mut rng, cfg.vocab);
    let mut group = c.benchmark_group("train_step");
    group.throughput(Throughput::Elements(BATCH as u64));

    let Ok(mut plain) = PlainSkipGram::new(&cfg) else {
        return;
    };
    group.bench_function("plain_skipgram", |bench| {
        bench.iter(|| plain.train_step(&b).ok())
    });
    for k in [0usize, 3] {
        let Ok(mut model) = Model::new(&ModelConfig {
            peers: k,
            ..cfg.clone()
        }) else {
            return;
        };
        let peers: Vec<Tensor> = (0..k)
            .map(|_| Tensor::randn([BATCH as i64, cfg.out_dim], (Kind::Float, tch::Device::Cpu)))
            .collect();
        group.bench_function(format!("model_{k}_peers"), |bench| {
            bench.iter(|| model.train_step(&b, &peers).ok())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
