//! A real `bittensor-worker` whose every upstream peer is hostile. Five h2c servers written
//! here are subscribed on a local chain like honest workers, and answer `/forward` and
//! `/backward` with: random bytes, a tensor header announcing an oversize shape, a
//! well-formed tensor of the wrong shape, a tensor full of NaN, or nothing at all.
//! The worker must keep training (its step count keeps rising, no failed steps, finite
//! loss), count a failure on every hostile slot, keep emitting, and stop cleanly;
//! token conservation holds on chain at the end.

mod support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bittensor_tests::{conservation, deployed, funded};
use bittensor_worker::peer::codec::{self, Limits, TENSOR_MAGIC, VERSION};
use bytes::Bytes;
use chain_client::{contract as actions, Asset, Name, Symbol};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use support::{assert_alive, num, spawn, stop, wait_for, StatusReader, WorkerOpts};
use tokio::net::TcpListener;

/// The worker's vector width in `support` configs (`dim`).
const OUT_DIM: usize = 8;

/// How a hostile peer answers.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// 200 with pseudo-random bytes.
    Garbage,
    /// 200 with a valid tensor header announcing 2^30 columns, and 16 bytes of data.
    Oversize,
    /// 200 with a well-formed tensor of shape [n + 1, OUT_DIM + 3].
    WrongShape,
    /// 200 with a tensor of the right shape whose elements are NaN.
    NotFinite,
    /// Accepts the request and never answers.
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
    codec::decode_forward(body, &Limits::default())
        .map(|ids| ids.len())
        .unwrap_or(0)
}

fn answer(mode: Mode, body: &[u8], seq: u64) -> Option<Vec<u8>> {
    let n = request_len(body);
    let tensor = |shape: Vec<usize>, value: f32| {
        let data = vec![value; shape.iter().product()];
        // Encoded without limits checks: the point is to send what a checker would refuse.
        let mut out = TENSOR_MAGIC.to_vec();
        out.extend([VERSION, codec::DTYPE_F32, shape.len() as u8]);
        for d in &shape {
            out.extend((*d as u32).to_le_bytes());
        }
        for v in data {
            out.extend(v.to_le_bytes());
        }
        out
    };
    match mode {
        Mode::Garbage => {
            let mut x = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            Some(
                (0..64 + (seq % 512) as usize)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect(),
            )
        }
        Mode::Oversize => {
            let mut out = TENSOR_MAGIC.to_vec();
            out.extend([VERSION, codec::DTYPE_F32, 2]);
            out.extend((n.max(1) as u32).to_le_bytes());
            out.extend((1u32 << 30).to_le_bytes());
            out.extend([0u8; 16]);
            Some(out)
        }
        Mode::WrongShape => Some(tensor(vec![n + 1, OUT_DIM + 3], 0.5)),
        Mode::NotFinite => Some(tensor(vec![n, OUT_DIM], f32::NAN)),
        Mode::Silent => None,
    }
}

/// Serves `mode` on a fresh loopback port; returns the port and a request counter.
async fn hostile_server(mode: Mode) -> (u16, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicU64::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let counter = counter.clone();
                    async move {
                        let seq = counter.fetch_add(1, Ordering::Relaxed);
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        match answer(mode, &body, seq) {
                            Some(bytes) => {
                                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(bytes))))
                            }
                            None => std::future::pending().await,
                        }
                    }
                });
                let _ = http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (port, hits)
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
    let servers: Vec<(u16, Arc<AtomicU64>)> =
        rt.block_on(async { futures_join(MODES.iter().map(|(_, m)| *m).collect()).await });
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
    drop(rt);
}

/// Starts one hostile server per mode.
async fn futures_join(modes: Vec<Mode>) -> Vec<(u16, Arc<AtomicU64>)> {
    let mut out = Vec::new();
    for mode in modes {
        out.push(hostile_server(mode).await);
    }
    out
}

/// An h2c server that answers every `/forward` correctly signed as `account` (all test
/// accounts hold the development key), with the caller's vocabulary, in the right shape, but
/// with every value 1e30; returns its port and a request counter.
async fn inflating_server(account: &'static str) -> (u16, Arc<AtomicU64>) {
    use bittensor_protocol::auth::RequestAuth;
    use bittensor_worker::peer::codec::WireTensor;
    use bittensor_worker::peer::identity::Identity;

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicU64::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, Ordering::Relaxed);
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let path = parts.uri.path().to_string();
                        let auth =
                            RequestAuth::from_headers(|n| parts.headers.get(n)?.to_str().ok());
                        let n = request_len(&body);
                        let answer = if path == "/forward" {
                            let t = WireTensor {
                                shape: vec![n, OUT_DIM],
                                data: vec![1e30; n * OUT_DIM],
                            };
                            codec::encode_tensor(&t, &Limits::default()).unwrap_or_default()
                        } else {
                            b"applied\n".to_vec()
                        };
                        let mut resp = Response::new(Full::new(Bytes::from(answer.clone())));
                        if let Ok(auth) = auth {
                            let key = chain_client::PrivateKey::from_wif(localnet::DEV_PRIVATE_KEY)
                                .expect("dev key");
                            let me = Identity::new(account, key, &auth.vocab);
                            let digest = auth.digest("POST", &path, &body);
                            if let Ok(signed) = me.sign_answer(&digest, 200, &answer) {
                                for (k, v) in signed.headers() {
                                    if let Ok(v) = hyper::header::HeaderValue::from_str(&v) {
                                        resp.headers_mut().insert(k, v);
                                    }
                                }
                            }
                        }
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (port, hits)
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
    let (lurker_port, lurker_hits) = rt.block_on(hostile_server(Mode::Garbage));
    let (inflator_port, inflator_hits) = rt.block_on(inflating_server("inflator"));
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
    drop(rt);
}
