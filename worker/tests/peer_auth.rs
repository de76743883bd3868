//! Peer authentication against a real chain: a node's peer server (real model, real TCP)
//! checks every request's signature against the caller's active key as `get_account` reports
//! it on a local nodeos, and downstream clients check that answers are signed by the account
//! they attribute. Accounts `bob` and `mallory` get their own active keys through cleos, so
//! "signed with another account's key" is a real, different key. Each refusal is asserted by
//! status and reason.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bittensor_protocol::auth::{RequestAuth, HEADER_ACCOUNT};
use bittensor_protocol::policy::AddressPolicy;
use bittensor_tests::{deployed, funded};
use bittensor_worker::chain::eos::EosChain;
use bittensor_worker::chain::{Backoff, ChainApi};
use bittensor_worker::model::w2v::{PeerW2v, W2vParams};
use bittensor_worker::node::state::{DeadlinePolicy, NodeEndpoint, NodeParams};
use bittensor_worker::node::Shared;
use bittensor_worker::peer::client::{PeerClient, PeerError, Signer};
use bittensor_worker::peer::codec::{self, BackwardRequest, Limits, WireTensor};
use bittensor_worker::peer::gate::{Gate, GateLimits};
use bittensor_worker::peer::identity::{now_ms, Identity};
use bittensor_worker::peer::keys::{ChainKeys, KeyCache};
use bittensor_worker::peer::server::{serve, ServerContext};
use bytes::Bytes;
use chain_client::{contract as actions, Asset, Name, PrivateKey, Symbol};
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::sync::watch;

const VOCAB: i64 = 40;
const OUT: usize = 6;
const FP: &str = "0123456789abcdef0123456789abcdef";

const LIMITS: GateLimits = GateLimits {
    forward_rate: 1000.0,
    forward_burst: 1000.0,
    backward_rate: 1000.0,
    backward_burst: 1000.0,
};

fn dev_key() -> PrivateKey {
    PrivateKey::from_wif(localnet::DEV_PRIVATE_KEY).expect("dev key")
}

/// Sends a raw h2c POST with `headers`; returns status and body text.
async fn post(
    url: &str,
    body: Vec<u8>,
    headers: &[(&'static str, String)],
) -> (StatusCode, String) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let mut req = Request::post(url);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body))).expect("request"))
        .await
        .expect("peer answers");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).to_string())
}

fn signed_headers(id: &Identity, path: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    id.sign_request("POST", path, body)
        .expect("sign")
        .headers()
        .to_vec()
}

