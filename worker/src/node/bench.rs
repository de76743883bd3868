//! Throughput of the real training loop with live upstream peers: k peer servers and one
//! training node in this process, talking HTTP/2 over loopback, so the figure includes
//! encoding, the network stack and the backward traffic (the in-process model benchmark
//! feeds peer tensors directly).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bittensor_protocol::policy::AddressPolicy;
use bittensor_protocol::status::WorkerStatus;
use chain_client::PrivateKey;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::runner::vocab_fingerprint;
use super::state::{lock, DeadlinePolicy, NodeEndpoint, NodeParams, Shared};
use super::trainer::{train, TrainSettings};
use crate::chain::{Backoff, PeerRow};
use crate::corpus::Corpus;
use crate::model::w2v::{fit, fit_peered, PeerSource, PeerW2v, W2vParams, Word2Vec};
use crate::model::{Model, ModelConfig};
use crate::peer::client::{PeerClient, Signer};
use crate::peer::codec::BackwardRequest;
use crate::peer::gate::{Gate, GateLimits};
use crate::peer::identity::Identity;
use crate::peer::keys::{KeyCache, StaticKeys};
use crate::peer::server::{serve, ServerContext};
use crate::peer::Limits;
use crate::peer::{Endpoint, EndpointError, WireTensor};

/// Steps run before timing starts (connection set-up, allocator warm-up).
const WARMUP_STEPS: u64 = 5;

/// Result of [`live_throughput`].
#[derive(Debug, Clone, PartialEq)]
pub struct LiveReport {
    /// Training pairs per second of the node with live peers.
    pub pairs_per_sec: f64,
    /// Forward calls to peers that failed during the run (should be 0).
    pub peer_failures: u64,
}

/// Rates no bench run reaches.
const UNLIMITED: GateLimits = GateLimits {
    forward_rate: 1e9,
    forward_burst: 1e9,
    backward_rate: 1e9,
    backward_burst: 1e9,
};

/// A bench node's state: loopback policy, the bench's own deadline (none shorter than 5 s).
fn node(
    identity: Arc<Identity>,
    listen: SocketAddr,
    cfg: &ModelConfig,
) -> anyhow::Result<Arc<Shared>> {
    Ok(Shared::new(NodeParams {
        identity,
        listen,
        advertised: None,
        model: Model::new(cfg)?,
        remote_scale: 1.0,
        attribution_half_life_secs: 2.0,
        seed: cfg.seed,
        backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(1)),
        loss_tail: 16,
        policy: AddressPolicy::LOCAL_TESTNET,
        deadline: DeadlinePolicy {
            steps: 1e6,
            min: Duration::from_secs(5),
            max: Duration::from_secs(5),
        },
    }))
}

