//! Throughput of the real training loop with live upstream peers: k peer servers and one
//! training node in this process, talking signed HTTP/2 over loopback through the node's
//! own serving path ([`NodeEndpoint`]) and training loop ([`train`]), so the figure includes
//! signing, encoding, the network stack, the prefetch and the backward traffic (the
//! in-process rows feed peer vectors directly).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bittensor_protocol::policy::AddressPolicy;
use chain_client::PrivateKey;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::runner::vocab_fingerprint;
use super::state::{lock, DeadlinePolicy, NodeEndpoint, NodeParams, Shared};
use super::thread_cpu::ThreadSet;
use super::trainer::{train, TrainSettings};
use crate::chain::{Backoff, PeerRow};
use crate::corpus::Corpus;
use crate::model::vectors::{load_word2vec_text, ScoredIntervals, Vectors};
use crate::model::w2v::simd::Isa;
use crate::model::w2v::{
    fit_peered, fit_with, FitOptions, PeerSource, PeerW2v, Update, W2vParams, Word2Vec, CHUNK_WORDS,
};
use crate::peer::client::{PeerClient, Signer};
use crate::peer::identity::Identity;
use crate::peer::keys::{KeyCache, StaticKeys};
use crate::peer::kinds::KindLimits;
use crate::peer::server::{serve, ServerContext, ServerSettings};
use crate::peer::session::admission::AdmissionLimits;
use crate::peer::Limits;

/// What a run of the node loop with live peers did.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveReport {
    /// Raw corpus tokens trained (before subsampling).
    pub words: u64,
    /// (word, context) pairs trained.
    pub pairs: u64,
    /// Wall-clock seconds of the training loop.
    pub seconds: f64,
    /// CPU seconds of this process meanwhile (trainer, peer servers and clients).
    pub cpu_seconds: f64,
    /// CPU seconds of the node alone: the process's minus the upstream peers' threads (they
    /// run on a runtime of their own; other machines in a real network). `None` where the
    /// threads' CPU cannot be read.
    pub node_cpu_seconds: Option<f64>,
    /// Forward calls to peers that failed during the run (should be 0).
    pub peer_failures: u64,
    /// Forward-and-backward rounds the downstream callers completed with the node.
    pub downstream_rounds: u64,
    /// How far the gradients this node sent moved what its upstream peers serve: the mean
    /// over peers of the RMS change of their served tables (the upstreams do not train
    /// themselves here, so every change comes from those gradients).
    pub upstream_moved: f64,
}

impl LiveReport {
    /// Raw words per second.
    pub fn words_per_sec(&self) -> f64 {
        self.words as f64 / self.seconds.max(1e-9)
    }

    /// Raw words per CPU second.
    pub fn words_per_cpu_sec(&self) -> f64 {
        self.words as f64 / self.cpu_seconds.max(1e-9)
    }

    /// Raw words per CPU second of the node alone, where it could be measured.
    pub fn words_per_node_cpu_sec(&self) -> Option<f64> {
        self.node_cpu_seconds
            .map(|cpu| self.words as f64 / cpu.max(1e-9))
    }

    /// Pairs per second.
    pub fn pairs_per_sec(&self) -> f64 {
        self.pairs as f64 / self.seconds.max(1e-9)
    }
}

/// A runtime shut down without blocking when dropped (it is dropped inside another
/// runtime, where a blocking shutdown would panic).
struct Background(Option<tokio::runtime::Runtime>);

