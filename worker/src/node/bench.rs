//! Throughput of the node's one training loop with live peers: k upstream nodes (each
//! running the same loop and publishing its updates) and the measured node in this process,
//! talking over sessions on loopback through the node's own serving path ([`NodeEndpoint`])
//! and training loop ([`train`]), with k downstream callers fetching the node's updates, so
//! the figure includes the exchanges, their encoding, the sessions and the estimator.

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
use super::trainer::{train, TrainSettings, HOLD_SLICE};
use crate::chain::{Backoff, PeerRow};
use crate::corpus::Corpus;
use crate::model::vectors::{load_word2vec_text, ScoredIntervals, Vectors};
use crate::model::w2v::simd::Isa;
use crate::model::w2v::{
    fit_with, Compression, FitOptions, Update, UpdateBound, W2vParams, Word2Vec, CHUNK_WORDS,
    DEFAULT_MAX_ROW_NORM,
};
use crate::peer::client::{PeerClient, Signer, WireTypes};
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
    /// CPU seconds the node's training loop spent training (the rest of the node's CPU is
    /// the exchange: its own update, valuing, applying, serving and fetching).
    pub training_cpu_seconds: f64,
    /// Update fetches from peers that failed during the run (should be 0).
    pub peer_failures: u64,
    /// Update fetches the downstream callers got answered with new updates.
    pub downstream_rounds: u64,
    /// Update fetches the node answered in all (with updates or with nothing new).
    pub fetches_served: u64,
    /// Peer updates the node applied.
    pub updates_applied: u64,
    /// The last error of each upstream that failed (none in a clean run).
    pub peer_errors: Vec<String>,
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
    updates_rate: 1e9,
    updates_burst: 1e9,
};

/// A bench node's state: loopback policy, the bench's own deadline (none shorter than 5 s).
pub(crate) fn node(
    identity: Arc<Identity>,
    listen: SocketAddr,
    corpus: &Corpus,
    params: &W2vParams,
    peers: usize,
) -> anyhow::Result<Arc<Shared>> {
    let deadline = DeadlinePolicy {
        steps: 1e6,
        min: Duration::from_secs(5),
        max: Duration::from_secs(5),
    };
    node_with(identity, listen, corpus, params, peers, deadline)
}

