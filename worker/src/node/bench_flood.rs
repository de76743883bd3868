//! `bench --flood`: one node (its runtime on one thread, its CPU read from its own threads)
//! trains and serves two honest downstream nodes over the peer channel, first quietly, then
//! under a flood: forged handshakes naming an honest account (from addresses of their own)
//! and valid forward requests as fast as one subscribed account can send them. Reports the
//! honest peers' success rate and the node's CPU per training step in both phases, and the
//! bytes one step puts on the wire per peer.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bittensor_protocol::auth::RequestAuth;
use chain_client::PrivateKey;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::bench::{bench_settings, node, node_with};
use super::runner::vocab_fingerprint;
use super::state::{lock, DeadlinePolicy, NodeEndpoint, Shared};
use super::thread_cpu::ThreadSet;
use super::trainer::train;
use crate::chain::PeerRow;
use crate::corpus::Corpus;
use crate::model::w2v::{Planner, W2vParams};
use crate::peer::client::{PeerClient, Signer};
use crate::peer::codec::{self, BackwardRequest, WireTensor};
use crate::peer::identity::Identity;
use crate::peer::keys::{KeyCache, StaticKeys};
use crate::peer::server::{serve, ServerContext, ServerSettings};
use crate::peer::session::admission::AdmissionLimits;
use crate::peer::session::client::Sessions;
use crate::peer::session::message::FORWARD;
use crate::peer::session::Status;
use crate::peer::wire::{self, Dtype};
use crate::peer::Limits;

/// Honest downstream nodes.
const HONEST: usize = 2;
/// How long an honest downstream waits for the node's answer each step.
pub const HONEST_DEADLINE: Duration = Duration::from_millis(250);
/// Concurrent forgers (each from an address of its own) and greedy sessions.
const FORGERS: usize = 4;
const GREEDY_SESSIONS: usize = 4;

/// What one phase measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FloodPhase {
    /// Training steps the node took.
    pub steps: u64,
    /// Wall seconds.
    pub seconds: f64,
    /// CPU seconds of the node's threads (training, serving, refusing).
    pub node_cpu_seconds: f64,
    /// The honest downstreams' forwards that were answered.
    pub honest_ok: u64,
    /// Their forwards that failed or were skipped while backing off.
    pub honest_failed: u64,
    /// Forged handshakes attempted, and how many got a session (must be 0).
    pub forged_attempts: u64,
    /// Forged handshakes that got a session.
    pub forged_sessions: u64,
    /// Valid forward requests the greedy account sent, and how many were answered.
    pub greedy_requests: u64,
    /// Greedy requests answered with vectors.
    pub greedy_served: u64,
    /// Bytes on the wire per honest peer per answered step (both directions, everything,
    /// handshakes included).
    pub bytes_per_step_per_peer: f64,
    /// The node's server counters at the end.
    pub server: HashMap<String, u64>,
}

impl FloodPhase {
    /// Share of honest forwards answered.
    pub fn success_rate(&self) -> f64 {
        self.honest_ok as f64 / (self.honest_ok + self.honest_failed).max(1) as f64
    }

    /// The node's CPU milliseconds per training step.
    pub fn cpu_ms_per_step(&self) -> f64 {
        1e3 * self.node_cpu_seconds / self.steps.max(1) as f64
    }
}

/// Both phases and the wire size of the protocol this one replaced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FloodReport {
    /// No flood.
    pub quiet: FloodPhase,
    /// Under the flood.
    pub flood: FloodPhase,
    /// Mean distinct words per step (ids per forward).
    pub ids_per_step: f64,
    /// Vector width.
    pub dim: usize,
    /// Bytes per peer per step of the signed HTTP/2 protocol (bodies and authentication
    /// headers as its encoders wrote them; HTTP/2 framing not counted, so a lower bound).
    pub before_bytes_per_step_per_peer: f64,
}

fn make(name: &str, seed: u8, vocab: &str) -> anyhow::Result<Arc<Identity>> {
    Ok(Arc::new(Identity::new(
        name,
        PrivateKey::from_bytes(&[seed; 32])?,
        vocab,
    )))
}

fn row(user: &str, addr: SocketAddr) -> PeerRow {
    PeerRow {
        user: user.into(),
        address: addr.ip().to_string(),
        port: addr.port(),
        stake: 1,
        edges: vec![],
    }
}

