//! Throughput of the real training loop with live upstream peers: k peer servers and one
//! training node in this process, talking HTTP/2 over loopback, so the figure includes
//! encoding, the network stack and the backward traffic (the in-process model benchmark
//! feeds peer tensors directly).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;

use super::state::{lock, NodeEndpoint, PeerTable, Shared, Stats};
use super::trainer::{train, TrainSettings};
use crate::attribution::Attribution;
use crate::chain::{Backoff, PeerRow};
use crate::corpus::Corpus;
use crate::model::{Model, ModelConfig};
use crate::peer::client::PeerClient;
use crate::peer::ratelimit::RateLimiter;
use crate::peer::server::{serve, ServerContext};
use crate::peer::Limits;

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

fn node(name: &str, listen: SocketAddr, cfg: &ModelConfig) -> anyhow::Result<Arc<Shared>> {
    let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
    Ok(Arc::new(Shared {
        identity: name.into(),
        listen,
        model: Mutex::new(Model::new(cfg)?),
        out_dim: cfg.out_dim as usize,
        remote_scale: 1.0,
        attribution: Mutex::new(Attribution::new(cfg.peers, 0.95)),
        peers: Mutex::new(PeerTable::new(cfg.peers, cfg.seed, backoff)),
        stats: Mutex::new(Stats::default()),
        loss_tail: 16,
        started: Instant::now(),
    }))
}

async fn start_server(shared: Arc<Shared>, listener: TcpListener, stop: watch::Receiver<bool>) {
    let ctx = Arc::new(ServerContext {
        endpoint: Arc::new(NodeEndpoint(shared)),
        limits: Limits::default(),
        max_body: 8 << 20,
        limiter: RateLimiter::new(1e9, 1e9),
        counters: Default::default(),
    });
    tokio::spawn(serve(listener, ctx, stop));
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
    let mut rows = Vec::new();
    for i in 0..cfg.peers {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstream_cfg = ModelConfig {
            peers: 0,
            seed: cfg.seed + 1 + i as u64,
            ..cfg.clone()
        };
        let shared = node(&format!("peer{i}"), addr, &upstream_cfg)?;
        start_server(shared, listener, stop.clone()).await;
        rows.push(PeerRow {
            user: format!("peer{i}"),
            address: addr.ip().to_string(),
            port: addr.port(),
            stake: 1,
            edges: vec![],
        });
    }
    let me = node("bench", SocketAddr::from(([127, 0, 0, 1], 0)), &cfg)?;
    me.refresh_peers(&rows);
    let client = PeerClient::new(Duration::from_secs(5), Limits::default());
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
