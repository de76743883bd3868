//! The peer channel end to end on loopback: sessions to a node in front of a real (tiny)
//! model, raw session requests for the error paths, replays of captured records, and the
//! peer client's failure handling. Accounts and keys come from a fixed table here (the
//! chain's part is `peer_auth.rs`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use bittensor_protocol::policy::AddressPolicy;
use bittensor_worker::chain::{Backoff, PeerRow};
use bittensor_worker::model::vectors::load_word2vec_text;
use bittensor_worker::model::w2v::{SparseUpdate, W2vParams, Word2Vec};
use bittensor_worker::node::state::{DeadlinePolicy, NodeEndpoint, NodeParams};
use bittensor_worker::node::Shared;
use bittensor_worker::peer::client::{PeerClient, PeerError, Signer, WireTypes};
use bittensor_worker::peer::codec::{Limits, WireTensor};
use bittensor_worker::peer::identity::Identity;
use bittensor_worker::peer::keys::{KeyCache, StaticKeys};
use bittensor_worker::peer::kinds::{KindLimits, MAX_UPDATES_HOLD};
use bittensor_worker::peer::server::{serve, ServerContext, ServerSettings};
use bittensor_worker::peer::session::admission::AdmissionLimits;
use bittensor_worker::peer::session::client::Sessions;
use bittensor_worker::peer::session::handshake::initiate;
use bittensor_worker::peer::session::message::{EXPORT, FORWARD, UPDATES};
use bittensor_worker::peer::session::record::{Channel, WireBytes};
use bittensor_worker::peer::session::{Answer, Request as SessionRequest, Status, Verdict};
use bittensor_worker::peer::wire::{self, Dtype};
use bittensor_worker::peer::wire_updates;
use chain_client::PrivateKey;

const VOCAB: i64 = 40;
const OUT: usize = 6;
const FP: &str = "vocab-of-the-test";
/// A generous step deadline: these tests are about answers, not speed.
const WAIT: Duration = Duration::from_secs(5);
const F32: WireTypes = WireTypes {
    features: Dtype::F32,
    updates: Dtype::F32,
};

fn identity(name: &str, seed: u8) -> Arc<Identity> {
    Arc::new(Identity::new(
        name,
        PrivateKey::from_bytes(&[seed; 32]).unwrap(),
        FP,
    ))
}

fn keys() -> Arc<KeyCache> {
    let table = [("alice", 1), ("bob", 2), ("carol", 3)]
        .iter()
        .map(|(n, s)| (n.to_string(), vec![identity(n, *s).public_key()]))
        .collect();
    Arc::new(KeyCache::new(Arc::new(StaticKeys(table))))
}

fn row(user: &str) -> PeerRow {
    PeerRow {
        user: user.into(),
        address: "127.0.0.1".into(),
        port: 9,
        stake: 1,
        edges: vec![],
    }
}

/// A node `name` (key seed `seed`) with a small word2vec model of `peers` slots.
fn params_of(
    name: &str,
    seed: u8,
    listen: SocketAddr,
    peers: usize,
    policy: AddressPolicy,
    export_dir: Option<PathBuf>,
) -> NodeParams {
    let counts: Vec<u64> = (0..VOCAB as u64).map(|i| 100 - i).collect();
    let words = (0..VOCAB)
        .map(|i| {
            if i == 0 {
                "<unk>".into()
            } else {
                format!("w{i}")
            }
        })
        .collect();
    let p = W2vParams {
        dim: OUT,
        seed: 3,
        ..W2vParams::default()
    };
    NodeParams {
        identity: identity(name, seed),
        listen,
        advertised: None,
        model: Word2Vec::new(&counts, &p).unwrap(),
        words,
        counts,
        export_dir,
        peers,
        attribution_half_life_secs: 2.0,
        seed: 1,
        backoff: Backoff::new(Duration::from_millis(10), Duration::from_millis(100)),
        loss_tail: 10,
        policy,
        deadline: DeadlinePolicy {
            steps: 1.0,
            min: WAIT,
            max: WAIT,
        },
    }
}

