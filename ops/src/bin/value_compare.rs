//! `value-compare`: the held-out valuer (`worker::model::w2v::Valuer`) beside the Fisher/Taylor
//! score on the same updates, on real text: nodes start from one initialisation, each trains
//! 1/32 epoch of its own shard per round (as the node's loop does) and the node under test
//! (shard 0, every 20th chunk held out) values, each round, its honest peers beside a noise
//! update, an empty (lazy) one, a copy of a peer's update, a replay of last round's, its own
//! update of last round sent back and an honest update reversed. Prints, as markdown: each
//! kind's mean value relative to the honest peers' mean under both estimators, the cosines
//! between honest updates beside the copy threshold, and the valuer's time per round beside a
//! round's training time.
//!
//! `value-compare --corpus .data/wiki.txt --max-tokens 400000 --rounds 24`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Parser;

use bittensor_ops::strategies::behaviour::noise_like;
use bittensor_worker::corpus::Corpus;
use bittensor_worker::model::w2v::{
    apply_update, delta_since, overlap_cosine, taylor, HeldOut, Lcg, Planner, SparseUpdate,
    UpdateBound, Valuer, W2vParams, Word2Vec, COPY_COSINE, COPY_OVERLAP, DEFAULT_MAX_ROW_NORM,
};

/// The valuer and the Taylor score on the same real updates.
#[derive(Parser)]
struct Args {
    /// Real text.
    #[arg(long, default_value = ".data/wiki.txt")]
    corpus: PathBuf,
    /// Tokens used (a prefix), cut into `--nodes` shards.
    #[arg(long, default_value_t = 400_000)]
    max_tokens: usize,
    /// Nodes (the one under test and its honest peers).
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// Exchange rounds (each 1/32 epoch of a shard).
    #[arg(long, default_value_t = 24)]
    rounds: usize,
    /// Vector dimension.
    #[arg(long, default_value_t = 100)]
    dim: usize,
    /// Evaluation pairs drawn from the held-out text.
    #[arg(long, default_value_t = 20_000)]
    pairs: usize,
}

const CHUNK: usize = 1000;
const KINDS: [&str; 8] = [
    "honest",
    "noise",
    "lazy",
    "copy",
    "replay",
    "own back",
    "reversed",
    "copy + noise",
];

