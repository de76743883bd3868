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

/// The worker's served width in `support` configs (`out_dim`).
const OUT_DIM: usize = 4;

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
