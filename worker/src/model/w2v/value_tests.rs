//! The held-out valuer against every useless peer: noise, an empty (lazy) update, a copy of
//! another peer's update, a replay of an earlier round and the node's own update sent back
//! each earn (almost) nothing, while peers whose updates come from real training on other
//! shards earn; honest updates are never taken for copies.

use super::*;
use crate::corpus::Corpus;
use crate::model::w2v::delta_since;

fn params() -> W2vParams {
    W2vParams {
        dim: 16,
        window: 3,
        negatives: 4,
        min_count: 1,
        sample: 0.0,
        alpha: 0.05,
        epochs: 1,
        ..W2vParams::default()
    }
}

const CHUNK: usize = 2000;

fn bound() -> UpdateBound {
    UpdateBound {
        max_row_norm: 0.5,
        max_rows: 100_000,
    }
}

/// A shard's tokens as training chunks (ids > 0).
fn chunks(corpus: &Corpus) -> Vec<Vec<u32>> {
    corpus
        .ids
        .chunks(CHUNK)
        .map(|c| c.iter().filter(|&&i| i > 0).map(|&i| i as u32).collect())
        .collect()
}

/// Three nodes on three shards of one synthetic corpus, from one initialisation, warmed up
/// on a fourth shard; the node under test is node 0, holding out every 5th chunk.
struct Net {
    base: Word2Vec,
    shards: Vec<Vec<Vec<u32>>>,
    held: HeldOut,
    rng: Lcg,
}

/// One round: the node's model after its own training, its update, the peers' updates.
struct Round {
    model: Word2Vec,
    own: SparseUpdate,
    peers: Vec<SparseUpdate>,
}

impl Net {
    fn new() -> Net {
        let corpus = Corpus::generate(7, 240_000);
        let counts = corpus.vocab.counts().to_vec();
        let p = params();
        let mut base = Word2Vec::new(&counts, &p).unwrap();
        let mut rng = Lcg::new(3);
        for c in chunks(&corpus.shard(3, 4)).iter().take(10) {
            base.train_sentence(c, 0.05, &mut rng);
        }
        let own = chunks(&corpus.shard(0, 4));
        let (held, train): (Vec<_>, Vec<_>) =
            own.into_iter().enumerate().partition(|(i, _)| i % 5 == 4);
        let held: Vec<Vec<u32>> = held.into_iter().map(|(_, c)| c).collect();
        let train: Vec<Vec<u32>> = train.into_iter().map(|(_, c)| c).collect();
        let shards = vec![
            train,
            chunks(&corpus.shard(1, 4)),
            chunks(&corpus.shard(2, 4)),
        ];
        Net {
            held: HeldOut::new(&held, &counts, &p, 20_000, 11),
            base,
            shards,
            rng,
        }
    }

    /// Every node trains chunk `r` of its shard from the common base; the base then takes
    /// every update (as the nodes would after the exchange).
    fn round(&mut self, r: usize) -> Round {
        let mut updates = Vec::new();
        let mut own_model = None;
        for shard in &self.shards {
            let mut m = self.base.clone();
            m.train_sentence(&shard[r], 0.05, &mut self.rng);
            updates.push(delta_since(
                &m,
                &self.base.syn0,
                &self.base.syn1neg,
                r as u64,
            ));
            own_model.get_or_insert(m);
        }
        for u in &updates {
            crate::model::w2v::apply_update(&mut self.base, u, &bound()).unwrap();
        }
        let own = updates.remove(0);
        Round {
            model: own_model.unwrap(),
            own,
            peers: updates,
        }
    }
}