fn params(
    listen: SocketAddr,
    peers: usize,
    policy: AddressPolicy,
    export_dir: Option<PathBuf>,
) -> NodeParams {
    params_of("alice", 1, listen, peers, policy, export_dir)
}

fn shared(listen: SocketAddr) -> Arc<Shared> {
    let s = Shared::new(params(listen, 1, AddressPolicy::PUBLIC_ONLY, None));
    s.refresh_peers(&[row("alice"), row("bob")]);
    s
}

struct Server {
    base: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    _stop: watch::Sender<bool>,
}

struct Setup {
    name: &'static str,
    seed: u8,
    updates_rate: f64,
    updates_burst: f64,
    max_body: usize,
    export_dir: Option<PathBuf>,
}

const ALICE: Setup = Setup {
    name: "alice",
    seed: 1,
    updates_rate: 100.0,
    updates_burst: 100.0,
    max_body: 1 << 20,
    export_dir: None,
};

async fn start(rate: f64, burst: f64, max_body: usize) -> Server {
    start_as(Setup {
        updates_rate: rate,
        updates_burst: burst,
        max_body,
        ..ALICE
    })
    .await
}

async fn start_as(setup: Setup) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = Shared::new(params_of(
        setup.name,
        setup.seed,
        addr,
        1,
        AddressPolicy::PUBLIC_ONLY,
        setup.export_dir,
    ));
    shared.refresh_peers(&[row("alice"), row("bob"), row("carol")]);
    let ctx = Arc::new(ServerContext::new(
        Arc::new(NodeEndpoint(shared.clone())),
        shared.me.clone(),
        keys(),
        ServerSettings {
            limits: Limits {
                max_bytes: setup.max_body,
                ..Limits::default()
            },
            rates: KindLimits {
                forward_rate: 1000.0,
                forward_burst: 1000.0,
                updates_rate: setup.updates_rate,
                updates_burst: setup.updates_burst,
            },
            admission: AdmissionLimits::default(),
        },
    ));
    let (stop, rx) = watch::channel(false);
    tokio::spawn(serve(listener, ctx, rx));
    Server {
        base: format!("http://{addr}"),
        addr,
        shared,
        _stop: stop,
    }
}

/// A raw h2c request (the public side of the port).
async fn raw(method: &str, url: String) -> (StatusCode, Bytes) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let req = Request::builder()
        .method(method)
        .uri(&url)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

/// One raw request of `kind` from bob on a fresh session to alice at `s`.
async fn ask(s: &Server, kind: u8, body: Vec<u8>) -> Answer {
    let sessions = Sessions::new(identity("bob", 2), keys(), 1 << 20);
    let (answer, _) = sessions
        .call(&s.addr.to_string(), "alice", kind, body, None)
        .await
        .unwrap();
    answer
}

fn client() -> PeerClient {
    PeerClient::signed(
        WAIT,
        Limits::default(),
        Signer {
            identity: identity("bob", 2),
            keys: keys(),
        },
    )
}

fn served(s: &Shared, ids: &[i64]) -> WireTensor {
    WireTensor {
        shape: vec![ids.len(), OUT],
        data: ids
            .iter()
            .flat_map(|&i| s.model.lock().unwrap().vector(i as usize).to_vec())
            .collect(),
    }
}

#[tokio::test]
async fn forward_returns_what_the_model_serves() {
    let s = start(100.0, 100.0, 1 << 20).await;
    let ids = vec![1, 5, 5, 39];
    let got = client()
        .with_wire(F32)
        .forward(&s.base, "alice", &ids, OUT, WAIT)
        .await
        .unwrap();
    assert_eq!(got.tensor, served(&s.shared, &ids));
    // Half precision by default: the same values within f16's precision.
    let half = client()
        .forward(&s.base, "alice", &ids, OUT, WAIT)
        .await
        .unwrap();
    for (a, b) in half.tensor.data.iter().zip(&got.tensor.data) {
        assert!((a - b).abs() <= 1e-3 * b.abs().max(1e-2), "{a} vs {b}");
    }
}