impl Background {
    fn handle(&self) -> &tokio::runtime::Handle {
        self.0
            .as_ref()
            .expect("runtime present until drop")
            .handle()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Rates no bench run reaches.
const UNLIMITED: KindLimits = KindLimits {
    forward_rate: 1e9,
    forward_burst: 1e9,
    backward_rate: 1e9,
    backward_burst: 1e9,
};

/// A bench node's state: loopback policy, the bench's own deadline (none shorter than 5 s).
pub(crate) fn node(
    identity: Arc<Identity>,
    listen: SocketAddr,
    corpus: &Corpus,
    params: &W2vParams,
    peers: usize,
    grad_scale: f64,
) -> anyhow::Result<Arc<Shared>> {
    let deadline = DeadlinePolicy {
        steps: 1e6,
        min: Duration::from_secs(5),
        max: Duration::from_secs(5),
    };
    node_with(
        identity, listen, corpus, params, peers, grad_scale, deadline,
    )
}

/// A bench node's state with the step deadline `deadline`.
pub(crate) fn node_with(
    identity: Arc<Identity>,
    listen: SocketAddr,
    corpus: &Corpus,
    params: &W2vParams,
    peers: usize,
    grad_scale: f64,
    deadline: DeadlinePolicy,
) -> anyhow::Result<Arc<Shared>> {
    Ok(Shared::new(NodeParams {
        identity,
        listen,
        advertised: None,
        model: PeerW2v::new(corpus.vocab.counts(), params, peers)?,
        words: corpus.vocab.words().to_vec(),
        counts: corpus.vocab.counts().to_vec(),
        grad_scale,
        export_dir: None,
        model_alpha: params.alpha as f32,
        attribution_half_life_secs: 2.0,
        seed: params.seed,
        backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(1)),
        loss_tail: 16,
        policy: AddressPolicy::LOCAL_TESTNET,
        deadline,
    }))
}

/// The accounts of a bench run: the measured node, its upstream and downstream peers, and
/// their keys.
struct BenchIdentities {
    me: Arc<Identity>,
    ups: Vec<Arc<Identity>>,
    downs: Vec<Arc<Identity>>,
    keys: Arc<KeyCache>,
}

/// Identities of a bench run: `bench`, `peer0..peerN` and `down0..downM`, each with its own
/// key; the key table stands in for the chain's `get_account`.
fn bench_identities(
    peers: usize,
    downstreams: usize,
    vocab: &str,
) -> anyhow::Result<BenchIdentities> {
    let make = |i: usize, name: &str| -> anyhow::Result<Arc<Identity>> {
        let key = PrivateKey::from_bytes(&[i as u8 + 1; 32])?;
        Ok(Arc::new(Identity::new(name, key, vocab)))
    };
    let ups = (0..peers)
        .map(|i| make(i, &format!("peer{i}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let me = make(peers, "bench")?;
    let downs = (0..downstreams)
        .map(|i| make(peers + 1 + i, &format!("down{i}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let table: HashMap<String, Vec<_>> = ups
        .iter()
        .chain(&downs)
        .chain(std::iter::once(&me))
        .map(|id| (id.account.clone(), vec![id.public_key()]))
        .collect();
    let keys = Arc::new(KeyCache::new(Arc::new(StaticKeys(table))));
    Ok(BenchIdentities {
        me,
        ups,
        downs,
        keys,
    })
}

/// The peers around the measured node in [`live_node`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Around {
    /// Live upstream nodes it learns from.
    pub upstreams: usize,
    /// Downstream callers it serves: each asks for one chunk's distinct words and sends
    /// their gradient back, at most once per step of the node.
    pub downstreams: usize,
}

/// Trains one node on `corpus` for `steps` chunks of `chunk_words` tokens with live peers on
/// loopback: `around.upstreams` nodes (each serving an untrained model of its own seed
/// through the node's serving path, learning from the gradients it receives at
/// `upstream_grad_scale`) and `around.downstreams` callers of the node's own server.
pub async fn live_node(
    corpus: &Corpus,
    params: &W2vParams,
    around: Around,
    chunk_words: usize,
    steps: u64,
    upstream_grad_scale: f64,
) -> anyhow::Result<LiveReport> {
    let (stop_tx, stop) = watch::channel(false);
    let BenchIdentities {
        me: me_id,
        ups,
        downs,
        keys,
    } = bench_identities(
        around.upstreams,
        around.downstreams,
        &vocab_fingerprint(&corpus.vocab),
    )?;
    let peers = around.upstreams;
    let mut rows = Vec::new();
    let mut upstreams = Vec::new();
    // The upstream peers get a runtime (and threads) of their own, so their CPU can be told
    // apart from the node's.
    let upstream_threads = ThreadSet::default();
    let registry = upstream_threads.clone();
    let upstream_rt = Background(Some(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .on_thread_start(move || registry.register_current())
            .build()?,
    ));
    for (i, up) in ups.iter().enumerate() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let p = W2vParams {
            seed: params.seed + 1 + i as u64,
            ..params.clone()
        };
        let shared = node(up.clone(), addr, corpus, &p, 0, upstream_grad_scale)?;
        let ctx = bench_server(&shared, &keys);
        let stop = stop.clone();
        upstream_rt.handle().spawn(async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => serve(listener, ctx, stop).await,
                Err(e) => tracing::error!(error = %e, "bench peer cannot listen"),
            }
        });
        upstreams.push(shared);
        rows.push(PeerRow {
            user: up.account.clone(),
            address: addr.ip().to_string(),
            port: addr.port(),
            stake: 1,
            edges: vec![],
        });
    }
    // The node's own server (on the node's runtime: serving is part of its cost).
    let my_listener = TcpListener::bind("127.0.0.1:0").await?;
    let my_addr = my_listener.local_addr()?;
    rows.push(PeerRow {
        user: me_id.account.clone(),
        address: "127.0.0.1".into(),
        port: my_addr.port(),
        stake: 1,
        edges: vec![],
    });
    // Downstream callers are in the metagraph (so the node serves them) without an address
    // (so it never picks them as upstreams).
    for d in &downs {
        rows.push(PeerRow {
            user: d.account.clone(),
            address: String::new(),
            port: 0,
            stake: 1,
            edges: vec![],
        });
    }
    let me = node(me_id.clone(), my_addr, corpus, params, peers, 1.0)?;
    me.refresh_peers(&rows);
    let my_ctx = bench_server(&me, &keys);
    tokio::spawn(serve(my_listener, my_ctx, stop.clone()));
    let asks = downstream_asks(corpus, params, chunk_words);
    let rounds = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for (i, d) in downs.iter().enumerate() {
        let caller = PeerClient::signed(
            Duration::from_secs(10),
            Limits {
                max_bytes: 64 << 20,
                ..Limits::default()
            },
            Signer {
                identity: d.clone(),
                keys: keys.clone(),
            },
        );
        let caller = Downstream {
            client: caller,
            base: format!("http://{my_addr}"),
            account: me_id.account.clone(),
            node: me.clone(),
            asks: asks.clone(),
            index: i,
            dim: params.dim,
            rounds: rounds.clone(),
        };
        upstream_rt.handle().spawn(caller.run(stop.clone()));
    }
    let before: Vec<Vec<f32>> = upstreams.iter().map(served_table).collect();
    for u in &upstreams {
        u.refresh_peers(&rows);
    }
    let client = PeerClient::signed(
        Duration::from_secs(10),
        Limits {
            max_bytes: 64 << 20,
            ..Limits::default()
        },
        Signer {
            identity: me_id,
            keys,
        },
    );
    let settings = TrainSettings {
        params: params.clone(),
        chunk_words,
        steps,
        log_every: 0,
    };
    let start = Instant::now();
    let cpu = cpu_time::ProcessTime::now();
    let upstream_before = upstream_threads.cpu_seconds();
    train(me.clone(), corpus.clone(), settings, client, stop).await;
    let (seconds, cpu_seconds) = (start.elapsed().as_secs_f64(), cpu.elapsed().as_secs_f64());
    let node_cpu_seconds = match (upstream_before, upstream_threads.cpu_seconds()) {
        (Some(before), Some(after)) => Some((cpu_seconds - (after - before)).max(0.0)),
        // No upstream threads (no peers): the process is the node.
        _ if ups.is_empty() => Some(cpu_seconds),
        _ => None,
    };
    // The last gradients are sent in the background: let them land before comparing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop_tx.send(true);
    let upstream_moved = if upstreams.is_empty() {
        0.0
    } else {
        upstreams
            .iter()
            .zip(&before)
            .map(|(u, b)| {
                let now = served_table(u);
                let sq: f64 = now
                    .iter()
                    .zip(b)
                    .map(|(x, y)| ((x - y) as f64).powi(2))
                    .sum();
                (sq / now.len().max(1) as f64).sqrt()
            })
            .sum::<f64>()
            / upstreams.len() as f64
    };
    let stats = lock(&me.stats).clone();
    let len = corpus.ids.len() as u64;
    let per_epoch = len.div_ceil(chunk_words.max(1) as u64).max(1);
    let (full, rest) = (stats.step / per_epoch, stats.step % per_epoch);
    Ok(LiveReport {
        words: full * len + (rest * chunk_words as u64).min(len),
        pairs: stats.examples,
        seconds,
        cpu_seconds,
        node_cpu_seconds,
        peer_failures: stats.peer_failures,
        downstream_rounds: rounds.load(std::sync::atomic::Ordering::Relaxed),
        upstream_moved,
    })
}

/// The distinct words of the first chunks of `corpus`: what downstream callers ask for.
fn downstream_asks(corpus: &Corpus, params: &W2vParams, chunk_words: usize) -> Arc<Vec<Vec<i64>>> {
    let asks = crate::model::w2v::Planner::new(
        &corpus.ids,
        corpus.vocab.counts(),
        params,
        chunk_words.max(1),
    )
    .map(|mut p| {
        let n = p.chunks_per_epoch().clamp(1, 16);
        (0..n)
            .filter_map(|_| p.next_chunk())
            .map(|c| crate::model::w2v::ChunkPlan::new(c.sentence).ids())
            .filter(|ids| !ids.is_empty())
            .collect()
    })
    .unwrap_or_default();
    Arc::new(asks)
}

/// One downstream caller of the measured node.
struct Downstream {
    client: PeerClient,
    base: String,
    account: String,
    node: Arc<Shared>,
    asks: Arc<Vec<Vec<i64>>>,
    index: usize,
    dim: usize,
    rounds: Arc<std::sync::atomic::AtomicU64>,
}

impl Downstream {
    /// At most once per step of the node, a forward for one chunk's words and the backward of a
    /// gradient on what it received (a small step back towards zero), until `stop`.
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let Downstream {
            client,
            base,
            account,
            node,
            asks,
            index,
            dim,
            rounds,
        } = self;
        let mut seen = u64::MAX;
        let mut n = index;
        while !*stop.borrow() {
            let step = lock(&node.stats).step;
            if step == seen || asks.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(2)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            seen = step;
            let ids = &asks[n % asks.len()];
            n += 1;
            match client
                .forward(&base, &account, ids, dim, Duration::from_secs(10))
                .await
            {
                Ok(t) => {
                    let grad = crate::peer::codec::WireTensor {
                        shape: t.tensor.shape.clone(),
                        data: t.tensor.data.iter().map(|x| x * 1e-3).collect(),
                    };
                    match client.backward(&base, &account, t.reference, &grad).await {
                        Ok(()) => {
                            rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(e) => tracing::warn!(error = %e, "bench downstream: backward failed"),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "bench downstream: forward failed"),
            }
        }
    }
}

/// The server side of a bench node: large bodies and no per-account rates, so the bench
/// measures the node's work rather than its limits.
fn bench_server(shared: &Arc<Shared>, keys: &Arc<KeyCache>) -> Arc<ServerContext> {
    Arc::new(ServerContext::new(
        Arc::new(NodeEndpoint(shared.clone())),
        shared.me.clone(),
        keys.clone(),
        ServerSettings {
            limits: Limits {
                max_bytes: 64 << 20,
                ..Limits::default()
            },
            rates: UNLIMITED,
            admission: AdmissionLimits::default(),
        },
    ))
}

/// Mean distinct words of a subsampled chunk: the ids of one peer request.
pub fn distinct_per_chunk(corpus: &Corpus, params: &W2vParams, chunk_words: usize) -> usize {
    let Ok(mut planner) =
        crate::model::w2v::Planner::new(&corpus.ids, corpus.vocab.counts(), params, chunk_words)
    else {
        return 0;
    };
    let n = planner.chunks_per_epoch().clamp(1, 20);
    let total: usize = (0..n)
        .filter_map(|_| planner.next_chunk())
        .map(|c| crate::model::w2v::ChunkPlan::new(c.sentence).distinct.len())
        .sum();
    total / n as usize
}

/// What a node serves now, every word.
fn served_table(s: &Arc<Shared>) -> Vec<f32> {
    s.served.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// One row of [`vs_gensim`]: a trainer and its raw words per second.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedRow {
    /// Short name, the key of its figure in the JSON summary.
    pub key: String,
    /// What was measured.
    pub name: String,
    /// Raw corpus words per second (tokens x epochs / training seconds).
    pub words_per_sec: f64,
    /// Raw corpus words per CPU second of the trainer (all its threads).
    pub words_per_cpu_sec: f64,
}

/// One row of the quality table: a trainer's vectors scored with 95 % intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityRow {
    /// The trainer (a [`SpeedRow`] key).
    pub key: String,
    /// The scores.
    pub scores: ScoredIntervals,
}

/// Everything one `bench --vs-gensim` run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct VsGensim {
    /// Speed of each trainer, in the order they ran.
    pub rows: Vec<SpeedRow>,
    /// Quality of the plain trainers and gensim (empty without the evaluation sets).
    pub quality: Vec<QualityRow>,
    /// The kernels the core used.
    pub isa: &'static str,
    /// The machine's 1-minute load average before and after the run.
    pub load: (f64, f64),
    /// Tokens and vocabulary of the corpus.
    pub tokens: usize,
    /// Words in the vocabulary (without `<unk>`).
    pub vocab: usize,
}
/// In-process peers: each slot is another model, called directly.
pub struct LocalPeers<'a> {
    /// The upstream models.
    pub models: Vec<&'a mut PeerW2v>,
    /// Scale of the gradients they receive (times the caller's rate).
    pub scale: f32,
}

impl PeerSource for LocalPeers<'_> {
    fn forward(&mut self, slot: usize, ids: &[i64]) -> Option<Vec<f32>> {
        self.models.get(slot)?.serve(ids).ok()
    }