/// Random rows of the bound's norm in both tables, as many rows as `like` has.
fn noise(like: &SparseUpdate, vocab: usize, seed: u64) -> SparseUpdate {
    let mut rng = Lcg::new(seed);
    let mut rows: Vec<u32> = (0..like.rows.len())
        .map(|_| 1 + rng.below(vocab - 1) as u32)
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let dim = like.dim;
    let mut table = || -> Vec<f32> {
        let mut out = Vec::with_capacity(rows.len() * dim);
        for _ in 0..rows.len() {
            let row: Vec<f32> = (0..dim).map(|_| rng.unit() - 0.5).collect();
            let n = row.iter().map(|x| x * x).sum::<f32>().sqrt();
            out.extend(row.iter().map(|x| x / n * bound().max_row_norm));
        }
        out
    };
    let (input, context) = (table(), table());
    SparseUpdate {
        round: like.round,
        dim,
        rows,
        input,
        context,
    }
}

fn empty(dim: usize) -> SparseUpdate {
    SparseUpdate {
        round: 0,
        dim,
        rows: vec![],
        input: vec![],
        context: vec![],
    }
}

fn scaled(u: &SparseUpdate, s: f32) -> SparseUpdate {
    let mut out = u.clone();
    out.input
        .iter_mut()
        .chain(&mut out.context)
        .for_each(|x| *x *= s);
    out
}

/// The honest peers' smallest value, with a check that both are credited and unmarked.
fn honest_floor(v: &Valuation, honest: &[usize]) -> f64 {
    for &h in honest {
        assert!(v.peers[h] > 0.0, "honest peer {h} earned nothing: {v:?}");
        assert_eq!(
            v.copy_of[h], None,
            "honest peer {h} taken for a copy: {v:?}"
        );
    }
    honest.iter().map(|&h| v.peers[h]).fold(f64::MAX, f64::min)
}

#[test]
fn held_out_triples_are_deterministic_bounded_and_indexed() {
    let net = Net::new();
    assert_eq!(net.held.len(), 20_000);
    let again = {
        let corpus = Corpus::generate(7, 240_000);
        let own = chunks(&corpus.shard(0, 4));
        let held: Vec<Vec<u32>> = own
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % 5 == 4)
            .map(|(_, c)| c)
            .collect();
        HeldOut::new(&held, corpus.vocab.counts(), &params(), 20_000, 11)
    };
    assert_eq!(again.triples, net.held.triples);
    for row in 0..net.held.vocab as u32 {
        for &t in net.held.touching(row) {
            assert!(net.held.triple(t).contains(&row));
        }
    }
    let few = HeldOut::new(&[vec![1, 2, 3, 4, 5]], &[0, 1, 1, 1, 1, 1], &params(), 3, 1);
    assert_eq!(few.len(), 3);
    let none = HeldOut::new(&[], &[0, 1, 1], &params(), 100, 1);
    assert!(none.is_empty());
}

#[test]
fn noise_earns_far_less_than_honest_training() {
    let mut net = Net::new();
    let round = net.round(0);
    let vocab = round.model.vocab;
    let mut peers = round.peers.clone();
    peers.push(noise(&round.peers[0], vocab, 5));
    let mut valuer = Valuer::new(net.held.clone(), 4);
    let v = valuer.value(&round.model, &round.own, &peers, &bound());
    let floor = honest_floor(&v, &[0, 1]);
    assert!(
        v.peers[2] < 0.1 * floor,
        "noise {} vs honest {floor}",
        v.peers[2]
    );
    // Not merely little: noise adds held-out loss (its value is below 0).
    assert!(
        v.peers[2] < 0.0,
        "noise valued {} (not below 0)",
        v.peers[2]
    );
    assert_eq!(v.copy_of[2], None);
    assert!(v.own > 0.0);
}

#[test]
fn an_empty_update_earns_nothing() {
    let mut net = Net::new();
    let round = net.round(0);
    let mut peers = round.peers.clone();
    peers.push(empty(round.own.dim));
    let v = Valuer::new(net.held.clone(), 4).value(&round.model, &round.own, &peers, &bound());
    honest_floor(&v, &[0, 1]);
    assert_eq!(v.peers[2], 0.0);
}