#[tokio::test]
async fn export_needs_the_nodes_own_key_and_writes_what_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_as(Setup {
        export_dir: Some(dir.path().join("export")),
        ..ALICE
    })
    .await;
    // Another account (a subscribed peer) may not make this node write files.
    let a = ask(&s, EXPORT, vec![]).await;
    assert_eq!(a.status, Status::Forbidden, "{a:?}");
    assert!(
        String::from_utf8_lossy(&a.body).contains("own key"),
        "{a:?}"
    );
    // Nor may it open a session as the node's own account without its key.
    match client().export(&s.base).await {
        Err(e @ PeerError::Impostor { .. }) => assert!(e.to_string().contains("alice"), "{e}"),
        other => panic!("bob asking bob at alice's address: {other:?}"),
    }
    // Over h2c there is no export at all.
    let (status, _) = raw("POST", format!("{}/export", s.base)).await;
    assert_eq!(status, StatusCode::GONE);
    let node = PeerClient::signed(
        WAIT,
        Limits::default(),
        Signer {
            identity: identity("alice", 1),
            keys: keys(),
        },
    );
    let files = node.export(&s.base).await.unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            Path::new(f)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "alice.served.txt",
            "alice.served.fifu",
            "alice.input.txt",
            "alice.input.fifu"
        ]
    );
    let served_file = load_word2vec_text(Path::new(&files[0])).unwrap();
    let input_file = load_word2vec_text(Path::new(&files[2])).unwrap();
    assert_eq!(
        served_file.words().len(),
        VOCAB as usize - 1,
        "<unk> is left out"
    );
    assert_eq!(served_file.dim(), OUT);
    let w5 = served_file.words().iter().position(|w| w == "w5").unwrap();
    let live = served(&s.shared, &[5]).data;
    for (a, b) in served_file.row(w5).iter().zip(&live) {
        assert!((a - b).abs() < 1e-5, "exported {a}, served {b}");
    }
    assert_eq!(
        served_file.row(w5),
        input_file.row(w5),
        "a node serves its input vectors"
    );

    // Without an export directory: unavailable, with the reason.
    let plain = start(100.0, 100.0, 1 << 20).await;
    match node.export(&plain.base).await {
        Err(PeerError::Status { status, message }) => {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(message.contains("export_dir"), "{message}");
        }
        other => panic!("export without a directory: {other:?}"),
    }
}

