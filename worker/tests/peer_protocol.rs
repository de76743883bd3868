//! The peer protocol end to end on loopback: the h2c server in front of a real (tiny)
//! model, raw requests for the error paths, and the peer client's failure handling.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::sync::watch;

use bittensor_worker::attribution::Attribution;
use bittensor_worker::chain::Backoff;
use bittensor_worker::model::{Model, ModelConfig};
use bittensor_worker::node::state::{NodeEndpoint, PeerTable, Stats};
use bittensor_worker::node::tensors::to_tch;
use bittensor_worker::node::Shared;
use bittensor_worker::peer::client::{PeerClient, PeerError};
use bittensor_worker::peer::codec::{self, BackwardRequest, Limits, WireTensor};
use bittensor_worker::peer::ratelimit::RateLimiter;
use bittensor_worker::peer::server::{serve, ServerContext};

const VOCAB: i64 = 40;
const OUT: usize = 6;

fn shared(listen: SocketAddr) -> Arc<Shared> {
    let cfg = ModelConfig {
        vocab: VOCAB,
        embed_dim: 8,
        out_dim: OUT as i64,
        peers: 1,
        negatives: 2,
        lr: 0.1,
        seed: 3,
    };
    let backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
    Arc::new(Shared {
        identity: "alice".into(),
        listen,
        model: Mutex::new(Model::new(&cfg).unwrap()),
        out_dim: OUT,
        remote_scale: 1.0,
        attribution: Mutex::new(Attribution::new(1, 0.9)),
        peers: Mutex::new(PeerTable::new(1, 1, backoff)),
        stats: Mutex::new(Stats::default()),
        loss_tail: 10,
        started: Instant::now(),
    })
}

struct Server {
    base: String,
    shared: Arc<Shared>,
    _stop: watch::Sender<bool>,
}

async fn start(rate: f64, burst: f64, max_body: usize) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = shared(addr);
    let ctx = Arc::new(ServerContext {
        endpoint: Arc::new(NodeEndpoint(shared.clone())),
        limits: Limits::default(),
        max_body,
        limiter: RateLimiter::new(rate, burst),
        counters: Default::default(),
    });
    let (stop, rx) = watch::channel(false);
    tokio::spawn(serve(listener, ctx, rx));
    Server {
        base: format!("http://{addr}"),
        shared,
        _stop: stop,
    }
}

async fn raw(method: &str, url: String, body: Vec<u8>) -> (StatusCode, Bytes) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let req = Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

fn client() -> PeerClient {
    PeerClient::new(Duration::from_secs(5), Limits::default())
}

fn served(s: &Shared, ids: &[i64]) -> WireTensor {
    let t = s.model.lock().unwrap().serve(ids).unwrap();
    bittensor_worker::node::tensors::from_tch(&t).unwrap()
}

#[tokio::test]
async fn forward_returns_what_the_model_serves() {
    let s = start(100.0, 100.0, 1 << 20).await;
    let ids = vec![1, 5, 5, 39];
    let got = client().forward(&s.base, &ids, OUT).await.unwrap();
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
    client()
        .backward(
            &s.base,
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
    let (status, _) = raw("POST", format!("{}/backward", s.base), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = raw("POST", format!("{}/forward", s.base), vec![0; 4096]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = raw("GET", format!("{}/forward", s.base), vec![]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = raw("GET", format!("{}/nowhere", s.base), vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The server is still fine after all that.
    let got = client().forward(&s.base, &[0, 1], OUT).await.unwrap();
    assert_eq!(got.shape, vec![2, OUT]);
    let doc = client().status(&s.base).await.unwrap();
    assert_eq!(doc["server"]["bad_requests"], 6);
}

#[tokio::test]
async fn backward_is_rate_limited_per_remote() {
    let s = start(0.001, 2.0, 1 << 20).await;
    let req = BackwardRequest {
        ids: vec![1],
        grad: WireTensor {
            shape: vec![1, OUT],
            data: vec![0.01; OUT],
        },
    };
    let c = client();
    c.backward(&s.base, &req).await.unwrap();
    c.backward(&s.base, &req).await.unwrap();
    match c.backward(&s.base, &req).await {
        Err(PeerError::Status { status, .. }) => assert_eq!(status, StatusCode::TOO_MANY_REQUESTS),
        other => panic!("expected 429, got {other:?}"),
    }
    // Forward is not limited.
    c.forward(&s.base, &[1], OUT).await.unwrap();
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
    let c = PeerClient::new(Duration::from_millis(300), Limits::default());
    let err = c
        .forward(&format!("http://{dead_addr}"), &[1], OUT)
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
        .forward(&format!("http://{slow_addr}"), &[1], OUT)
        .await
        .unwrap_err();
    assert!(matches!(err, PeerError::Timeout(_)), "{err:?}");
    hold.abort();

    // Garbage: a real peer, but we expect another width than it serves.
    let s = start(100.0, 100.0, 1 << 20).await;
    let err = c.forward(&s.base, &[1, 2], OUT + 2).await.unwrap_err();
    assert!(matches!(err, PeerError::Garbage(_)), "{err:?}");
}

#[test]
fn wire_tensors_feed_the_model() {
    let s = shared("127.0.0.1:1".parse().unwrap());
    let grad = WireTensor {
        shape: vec![1, OUT],
        data: vec![0.2; OUT],
    };
    s.model
        .lock()
        .unwrap()
        .apply_remote_grad(&[4], &to_tch(&grad).unwrap(), 1.0)
        .unwrap();
}