#[test]
fn a_copy_of_an_earlier_peer_earns_nothing_and_its_source_loses_nothing() {
    let mut net = Net::new();
    let round = net.round(0);
    let alone =
        Valuer::new(net.held.clone(), 4).value(&round.model, &round.own, &round.peers, &bound());
    let mut peers = round.peers.clone();
    peers.push(round.peers[0].clone());
    peers.push(scaled(&round.peers[1], 0.5));
    let v = Valuer::new(net.held.clone(), 4).value(&round.model, &round.own, &peers, &bound());
    let floor = honest_floor(&v, &[0, 1]);
    assert_eq!(v.copy_of[2], Some(CopyOf::Peer(0)));
    assert_eq!(v.copy_of[3], Some(CopyOf::Peer(1)));
    assert!(
        v.peers[2] < 0.1 * floor && v.peers[3] < 0.1 * floor,
        "{v:?}"
    );
    assert_eq!(
        v.peers[..2],
        alone.peers[..],
        "the sources keep their value"
    );
}

#[test]
fn a_replay_of_an_earlier_round_earns_nothing() {
    let mut net = Net::new();
    let mut valuer = Valuer::new(net.held.clone(), 4);
    let first = net.round(0);
    valuer.value(&first.model, &first.own, &first.peers, &bound());
    let second = net.round(1);
    let mut peers = second.peers.clone();
    peers.push(first.peers[1].clone());
    let v = valuer.value(&second.model, &second.own, &peers, &bound());
    let floor = honest_floor(&v, &[0, 1]);
    assert_eq!(v.copy_of[2], Some(CopyOf::Earlier));
    assert!(v.peers[2] < 0.1 * floor, "{v:?}");
}

/// A copier that delivers a source's update before the source does: unproven, it takes the
/// credit and the source's own update, arriving a round later, is a replay of it; once the
/// copier is proven, its update is worth nothing and the source's counts.
#[test]
fn a_proven_copier_earns_nothing_and_the_source_it_beat_is_not_a_replay_of_it() {
    let mut net = Net::new();
    let first = net.round(0);
    let second = net.round(1);
    // Round one: peer 0 honest, the copier (index 1) sends peer 1's update; peer 1 lags.
    let early = vec![first.peers[0].clone(), first.peers[1].clone()];
    // Round two: peer 0 honest, peer 1's round-one update arrives.
    let late = vec![second.peers[0].clone(), first.peers[1].clone()];
    let run = |proven: &[bool]| {
        let mut valuer = Valuer::new(net.held.clone(), 4);
        let a = valuer.value_with(&first.model, &first.own, &early, proven, &bound());
        let b = valuer.value(&second.model, &second.own, &late, &bound());
        (a, b)
    };
    let (a, b) = run(&[]);
    assert_eq!(a.copy_of[1], None, "unproven, the copy is credited");
    assert!(a.peers[1] > 0.0);
    assert_eq!(
        b.copy_of[1],
        Some(CopyOf::Earlier),
        "and the source is a replay"
    );
    assert_eq!(b.peers[1], 0.0);
    let (a, b) = run(&[false, true]);
    assert_eq!(a.copy_of[1], Some(CopyOf::ProvenCopier));
    assert_eq!(a.peers[1], 0.0, "a proven copier earns nothing");
    assert!(a.peers[0] > 0.0, "the honest peer keeps its value");
    assert_eq!(
        b.copy_of[1], None,
        "the source is no replay of a proven copier"
    );
    // The source's late update is valued as if the copier had never sent anything.
    let mut without = Valuer::new(net.held.clone(), 4);
    let honest_only = std::slice::from_ref(&first.peers[0]);
    without.value(&first.model, &first.own, honest_only, &bound());
    let c = without.value(&second.model, &second.own, &late, &bound());
    assert_eq!(b, c);
}

#[test]
fn the_nodes_own_update_sent_back_earns_nothing() {
    let mut net = Net::new();
    let mut valuer = Valuer::new(net.held.clone(), 4);
    let first = net.round(0);
    valuer.value(&first.model, &first.own, &first.peers, &bound());
    let second = net.round(1);
    let mut peers = second.peers.clone();
    peers.push(second.own.clone());
    peers.push(first.own.clone());
    let v = valuer.value(&second.model, &second.own, &peers, &bound());
    let floor = honest_floor(&v, &[0, 1]);
    assert_eq!(v.copy_of[2], Some(CopyOf::Own));
    assert_eq!(v.copy_of[3], Some(CopyOf::Own));
    assert!(
        v.peers[2] < 0.1 * floor && v.peers[3] < 0.1 * floor,
        "{v:?}"
    );
}