#[tokio::test]
async fn bad_requests_get_clear_answers() {
    let s = start(100.0, 100.0, 1024).await;
    let a = ask(&s, FORWARD, b"hello".to_vec()).await;
    assert_eq!(a.status, Status::BadRequest);
    assert!(
        String::from_utf8_lossy(&a.body).contains("forward"),
        "{a:?}"
    );

    let out_of_vocab = wire::encode_forward(&[VOCAB], Dtype::F16, &Limits::default()).unwrap();
    let a = ask(&s, FORWARD, out_of_vocab).await;
    assert_eq!(a.status, Status::BadRequest);
    assert!(
        String::from_utf8_lossy(&a.body).contains("vocabulary"),
        "{a:?}"
    );

    // An update fetch that does not decode.
    let a = ask(&s, UPDATES, vec![9, 1]).await;
    assert_eq!(a.status, Status::BadRequest, "{a:?}");
    assert!(
        String::from_utf8_lossy(&a.body).contains("updates"),
        "{a:?}"
    );
    // Kind 2 (the retired gradient of a forward) is no kind any more.
    let a = ask(&s, 2, vec![0; 8]).await;
    assert_eq!(a.status, Status::UnknownKind, "{a:?}");

    let a = ask(&s, 77, vec![]).await;
    assert_eq!(a.status, Status::UnknownKind);

    // Above the message limit: the session ends, nothing is allocated for it.
    let sessions = Sessions::new(identity("bob", 2), keys(), 1 << 20);
    let err = sessions
        .call(&s.addr.to_string(), "alice", FORWARD, vec![0; 4096], None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("transport") || err.to_string().contains("closed"),
        "{err}"
    );

    let (status, _) = raw("POST", format!("{}/forward", s.base)).await;
    assert_eq!(status, StatusCode::GONE);
    let (status, _) = raw("POST", format!("{}/status", s.base)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = raw("GET", format!("{}/nowhere", s.base)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The server is still fine after all that.
    let got = client()
        .forward(&s.base, "alice", &[0, 1], OUT, WAIT)
        .await
        .unwrap();
    assert_eq!(got.tensor.shape, vec![2, OUT]);
    let doc = client().status(&s.base).await.unwrap();
    assert_eq!(doc["server"]["bad_requests"], 3);
}

#[tokio::test]
async fn client_reports_dead_slow_and_garbage_peers() {
    // Dead: nothing listens on the port any more.
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let c = client();
    let short = Duration::from_millis(300);
    let err = c
        .forward(&format!("http://{dead_addr}"), "alice", &[1], OUT, short)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PeerError::Transport(_) | PeerError::Timeout(_)),
        "{err:?}"
    );

    // Slow: accepts the connection and never answers.
    let slow = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_addr = slow.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = slow.accept().await {
            held.push(sock);
        }
    });
    let err = c
        .forward(&format!("http://{slow_addr}"), "alice", &[1], OUT, short)
        .await
        .unwrap_err();
    assert!(matches!(err, PeerError::Timeout(_)), "{err:?}");
    hold.abort();

    // Garbage: a real peer, but we expect another width than it serves.
    let s = start(100.0, 100.0, 1 << 20).await;
    let err = c
        .forward(&s.base, "alice", &[1, 2], OUT + 2, WAIT)
        .await
        .unwrap_err();
    assert!(matches!(err, PeerError::Garbage(_)), "{err:?}");
}