async fn start_server(
    shared: Arc<Shared>,
    keys: Arc<KeyCache>,
    listener: TcpListener,
    stop: watch::Receiver<bool>,
) {
    let gate = Gate::new(shared.me.clone(), keys, UNLIMITED);
    let ctx = Arc::new(ServerContext::new(
        Arc::new(NodeEndpoint(shared)),
        Limits::default(),
        8 << 20,
        gate,
    ));
    tokio::spawn(serve(listener, ctx, stop));
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

/// Pairs per second of the training loop with `cfg.peers` live peers on loopback, over
/// `steps` timed steps of `batch` pairs from a generated corpus (vocabulary from it).
pub async fn live_throughput(
    cfg: &ModelConfig,
    steps: u64,
    batch: usize,
) -> anyhow::Result<LiveReport> {
    let corpus = Corpus::generate(cfg.seed, 60_000);
    let cfg = ModelConfig {
        vocab: corpus.vocab.len() as i64,
        ..cfg.clone()
    };
    let (stop_tx, stop) = watch::channel(false);
    let vocab = vocab_fingerprint(&corpus.vocab);
    let BenchIdentities {
        me: me_id,
        ups,
        keys,
    } = bench_identities(cfg.peers, &vocab)?;
    let mut rows = Vec::new();
    let mut upstreams = Vec::new();
    for (i, up) in ups.iter().enumerate() {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstream_cfg = ModelConfig {
            peers: 0,
            seed: cfg.seed + 1 + i as u64,
            ..cfg.clone()
        };
        let shared = node(up.clone(), addr, &upstream_cfg)?;
        start_server(shared.clone(), keys.clone(), listener, stop.clone()).await;
        upstreams.push(shared);
        rows.push(PeerRow {
            user: format!("peer{i}"),
            address: addr.ip().to_string(),
            port: addr.port(),
            stake: 1,
            edges: vec![],
        });
    }
    let bench_row = PeerRow {
        user: "bench".into(),
        address: "127.0.0.1".into(),
        port: 1,
        stake: 1,
        edges: vec![],
    };
    rows.push(bench_row);
    let me = node(me_id.clone(), SocketAddr::from(([127, 0, 0, 1], 0)), &cfg)?;
    me.refresh_peers(&rows);
    for u in &upstreams {
        u.refresh_peers(&rows);
    }
    let client = PeerClient::signed(
        Duration::from_secs(5),
        Limits::default(),
        Signer {
            identity: me_id,
            keys,
        },
    );
    let settings = |steps| TrainSettings {
        batch,
        window: 2,
        seed: cfg.seed,
        steps,
        log_every: 0,
    };
    train(
        me.clone(),
        corpus.clone(),
        settings(WARMUP_STEPS),
        client.clone(),
        stop.clone(),
    )
    .await;
    let start = Instant::now();
    train(
        me.clone(),
        corpus,
        settings(WARMUP_STEPS + steps),
        client,
        stop,
    )
    .await;
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    let _ = stop_tx.send(true);
    let stats = lock(&me.stats).clone();
    let timed = stats.step.saturating_sub(WARMUP_STEPS);
    Ok(LiveReport {
        pairs_per_sec: (timed as usize * batch) as f64 / elapsed,
        peer_failures: stats.peer_failures,
    })
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

/// A word2vec model behind the peer protocol: serves `h(w)`, learns from gradients at the
/// rate its owner last trained with.
pub struct W2vEndpoint {
    /// The model.
    pub model: Mutex<PeerW2v>,
    /// Rate of remote-gradient steps.
    pub rate: f32,
}

impl Endpoint for W2vEndpoint {
    fn forward(&self, ids: &[i64]) -> Result<WireTensor, EndpointError> {
        let m = lock(&self.model);
        let data = m
            .serve(ids)
            .map_err(|e| EndpointError::BadInput(e.to_string()))?;
        Ok(WireTensor {
            shape: vec![ids.len(), m.dim],
            data,
        })
    }

    fn backward(&self, ids: &[i64], grad: &WireTensor) -> Result<(), EndpointError> {
        lock(&self.model)
            .apply_remote_grad(ids, &grad.data, self.rate)
            .map_err(|e| EndpointError::BadInput(e.to_string()))
    }

    fn is_subscribed(&self, _account: &str) -> bool {
        true
    }

    fn status(&self) -> WorkerStatus {
        WorkerStatus::default()
    }
}

/// Upstream peers reached over HTTP/2: forward calls wait for the answer (a failed peer
/// gives None, trained as zeros), backward calls are sent without waiting.
pub struct HttpPeers {
    /// The runtime the calls run on.
    pub handle: tokio::runtime::Handle,
    /// The client.
    pub client: PeerClient,
    /// Base URL and account per slot.
    pub bases: Vec<(String, String)>,
    /// Vector dimension.
    pub dim: usize,
    /// Forward calls that failed.
    pub failures: u64,
}

impl PeerSource for HttpPeers {
    fn forward(&mut self, slot: usize, ids: &[i64]) -> Option<Vec<f32>> {
        let (base, account) = self.bases.get(slot)?;
        let deadline = self.client.timeout();
        match self
            .handle
            .block_on(self.client.forward(base, account, ids, self.dim, deadline))
        {
            Ok(t) => Some(t.data),
            Err(e) => {
                self.failures += 1;
                tracing::warn!(slot, error = %e, "upstream peer failed; using zeros");
                None
            }
        }
    }

    fn backward(&mut self, slot: usize, ids: &[i64], grad: &[f32], _alpha: f32) {
        let Some((base, account)) = self.bases.get(slot).cloned() else {
            return;
        };
        let req = BackwardRequest {
            ids: ids.to_vec(),
            grad: WireTensor {
                shape: vec![ids.len(), self.dim],
                data: grad.to_vec(),
            },
        };
        let client = self.client.clone();
        self.handle.spawn(async move {
            if let Err(e) = client.backward(&base, &account, &req).await {
                tracing::debug!(slot, error = %e, "backward to upstream peer failed");
            }
        });
    }
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

/// Starts `k` word2vec peer servers on loopback (models of `counts` with `params`, seeds
/// after `params.seed`); returns their base URLs.
async fn start_w2v_peers(
    counts: &[u64],
    params: &W2vParams,
    peers: &[Arc<Identity>],
    keys: &Arc<KeyCache>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut bases = Vec::new();
    for (i, identity) in peers.iter().enumerate() {
        let p = W2vParams {
            seed: params.seed + 1 + i as u64,
            ..params.clone()
        };
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let endpoint = Arc::new(W2vEndpoint {
            model: Mutex::new(PeerW2v::new(counts, &p, 0)?),
            rate: params.alpha as f32,
        });
        let gate = Gate::new(identity.clone(), keys.clone(), UNLIMITED);
        let ctx = Arc::new(ServerContext::new(
            endpoint,
            Limits::default(),
            16 << 20,
            gate,
        ));
        tokio::spawn(serve(listener, ctx, stop.clone()));
        bases.push((format!("http://{addr}"), identity.account.clone()));
    }
    Ok(bases)
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

        tracing::info!(peers, "training the peer-aware core with live HTTP/2 peers");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let (stop_tx, stop) = watch::channel(false);
        let BenchIdentities {
            me: me_id,
            ups,
            keys,
        } = bench_identities(peers, &vocab_fingerprint(&corpus.vocab))?;
        let bases = rt.block_on(start_w2v_peers(&counts, params, &ups, &keys, stop))?;
        let signer = Signer {
            identity: me_id,
            keys,
        };
        let mut http = HttpPeers {
            handle: rt.handle().clone(),
            client: PeerClient::signed(Duration::from_secs(10), Limits::default(), signer),
            bases,
            dim: params.dim,
            failures: 0,
        };
        let mut me = PeerW2v::new(&counts, params, peers)?;
        let r = fit_peered(&mut me, &corpus.ids, &counts, params, &mut http)?;
        let _ = stop_tx.send(true);
        if http.failures > 0 {
            tracing::warn!(failures = http.failures, "peer calls failed during the run");
        }
        rows.push(row(
            &format!("ours: peer-aware core, {peers} live HTTP/2 peers"),
            r.words_per_sec(),
            r.words_per_cpu_sec(),
        ));
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