#[test]
fn honest_updates_of_other_shards_and_rounds_are_far_from_copies() {
    let mut net = Net::new();
    let first = net.round(0);
    let second = net.round(1);
    let pairs = [
        (&first.peers[0], &first.peers[1]),
        (&first.own, &first.peers[0]),
        (&second.peers[0], &first.peers[0]),
        (&second.own, &first.own),
    ];
    for (a, b) in pairs {
        let (cosine, fraction) = overlap_cosine(a, b);
        assert!(fraction > 0.5, "the shards share most rows ({fraction})");
        assert!(cosine < COPY_COSINE - 0.2, "honest cosine {cosine}");
    }
    assert!(overlap_cosine(&first.own, &first.own).0 > 0.999);
}

#[test]
fn refused_updates_earn_nothing_and_are_not_copies() {
    let mut net = Net::new();
    let round = net.round(0);
    let mut outside = round.peers[0].clone();
    *outside.rows.last_mut().unwrap() = round.model.vocab as u32;
    let tight = UpdateBound {
        max_rows: round.peers[1].rows.len() - 1,
        ..bound()
    };
    let v = Valuer::new(net.held.clone(), 4).value(
        &round.model,
        &round.own,
        &[outside, round.peers[1].clone()],
        &tight,
    );
    assert_eq!(v.peers, vec![0.0, 0.0]);
    assert_eq!(v.copy_of, vec![None, None]);
}

/// The Fisher/Taylor score transposed to updates credits a copy exactly as its source and
/// an update that raises the loss (an honest one reversed) as the one that lowers it, where
/// the held-out valuer gives both nothing: why it is not the production estimator.
#[test]
fn taylor_cannot_tell_copies_or_harm_from_value() {
    let mut net = Net::new();
    let round = net.round(0);
    let mut peers = round.peers.clone();
    peers.push(round.peers[0].clone());
    peers.push(scaled(&round.peers[0], -1.0));
    let t = taylor(&round.model, &net.held, &round.own, &peers, &bound());
    assert!(t[1] > 0.0 && t[2] > 0.0, "{t:?}");
    assert_eq!(t[3], t[1], "a copy scores as its source");
    assert!(
        (t[4] / t[1] - 1.0).abs() < 1e-9,
        "reversed {} vs honest {}",
        t[4],
        t[1]
    );
    let v = Valuer::new(net.held.clone(), 4).value(&round.model, &round.own, &peers, &bound());
    let floor = honest_floor(&v, &[0, 1]);
    assert_eq!(v.copy_of[2], Some(CopyOf::Peer(0)));
    assert!(
        v.peers[3] < 0.1 * floor,
        "reversed {} vs honest {floor}",
        v.peers[3]
    );
}

/// The valuer computes only the terms an update changes; the values must equal the mean
/// held-out loss differences of the whole models.
#[test]
fn values_equal_the_held_out_loss_differences_of_the_whole_models() {
    let mut net = Net::new();
    let round = net.round(0);
    // Noise too: a negative value must equal the loss it adds.
    let mut peers = round.peers.clone();
    peers.push(noise(&round.peers[0], round.model.vocab, 5));
    let v = Valuer::new(net.held.clone(), 4).value(&round.model, &round.own, &peers, &bound());
    assert!(v.peers[2] < 0.0, "{v:?}");
    let mut start = round.model.clone();
    let d = start.dim;
    for (k, &r) in round.own.rows.iter().enumerate() {
        for i in 0..d {
            start.syn0[r as usize * d + i] -= round.own.input[k * d + i];
            start.syn1neg[r as usize * d + i] -= round.own.context[k * d + i];
        }
    }
    let at_start = net.held.mean_loss(&start);
    let own = at_start - net.held.mean_loss(&round.model);
    assert!(
        (v.own - own).abs() < 1e-6 * own.abs().max(1e-3),
        "{} vs {own}",
        v.own
    );
    for (j, u) in peers.iter().enumerate() {
        let mut with = start.clone();
        crate::model::w2v::apply_update(&mut with, u, &bound()).unwrap();
        let gain = at_start - net.held.mean_loss(&with);
        assert!(
            (v.peers[j] - gain).abs() < 1e-6 * gain.abs().max(1e-3),
            "peer {j}: {} vs {gain}",
            v.peers[j]
        );
    }
}

