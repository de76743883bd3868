//! Peer sessions against a real chain: a node's peer server (real model, real TCP) checks
//! each session's binding signature against the caller's active key as `get_account`
//! reports it on a local nodeos (with the chain's real id in the handshake), and downstream
//! clients check that the server proves the key of the account they attribute. Accounts
//! `bob` and `mallory` get their own active keys through cleos, so "signed with another
//! account's key" is a real, different key. Each refusal is asserted by verdict and reason.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bittensor_protocol::policy::AddressPolicy;
use bittensor_tests::{deployed, funded};
use bittensor_worker::chain::eos::EosChain;
use bittensor_worker::chain::{Backoff, ChainApi};
use bittensor_worker::model::w2v::{W2vParams, Word2Vec};
use bittensor_worker::node::state::{DeadlinePolicy, NodeEndpoint, NodeParams};
use bittensor_worker::node::Shared;
use bittensor_worker::peer::client::{PeerClient, PeerError, Signer};
use bittensor_worker::peer::codec::Limits;
use bittensor_worker::peer::identity::Identity;
use bittensor_worker::peer::keys::{ChainKeys, KeyCache};
use bittensor_worker::peer::kinds::KindLimits;
use bittensor_worker::peer::server::{serve, ServerContext, ServerSettings};
use bittensor_worker::peer::session::admission::AdmissionLimits;
use bittensor_worker::peer::session::client::Sessions;
use bittensor_worker::peer::session::message::{FORWARD, UPDATES};
use bittensor_worker::peer::session::{SessionError, Status, Verdict};
use bittensor_worker::peer::wire::{self, Dtype};
use bittensor_worker::peer::wire_updates;
use chain_client::{contract as actions, Asset, Name, PrivateKey, Symbol};
use tokio::net::TcpListener;
use tokio::sync::watch;

const VOCAB: i64 = 40;
const OUT: usize = 6;
const FP: &str = "0123456789abcdef0123456789abcdef";

const LIMITS: KindLimits = KindLimits {
    forward_rate: 1000.0,
    forward_burst: 1000.0,
    updates_rate: 1000.0,
    updates_burst: 1000.0,
};

fn dev_key() -> PrivateKey {
    PrivateKey::from_wif(localnet::DEV_PRIVATE_KEY).expect("dev key")
}

/// The verdict a session handshake as `who` to alice at `addr` ends with.
async fn handshake(
    addr: SocketAddr,
    who: Identity,
    keys: &Arc<KeyCache>,
) -> Result<(), SessionError> {
    Sessions::new(Arc::new(who), keys.clone(), 1 << 20)
        .open(&addr.to_string(), "alice")
        .await
        .map(|_| ())
}

