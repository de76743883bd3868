//! A real `bittensor-worker` whose every upstream peer is hostile. Five servers written
//! here are subscribed on a local chain like honest workers, pass the session handshake
//! with their accounts' real keys, and answer forwards with: random bytes, a matrix header
//! announcing an oversize shape, a well-formed matrix of the wrong shape, a matrix full of
//! NaN, or (the fifth) accept the connection and say nothing at all.
//! The worker must keep training (its step count keeps rising, no failed steps, finite
//! loss), count a failure on every hostile slot, keep emitting, and stop cleanly;
//! token conservation holds on chain at the end.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bittensor_tests::{conservation, deployed, funded};
use bittensor_worker::chain::eos::EosChain;
use bittensor_worker::chain::ChainApi;
use bittensor_worker::corpus::Corpus;
use bittensor_worker::model::w2v::SparseUpdate;
use bittensor_worker::node::runner::vocab_fingerprint;
use bittensor_worker::peer::codec::{Limits, WireTensor};
use bittensor_worker::peer::identity::Identity;
use bittensor_worker::peer::keys::{ChainKeys, KeyCache};
use bittensor_worker::peer::kinds::KindLimits;
use bittensor_worker::peer::server::{serve, ServerContext, ServerCounters, ServerSettings};
use bittensor_worker::peer::session::admission::AdmissionLimits;
use bittensor_worker::peer::session::handlers::{Handler, Handlers};
use bittensor_worker::peer::session::message::{FORWARD, UPDATES};
use bittensor_worker::peer::{wire, wire_updates};
use bittensor_worker::peer::{Endpoint, EndpointError};
use chain_client::{contract as actions, Asset, Name, PrivateKey, Symbol};
use serde_json::Value;
use support::{assert_alive, num, spawn, stop, wait_for, StatusReader, WorkerOpts};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The worker's vector width in `support` configs (`dim`).
const OUT_DIM: usize = 8;

/// How a hostile peer answers.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Pseudo-random bytes as the forward's answer.
    Garbage,
    /// A valid matrix header announcing 2^32-1 rows of 65 535 columns, and 16 bytes of data.
    Oversize,
    /// A well-formed matrix of shape [n + 1, OUT_DIM + 3].
    WrongShape,
    /// A matrix of the right shape whose elements are NaN.
    NotFinite,
    /// Accepts the connection and never answers.
    Silent,
}

const MODES: [(&str, Mode); 5] = [
    ("garbage", Mode::Garbage),
    ("oversize", Mode::Oversize),
    ("wrongshape", Mode::WrongShape),
    ("notfinite", Mode::NotFinite),
    ("silent", Mode::Silent),
];

/// Word ids in a forward request (0 when the body is not one).
fn request_len(body: &[u8]) -> usize {
    wire::decode_forward(body, &Limits::default())
        .map(|f| f.ids.len())
        .unwrap_or(0)
}

/// A raw f32 matrix, written without the encoder's checks: the point is to send what a
/// checker would refuse.
fn raw_matrix(rows: u32, cols: u16, values: &[f32]) -> Vec<u8> {
    let mut out = vec![wire::Dtype::F32 as u8];
    out.extend(rows.to_le_bytes());
    out.extend(cols.to_le_bytes());
    for v in values {
        out.extend(v.to_le_bytes());
    }
    out
}

fn answer(mode: Mode, body: &[u8], seq: u64) -> Vec<u8> {
    let n = request_len(body);
    match mode {
        Mode::Garbage => {
            let mut x = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            (0..64 + (seq % 512) as usize)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect()
        }
        Mode::Oversize => raw_matrix(u32::MAX, u16::MAX, &[0.0; 4]),
        Mode::WrongShape => raw_matrix(
            n as u32 + 1,
            OUT_DIM as u16 + 3,
            &vec![0.5; (n + 1) * (OUT_DIM + 3)],
        ),
        Mode::NotFinite => raw_matrix(n as u32, OUT_DIM as u16, &vec![f32::NAN; n * OUT_DIM]),
        Mode::Silent => Vec::new(),
    }
}

/// What a hostile server needs to pass the worker's handshake: the chain's id and keys,
/// the worker's vocabulary.
#[derive(Clone)]
struct Disguise {
    chain_id: [u8; 32],
    keys: Arc<KeyCache>,
    vocab: String,
}