#[test]
fn peer_requests_and_answers_are_checked_against_on_chain_keys() {
    let (net, contract) = deployed().expect("chain with the contract");
    let users = ["alice", "bob", "mallory", "carol"];
    funded(&net, &contract, &users, 1_000_000).expect("funded accounts");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");

    // alice serves; bob and mallory subscribe too (callers); carol stays out.
    let code: Name = contract.parse().expect("contract");
    let symbol = Symbol::new(4, "BIT").expect("symbol");
    for (user, port) in [("alice", addr.port()), ("bob", 9), ("mallory", 9)] {
        net.push_actions(vec![actions::subscribe(
            code,
            user.parse().expect("name"),
            "127.0.0.1",
            port,
            Asset::new(100_000, symbol),
        )])
        .expect("subscribe");
    }
    // bob and mallory move their active permission to keys of their own.
    let bob_key = PrivateKey::from_bytes(&[11; 32]).expect("key");
    let mallory_key = PrivateKey::from_bytes(&[12; 32]).expect("key");
    for (user, key) in [("bob", &bob_key), ("mallory", &mallory_key)] {
        net.cleos(&[
            "set",
            "account",
            "permission",
            user,
            "active",
            &key.public_key().to_string(),
            "owner",
            "-p",
            &format!("{user}@owner"),
        ])
        .expect("set active key");
    }

    let chain: Arc<dyn ChainApi> =
        Arc::new(EosChain::new(&net.url, &contract, "alice", dev_key()).expect("chain client"));
    let alice = Arc::new(Identity::new("alice", dev_key(), FP));
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
    let params = W2vParams {
        dim: OUT,
        seed: 3,
        ..W2vParams::default()
    };
    let shared = Shared::new(NodeParams {
        identity: alice.clone(),
        listen: addr,
        advertised: None,
        model: PeerW2v::new(&counts, &params, 1).expect("model"),
        words,
        counts,
        grad_scale: 1.0,
        export_dir: None,
        model_alpha: params.alpha as f32,
        attribution_half_life_secs: 2.0,
        seed: 1,
        backoff: Backoff::new(Duration::from_millis(10), Duration::from_millis(100)),
        loss_tail: 10,
        policy: AddressPolicy::PUBLIC_ONLY,
        deadline: DeadlinePolicy {
            steps: 1.0,
            min: Duration::from_secs(5),
            max: Duration::from_secs(5),
        },
    });
    let rows = rt.block_on(chain.metagraph()).expect("metagraph");
    shared.refresh_peers(&rows);
    let keys = Arc::new(KeyCache::new(Arc::new(ChainKeys(chain.clone()))));
    let ctx = Arc::new(ServerContext::new(
        Arc::new(NodeEndpoint(shared.clone())),
        Limits::default(),
        1 << 20,
        Gate::new(alice.clone(), keys.clone(), LIMITS),
    ));
    let (_stop, stop_rx) = watch::channel(false);
    rt.spawn(serve(listener, ctx.clone(), stop_rx));
    let base = format!("http://{addr}");
    let fwd = format!("{base}/forward");
    let bwd = format!("{base}/backward");
    let lim = Limits::default();
    let ids = vec![1, 2, 3];
    let forward_body = codec::encode_forward(&ids, &lim).expect("encode");
    let grad = |v: f32| BackwardRequest {
        ids: ids.clone(),
        grad: WireTensor {
            shape: vec![ids.len(), OUT],
            data: vec![v; ids.len() * OUT],
        },
    };
    let backward_body = |v: f32| codec::encode_backward(&grad(v), &lim).expect("encode");
    let bob = Identity::new("bob", bob_key.clone(), FP);

    rt.block_on(async {
        // Unsigned /backward (and /forward) are refused, with the reason.
        let (status, text) = post(&bwd, backward_body(0.1), &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
        assert!(text.contains("unsigned request"), "{text}");
        let (status, _) = post(&fwd, forward_body.clone(), &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // bob, signing with his own on-chain key, is served.
        let h = signed_headers(&bob, "/forward", &forward_body);
        let (status, text) = post(&fwd, forward_body.clone(), &h).await;
        assert_eq!(status, StatusCode::OK, "{text}");

        // The very same signed request a second time is a replay.
        let (status, text) = post(&fwd, forward_body.clone(), &h).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
        assert!(text.contains("replayed"), "{text}");

        // A request claiming bob but signed with mallory's key is refused ...
        let fake_bob = Identity::new("bob", mallory_key.clone(), FP);
        let h = signed_headers(&fake_bob, "/forward", &forward_body);
        let (status, text) = post(&fwd, forward_body.clone(), &h).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
        assert!(text.contains("bob's on-chain active permission"), "{text}");
        // ... and so is one claiming bob signed with the development key (bob's owner key,
        // but no longer his active key).
        let h = signed_headers(
            &Identity::new("bob", dev_key(), FP),
            "/forward",
            &forward_body,
        );
        let (status, _) = post(&fwd, forward_body.clone(), &h).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // A body changed after signing no longer matches its signature.
        let h = signed_headers(&bob, "/forward", &forward_body);
        let other = codec::encode_forward(&[4, 5, 6], &lim).expect("encode");
        let (status, text) = post(&fwd, other, &h).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");

        // carol has a key on chain but is not subscribed.
        let carol = Identity::new("carol", dev_key(), FP);
        let h = signed_headers(&carol, "/forward", &forward_body);
        let (status, text) = post(&fwd, forward_body.clone(), &h).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
        assert!(text.contains("not subscribed"), "{text}");

        // A request signed a minute ago is stale.
        let old = RequestAuth::sign(
            &bob_key,
            "bob",
            FP,
            "POST",
            "/forward",
            &forward_body,
            now_ms() - 60_000,
            5,
        )
        .expect("sign");
        let (status, text) = post(&fwd, forward_body.clone(), &old.headers()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
        assert!(text.contains("stale"), "{text}");

        // Another vocabulary is refused with a clear error.
        let other_vocab = Identity::new("bob", bob_key.clone(), "ffffffffffffffffffffffffffffffff");
        let h = signed_headers(&other_vocab, "/forward", &forward_body);
        let (status, text) = post(&fwd, forward_body.clone(), &h).await;
        assert_eq!(status, StatusCode::CONFLICT, "{text}");
        assert!(text.contains("vocabulary mismatch"), "{text}");

        // The header of the signer names the account; a garbled one is malformed.
        let mut h = signed_headers(&bob, "/forward", &forward_body);
        h.retain(|(k, _)| *k != HEADER_ACCOUNT);
        h.push((HEADER_ACCOUNT, "not an account!".into()));
        let (status, _) = post(&fwd, forward_body.clone(), &h).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // /backward is accepted only for ids recently served to that caller, once.
        let (status, text) = post(
            &bwd,
            backward_body(0.1),
            &signed_headers(&bob, "/backward", &backward_body(0.1)),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the forward above served these ids to bob: {text}"
        );
        let (status, text) = post(
            &bwd,
            backward_body(0.1),
            &signed_headers(&bob, "/backward", &backward_body(0.1)),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
        assert!(text.contains("not recently served"), "{text}");
        let mallory = Identity::new("mallory", mallory_key.clone(), FP);
        let (status, _) = post(
            &bwd,
            backward_body(0.1),
            &signed_headers(&mallory, "/backward", &backward_body(0.1)),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "served to bob, not to mallory"
        );

        // 1e30 gradients are rejected even for served ids.
        let h = signed_headers(&bob, "/forward", &forward_body);
        assert_eq!(post(&fwd, forward_body.clone(), &h).await.0, StatusCode::OK);
        let (status, text) = post(
            &bwd,
            backward_body(1e30),
            &signed_headers(&bob, "/backward", &backward_body(1e30)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert!(text.contains("outside"), "{text}");

        // The downstream side: bob's client accepts alice's signed answers for alice ...
        let signer = Signer {
            identity: Arc::new(Identity::new("bob", bob_key.clone(), FP)),
            keys: keys.clone(),
        };
        let client = PeerClient::signed(Duration::from_secs(5), lim, signer);
        let t = client
            .forward(&base, "alice", &ids, OUT, Duration::from_secs(5))
            .await
            .expect("alice's answer verifies");
        assert_eq!(t.shape, vec![ids.len(), OUT]);
        client
            .backward(&base, "alice", &grad(0.01))
            .await
            .expect("gradient for served ids, answer signed by alice");
        // ... but if mallory advertised alice's server as hers, the answer is caught: it is
        // signed by alice, not by the account the downstream would attribute and pay.
        match client
            .forward(&base, "mallory", &ids, OUT, Duration::from_secs(5))
            .await
        {
            Err(e @ PeerError::Impostor { .. }) => {
                assert!(e.disqualifies());
                assert!(e.to_string().contains("not by mallory"), "{e}");
            }
            other => panic!("expected an impostor error, got {other:?}"),
        }
        // A node whose peer address is its own server finds out from the signature.
        let own = PeerClient::signed(
            Duration::from_secs(5),
            lim,
            Signer {
                identity: alice.clone(),
                keys: keys.clone(),
            },
        );
        let err = own
            .forward(&base, "bob", &ids, OUT, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(err, PeerError::OwnServer), "{err:?}");
    });

    let doc = ctx.endpoint.status();
    println!(
        "alice's server: {:?}",
        serde_json::to_value(ctx.counters.as_ref()).ok()
    );
    let counters: HashMap<String, u64> =
        serde_json::from_value(serde_json::to_value(ctx.counters.as_ref()).expect("json"))
            .expect("counters");
    assert!(counters["unauthorized"] >= 8, "{counters:?}");
    assert_eq!(counters["vocab_mismatch"], 1, "{counters:?}");
    assert_eq!(counters["not_served"], 2, "{counters:?}");
    assert_eq!(counters["out_of_range"], 1, "{counters:?}");
    assert_eq!(counters["backward_applied"], 2, "{counters:?}");
    assert_eq!(doc.identity, "alice");
    assert!(
        keys.len() >= 3,
        "bob, alice, carol, mallory keys were read from the chain"
    );
    drop(rt);
}