/// The copy rule runs on sketches: their cosine must track the exact one on real updates.
#[test]
fn sketch_cosines_track_the_exact_cosines() {
    let mut net = Net::new();
    let first = net.round(0);
    let second = net.round(1);
    let mut valuer = Valuer::new(net.held.clone(), 4);
    let half = scaled(&first.peers[0], 0.5);
    let pairs = [
        (&first.peers[0], &first.peers[1]),
        (&first.own, &first.peers[0]),
        (&second.peers[0], &first.peers[0]),
        (&half, &first.peers[0]),
    ];
    for (a, b) in pairs {
        let exact = overlap_cosine(a, b);
        let (sa, sb) = (valuer.sketch(a), valuer.sketch(b));
        let est = sa.cosine(&sb);
        assert_eq!(est.1, exact.1, "the same common rows");
        assert!(
            (est.0 - exact.0).abs() < 0.05,
            "sketch {} vs exact {}",
            est.0,
            exact.0
        );
    }
}

/// A valuer whose sketches are salted by `seed` (no held-out text needed for sketches).
fn sketcher(seed: u64) -> Valuer {
    Valuer::new(HeldOut::new(&[], &[1, 1, 1], &params(), 10, seed), 0)
}

/// An update of `rows` rows (0, 2, 4, ...) of width `dim` with values from `seed`.
fn wide(rows: usize, dim: usize, seed: u64) -> SparseUpdate {
    let mut rng = Lcg::new(seed);
    let mut value = || (rng.next_u64() % 2001) as f32 / 1000.0 - 1.0;
    let n = rows * dim;
    SparseUpdate {
        round: 1,
        dim,
        rows: (0..rows as u32).map(|r| 2 * r).collect(),
        input: (0..n).map(|_| value()).collect(),
        context: (0..n).map(|_| value()).collect(),
    }
}

/// Above `SKETCH_ROWS` rows the cosine is taken on a salted sample of rows: it still tracks
/// the exact one, a copy is still a copy, and another node samples other rows.
#[test]
fn sketches_of_large_updates_sample_rows_and_still_find_copies() {
    let (dim, rows) = (6, 5 * SKETCH_ROWS);
    let u = wide(rows, dim, 1);
    let other = wide(rows, dim, 2);
    let mut noisy = u.clone();
    for (x, y) in noisy.input.iter_mut().zip(&other.input) {
        *x += 0.3 * y;
    }
    let mut valuer = sketcher(5);
    let su = valuer.sketch(&u);
    assert_eq!(su.sampled.len(), SKETCH_ROWS);
    assert_eq!(su.rows.len(), rows, "the overlap is counted on every row");
    for v in [&u, &other, &noisy] {
        let exact = overlap_cosine(v, &u);
        let est = valuer.sketch(v).cosine(&su);
        assert_eq!(est.1, exact.1);
        assert!((est.0 - exact.0).abs() < 0.05, "{} vs {}", est.0, exact.0);
    }
    assert!(valuer.sketch(&u.clone()).copies(&su), "an exact copy");
    assert!(!valuer.sketch(&other).copies(&su), "an independent update");
    // Another node's salt picks other rows (and directions): a copier cannot aim at them.
    let theirs = sketcher(6).sketch(&u);
    assert_ne!(theirs.sampled, su.sampled);
}