fn main() -> Result<()> {
    bittensor_logging::init();
    let a = Args::parse();
    let all = Corpus::load_with(&a.corpus, 5, usize::MAX)?;
    let corpus = Corpus {
        vocab: all.vocab.clone(),
        ids: all.ids[..a.max_tokens.min(all.ids.len())].to_vec(),
    };
    let params = W2vParams {
        dim: a.dim,
        ..W2vParams::default()
    };
    let bound = UpdateBound {
        max_row_norm: DEFAULT_MAX_ROW_NORM,
        max_rows: usize::MAX,
    };
    let shards: Vec<Corpus> = (0..a.nodes).map(|i| corpus.shard(i, a.nodes)).collect();
    // Node 0 holds out every 20th chunk.
    let mut train0 = Vec::new();
    let mut held = Vec::new();
    for (i, c) in shards[0].ids.chunks(CHUNK).enumerate() {
        if i % 20 == 19 {
            held.push(c.iter().filter(|&&w| w > 0).map(|&w| w as u32).collect());
        } else {
            train0.extend_from_slice(c);
        }
    }
    let ids: Vec<Vec<i64>> = std::iter::once(train0)
        .chain(shards[1..].iter().map(|s| s.ids.clone()))
        .collect();
    let counts: Vec<Vec<u64>> = ids
        .iter()
        .map(|ids| {
            let mut c = vec![0u64; corpus.vocab.len()];
            ids.iter().for_each(|&i| c[i as usize] += 1);
            c
        })
        .collect();
    let mut planners: Vec<Planner<'_>> = ids
        .iter()
        .zip(&counts)
        .enumerate()
        .map(|(i, (ids, c))| {
            let p = W2vParams {
                seed: 100 + i as u64,
                ..params.clone()
            };
            Planner::new(ids, c, &p, CHUNK)
        })
        .collect::<Result<_, _>>()?;
    let per_round = planners[0].chunks_per_epoch().div_ceil(32).max(1);
    let mut base = Word2Vec::new(&counts[0], &params)?;
    let held_out = HeldOut::new(&held, &counts[0], &params, a.pairs, 7);
    let mut valuer = Valuer::new(held_out.clone(), 4);
    let mut rngs: Vec<Lcg> = (0..a.nodes as u64).map(|i| Lcg::new(200 + i)).collect();
    let mut noise_rng = Lcg::new(9);
    let (mut sums_v, mut sums_t) = ([0f64; 8], [0f64; 8]);
    let mut perturbed_cos = Vec::new();
    let mut counted = 0usize;
    let (mut cos_peers, mut cos_own_peer, mut cos_rounds) = (Vec::new(), Vec::new(), Vec::new());
    let (mut overlaps, mut t_train, mut t_value, mut t_taylor) = (Vec::new(), 0f64, 0f64, 0f64);
    let mut last: Option<(SparseUpdate, Vec<SparseUpdate>)> = None;
    let mut marked_honest = 0usize;
    for round in 0..a.rounds {
        let mut updates = Vec::new();
        let mut model0 = None;
        for (i, planner) in planners.iter_mut().enumerate() {
            let mut m = base.clone();
            let t = Instant::now();
            for _ in 0..per_round {
                if let Some(chunk) = planner.next_chunk() {
                    m.train_sentence(&chunk.sentence, chunk.alpha, &mut rngs[i]);
                }
            }
            if i == 0 {
                t_train += t.elapsed().as_secs_f64();
            }
            updates.push(delta_since(&m, &base.syn0, &base.syn1neg, round as u64));
            model0.get_or_insert(m);
        }
        let model = model0.expect("node 0");
        let own = updates[0].clone();
        let honest: Vec<SparseUpdate> = updates[1..].to_vec();
        for i in 0..honest.len() {
            for j in i + 1..honest.len() {
                let (c, f) = overlap_cosine(&honest[i], &honest[j]);
                cos_peers.push(c);
                overlaps.push(f);
            }
            cos_own_peer.push(overlap_cosine(&own, &honest[i]).0);
        }
        let mut peers = honest.clone();
        let k = honest.len();
        peers.push(noise_like(&honest[0], bound.max_row_norm, &mut noise_rng));
        peers.push(SparseUpdate {
            round: round as u64,
            dim: a.dim,
            rows: vec![],
            input: vec![],
            context: vec![],
        });
        peers.push(honest[0].clone());
        let mut reversed = honest[k - 1].clone();
        reversed
            .input
            .iter_mut()
            .chain(&mut reversed.context)
            .for_each(|x| *x = -*x);
        if let Some((last_own, last_peers)) = &last {
            for (now, before) in honest.iter().zip(last_peers) {
                cos_rounds.push(overlap_cosine(now, before).0);
            }
            peers.push(last_peers[0].clone());
            peers.push(last_own.clone());
            peers.push(reversed);
            // A copy with random rows of half its own row norms added: cosine just under
            // the threshold, so not taken for a copy; what does it earn?
            let mut perturbed = honest[1].clone();
            let noise = noise_like(&honest[1], 1.0, &mut noise_rng);
            for (row, e) in perturbed
                .input
                .chunks_mut(a.dim)
                .chain(perturbed.context.chunks_mut(a.dim))
                .zip(noise.input.chunks(a.dim).chain(noise.context.chunks(a.dim)))
            {
                let n = row.iter().map(|x| x * x).sum::<f32>().sqrt();
                row.iter_mut().zip(e).for_each(|(x, e)| *x += 0.5 * n * e);
            }
            perturbed_cos.push(overlap_cosine(&perturbed, &honest[1]).0);
            peers.push(perturbed);
            let t = Instant::now();
            let v = valuer.value(&model, &own, &peers, &bound);
            t_value += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let tay = taylor(&model, &held_out, &own, &peers, &bound);
            t_taylor += t.elapsed().as_secs_f64();
            marked_honest += v.copy_of[..k].iter().filter(|c| c.is_some()).count();
            let hv = v.peers[..k].iter().sum::<f64>() / k as f64;
            let ht = tay[1..=k].iter().sum::<f64>() / k as f64;
            sums_v[0] += 1.0;
            sums_t[0] += 1.0;
            for kind in 1..8 {
                sums_v[kind] += v.peers[k + kind - 1] / hv.max(1e-300);
                sums_t[kind] += tay[k + kind] / ht.max(1e-300);
            }
            counted += 1;
        } else {
            valuer.value(&model, &own, &peers, &bound);
        }
        for u in &updates {
            apply_update(&mut base, u, &bound)?;
        }
        last = Some((own, honest));
    }
    let stats = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
        let max = v.iter().cloned().fold(f64::MIN, f64::max);
        format!("mean {mean:.3}, max {max:.3} (n = {})", v.len())
    };
    println!(
        "value-compare: {} tokens of {}, {} nodes, dim {}, {} rounds of 1/32 epoch ({} chunks of {CHUNK} tokens), {} held-out pairs\n",
        corpus.ids.len(),
        a.corpus.display(),
        a.nodes,
        a.dim,
        a.rounds,
        per_round,
        held_out.len()
    );
    println!("| update | held-out valuer (x honest mean) | Taylor score (x honest mean) |");
    println!("|---|---|---|");
    for (kind, name) in KINDS.iter().enumerate() {
        println!(
            "| {name} | {:.3} | {:.3} |",
            sums_v[kind] / counted as f64,
            sums_t[kind] / counted as f64
        );
    }
    println!(
        "\nhonest updates taken for copies: {marked_honest} of {}",
        counted * (a.nodes - 1)
    );
    println!(
        "cosine on common rows, two honest peers, same round: {}",
        stats(&cos_peers)
    );
    println!(
        "overlap (common / rows) of those pairs: {}",
        stats(&overlaps)
    );
    println!(
        "cosine, the node's own update and an honest peer's: {}",
        stats(&cos_own_peer)
    );
    println!(
        "cosine, one peer's update and its previous one: {}",
        stats(&cos_rounds)
    );
    println!(
        "cosine, copy + noise and its source: {}",
        stats(&perturbed_cos)
    );
    println!("copy threshold: cosine >= {COPY_COSINE} with overlap >= {COPY_OVERLAP}");
    let r = a.rounds as f64;
    println!(
        "per round: training {:.1} ms (node 0), valuer {:.1} ms for {} updates, Taylor {:.1} ms",
        t_train / r * 1e3,
        t_value / counted.max(1) as f64 * 1e3,
        a.nodes - 1 + 7,
        t_taylor / counted.max(1) as f64 * 1e3
    );
    Ok(())
}