impl Disguise {
    fn new(rt: &tokio::runtime::Runtime, url: &str, contract: &str) -> Self {
        let dev = PrivateKey::from_wif(localnet::DEV_PRIVATE_KEY).expect("dev key");
        let chain: Arc<dyn ChainApi> =
            Arc::new(EosChain::new(url, contract, "worker", dev).expect("chain client"));
        let chain_id = rt.block_on(chain.chain_id()).expect("chain id");
        // The vocabulary of the `support` configs' generated corpus.
        let vocab = vocab_fingerprint(&Corpus::generate(11, 12_000).vocab);
        Disguise {
            chain_id,
            keys: Arc::new(KeyCache::new(Arc::new(ChainKeys(chain)))),
            vocab,
        }
    }
}

/// Serves anyone; has nothing of its own (the handlers below answer).
struct Nobody;

impl Endpoint for Nobody {
    fn forward(&self, _: &[i64]) -> Result<WireTensor, EndpointError> {
        Err(EndpointError::Unavailable("hostile".into()))
    }
    fn is_subscribed(&self, _: &str) -> bool {
        true
    }
    fn status(&self) -> bittensor_protocol::status::WorkerStatus {
        Default::default()
    }
}

/// A real session server as `account` (all test accounts hold the development key) whose
/// forward answers are `forward`'s; returns its port and a request counter.
async fn session_server(
    account: &'static str,
    disguise: &Disguise,
    forward: impl Fn(&[u8], u64) -> Vec<u8> + Send + Sync + 'static,
) -> (u16, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicU64::new(0));
    let counter = hits.clone();
    let key = PrivateKey::from_wif(localnet::DEV_PRIVATE_KEY).expect("dev key");
    let me = Arc::new(Identity::new(account, key, &disguise.vocab).on_chain(disguise.chain_id));
    let mut handlers = Handlers::new();
    let answer_forward: Handler = Arc::new(move |_call, body| {
        let seq = counter.fetch_add(1, Ordering::Relaxed);
        Ok(forward(body, seq))
    });
    handlers.register(FORWARD, 1e9, 1e9, answer_forward.clone());
    // The node's loop fetches updates: the same hostile answers come back to those.
    handlers.register(UPDATES, 1e9, 1e9, answer_forward);
    let ctx = Arc::new(ServerContext::with_handlers(
        Arc::new(Nobody),
        me,
        disguise.keys.clone(),
        ServerSettings {
            limits: Limits::default(),
            rates: KindLimits {
                forward_rate: 1e9,
                forward_burst: 1e9,
                updates_rate: 1e9,
                updates_burst: 1e9,
            },
            admission: AdmissionLimits::default(),
        },
        handlers,
        Arc::new(ServerCounters::default()),
    ));
    let (stop, rx) = watch::channel(false);
    tokio::spawn(async move {
        let _keep = stop;
        serve(listener, ctx, rx).await
    });
    (port, hits)
}

/// Serves `mode` as `account` on a fresh loopback port; returns the port and a counter of
/// forwards answered (connections accepted, for the silent one).
async fn hostile_server(
    account: &'static str,
    mode: Mode,
    disguise: &Disguise,
) -> (u16, Arc<AtomicU64>) {
    if let Mode::Silent = mode {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(AtomicU64::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::Relaxed);
                held.push(sock);
            }
        });
        return (port, hits);
    }
    session_server(account, disguise, move |body, seq| answer(mode, body, seq)).await
}