fn refused(r: Result<(), SessionError>) -> (Verdict, String) {
    match r {
        Err(SessionError::Refused { verdict, reason }) => (verdict, reason),
        other => panic!("expected a refused handshake, got {other:?}"),
    }
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
    let chain_id = rt.block_on(chain.chain_id()).expect("chain id");
    assert_ne!(chain_id, [0; 32], "the real chain has an id");
    let on_chain =
        |name: &str, key: &PrivateKey| Identity::new(name, key.clone(), FP).on_chain(chain_id);
    let alice = Arc::new(on_chain("alice", &dev_key()));
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
        model: Word2Vec::new(&counts, &params).unwrap(),
        words,
        counts,
        export_dir: None,
        peers: 1,
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
        alice.clone(),
        keys.clone(),
        ServerSettings {
            limits: Limits::default(),
            rates: LIMITS,
            admission: AdmissionLimits::default(),
        },
    ));
    let (_stop, stop_rx) = watch::channel(false);
    rt.spawn(serve(listener, ctx.clone(), stop_rx));
    let base = format!("http://{addr}");
    let lim = Limits::default();
    let ids = vec![1, 2, 3];

    rt.block_on(async {
        // bob, proving his own on-chain key, gets a session and is served.
        let bob = Arc::new(on_chain("bob", &bob_key));
        let sessions = Sessions::new(bob.clone(), keys.clone(), 1 << 20);
        let at = addr.to_string();
        let fwd = wire::encode_forward(&ids, Dtype::F16, &lim).expect("encode");
        let (a, _) = sessions
            .call(&at, "alice", FORWARD, fwd.clone(), None)
            .await
            .expect("bob's session");
        assert_eq!(a.status, Status::Ok);

        // A session claiming bob but proving mallory's key is refused ...
        let (verdict, why) = refused(handshake(addr, on_chain("bob", &mallory_key), &keys).await);
        assert_eq!(verdict, Verdict::BadSignature);
        assert!(why.contains("bob's on-chain active permission"), "{why}");
        // ... and so is one proving the development key (bob's owner key, but no longer his
        // active key).
        let (verdict, _) = refused(handshake(addr, on_chain("bob", &dev_key()), &keys).await);
        assert_eq!(verdict, Verdict::BadSignature);

        // carol has a key on chain but is not subscribed: refused before any key work.
        let (verdict, why) = refused(handshake(addr, on_chain("carol", &dev_key()), &keys).await);
        assert_eq!(verdict, Verdict::NotSubscribed);
        assert!(why.contains("not subscribed"), "{why}");

        // Another vocabulary, another chain: refused with a clear reason.
        let other_vocab = Identity::new("bob", bob_key.clone(), "ffffffffffffffffffffffffffffffff")
            .on_chain(chain_id);
        let (verdict, why) = refused(handshake(addr, other_vocab, &keys).await);
        assert_eq!(verdict, Verdict::Vocabulary);
        assert_eq!(why, FP);
        let other_chain = Identity::new("bob", bob_key.clone(), FP).on_chain([7; 32]);
        let (verdict, why) = refused(handshake(addr, other_chain, &keys).await);
        assert_eq!(verdict, Verdict::Chain);
        assert!(why.contains("another chain"), "{why}");

        // An update fetch on bob's session is answered with what alice published; one
        // that does not decode is a bad request, on the same session.
        let req = wire_updates::encode_request(wire_updates::UpdatesRequest {
            dtype: Dtype::F32,
            after: 0,
            wait_ms: 0,
        });
        let (a, _) = sessions
            .call(&at, "alice", UPDATES, req, None)
            .await
            .expect("update fetch");
        assert_eq!(a.status, Status::Ok, "{a:?}");
        let answer = wire_updates::decode_answer(&a.body, &lim).expect("an updates answer");
        assert_eq!(answer.latest, 0, "alice has published nothing yet");
        let (a, _) = sessions
            .call(&at, "alice", UPDATES, vec![9], None)
            .await
            .expect("update fetch");
        assert_eq!(a.status, Status::BadRequest, "{a:?}");

        // The downstream side: bob's client accepts alice's server for alice ...
        let signer = Signer {
            identity: bob.clone(),
            keys: keys.clone(),
        };
        let client = PeerClient::signed(Duration::from_secs(5), lim, signer);
        let t = client
            .forward(&base, "alice", &ids, OUT, Duration::from_secs(5))
            .await
            .expect("alice's server proves alice's key");
        assert_eq!(t.tensor.shape, vec![ids.len(), OUT]);
        // ... but if mallory advertised alice's server as hers, the session is refused: the
        // server is alice's, not the account the downstream would attribute and pay.
        match client
            .forward(&base, "mallory", &ids, OUT, Duration::from_secs(5))
            .await
        {
            Err(e @ PeerError::Impostor { .. }) => {
                assert!(e.disqualifies());
                assert!(e.to_string().contains("not mallory"), "{e}");
            }
            other => panic!("expected an impostor error, got {other:?}"),
        }
        // A node whose peer address is its own server finds out at the handshake.
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
    let mut counters: HashMap<String, u64> =
        serde_json::from_value(serde_json::to_value(ctx.counters.as_ref()).expect("json"))
            .expect("counters");
    let sessions: HashMap<String, u64> =
        serde_json::from_value(serde_json::to_value(ctx.sessions.counters.as_ref()).expect("json"))
            .expect("counters");
    counters.extend(sessions);
    assert_eq!(counters["handshakes_bad_signature"], 2, "{counters:?}");
    assert_eq!(counters["handshakes_refused"], 5, "{counters:?}");
    assert_eq!(counters["updates_served"], 1, "{counters:?}");
    assert_eq!(counters["bad_requests"], 1, "{counters:?}");
    assert_eq!(doc.identity, "alice");
    assert!(
        keys.len() >= 2,
        "bob's and alice's keys were read from the chain ({} cached)",
        keys.len()
    );
    drop(rt);
}