/// A bench node's state with the step deadline `deadline`.
pub(crate) fn node_with(
    identity: Arc<Identity>,
    listen: SocketAddr,
    corpus: &Corpus,
    params: &W2vParams,
    peers: usize,
    deadline: DeadlinePolicy,
) -> anyhow::Result<Arc<Shared>> {
    Ok(Shared::new(NodeParams {
        identity,
        listen,
        advertised: None,
        model: Word2Vec::new(corpus.vocab.counts(), params)?,
        words: corpus.vocab.words().to_vec(),
        counts: corpus.vocab.counts().to_vec(),
        export_dir: None,
        peers,
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
    /// Downstream callers it serves: each fetches the node's new updates as a downstream
    /// node does.
    pub downstreams: usize,
}

/// The loop's settings in the bench: one thread, the default exchange rate.
pub(crate) fn bench_settings(
    params: &W2vParams,
    chunk_words: usize,
    steps: u64,
    vocab: usize,
) -> TrainSettings {
    TrainSettings {
        params: params.clone(),
        chunk_words,
        steps,
        log_every: 0,
        syncs_per_epoch: crate::config::DEFAULT_SYNCS_PER_EPOCH,
        threads: 1,
        bound: UpdateBound {
            max_row_norm: DEFAULT_MAX_ROW_NORM,
            max_rows: vocab,
        },
        compression: Compression::default(),
        exit_when_done: true,
        start_with_peers: 0,
    }
}

/// Trains one node on `corpus` for `steps` chunks of `chunk_words` tokens (0 = its
/// schedule) with live peers on loopback: `around.upstreams` nodes running the same loop on
/// the same text (on a runtime of their own, their CPU left out of the node's) and
/// `around.downstreams` callers fetching the node's updates.
pub async fn live_node(
    corpus: &Corpus,
    params: &W2vParams,
    around: Around,
    chunk_words: usize,
    steps: u64,
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
    let leaving = upstream_threads.clone();
    let upstream_rt = Background(Some(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bench-peers")
            .enable_all()
            .on_thread_start(move || registry.register_current())
            .on_thread_stop(move || leaving.record_exit_current())
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
        let shared = node(up.clone(), addr, corpus, params, 0)?;
        let ctx = bench_server(&shared, &keys);
        let stop2 = stop.clone();
        upstream_rt.handle().spawn(async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => serve(listener, ctx, stop2).await,
                Err(e) => tracing::error!(error = %e, "bench peer cannot listen"),
            }
        });
        let own = PeerClient::signed(
            Duration::from_secs(10),
            Limits::default(),
            Signer {
                identity: up.clone(),
                keys: keys.clone(),
            },
        );
        let mut settings = bench_settings(&p, chunk_words, steps, corpus.vocab.len());
        settings.exit_when_done = false;
        upstream_rt.handle().spawn(train(
            shared.clone(),
            corpus.clone(),
            settings,
            own,
            stop.clone(),
        ));
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
    let me = node(me_id.clone(), my_addr, corpus, params, peers)?;
    me.refresh_peers(&rows);
    let my_ctx = bench_server(&me, &keys);
    let served = my_ctx.counters.clone();
    tokio::spawn(serve(my_listener, my_ctx, stop.clone()));
    let rounds = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let settings = bench_settings(params, chunk_words, steps, corpus.vocab.len());
    for (i, d) in downs.iter().enumerate() {
        // A downstream node asks in the precision it sends its own updates in.
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
        )
        .with_wire(WireTypes {
            updates: settings.compression.precision.into(),
            ..WireTypes::default()
        });
        let caller = Downstream {
            client: caller,
            base: format!("http://{my_addr}"),
            account: me_id.account.clone(),
            rounds: rounds.clone(),
        };
        let _ = i;
        upstream_rt.handle().spawn(caller.run(stop.clone()));
    }
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
    tracing::info!(
        process_cpu = cpu_seconds,
        peers_cpu = ?upstream_threads.cpu_seconds().zip(upstream_before).map(|(a, b)| a - b),
        seconds,
        "live node run"
    );
    let fetches_served = served
        .updates_served
        .load(std::sync::atomic::Ordering::Relaxed);
    let _ = stop_tx.send(true);
    let stats = lock(&me.stats).clone();
    tracing::info!(
        rounds = stats.rounds,
        fetches_served_per_round = fetches_served as f64 / stats.rounds.max(1) as f64,
        published_rows_per_round = stats.published_rows / stats.rounds.max(1),
        published_bytes_per_round = stats.published_bytes / stats.rounds.max(1),
        "the node's own updates, per round, as each downstream receives them"
    );
    let peer_errors = lock(&me.peers)
        .health
        .iter()
        .filter_map(|h| h.last_error.clone())
        .collect();
    let len = super::trainer::split_held_out(&corpus.ids, chunk_words)
        .0
        .len() as u64;
    let per_epoch = len.div_ceil(chunk_words.max(1) as u64).max(1);
    let (full, rest) = (stats.step / per_epoch, stats.step % per_epoch);
    Ok(LiveReport {
        words: full * len + (rest * chunk_words as u64).min(len),
        pairs: stats.examples,
        seconds,
        cpu_seconds,
        node_cpu_seconds,
        training_cpu_seconds: stats.cpu_phases[0],
        peer_failures: stats.peer_failures,
        downstream_rounds: rounds.load(std::sync::atomic::Ordering::Relaxed),
        fetches_served,
        updates_applied: stats.updates_applied,
        peer_errors,
    })
}

/// One downstream caller of the measured node.
struct Downstream {
    client: PeerClient,
    base: String,
    account: String,
    rounds: Arc<std::sync::atomic::AtomicU64>,
}

impl Downstream {
    /// Fetches the node's new updates as a downstream node waiting for them does (each ask
    /// held by the node up to [`HOLD_SLICE`]), always waiting, until `stop`.
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut after = 0;
        while !*stop.borrow() {
            let ask = self.client.updates(
                &self.base,
                &self.account,
                after,
                HOLD_SLICE,
                Duration::from_secs(10),
            );
            let answer = tokio::select! {
                a = ask => a,
                _ = stop.changed() => return,
            };
            match answer {
                Ok(a) if !a.updates.is_empty() => {
                    after = a.updates.iter().map(|u| u.round).max().unwrap_or(after);
                    self.rounds
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "bench downstream: update fetch failed");
                    tokio::select! {
                        _ = tokio::time::sleep(HOLD_SLICE) => {}
                        _ = stop.changed() => {}
                    }
                }
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

/// Mean distinct words of a subsampled chunk: the rows of one round's update grow with it.
pub fn distinct_per_chunk(corpus: &Corpus, params: &W2vParams, chunk_words: usize) -> usize {
    let Ok(mut planner) =
        crate::model::w2v::Planner::new(&corpus.ids, corpus.vocab.counts(), params, chunk_words)
    else {
        return 0;
    };
    let n = planner.chunks_per_epoch().clamp(1, 20);
    let total: usize = (0..n)
        .filter_map(|_| planner.next_chunk())
        .map(|c| {
            let mut ids = c.sentence;
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        })
        .sum();
    total / n as usize
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

/// The machine's 1-minute load average (0 where it cannot be read).
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Mean (words/s, words per CPU second) of `1 + beside` plain models trained on one thread
/// each at the same time on `corpus` (seeds apart): the plain core in the company the live
/// bench's node has (its upstreams train beside it and share the machine's cache and memory).
fn plain_beside(corpus: &Corpus, params: &W2vParams, beside: usize) -> anyhow::Result<(f64, f64)> {
    let counts = corpus.vocab.counts();
    let reports = std::thread::scope(|s| {
        let runs: Vec<_> = (0..=beside as u64)
            .map(|i| {
                s.spawn(move || {
                    let p = W2vParams {
                        seed: params.seed + i,
                        ..params.clone()
                    };
                    let mut m = Word2Vec::new(counts, &p)?;
                    let one = FitOptions {
                        threads: 1,
                        update: Update::SharedNegatives,
                    };
                    fit_with(&mut m, &corpus.ids, counts, &p, one)
                })
            })
            .collect();
        runs.into_iter()
            .map(|h| match h.join() {
                Ok(r) => r.map_err(anyhow::Error::from),
                Err(_) => Err(anyhow::anyhow!("a plain run beside the others panicked")),
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let n = reports.len().max(1) as f64;
    Ok((
        reports.iter().map(|r| r.words_per_sec()).sum::<f64>() / n,
        reports.iter().map(|r| r.words_per_cpu_sec()).sum::<f64>() / n,
    ))
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

    if peers > 0 {
        tracing::info!(
            beside = peers,
            "training the plain core on 1 thread beside as many more as the live node has upstreams"
        );
        let r = plain_beside(&corpus, params, peers)?;
        rows.push(row(
            "plain_1t_beside_peers",
            &format!(
                "ours: plain core, 1 thread, beside {peers} more training at once (mean of all)"
            ),
            r.0,
            r.1,
        ));
        tracing::info!(peers, "training the node loop with live session peers");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bench-node")
            .enable_all()
            .build()?;
        let around = Around {
            upstreams: peers,
            downstreams: peers,
        };
        let r = rt.block_on(live_node(&corpus, params, around, CHUNK_WORDS, 0))?;
        if r.peer_failures > 0 {
            tracing::warn!(
                failures = r.peer_failures,
                "peer calls failed during the run"
            );
        }
        // The node's process: its training thread, its server answering its downstreams,
        // its fetches from its upstreams and the estimator; the upstream nodes and the
        // downstream callers are other machines in a real network (their threads, on a
        // runtime of their own, are left out).
        let cpu = r
            .words_per_node_cpu_sec()
            .unwrap_or_else(|| r.words_per_cpu_sec());
        rows.push(row(
            "live_node_whole_process",
            &format!(
                "ours: node loop, 1 thread, {peers} up / {peers} down live peers, the node's process"
            ),
            r.words_per_sec(),
            cpu,
        ));
        rows.push(row(
            "live_node_training",
            "ours: the same run, the node's training alone (its loop's CPU outside the exchange)",
            r.words_per_sec(),
            r.words as f64 / r.training_cpu_seconds.max(1e-9),
        ));
        rows.push(row(
            "live_node_test_process",
            &format!("ours: the same run, CPU of the whole test process ({peers} upstream nodes training in it)"),
            r.words_per_sec(),
            r.words_per_cpu_sec(),
        ));
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
    async fn the_live_node_exchanges_updates_with_its_upstreams_and_downstreams() {
        let (corpus, params) = small();
        let around = Around {
            upstreams: 2,
            downstreams: 2,
        };
        let r = live_node(&corpus, &params, around, 200, 40).await.unwrap();
        assert_eq!(r.peer_failures, 0, "{r:?}");
        assert!(
            r.downstream_rounds > 0,
            "the downstreams got the node's updates"
        );
        assert!(r.pairs > 0);
        // The training is part of the node's CPU, the exchange the rest.
        assert!(r.training_cpu_seconds > 0.0, "{r:?}");
        if let Some(node) = r.node_cpu_seconds {
            assert!(r.training_cpu_seconds <= node, "{r:?}");
        }
        assert!(
            r.updates_applied > 0,
            "the node applied its upstreams' updates"
        );
        // The node holds each ask until its next round: beside the answers with updates,
        // a downstream gets at most one "nothing new" per HOLD_SLICE (polling every 10 ms
        // would be five times that).
        let empty_at_most = (r.seconds / HOLD_SLICE.as_secs_f64()).ceil() as u64 + 2;
        assert!(
            r.fetches_served <= r.downstream_rounds + 2 * empty_at_most,
            "{} fetches in {:.2} s: {r:?}",
            r.fetches_served,
            r.seconds
        );
    }
}