#[test]
fn a_worker_survives_hostile_peers_and_counts_them() {
    let (net, contract) = deployed().expect("chain with the contract");
    let hostile: Vec<&str> = MODES.iter().map(|(n, _)| *n).collect();
    let mut everyone = hostile.clone();
    everyone.push("worker");
    funded(&net, &contract, &everyone, 1_000_000).expect("funded accounts");

    // The hostile servers run on their own runtime for the whole test.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let disguise = Disguise::new(&rt, &net.url, &contract);
    let servers: Vec<(u16, Arc<AtomicU64>)> = rt.block_on(async {
        let mut out = Vec::new();
        for (account, mode) in MODES {
            out.push(hostile_server(account, mode, &disguise).await);
        }
        out
    });
    let code: Name = contract.parse().expect("contract name");
    let symbol = Symbol::new(4, "BIT").expect("symbol");
    for ((user, _), (port, _)) in MODES.iter().zip(&servers) {
        let user: Name = user.parse().expect("name");
        net.push_actions(vec![actions::subscribe(
            code,
            user,
            "127.0.0.1",
            *port,
            Asset::new(100_000, symbol),
        )])
        .expect("hostile peer subscribes");
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = WorkerOpts::new("worker", &net.url, &contract);
    opts.peers = MODES.len();
    let mut worker = spawn(dir.path(), &opts, 0);
    let reader = StatusReader::new();

    // Every slot holds a hostile peer and has failed at least once.
    let first = wait_for("every hostile slot to fail", &[&worker], || {
        let doc = reader.status(&worker)?;
        let peers = doc["peers"].as_array()?;
        let all = peers.len() == MODES.len()
            && peers
                .iter()
                .all(|p| p["user"].is_string() && num(p, "failures") > 0);
        all.then_some(doc)
    });
    // ... and training goes on: 200 more steps, more emits, no failed step, finite loss.
    let later = wait_for("training on with hostile peers", &[&worker], || {
        let doc = reader.status(&worker)?;
        (num(&doc, "step") >= num(&first, "step") + 200
            && num(&doc, "emits_pushed") >= num(&first, "emits_pushed") + 2)
            .then_some(doc)
    });
    assert_alive(&mut worker);
    assert_eq!(num(&later, "failed_steps"), 0, "{later}");
    assert!(
        later["loss"].as_f64().is_some_and(f64::is_finite),
        "{later}"
    );
    assert!(num(&later, "peer_failures") >= MODES.len() as u64);
    let log = std::fs::read_to_string(&worker.log).unwrap_or_default();
    assert!(
        log.contains("peer update refused: malformed"),
        "garbage updates are refused with a logged error:\n{}",
        support::log_tail(&worker)
    );
    for p in later["peers"].as_array().expect("peers") {
        assert_eq!(
            num(p, "successes"),
            0,
            "a hostile peer counted as a success: {p}"
        );
        assert!(num(p, "failures") > 0, "{p}");
        println!(
            "slot {} {}: failures {}, skipped {}, last error {}",
            p["slot"], p["user"], p["failures"], p["skipped"], p["last_error"]
        );
    }
    for ((user, _), (_, hits)) in MODES.iter().zip(&servers) {
        let hits = hits.load(Ordering::Relaxed);
        println!("{user}: {hits} requests received");
        assert!(hits > 0, "{user} was never called");
    }
    println!(
        "worker: steps {} -> {}, peer_failures {}, emits {}",
        first["step"], later["step"], later["peer_failures"], later["emits_pushed"]
    );

    // A clean stop despite a peer that never answers; then the chain balances.
    let exit = stop(&mut worker);
    assert!(
        exit.success(),
        "worker exit {exit}\n{}",
        support::log_tail(&worker)
    );
    let c = conservation::check(&net, &contract, "hostile peers run").expect("conserved");
    assert!(c.minted > 0, "{c:?}");
    let rows: Vec<Value> = net
        .table(&contract, &contract, "metagraph")
        .expect("metagraph");
    assert!(
        rows.iter().all(|r| r["user"] != "worker"),
        "worker unsubscribed"
    );
    rt.shutdown_background();
}

/// A session server as `account` that answers every forward and update fetch in the right
/// shape, but with every value 1e30; returns its port and a request counter.
async fn inflating_server(account: &'static str, disguise: &Disguise) -> (u16, Arc<AtomicU64>) {
    session_server(account, disguise, |body, seq| {
        if let Ok(req) = wire_updates::decode_request(body) {
            let answer = wire_updates::UpdatesAnswer {
                latest: req.after + 1,
                gap: false,
                updates: vec![SparseUpdate {
                    round: req.after + 1,
                    dim: OUT_DIM,
                    rows: vec![1, 2],
                    input: vec![1e30; 2 * OUT_DIM],
                    context: vec![1e30; 2 * OUT_DIM],
                }],
            };
            let _ = seq;
            return wire_updates::encode_answer(&answer, wire::Dtype::F32, &Limits::default())
                .unwrap_or_default();
        }
        let n = request_len(body);
        let t = WireTensor {
            shape: vec![n, OUT_DIM],
            data: vec![1e30; n * OUT_DIM],
        };
        wire::encode_matrix(&t, wire::Dtype::F32, &Limits::default()).unwrap_or_default()
    })
    .await
}

/// Under the default policy a real worker never dials a loopback peer (nor, by the same
/// rule, a private-range one: unit-tested in the protocol crate, since a test must never
/// write such an address on chain); with loopback allowed it never dials its own address
/// published by another account, and it evicts a peer whose signed answers hold 1e30.
#[test]
fn a_worker_dials_only_what_its_policy_allows_and_evicts_inflating_peers() {
    let (net, contract) = deployed().expect("chain with the contract");
    let users = ["lurker", "inflator", "mirror", "guarded", "open"];
    funded(&net, &contract, &users, 1_000_000).expect("funded accounts");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let disguise = Disguise::new(&rt, &net.url, &contract);
    let (lurker_port, lurker_hits) =
        rt.block_on(hostile_server("lurker", Mode::Garbage, &disguise));
    let (inflator_port, inflator_hits) = rt.block_on(inflating_server("inflator", &disguise));
    let code: Name = contract.parse().expect("contract name");
    let symbol = Symbol::new(4, "BIT").expect("symbol");
    let subscribe = |user: &str, port: u16| {
        net.push_actions(vec![actions::subscribe(
            code,
            user.parse().expect("name"),
            "127.0.0.1",
            port,
            Asset::new(100_000, symbol),
        )])
        .expect("subscribe");
    };
    subscribe("lurker", lurker_port);
    subscribe("inflator", inflator_port);
    let dir = tempfile::tempdir().expect("temp dir");
    let reader = StatusReader::new();
    let refused = |doc: &Value, user: &str| -> Option<String> {
        doc["refused_peers"]
            .as_array()?
            .iter()
            .find(|r| r["user"] == user)
            .and_then(|r| r["reason"].as_str().map(str::to_string))
    };

    // The default policy: loopback peers are listed as refused and never dialled.
    let mut opts = WorkerOpts::new("guarded", &net.url, &contract);
    opts.peers = 2;
    opts.allow_loopback = false;
    let mut guarded = spawn(dir.path(), &opts, 0);
    let doc = wait_for(
        "the guarded worker to refuse both peers",
        &[&guarded],
        || {
            let doc = reader.status(&guarded)?;
            (refused(&doc, "lurker").is_some()
                && refused(&doc, "inflator").is_some()
                && num(&doc, "step") >= 100)
                .then_some(doc)
        },
    );
    let why = refused(&doc, "lurker").unwrap_or_default();
    assert!(
        why.contains("loopback") && why.contains("allow_loopback"),
        "{why}"
    );
    assert!(
        doc["peers"]
            .as_array()
            .expect("peers")
            .iter()
            .all(|p| p["user"].is_null()),
        "{doc}"
    );
    assert_eq!(num(&doc, "peer_failures"), 0, "{doc}");
    assert_alive(&mut guarded);
    assert!(
        stop(&mut guarded).success(),
        "{}",
        support::log_tail(&guarded)
    );
    assert_eq!(
        lurker_hits.load(Ordering::Relaxed),
        0,
        "the lurker was dialled"
    );
    assert_eq!(
        inflator_hits.load(Ordering::Relaxed),
        0,
        "the inflator was dialled"
    );

    // Loopback allowed: another account publishes this worker's own address, and the
    // inflator answers with signed 1e30 values.
    let mut opts = WorkerOpts::new("open", &net.url, &contract);
    opts.peers = 2;
    let mut open = spawn(dir.path(), &opts, 0);
    let own_port: u16 = open
        .base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    subscribe("mirror", own_port);
    let doc = wait_for(
        "the inflator evicted and the mirror refused",
        &[&open],
        || {
            let doc = reader.status(&open)?;
            let banned = doc["banned_peers"]
                .as_array()?
                .iter()
                .find(|b| b["user"] == "inflator")?
                .clone();
            refused(&doc, "mirror")?;
            Some((doc, banned))
        },
    );
    let (doc, banned) = doc;
    let why = banned["reason"].as_str().unwrap_or_default();
    assert!(
        why.contains("out-of-range") && why.contains("1e30"),
        "{why}"
    );
    let why = refused(&doc, "mirror").unwrap_or_default();
    assert!(why.contains("own address"), "{why}");
    assert!(inflator_hits.load(Ordering::Relaxed) >= 3);
    // Training went on with finite loss; the inflated values never reached the model.
    let later = wait_for("training on after the eviction", &[&open], || {
        let d = reader.status(&open)?;
        (num(&d, "step") >= num(&doc, "step") + 50).then_some(d)
    });
    assert_eq!(num(&later, "failed_steps"), 0, "{later}");
    assert!(
        later["loss"].as_f64().is_some_and(f64::is_finite),
        "{later}"
    );
    assert!(
        later["peers"]
            .as_array()
            .expect("peers")
            .iter()
            .all(|p| p["user"] != "inflator" && p["user"] != "mirror"),
        "{later}"
    );
    // Nobody called this worker's server: the mirror row was never dialled.
    assert_eq!(later["server"]["forward_served"], 0, "{later}");
    assert_alive(&mut open);
    assert!(stop(&mut open).success(), "{}", support::log_tail(&open));
    rt.shutdown_background();
}