/// A socket that keeps a copy of every byte written to it (what an eavesdropper on the
/// path, or a malicious upstream that relays, would hold).
struct Recorder {
    inner: TcpStream,
    log: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Recorder {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
        self.log.lock().unwrap().extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// bob's session to `account` at `s`, recording what bob sends.
async fn recorded(s: &Server, account: &str) -> (Channel<Recorder>, Arc<Mutex<Vec<u8>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let rec = Recorder {
        inner: TcpStream::connect(s.addr).await.unwrap(),
        log: log.clone(),
    };
    let bob = identity("bob", 2);
    let ch = initiate(
        rec,
        &bob,
        account,
        &keys(),
        1 << 20,
        Arc::new(WireBytes::default()),
    )
    .await
    .unwrap();
    (ch, log)
}

/// The records of a captured client stream: the magic, then length-prefixed records.
fn records(log: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&log[..4], b"BTS1");
    let mut out = Vec::new();
    let mut at = 4;
    while at < log.len() {
        let n = u16::from_be_bytes([log[at], log[at + 1]]) as usize;
        out.push(log[at..at + 2 + n].to_vec());
        at += 2 + n;
    }
    out
}

async fn request(ch: &mut Channel<Recorder>, kind: u8, id: u32, body: Vec<u8>) -> Answer {
    ch.send(&SessionRequest { kind, id, body }.encode())
        .await
        .unwrap();
    Answer::decode(ch.recv().await.unwrap()).unwrap()
}

fn updates_body() -> Vec<u8> {
    wire_updates::encode_request(wire_updates::UpdatesRequest {
        dtype: Dtype::F32,
        after: 0,
        wait_ms: 0,
    })
}

async fn status(s: &Server) -> serde_json::Value {
    client().status(&s.base).await.unwrap()
}

#[tokio::test]
async fn update_fetches_are_rate_limited_per_account_and_answer_what_was_published() {
    let s = start(0.001, 2.0, 1 << 20).await;
    let published = SparseUpdate {
        round: 1,
        dim: OUT,
        rows: vec![3, 7],
        input: vec![0.01; 2 * OUT],
        context: vec![-0.02; 2 * OUT],
    };
    s.shared.published.lock().unwrap().push(published.clone());
    let c = client().with_wire(F32);
    let a = c
        .updates(&s.base, "alice", 0, Duration::ZERO, WAIT)
        .await
        .unwrap();
    assert_eq!(a.updates, vec![published]);
    assert_eq!(a.latest, 1);
    let none = c
        .updates(&s.base, "alice", 1, Duration::ZERO, WAIT)
        .await
        .unwrap();
    assert!(none.updates.is_empty() && !none.gap);
    match c.updates(&s.base, "alice", 0, Duration::ZERO, WAIT).await {
        Err(PeerError::Status { status, .. }) => assert_eq!(status, StatusCode::TOO_MANY_REQUESTS),
        other => panic!("third fetch within the burst of 2: {other:?}"),
    }
    assert_eq!(status(&s).await["server"]["updates_served"], 2);
}

/// A published update of round `round` changing row 3.
fn one_row_update(round: u64) -> SparseUpdate {
    SparseUpdate {
        round,
        dim: OUT,
        rows: vec![3],
        input: vec![0.01; OUT],
        context: vec![-0.02; OUT],
    }
}

#[tokio::test]
async fn a_held_update_fetch_is_answered_when_the_next_round_is_published() {
    let s = start(1000.0, 1000.0, 1 << 20).await;
    s.shared.published.lock().unwrap().push(one_row_update(1));
    let c = client().with_wire(F32);
    // Up to date, held up to 1.5 s: round 2 does not exist when the ask is sent; the
    // answer carries it, so the node held the ask until it was published.
    let shared = s.shared.clone();
    let later = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        shared.published.lock().unwrap().push(one_row_update(2));
    });
    let held = c
        .updates(&s.base, "alice", 1, Duration::from_millis(1500), WAIT)
        .await
        .unwrap();
    later.await.unwrap();
    assert_eq!(held.updates, vec![one_row_update(2)]);
    assert_eq!(held.latest, 2);
    // Nothing newer comes: the hold ends and the answer says nothing new.
    let none = c
        .updates(&s.base, "alice", 2, Duration::from_millis(100), WAIT)
        .await
        .unwrap();
    assert!(none.updates.is_empty() && none.latest == 2 && !none.gap);
    // A caller ahead of the node (it restarted) is not held: it learns the node's latest.
    let ahead = c
        .updates(&s.base, "alice", 7, MAX_UPDATES_HOLD * 10, WAIT)
        .await
        .unwrap();
    assert!(ahead.updates.is_empty() && ahead.latest == 2);
    // A hold longer than the client waits is capped by the node below it (2 s < 5 s).
    let capped = c
        .updates(&s.base, "alice", 2, Duration::from_secs(60), WAIT)
        .await
        .unwrap();
    assert!(capped.updates.is_empty() && capped.latest == 2);
}

