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
use crate::model::w2v::{fit, fit_peered, PeerSource, PeerW2v, W2vParams, Word2Vec, CHUNK_WORDS};
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

/// The accounts of a bench run: the measured node, its upstream peers, and their keys.
struct BenchIdentities {
    me: Arc<Identity>,
    ups: Vec<Arc<Identity>>,
    keys: Arc<KeyCache>,
}

/// Identities of a bench run: `bench` and `peer0..peerN`, each with its own key; the key
/// table stands in for the chain's `get_account`.
fn bench_identities(peers: usize, vocab: &str) -> anyhow::Result<BenchIdentities> {
    let make = |i: usize, name: &str| -> anyhow::Result<Arc<Identity>> {
        let key = PrivateKey::from_bytes(&[i as u8 + 1; 32])?;
        Ok(Arc::new(Identity::new(name, key, vocab)))
    };
    let ups = (0..peers)
        .map(|i| make(i, &format!("peer{i}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let me = make(peers, "bench")?;
    let table: HashMap<String, Vec<_>> = ups
        .iter()
        .chain(std::iter::once(&me))
        .map(|id| (id.account.clone(), vec![id.public_key()]))
        .collect();
    let keys = Arc::new(KeyCache::new(Arc::new(StaticKeys(table))));
    Ok(BenchIdentities { me, ups, keys })
}

/// Trains one node on `corpus` for `steps` chunks of `chunk_words` tokens with `peers` live
/// upstream nodes on loopback (each serving an untrained model of its own seed through the
/// node's serving path, learning from the gradients it receives at `upstream_grad_scale`).
pub async fn live_node(
    corpus: &Corpus,
    params: &W2vParams,
    peers: usize,
    chunk_words: usize,
    steps: u64,
    upstream_grad_scale: f64,
) -> anyhow::Result<LiveReport> {
    let (stop_tx, stop) = watch::channel(false);
    let BenchIdentities {
        me: me_id,
        ups,
        keys,
    } = bench_identities(peers, &vocab_fingerprint(&corpus.vocab))?;
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
        let ctx = Arc::new(ServerContext::new(
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
        ));
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
    rows.push(PeerRow {
        user: me_id.account.clone(),
        address: "127.0.0.1".into(),
        port: 1,
        stake: 1,
        edges: vec![],
    });
    let me = node(
        me_id.clone(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        corpus,
        params,
        peers,
        1.0,
    )?;
    me.refresh_peers(&rows);
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
        upstream_moved,
    })
}

/// What a node serves now, every word.
fn served_table(s: &Arc<Shared>) -> Vec<f32> {
    s.served.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// One row of [`vs_gensim`]: a trainer and its raw words per second.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedRow {
    /// What was measured.
    pub name: String,
    /// Raw corpus words per second (tokens x epochs / training seconds).
    pub words_per_sec: f64,
    /// Raw corpus words per CPU second of the trainer (all its threads).
    pub words_per_cpu_sec: f64,
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

/// Words per second of gensim, fastText (if installed) and this project's trainers on one
/// corpus with the same settings, measured one after the other in this run.
pub fn vs_gensim(
    corpus_path: &std::path::Path,
    params: &W2vParams,
    peers: usize,
    python: &std::path::Path,
) -> anyhow::Result<Vec<SpeedRow>> {
    use anyhow::Context;
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
    let row = |name: &str, wall: f64, cpu: f64| SpeedRow {
        name: name.into(),
        words_per_sec: wall,
        words_per_cpu_sec: cpu,
    };

    tracing::info!("training gensim Word2Vec (1 worker)");
    let g = crate::model::baseline::gensim(python, corpus_path, params, &tmp.join("gensim.txt"))?;
    rows.push(row(
        "gensim 4.4 Word2Vec, sg, 1 worker",
        g.words_per_sec(),
        g.words_per_cpu_sec(),
    ));
    if crate::model::baseline::fasttext_available() {
        tracing::info!("training fastText skipgram (1 thread)");
        let words = (corpus.ids.len() * params.epochs) as u64;
        let f = crate::model::baseline::fasttext(corpus_path, params, words, &tmp.join("ft"))?;
        rows.push(row(
            "fastText skipgram -minn 0 -maxn 0, 1 thread",
            f.words_per_sec(),
            f.words_per_cpu_sec(),
        ));
    }

    tracing::info!("training the plain word2vec core");
    let mut plain = Word2Vec::new(&counts, params)?;
    let r = fit(&mut plain, &corpus.ids, &counts, params)?;
    rows.push(row(
        "ours: plain word2vec core",
        r.words_per_sec(),
        r.words_per_cpu_sec(),
    ));

    tracing::info!("training the peer-aware core, no peers");
    let mut alone = PeerW2v::new(&counts, params, 0)?;
    let mut none = LocalPeers {
        models: vec![],
        scale: 1.0,
    };
    let r = fit_peered(&mut alone, &corpus.ids, &counts, params, &mut none)?;
    rows.push(row(
        "ours: peer-aware core, 0 peers",
        r.words_per_sec(),
        r.words_per_cpu_sec(),
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
            &format!("ours: peer-aware core, {peers} in-process peers"),
            r.words_per_sec(),
            r.words_per_cpu_sec(),
        ));

        tracing::info!(peers, "training the node loop with live HTTP/2 peers");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let steps = corpus.ids.len().div_ceil(CHUNK_WORDS) as u64 * params.epochs as u64;
        let r = rt.block_on(live_node(&corpus, params, peers, CHUNK_WORDS, steps, 1.0))?;
        if r.peer_failures > 0 {
            tracing::warn!(
                failures = r.peer_failures,
                "peer calls failed during the run"
            );
        }
        rows.push(row(
            &format!("ours: node loop, {peers} live HTTP/2 peers, whole process"),
            r.words_per_sec(),
            r.words_per_cpu_sec(),
        ));
        if let Some(node_only) = r.words_per_node_cpu_sec() {
            // The same run, CPU of the node alone (the peers' threads left out).
            rows.push(row(
                &format!("ours: node loop, {peers} live HTTP/2 peers, the node's CPU"),
                r.words_per_sec(),
                node_only,
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(rows)
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
        let on = live_node(&corpus, &params, 2, 200, 10, 1.0).await.unwrap();
        assert_eq!(on.peer_failures, 0);
        assert!(on.pairs > 0);
        assert!(
            on.upstream_moved > 1e-5,
            "the upstreams' served vectors moved by {}",
            on.upstream_moved
        );
        // The same run with the upstreams ignoring what they receive: nothing moves, so the
        // figure above is the gradients' doing.
        let off = live_node(&corpus, &params, 2, 200, 10, 0.0).await.unwrap();
        assert_eq!(off.upstream_moved, 0.0);
    }
}
