//! The peer protocol end to end on loopback: the h2c server in front of a real (tiny)
//! model, raw requests for the error paths, and the peer client's failure handling.
//! Accounts and keys come from a fixed table here (the chain's part is `peer_auth.rs`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::sync::watch;

use bittensor_protocol::policy::AddressPolicy;
use bittensor_worker::chain::{Backoff, PeerRow};
use bittensor_worker::model::vectors::load_word2vec_text;
use bittensor_worker::model::w2v::{PeerW2v, W2vParams};
use bittensor_worker::node::state::{DeadlinePolicy, NodeEndpoint, NodeParams};
use bittensor_worker::node::Shared;
use bittensor_worker::peer::client::{PeerClient, PeerError, Signer};
use bittensor_worker::peer::codec::{self, BackwardRequest, Limits, WireTensor};
use bittensor_worker::peer::gate::{Gate, GateLimits};
use bittensor_worker::peer::identity::Identity;
use bittensor_worker::peer::keys::{KeyCache, StaticKeys};
use bittensor_worker::peer::server::{serve, ServerContext};
use chain_client::PrivateKey;

const VOCAB: i64 = 40;
const OUT: usize = 6;
const FP: &str = "vocab-of-the-test";
/// A generous step deadline: these tests are about answers, not speed.
const WAIT: Duration = Duration::from_secs(5);

fn identity(name: &str, seed: u8) -> Arc<Identity> {
    Arc::new(Identity::new(
        name,
        PrivateKey::from_bytes(&[seed; 32]).unwrap(),
        FP,
    ))
}

fn keys() -> Arc<KeyCache> {
    let table = [("alice", 1), ("bob", 2)]
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

/// A node `alice` with a small word2vec model of `peers` slots.
fn params(
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
        identity: identity("alice", 1),
        listen,
        advertised: None,
        model: PeerW2v::new(&counts, &p, peers).unwrap(),
        words,
        counts,
        grad_scale: 1.0,
        export_dir,
        model_alpha: p.alpha as f32,
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

fn shared_exporting(listen: SocketAddr, export_dir: Option<PathBuf>) -> Arc<Shared> {
    let s = Shared::new(params(listen, 1, AddressPolicy::PUBLIC_ONLY, export_dir));
    s.refresh_peers(&[row("alice"), row("bob")]);
    s
}

fn shared(listen: SocketAddr) -> Arc<Shared> {
    shared_exporting(listen, None)
}

struct Server {
    base: String,
    shared: Arc<Shared>,
    _stop: watch::Sender<bool>,
}

async fn start(rate: f64, burst: f64, max_body: usize) -> Server {
    start_with(rate, burst, max_body, None).await
}

async fn start_with(rate: f64, burst: f64, max_body: usize, export_dir: Option<PathBuf>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = shared_exporting(addr, export_dir);
    let limits = GateLimits {
        forward_rate: 1000.0,
        forward_burst: 1000.0,
        backward_rate: rate,
        backward_burst: burst,
    };
    let ctx = Arc::new(ServerContext::new(
        Arc::new(NodeEndpoint(shared.clone())),
        Limits::default(),
        max_body,
        Gate::new(shared.me.clone(), keys(), limits),
    ));
    let (stop, rx) = watch::channel(false);
    tokio::spawn(serve(listener, ctx, rx));
    Server {
        base: format!("http://{addr}"),
        shared,
        _stop: stop,
    }
}

/// A raw request, signed by bob when it is a POST.
async fn raw(method: &str, url: String, body: Vec<u8>) -> (StatusCode, Bytes) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let mut req = Request::builder().method(method).uri(&url);
    if method == "POST" {
        let path = url.rsplit_once('/').map(|(_, p)| format!("/{p}")).unwrap();
        let auth = identity("bob", 2)
            .sign_request("POST", &path, &body)
            .unwrap();
        for (k, v) in auth.headers() {
            req = req.header(k, v);
        }
    }
    let req = req.body(Full::new(Bytes::from(body))).unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
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
        data: s.model.lock().unwrap().serve(ids).unwrap(),
    }
}

#[tokio::test]
async fn forward_returns_what_the_model_serves() {
    let s = start(100.0, 100.0, 1 << 20).await;
    let ids = vec![1, 5, 5, 39];
    let got = client()
        .forward(&s.base, "alice", &ids, OUT, WAIT)
        .await
        .unwrap();
    assert_eq!(got.shape, vec![4, OUT]);
    assert_eq!(got, served(&s.shared, &ids));
}