    fn backward(&mut self, slot: usize, ids: &[i64], grad: &[f32], alpha: f32) {
        if let Some(m) = self.models.get_mut(slot) {
            let _ = m.apply_remote_grad(ids, grad, alpha * self.scale);
        }
    }
}

/// The machine's 1-minute load average (0 where it cannot be read).
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Words per second of gensim (1 and 2 workers), fastText (if installed) and this project's
/// trainers (the plain core on 1 and 2 threads, its word2vec.c-order update, the peer-aware
/// core, the node loop with live peers) on one corpus with the same settings, one after the
/// other in this run; then the plain trainers' and gensim's vectors scored with intervals
/// (when the evaluation sets are next to the corpus).
pub fn vs_gensim(
    corpus_path: &std::path::Path,
    params: &W2vParams,
    peers: usize,
    python: &std::path::Path,
) -> anyhow::Result<VsGensim> {
    use anyhow::Context;
    let load_before = load_average();
    let corpus = Corpus::load_with(corpus_path, params.min_count, usize::MAX)
        .with_context(|| format!("loading {}", corpus_path.display()))?;
    let counts = corpus.vocab.counts().to_vec();
    tracing::info!(
        tokens = corpus.ids.len(),
        vocab = counts.len() - 1,
        "corpus loaded"
    );
    let tmp = tempdir()?;
    let mut rows = Vec::new();
    let mut vectors: Vec<(String, Vectors)> = Vec::new();
    let row = |key: &str, name: &str, wall: f64, cpu: f64| SpeedRow {
        key: key.into(),
        name: name.into(),
        words_per_sec: wall,
        words_per_cpu_sec: cpu,
    };

    for workers in [1, 2] {
        tracing::info!(workers, "training gensim Word2Vec");
        let out = tmp.join(format!("gensim{workers}.txt"));
        let g = crate::model::baseline::gensim_workers(python, corpus_path, params, &out, workers)?;
        let key = format!("gensim_{workers}w");
        rows.push(row(
            &key,
            &format!(
                "gensim 4.4 Word2Vec, sg, {workers} worker{}",
                if workers > 1 { "s" } else { "" }
            ),
            g.words_per_sec(),
            g.words_per_cpu_sec(),
        ));
        if workers == 1 {
            vectors.push((key, load_word2vec_text(&out)?));
        }
    }
    if crate::model::baseline::fasttext_available() {
        tracing::info!("training fastText skipgram (1 thread)");
        let words = (corpus.ids.len() * params.epochs) as u64;
        let f = crate::model::baseline::fasttext(corpus_path, params, words, &tmp.join("ft"))?;
        rows.push(row(
            "fasttext_1t",
            "fastText skipgram -minn 0 -maxn 0, 1 thread",
            f.words_per_sec(),
            f.words_per_cpu_sec(),
        ));
    }

    let plain_runs = [
        (
            "plain_1t",
            "ours: plain core, shared negatives, 1 thread",
            1,
            Update::SharedNegatives,
        ),
        (
            "plain_2t",
            "ours: plain core, shared negatives, 2 threads",
            2,
            Update::SharedNegatives,
        ),
        (
            "plain_per_pair_1t",
            "ours: plain core, word2vec.c's per-pair update, 1 thread",
            1,
            Update::PerPair,
        ),
    ];
    for (key, name, threads, update) in plain_runs {
        tracing::info!(threads, ?update, "training the plain word2vec core");
        let mut plain = Word2Vec::new(&counts, params)?;
        let r = fit_with(
            &mut plain,
            &corpus.ids,
            &counts,
            params,
            FitOptions { threads, update },
        )?;
        rows.push(row(key, name, r.words_per_sec(), r.words_per_cpu_sec()));
        vectors.push((
            key.to_string(),
            Vectors::from_vocab(corpus.vocab.words(), params.dim, &plain.syn0)?,
        ));
    }

    tracing::info!("training the peer-aware core, no peers");
    let mut alone = PeerW2v::new(&counts, params, 0)?;
    let mut none = LocalPeers {
        models: vec![],
        scale: 1.0,
    };
    let r = fit_peered(&mut alone, &corpus.ids, &counts, params, &mut none)?;
    rows.push(row(
        "peer_aware_0p",
        "ours: peer-aware core, 0 peers",
        r.words_per_sec(),
        r.words_per_cpu_sec(),
    ));
    vectors.push((
        "peer_aware_0p".into(),
        Vectors::from_vocab(corpus.vocab.words(), params.dim, &alone.served_table())?,
    ));

    if peers > 0 {
        tracing::info!(peers, "training the peer-aware core with in-process peers");
        let mut ups: Vec<PeerW2v> = (0..peers)
            .map(|i| {
                let p = W2vParams {
                    seed: params.seed + 1 + i as u64,
                    ..params.clone()
                };
                PeerW2v::new(&counts, &p, 0)
            })
            .collect::<Result<_, _>>()?;
        let mut me = PeerW2v::new(&counts, params, peers)?;
        let mut local = LocalPeers {
            models: ups.iter_mut().collect(),
            scale: 1.0,
        };
        let r = fit_peered(&mut me, &corpus.ids, &counts, params, &mut local)?;
        rows.push(row(
            "peer_aware_in_process",
            &format!("ours: peer-aware core, {peers} in-process peers"),
            r.words_per_sec(),
            r.words_per_cpu_sec(),
        ));

        tracing::info!(peers, "training the node loop with live session peers");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let steps = corpus.ids.len().div_ceil(CHUNK_WORDS) as u64 * params.epochs as u64;
        let around = Around {
            upstreams: peers,
            downstreams: peers,
        };
        let r = rt.block_on(live_node(&corpus, params, around, CHUNK_WORDS, steps, 1.0))?;
        if r.peer_failures > 0 {
            tracing::warn!(
                failures = r.peer_failures,
                "peer calls failed during the run"
            );
        }
        rows.push(row(
            "live_node_whole_process",
            &format!("ours: node loop, {peers} up / {peers} down live peers, whole process"),
            r.words_per_sec(),
            r.words_per_cpu_sec(),
        ));
        if let Some(node_only) = r.words_per_node_cpu_sec() {
            // The same run, CPU of the node alone (the peers' threads left out).
            rows.push(row(
                "live_node_own",
                &format!("ours: node loop, {peers} up / {peers} down live peers, the node's CPU"),
                r.words_per_sec(),
                node_only,
            ));
        }
    }
    let load_after = load_average();

    let dir = corpus_path.parent().unwrap_or(std::path::Path::new("."));
    let sets = ["wordsim353.tsv", "simlex999.txt", "questions-words.txt"].map(|f| dir.join(f));
    let mut quality = Vec::new();
    if sets.iter().all(|s| s.exists()) {
        for (key, v) in &vectors {
            tracing::info!(trainer = %key, "scoring with bootstrap intervals");
            quality.push(QualityRow {
                key: key.clone(),
                scores: ScoredIntervals::of(v, &sets[0], &sets[1], &sets[2])?,
            });
        }
    } else {
        tracing::warn!(dir = %dir.display(), "evaluation sets not found next to the corpus; no quality table");
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(VsGensim {
        rows,
        quality,
        isa: Isa::best().name(),
        load: (load_before, load_after),
        tokens: corpus.ids.len(),
        vocab: counts.len() - 1,
    })
}

/// A fresh temporary directory under the system's.
fn tempdir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("bittensor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> (Corpus, W2vParams) {
        let corpus = Corpus::generate(3, 6_000);
        let params = W2vParams {
            dim: 8,
            window: 2,
            negatives: 2,
            ..W2vParams::default()
        };
        (corpus, params)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gradients_sent_over_http_change_what_the_upstream_serves() {
        let (corpus, params) = small();
        let around = Around {
            upstreams: 2,
            downstreams: 2,
        };
        let on = live_node(&corpus, &params, around, 200, 10, 1.0)
            .await
            .unwrap();
        assert_eq!(on.peer_failures, 0);
        assert!(
            on.downstream_rounds > 0,
            "the node served its downstream callers"
        );
        assert!(on.pairs > 0);
        assert!(
            on.upstream_moved > 1e-5,
            "the upstreams' served vectors moved by {}",
            on.upstream_moved
        );
        // The same run with the upstreams ignoring what they receive: nothing moves, so the
        // figure above is the gradients' doing.
        let off = live_node(&corpus, &params, around, 200, 10, 0.0)
            .await
            .unwrap();
        assert_eq!(off.upstream_moved, 0.0);
    }
}