/// Mean distinct words of a chunk (the ids of one forward).
fn ids_per_step(corpus: &Corpus, params: &W2vParams, chunk_words: usize) -> f64 {
    let Ok(mut planner) = Planner::new(&corpus.ids, corpus.vocab.counts(), params, chunk_words)
    else {
        return 0.0;
    };
    let n = planner.chunks_per_epoch().clamp(1, 50);
    let total: usize = (0..n)
        .filter_map(|_| planner.next_chunk())
        .map(|c| {
            let mut ids = c.sentence;
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        })
        .sum();
    total as f64 / n as f64
}

/// One step of the signed HTTP/2 protocol for one peer, as its encoders wrote it: the
/// forward request and answer and the backward request, bodies and auth headers.
fn before_bytes(ids: usize, dim: usize) -> anyhow::Result<f64> {
    let limits = Limits::default();
    let id_list: Vec<i64> = (0..ids as i64).collect();
    let t = WireTensor {
        shape: vec![ids, dim],
        data: vec![0.5; ids * dim],
    };
    let me = make("honest0", 1, "0123456789abcdef0123456789abcdef")?;
    let headers = |auth: &RequestAuth| -> usize {
        auth.headers().iter().map(|(k, v)| k.len() + v.len()).sum()
    };
    let fwd = codec::encode_forward(&id_list, &limits)?;
    let answer = codec::encode_tensor(&t, &limits)?;
    let bwd = codec::encode_backward(
        &BackwardRequest {
            ids: id_list.clone(),
            grad: t.clone(),
        },
        &limits,
    )?;
    let f_auth = me.sign_request("POST", "/forward", &fwd)?;
    let b_auth = me.sign_request("POST", "/backward", &bwd)?;
    let a_auth = me.sign_answer(&f_auth.digest("POST", "/forward", &fwd), 200, &answer)?;
    let answer_headers: usize = a_auth
        .headers()
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    Ok(
        (fwd.len()
            + headers(&f_auth)
            + answer.len()
            + answer_headers
            + bwd.len()
            + headers(&b_auth)) as f64,
    )
}

/// Runs both phases: `steps` training steps of the node each.
pub fn flood_bench(
    corpus: &Corpus,
    params: &W2vParams,
    chunk_words: usize,
    steps: u64,
) -> anyhow::Result<FloodReport> {
    let ids = ids_per_step(corpus, params, chunk_words);
    let quiet = phase(corpus, params, chunk_words, steps, false)?;
    let flood = phase(corpus, params, chunk_words, steps, true)?;
    Ok(FloodReport {
        quiet,
        flood,
        ids_per_step: ids,
        dim: params.dim,
        before_bytes_per_step_per_peer: before_bytes(ids.round() as usize, params.dim)?,
    })
}

