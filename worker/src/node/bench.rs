//! Throughput of the real training loop with live upstream peers: k peer servers and one
//! training node in this process, talking HTTP/2 over loopback, so the figure includes
//! encoding, the network stack and the backward traffic (the in-process model benchmark
//! feeds peer tensors directly).

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
use super::trainer::{train, TrainSettings};
use crate::chain::{Backoff, PeerRow};
use crate::corpus::Corpus;
use crate::model::{Model, ModelConfig};
use crate::peer::client::{PeerClient, Signer};
use crate::peer::gate::{Gate, GateLimits};
use crate::peer::identity::Identity;
use crate::peer::keys::{KeyCache, StaticKeys};
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
    // Every bench account gets its own key; the table stands in for the chain's get_account.
    let names: Vec<String> = (0..cfg.peers)
        .map(|i| format!("peer{i}"))
        .chain(["bench".to_string()])
        .collect();
    let mut identities = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        let key = PrivateKey::from_bytes(&[i as u8 + 1; 32])?;
        identities.insert(name.clone(), Arc::new(Identity::new(name, key, &vocab)));
    }
    let table = identities
        .iter()
        .map(|(n, id)| (n.clone(), vec![id.public_key()]))
        .collect();
    let keys = Arc::new(KeyCache::new(Arc::new(StaticKeys(table))));
    let mut rows = Vec::new();
    let mut upstreams = Vec::new();
    for i in 0..cfg.peers {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstream_cfg = ModelConfig {
            peers: 0,
            seed: cfg.seed + 1 + i as u64,
            ..cfg.clone()
        };
        let shared = node(identities[&names[i]].clone(), addr, &upstream_cfg)?;
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
    let me_id = identities["bench"].clone();
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