#[tokio::test]
async fn backward_changes_the_served_embeddings() {
    let s = start(100.0, 100.0, 1 << 20).await;
    let ids = vec![2, 3];
    let before = served(&s.shared, &ids);
    let grad = WireTensor {
        shape: vec![2, OUT],
        data: vec![0.5; 2 * OUT],
    };
    let c = client();
    c.forward(&s.base, "alice", &ids, OUT, WAIT).await.unwrap();
    c.backward(
        &s.base,
        "alice",
        &BackwardRequest {
            ids: ids.clone(),
            grad,
        },
    )
    .await
    .unwrap();
    let after = served(&s.shared, &ids);
    assert_ne!(before, after);
    // Descending the gradient of sum(0.5 * out) lowers the served values on the whole.
    let sum = |t: &WireTensor| t.data.iter().sum::<f32>();
    assert!(
        sum(&after) < sum(&before),
        "{} !< {}",
        sum(&after),
        sum(&before)
    );
    let (status, body) = raw("GET", format!("{}/status", s.base), vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["identity"], "alice");
    assert_eq!(doc["server"]["backward_applied"], 1);
    let typed = bittensor_protocol::status::WorkerStatus::parse(&body)
        .expect("the served status parses strictly as the protocol's type");
    assert_eq!(typed.server["backward_applied"], 1);
}

#[tokio::test]
async fn export_on_request_writes_what_the_node_serves() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(100.0, 100.0, 1 << 20, Some(dir.path().join("export"))).await;
    // Peer vectors in the cache, so served and input embeddings differ.
    {
        let mut m = s.shared.model.lock().unwrap();
        m.cache
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = (i % 7) as f32 * 0.1);
        s.shared.publish(&m);
    }
    let files = client().export(&s.base).await.unwrap();
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
    assert_ne!(served_file.row(w5), input_file.row(w5));

    // Without an export directory: 503 with the reason.
    let plain = start(100.0, 100.0, 1 << 20).await;
    match client().export(&plain.base).await {
        Err(PeerError::Status { status, message }) => {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(message.contains("export_dir"), "{message}");
        }
        other => panic!("export without a directory: {other:?}"),
    }
    let (status, _) = raw("GET", format!("{}/export", s.base), vec![]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn bad_requests_get_clear_4xx_answers() {
    let s = start(100.0, 100.0, 1024).await;
    let (status, body) = raw("POST", format!("{}/forward", s.base), b"hello".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        String::from_utf8_lossy(&body).contains("bad magic"),
        "{body:?}"
    );

    let out_of_vocab = codec::encode_forward(&[VOCAB], &Limits::default()).unwrap();
    let (status, body) = raw("POST", format!("{}/forward", s.base), out_of_vocab).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        String::from_utf8_lossy(&body).contains("vocabulary"),
        "{body:?}"
    );

    let wrong_dim = BackwardRequest {
        ids: vec![1],
        grad: WireTensor {
            shape: vec![1, OUT + 1],
            data: vec![0.1; OUT + 1],
        },
    };
    let body = codec::encode_backward(&wrong_dim, &Limits::default()).unwrap();
    let (status, body) = raw("POST", format!("{}/backward", s.base), body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:?}");

    let (status, _) = raw("POST", format!("{}/forward", s.base), vec![0; 4096]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = raw("GET", format!("{}/forward", s.base), vec![]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = raw("GET", format!("{}/nowhere", s.base), vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The server is still fine after all that.
    let got = client()
        .forward(&s.base, "alice", &[0, 1], OUT, WAIT)
        .await
        .unwrap();
    assert_eq!(got.shape, vec![2, OUT]);
    let doc = client().status(&s.base).await.unwrap();
    assert_eq!(doc["server"]["bad_requests"], 5);
    assert_eq!(doc["server"]["not_served"], 1);
}

#[tokio::test]
async fn backward_is_rate_limited_per_account() {
    let s = start(0.001, 2.0, 1 << 20).await;
    let req = BackwardRequest {
        ids: vec![1],
        grad: WireTensor {
            shape: vec![1, OUT],
            data: vec![0.01; OUT],
        },
    };
    let c = client();
    for _ in 0..3 {
        c.forward(&s.base, "alice", &[1], OUT, WAIT).await.unwrap();
    }
    c.backward(&s.base, "alice", &req).await.unwrap();
    c.backward(&s.base, "alice", &req).await.unwrap();
    match c.backward(&s.base, "alice", &req).await {
        Err(PeerError::Status { status, .. }) => assert_eq!(status, StatusCode::TOO_MANY_REQUESTS),
        other => panic!("expected 429, got {other:?}"),
    }
    // Forward has its own (here generous) limit.
    c.forward(&s.base, "alice", &[1], OUT, WAIT).await.unwrap();
    let doc = c.status(&s.base).await.unwrap();
    assert_eq!(doc["server"]["rate_limited"], 1);
    assert_eq!(doc["server"]["backward_applied"], 2);
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

#[test]
fn gradients_move_what_the_node_serves_and_bad_ones_are_refused() {
    let s = shared("127.0.0.1:1".parse().unwrap());
    let before = s.served_rows(&[4]).unwrap();
    s.apply_remote_grad(&[4], &[0.2; OUT]).unwrap();
    let after = s.served_rows(&[4]).unwrap();
    assert_ne!(before, after, "the served table is republished");
    assert_eq!(after, served(&s, &[4]).data, "and equals the model's serve");
    assert!(s.apply_remote_grad(&[4], &[0.2; OUT - 1]).is_err());
    assert!(s.apply_remote_grad(&[VOCAB], &[0.2; OUT]).is_err());
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