#[tokio::test]
async fn held_fetches_do_not_hold_up_others_and_one_account_holds_at_most_its_sessions() {
    let s = start(1000.0, 1000.0, 1 << 20).await;
    s.shared.published.lock().unwrap().push(one_row_update(1));
    // bob fills every session an account may hold with a fetch held as long as the node
    // allows (a client per session: one client keeps one session to a peer).
    let held: Vec<_> = (0..AdmissionLimits::default().sessions_per_account)
        .map(|_| {
            let (c, base) = (client().with_wire(F32), s.base.clone());
            tokio::spawn(async move { c.updates(&base, "alice", 1, MAX_UPDATES_HOLD, WAIT).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // One more session of bob's is refused at the handshake.
    let extra = client()
        .updates(&s.base, "alice", 1, Duration::ZERO, WAIT)
        .await;
    let why = format!("{:?}", extra.expect_err("a fifth session"));
    assert!(why.contains("sessions"), "{why}");
    // carol is answered while all of bob's fetches are still held.
    let carol = PeerClient::signed(
        WAIT,
        Limits::default(),
        Signer {
            identity: identity("carol", 3),
            keys: keys(),
        },
    )
    .with_wire(F32);
    let ids = vec![1, 5];
    let got = carol
        .forward(&s.base, "alice", &ids, OUT, WAIT)
        .await
        .unwrap();
    assert_eq!(got.tensor, served(&s.shared, &ids));
    assert!(
        held.iter().all(|h| !h.is_finished()),
        "the held fetches are still waiting"
    );
    for h in held {
        let a = h.await.unwrap().unwrap();
        assert!(a.updates.is_empty() && a.latest == 1);
    }
}

#[tokio::test]
async fn an_update_fetch_replayed_to_another_server_is_refused() {
    let alice = start_as(ALICE).await;
    let carol = start_as(Setup {
        name: "carol",
        seed: 3,
        ..ALICE
    })
    .await;
    let fwd = wire::encode_forward(&[2, 3], Dtype::F32, &Limits::default()).unwrap();

    // bob's genuine forward and update fetch with alice, as alice (or anyone on the path) saw them.
    let (mut to_alice, log) = recorded(&alice, "alice").await;
    assert_eq!(
        request(&mut to_alice, FORWARD, 0, fwd.clone()).await.status,
        Status::Ok
    );
    assert_eq!(
        request(&mut to_alice, UPDATES, 1, updates_body())
            .await
            .status,
        Status::Ok
    );
    let captured = log.lock().unwrap().clone();
    let recs = records(&captured);
    assert_eq!(
        recs.len(),
        4,
        "hello, binding signature, forward, update fetch"
    );

    // Replayed whole to carol: the hello names alice as the audience, so carol refuses it
    // before any key work.
    let mut raw = TcpStream::connect(carol.addr).await.unwrap();
    raw.write_all(&captured).await.unwrap();
    let mut len = [0u8; 2];
    raw.read_exact(&mut len).await.unwrap();
    let mut verdict = vec![0u8; u16::from_be_bytes(len) as usize];
    raw.read_exact(&mut verdict).await.unwrap();
    assert_eq!(verdict[0], Verdict::Audience as u8);
    assert_eq!(&verdict[1..], b"carol");

    // Injected into bob's own session with carol, right after a forward with the same
    // request id: the record was sealed with alice's session keys and does not authenticate.
    let (mut to_carol, _) = recorded(&carol, "carol").await;
    assert_eq!(
        request(&mut to_carol, FORWARD, 0, fwd).await.status,
        Status::Ok
    );
    to_carol
        .stream_mut()
        .inner
        .write_all(&recs[3])
        .await
        .unwrap();
    assert!(to_carol.recv().await.is_err(), "carol closes the session");

    let c = status(&carol).await;
    assert_eq!(c["server"]["updates_served"], 0, "{c}");
    assert_eq!(c["server"]["records_forged"], 1, "{c}");
    assert_eq!(c["server"]["sessions_opened"], 1, "{c}");
    let a = status(&alice).await;
    assert_eq!(a["server"]["updates_served"], 1, "{a}");
}

#[tokio::test]
async fn a_replay_within_a_session_is_refused() {
    let alice = start_as(ALICE).await;
    let fwd = wire::encode_forward(&[2, 3], Dtype::F32, &Limits::default()).unwrap();
    let (mut ch, log) = recorded(&alice, "alice").await;
    assert_eq!(request(&mut ch, FORWARD, 0, fwd).await.status, Status::Ok);
    assert_eq!(
        request(&mut ch, UPDATES, 1, updates_body()).await.status,
        Status::Ok
    );

    // The captured update-fetch record, replayed byte for byte on the same connection: its
    // sequence number is behind the session's, so it does not authenticate.
    let recs = records(&log.lock().unwrap());
    ch.stream_mut().inner.write_all(&recs[3]).await.unwrap();
    assert!(ch.recv().await.is_err(), "the session is closed");

    let a = status(&alice).await;
    assert_eq!(a["server"]["updates_served"], 1, "answered once, {a}");
    assert_eq!(a["server"]["records_forged"], 1, "{a}");
}

#[tokio::test]
async fn forged_handshakes_are_refused_and_cost_no_session() {
    let alice = start_as(ALICE).await;
    // mallory claims to be bob without bob's key.
    let fake_bob = Identity::new("bob", PrivateKey::from_bytes(&[66; 32]).unwrap(), FP);
    let stream = TcpStream::connect(alice.addr).await.unwrap();
    let err = initiate(stream, &fake_bob, "alice", &keys(), 1 << 20, Arc::default())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("BadSignature"), "{err}");
    // Another chain, another vocabulary, an unsubscribed account: refused before key work.
    for (who, reason) in [
        (
            Identity::new("bob", PrivateKey::from_bytes(&[2; 32]).unwrap(), FP).on_chain([9; 32]),
            "Chain",
        ),
        (
            Identity::new(
                "bob",
                PrivateKey::from_bytes(&[2; 32]).unwrap(),
                "other-vocab",
            ),
            "Vocabulary",
        ),
        (
            Identity::new("dave", PrivateKey::from_bytes(&[4; 32]).unwrap(), FP),
            "NotSubscribed",
        ),
    ] {
        let stream = TcpStream::connect(alice.addr).await.unwrap();
        let err = initiate(stream, &who, "alice", &keys(), 1 << 20, Arc::default())
            .await
            .err()
            .expect("refused");
        assert!(err.to_string().contains(reason), "{reason}: {err}");
    }
    let a = status(&alice).await;
    assert_eq!(a["server"]["handshakes_bad_signature"], 1, "{a}");
    assert_eq!(a["server"]["handshakes_refused"], 3, "{a}");
    assert_eq!(a["server"]["sessions_opened"], 0, "{a}");
    // A server that is not the audience is caught by the client: bob asks for carol at alice's port.
    match client()
        .forward(&alice.base, "carol", &[1], OUT, WAIT)
        .await
    {
        Err(e @ PeerError::Impostor { .. }) => assert!(e.disqualifies()),
        other => panic!("alice's server for carol: {other:?}"),
    }
}

#[test]
fn the_node_serves_its_input_vectors_and_refuses_ids_outside_the_vocabulary() {
    let s = shared("127.0.0.1:1".parse().unwrap());
    assert_eq!(s.served_rows(&[4]).unwrap(), served(&s, &[4]).data);
    assert!(s.served_rows(&[VOCAB]).is_err());
    assert!(s.served_rows(&[-1]).is_err());
}

#[test]
fn the_default_policy_never_slots_private_loopback_or_own_addresses() {
    // Rows as a metagraph read would give them (in process only: never written on chain,
    // and nothing here dials).
    let s = shared("127.0.0.1:7001".parse().unwrap());
    let at = |user: &str, address: &str, port: u16| PeerRow {
        address: address.into(),
        port,
        ..row(user)
    };
    s.refresh_peers(&[
        row("alice"),
        row("bob"),
        at("priv", "10.1.2.3", 7001),
        at("cgnat", "100.64.0.9", 7001),
        at("linklocal", "169.254.0.1", 7001),
        at("ula", "fd00::1", 7001),
        at("named", "localhost", 7001),
        at("unspec", "0.0.0.0", 7001),
        at("public", "8.8.8.8", 7001),
    ]);
    let table = s.peers.lock().unwrap().clone();
    assert_eq!(table.slots.names(), vec![Some("public".to_string())]);
    let refused: Vec<(String, String)> = s
        .status()
        .refused_peers
        .into_iter()
        .map(|r| (r.user, r.reason))
        .collect();
    for user in [
        "bob",
        "priv",
        "cgnat",
        "linklocal",
        "ula",
        "named",
        "unspec",
    ] {
        assert!(
            refused.iter().any(|(u, _)| u == user),
            "{user} not refused: {refused:?}"
        );
    }
    let why = |u: &str| refused.iter().find(|(x, _)| x == u).unwrap().1.clone();
    assert!(why("priv").contains("allow_private"), "{}", why("priv"));
    assert!(why("bob").contains("allow_loopback"), "{}", why("bob"));
    assert!(why("named").contains("not an IP"), "{}", why("named"));

    // With loopback allowed, a row publishing this node's own address is still refused.
    let own = Shared::new(params(
        "127.0.0.1:7001".parse().unwrap(),
        2,
        AddressPolicy::LOCAL_TESTNET,
        None,
    ));
    own.refresh_peers(&[
        row("alice"),
        at("mirror", "127.0.0.1", 7001),
        at("mapped", "::ffff:127.0.0.1", 7001),
        at("bob", "127.0.0.1", 7002),
    ]);
    let names = own.peers.lock().unwrap().slots.names();
    assert_eq!(
        names.iter().flatten().collect::<Vec<_>>(),
        vec!["bob"],
        "{names:?}"
    );
    let text = format!("{:?}", own.status().refused_peers);
    assert!(
        text.contains("mirror") && text.contains("mapped") && text.contains("own address"),
        "{text}"
    );
}

/// A peer whose first answer comes after the step stopped waiting keeps its session: the
/// next step is answered on it, with no second handshake.
#[tokio::test]
async fn a_late_answer_keeps_the_session() {
    use bittensor_worker::peer::server::ServerCounters;
    use bittensor_worker::peer::session::handlers::Handlers;
    use std::sync::atomic::{AtomicU64, Ordering};

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = shared(addr);
    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    let mut handlers = Handlers::new();
    handlers.register(
        FORWARD,
        1e6,
        1e6,
        Arc::new(move |_call, body| {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                std::thread::sleep(Duration::from_millis(400));
            }
            let ids = wire::decode_forward(body, &Limits::default()).unwrap().ids;
            let t = WireTensor {
                shape: vec![ids.len(), OUT],
                data: vec![0.5; ids.len() * OUT],
            };
            Ok(wire::encode_matrix(&t, Dtype::F32, &Limits::default()).unwrap())
        }),
    );
    let ctx = Arc::new(ServerContext::with_handlers(
        Arc::new(NodeEndpoint(shared.clone())),
        shared.me.clone(),
        keys(),
        ServerSettings {
            limits: Limits::default(),
            rates: KindLimits {
                forward_rate: 1e6,
                forward_burst: 1e6,
                updates_rate: 1e6,
                updates_burst: 1e6,
            },
            admission: AdmissionLimits::default(),
        },
        handlers,
        Arc::new(ServerCounters::default()),
    ));
    let (_stop, rx) = watch::channel(false);
    tokio::spawn(serve(listener, ctx.clone(), rx));
    let base = format!("http://{addr}");
    let c = client();
    let err = c
        .forward(&base, "alice", &[1], OUT, Duration::from_millis(150))
        .await
        .unwrap_err();
    assert!(matches!(err, PeerError::Timeout(_)), "{err:?}");
    // The late answer lands on the session in the background; the next step uses it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let got = c.forward(&base, "alice", &[1, 2], OUT, WAIT).await.unwrap();
    assert_eq!(got.tensor.shape, vec![2, OUT]);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(c.sessions().unwrap().handshakes(), 1, "no second handshake");
    assert_eq!(
        ctx.sessions.counters.sessions_opened.load(Ordering::SeqCst),
        1
    );
}