fn phase(
    corpus: &Corpus,
    params: &W2vParams,
    chunk_words: usize,
    steps: u64,
    flood: bool,
) -> anyhow::Result<FloodPhase> {
    let vocab = vocab_fingerprint(&corpus.vocab);
    let victim = make("victim", 1, &vocab)?;
    let honest: Vec<Arc<Identity>> = (0..HONEST)
        .map(|i| make(&format!("honest{i}"), 2 + i as u8, &vocab))
        .collect::<anyhow::Result<_>>()?;
    let greedy = make("greedy", 9, &vocab)?;
    let table: HashMap<String, Vec<_>> = std::iter::once(&victim)
        .chain(&honest)
        .chain(std::iter::once(&greedy))
        .map(|id| (id.account.clone(), vec![id.public_key()]))
        .collect();
    let keys = Arc::new(KeyCache::new(Arc::new(StaticKeys(table))));

    // The node: its own runtime on one thread, its threads' CPU counted.
    let threads = ThreadSet::default();
    let registry = threads.clone();
    let node_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .on_thread_start(move || registry.register_current())
        .build()?;
    // The honest downstreams and the attackers on runtimes of their own (on a network they
    // are other machines).
    let others = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let attackers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let (stop_tx, stop) = watch::channel(false);

    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let me = node(victim.clone(), addr, corpus, params, 0)?;
    let mut rows = vec![row("victim", addr), row("greedy", "127.0.0.1:1".parse()?)];
    rows.extend(
        honest
            .iter()
            .map(|h| row(&h.account, "127.0.0.1:1".parse().expect("addr"))),
    );
    me.refresh_peers(&rows);
    let defaults = crate::config::PeerConfig::default();
    let ctx = Arc::new(ServerContext::new(
        Arc::new(NodeEndpoint(me.clone())),
        victim.clone(),
        keys.clone(),
        ServerSettings {
            limits: Limits::default(),
            rates: super::runner::kind_limits(&defaults),
            admission: AdmissionLimits::default(),
        },
    ));
    let counters = ctx.sessions.counters.clone();
    let served = ctx.counters.clone();
    {
        let stop = stop.clone();
        node_rt.spawn(async move {
            if let Ok(l) = TcpListener::from_std(listener) {
                serve(l, ctx, stop).await
            }
        });
    }

    // The honest downstreams: training nodes whose one upstream is the node.
    let mut downstreams = Vec::new();
    let mut clients = Vec::new();
    for (i, h) in honest.iter().enumerate() {
        let p = W2vParams {
            seed: params.seed + 10 + i as u64,
            ..params.clone()
        };
        // A fixed wait, so that a failure means the node did not answer in time rather than
        // that this shared bench host was busy elsewhere for a few milliseconds.
        let deadline = DeadlinePolicy {
            steps: 1e6,
            min: HONEST_DEADLINE,
            max: HONEST_DEADLINE,
        };
        let d = node_with(h.clone(), "127.0.0.1:1".parse()?, corpus, &p, 1, deadline)?;
        d.refresh_peers(&[row("victim", addr), row(&h.account, "127.0.0.1:1".parse()?)]);
        let client = PeerClient::signed(
            Duration::from_secs(5),
            Limits::default(),
            Signer {
                identity: h.clone(),
                keys: keys.clone(),
            },
        );
        let mut settings = bench_settings(&p, chunk_words, 0, corpus.vocab.len());
        settings.exit_when_done = false;
        others.spawn(train(
            d.clone(),
            corpus.clone(),
            settings,
            client.clone(),
            stop.clone(),
        ));
        downstreams.push(d);
        clients.push(client);
    }

    // The flood.
    let running = Arc::new(AtomicBool::new(flood));
    let forged = Arc::new(AtomicU64::new(0));
    let forged_ok = Arc::new(AtomicU64::new(0));
    let greedy_sent = Arc::new(AtomicU64::new(0));
    let greedy_ok = Arc::new(AtomicU64::new(0));
    if flood {
        // Forged: each forger claims honest0 with a key of its own, from its own address.
        for f in 0..FORGERS {
            let fake = Arc::new(Identity::new(
                "honest0",
                PrivateKey::from_bytes(&[100 + f as u8; 32])?,
                &vocab,
            ));
            let sessions = Sessions::new(fake, keys.clone(), 1 << 20)
                .from_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10 + f as u8)));
            let (running, forged, forged_ok) = (running.clone(), forged.clone(), forged_ok.clone());
            let at = addr.to_string();
            attackers.spawn(async move {
                while running.load(Ordering::Relaxed) {
                    forged.fetch_add(1, Ordering::Relaxed);
                    if sessions.open(&at, "victim").await.is_ok() {
                        forged_ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        // Greedy: a subscribed account with its real key asking as fast as it can.
        let body = wire::encode_forward(
            &(0..ids_per_step(corpus, params, chunk_words).round() as i64).collect::<Vec<_>>(),
            Dtype::F16,
            &Limits::default(),
        )?;
        for g in 0..GREEDY_SESSIONS {
            let sessions = Sessions::new(greedy.clone(), keys.clone(), 1 << 20)
                .from_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 20 + g as u8)));
            let (running, sent, ok, body) = (
                running.clone(),
                greedy_sent.clone(),
                greedy_ok.clone(),
                body.clone(),
            );
            let at = addr.to_string();
            attackers.spawn(async move {
                while running.load(Ordering::Relaxed) {
                    sent.fetch_add(1, Ordering::Relaxed);
                    match sessions
                        .call(&at, "victim", FORWARD, body.clone(), None)
                        .await
                    {
                        Ok((a, _)) if a.status == Status::Ok => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
            });
        }
    }

    // Let the honest sessions open, then time the node's steps.
    std::thread::sleep(Duration::from_millis(300));
    let health = |d: &Arc<Shared>| {
        let t = lock(&d.peers);
        t.health
            .first()
            .map(|h| (h.successes, h.failures + h.skipped))
            .unwrap_or_default()
    };
    let before: Vec<(u64, u64)> = downstreams.iter().map(health).collect();
    let bytes_before: Vec<u64> = clients.iter().map(wire_bytes).collect();
    let cpu_before = threads.cpu_seconds().unwrap_or(0.0);
    let started = Instant::now();
    let settings = bench_settings(params, chunk_words, steps, corpus.vocab.len());
    let node_client = PeerClient::signed(
        Duration::from_secs(5),
        Limits::default(),
        Signer {
            identity: victim.clone(),
            keys: keys.clone(),
        },
    );
    node_rt.block_on(train(
        me.clone(),
        corpus.clone(),
        settings,
        node_client,
        stop.clone(),
    ));
    let seconds = started.elapsed().as_secs_f64();
    let node_cpu_seconds = threads.cpu_seconds().unwrap_or(0.0) - cpu_before;
    let after: Vec<(u64, u64)> = downstreams.iter().map(health).collect();
    let honest_ok: u64 = after.iter().zip(&before).map(|(a, b)| a.0 - b.0).sum();
    let bytes: u64 = clients
        .iter()
        .zip(&bytes_before)
        .map(|(c, b)| wire_bytes(c) - b)
        .sum();
    running.store(false, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    let mut server: HashMap<String, u64> = HashMap::new();
    for v in [
        serde_json::to_value(counters.as_ref()),
        serde_json::to_value(served.as_ref()),
    ]
    .into_iter()
    .flatten()
    {
        if let serde_json::Value::Object(m) = v {
            server.extend(m.into_iter().filter_map(|(k, v)| Some((k, v.as_u64()?))));
        }
    }
    let report = FloodPhase {
        steps: lock(&me.stats).step,
        seconds,
        node_cpu_seconds,
        honest_ok,
        honest_failed: after.iter().zip(&before).map(|(a, b)| a.1 - b.1).sum(),
        forged_attempts: forged.load(Ordering::Relaxed),
        forged_sessions: forged_ok.load(Ordering::Relaxed),
        greedy_requests: greedy_sent.load(Ordering::Relaxed),
        greedy_served: greedy_ok.load(Ordering::Relaxed),
        // Per answered step: its forward, the answer and the backward (failed steps send less).
        bytes_per_step_per_peer: bytes as f64 / honest_ok.max(1) as f64,
        server,
    };
    attackers.shutdown_background();
    others.shutdown_background();
    node_rt.shutdown_background();
    Ok(report)
}

fn wire_bytes(c: &PeerClient) -> u64 {
    c.sessions().map_or(0, |s| {
        s.bytes().sent.load(Ordering::Relaxed) + s.bytes().received.load(Ordering::Relaxed)
    })
}

impl std::fmt::Display for FloodReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "node on one thread serving {HONEST} honest downstreams over the peer channel ({:.0} ids per step, dim {}, honest wait {} ms):",
            self.ids_per_step, self.dim, HONEST_DEADLINE.as_millis()
        )?;
        writeln!(
            f,
            "  {:<8} {:>6} {:>9} {:>13} {:>15} {:>16} {:>14}",
            "phase",
            "steps",
            "cpu ms/st",
            "honest ok",
            "honest rate",
            "forged (sess.)",
            "greedy (ok)"
        )?;
        for (name, p) in [("quiet", &self.quiet), ("flood", &self.flood)] {
            writeln!(
                f,
                "  {:<8} {:>6} {:>9.2} {:>13} {:>14.2}% {:>16} {:>14}",
                name,
                p.steps,
                p.cpu_ms_per_step(),
                format!("{}/{}", p.honest_ok, p.honest_ok + p.honest_failed),
                100.0 * p.success_rate(),
                format!("{} ({})", p.forged_attempts, p.forged_sessions),
                format!("{} ({})", p.greedy_requests, p.greedy_served),
            )?;
        }
        writeln!(
            f,
            "  flood/quiet CPU per step: {:.2}x; refused handshakes {}, bad signatures {}, rate-limited requests {}",
            self.flood.cpu_ms_per_step() / self.quiet.cpu_ms_per_step().max(1e-9),
            self.flood.server.get("handshakes_refused").copied().unwrap_or(0),
            self.flood.server.get("handshakes_bad_signature").copied().unwrap_or(0),
            self.flood.server.get("session_rate_limited").copied().unwrap_or(0),
        )?;
        write!(
            f,
            "  bytes per step per peer: {:.0} on the session channel (measured, all framing) vs {:.0} for the signed HTTP/2 protocol (bodies and auth headers only): {:.2}x",
            self.quiet.bytes_per_step_per_peer,
            self.before_bytes_per_step_per_peer,
            self.before_bytes_per_step_per_peer / self.quiet.bytes_per_step_per_peer.max(1e-9)
        )
    }
}
