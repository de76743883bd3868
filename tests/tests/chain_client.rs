//! chain-client against a real nodeos: transactions signed and pushed by the client with
//! the reference eosio.token, packing checked against cleos, errors classified.

use std::time::Duration;

use chain_client::contract as actions;
use chain_client::retry::{with_backoff, Backoff};
use chain_client::{Asset, ChainError, Client, Name, Pack, PrivateKey, PublicKey, Symbol};
use localnet::{reference_contract, Localnet, DEV_PRIVATE_KEY};

fn n(text: &str) -> Name {
    text.parse().unwrap()
}

fn sys(text: &str) -> Asset {
    text.parse().unwrap()
}

/// A chain with eosio.token deployed and accounts alice, bob.
fn token_chain() -> Localnet {
    let net = Localnet::start().expect("localnet");
    let names: Vec<String> = ["eosio.token", "alice", "bob"].map(String::from).to_vec();
    net.create_accounts(&names).unwrap();
    let dir = reference_contract("eosio.token");
    net.deploy_contract(
        "eosio.token",
        &dir.join("eosio.token.wasm"),
        &dir.join("eosio.token.abi"),
    )
    .unwrap();
    net
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_token_flow_and_rejections() {
    let net = token_chain();
    let client = Client::new(&net.url);
    let keys = [PrivateKey::from_wif(DEV_PRIVATE_KEY).unwrap()];
    let token = n("eosio.token");
    let (alice, bob) = (n("alice"), n("bob"));

    let info = client.get_info().await.unwrap();
    assert_eq!(info.chain_id.len(), 64);

    let receipt = client
        .push(
            vec![actions::create(token, alice, sys("1000.0000 SYS"))],
            &keys,
        )
        .await
        .expect("create");
    assert!(receipt.cpu_usage_us > 0);
    assert_eq!(receipt.transaction_id.len(), 64);
    // issue + two transfers in one transaction.
    client
        .push(
            vec![
                actions::issue(token, alice, sys("100.0000 SYS"), "i"),
                actions::transfer(token, alice, bob, sys("30.0000 SYS"), "t1"),
                actions::transfer(token, alice, bob, sys("0.5000 SYS"), "t2"),
            ],
            &keys,
        )
        .await
        .expect("issue+transfer");

    assert_eq!(
        client.token_balance(token, alice, "SYS").await.unwrap(),
        695_000
    );
    assert_eq!(
        client.token_balance(token, bob, "SYS").await.unwrap(),
        305_000
    );
    // The same action pushed twice in a row is two transactions, not a duplicate.
    for _ in 0..2 {
        let same = actions::transfer(token, alice, bob, sys("0.0001 SYS"), "same");
        client
            .push(vec![same], &keys)
            .await
            .expect("identical transfer");
    }
    assert_eq!(
        client.token_balance(token, bob, "SYS").await.unwrap(),
        305_002
    );
    let rows = client.table_rows(token, "SYS", n("stat")).await.unwrap();
    assert_eq!(rows[0]["supply"], "100.0000 SYS");
    assert_eq!(rows[0]["issuer"], "alice");

    // The contract's assertion text comes back as Rejected.
    let err = client
        .push(
            vec![actions::transfer(token, bob, alice, sys("31.0000 SYS"), "")],
            &keys,
        )
        .await
        .unwrap_err();
    match &err {
        ChainError::Rejected { message } => assert_eq!(message, "overdrawn balance"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!err.is_transient());

    // A signature by a key that is not bob's: rejected by authorization checks.
    let stranger = PrivateKey::from_bytes(&[42u8; 32]).unwrap();
    let err = client
        .push(
            vec![actions::transfer(token, bob, alice, sys("1.0000 SYS"), "")],
            &[stranger],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::Rejected { .. }), "{err:?}");
    assert_eq!(
        client.token_balance(token, bob, "SYS").await.unwrap(),
        305_002
    );

    // Open/close via the typed builders.
    let carol = n("carol");
    net.create_account("carol").unwrap();
    let symbol = Symbol::new(4, "SYS").unwrap();
    client
        .push(vec![actions::open(token, carol, symbol, alice)], &keys)
        .await
        .expect("open");
    assert_eq!(
        net.table("eosio.token", "carol", "accounts").unwrap().len(),
        1
    );
    client
        .push(vec![actions::close(token, carol, symbol)], &keys)
        .await
        .expect("close");
    assert!(net
        .table("eosio.token", "carol", "accounts")
        .unwrap()
        .is_empty());
    client
        .push(
            vec![actions::retire(token, alice, sys("5.0000 SYS"), "r")],
            &keys,
        )
        .await
        .expect("retire");
    let rows = client.table_rows(token, "SYS", n("stat")).await.unwrap();
    assert_eq!(rows[0]["supply"], "95.0000 SYS");
}

/// The client's packing of eosio.token actions equals cleos' ABI-driven packing.
#[test]
fn packing_matches_cleos_for_token_actions() {
    let net = token_chain();
    let pack = |action: &str, json: &str| -> Vec<u8> {
        let out = net
            .cleos(&["convert", "pack_action_data", "eosio.token", action, json])
            .expect("cleos convert");
        hex::decode(out.trim().trim_matches('"')).expect("hex from cleos")
    };
    let token = n("eosio.token");
    let t = actions::transfer(token, n("alice"), n("bob"), sys("12.3456 SYS"), "memo ü");
    assert_eq!(
        t.data,
        pack("transfer", r#"["alice","bob","12.3456 SYS","memo ü"]"#)
    );
    let long_memo = "m".repeat(200);
    let t = actions::transfer(
        token,
        n("a.b.c"),
        n("zzzzzzzzzzzzj"),
        sys("-0.0001 XYZ"),
        &long_memo,
    );
    assert_eq!(
        t.data,
        pack(
            "transfer",
            &format!(r#"["a.b.c","zzzzzzzzzzzzj","-0.0001 XYZ","{long_memo}"]"#)
        )
    );
    let c = actions::create(token, n("alice"), sys("1000000000.0000 BIT"));
    assert_eq!(c.data, pack("create", r#"["alice","1000000000.0000 BIT"]"#));
    let o = actions::open(
        token,
        n("carol"),
        Symbol::new(4, "BIT").unwrap(),
        n("alice"),
    );
    assert_eq!(o.data, pack("open", r#"["carol","4,BIT","alice"]"#));
    let i = actions::issue(token, n("alice"), sys("1.0000 BIT"), "");
    assert_eq!(i.data, pack("issue", r#"["alice","1.0000 BIT",""]"#));
}

/// The contract's actions pack like cleos packs them through abi/bittensor.abi.
#[test]
fn packing_matches_cleos_for_bittensor_actions() {
    let abi = localnet::contract_abi();
    if !abi.is_file() {
        eprintln!("skipping: {} does not exist yet", abi.display());
        return;
    }
    let net = Localnet::start().expect("localnet");
    net.create_account("bittensor").unwrap();
    // Only the ABI matters to cleos' packing (and `cleos set abi` fails in this build), so
    // pair it with any code: the reference token WASM.
    let token_wasm = reference_contract("eosio.token").join("eosio.token.wasm");
    net.deploy_contract("bittensor", &token_wasm, &abi)
        .expect("set code + abi");
    let pack = |action: &str, json: &str| -> Vec<u8> {
        let out = net
            .cleos(&["convert", "pack_action_data", "bittensor", action, json])
            .expect("cleos convert");
        hex::decode(out.trim().trim_matches('"')).expect("hex from cleos")
    };
    let c = n("bittensor");
    let (alice, bob) = (n("alice"), n("bob"));
    let s = actions::subscribe(c, alice, "127.0.0.1", 8080, sys("10.0000 BIT"));
    assert_eq!(
        s.data,
        pack("subscribe", r#"["alice","127.0.0.1",8080,"10.0000 BIT"]"#)
    );
    let e = actions::emit(c, alice, &[(alice, 600_000), (bob, 400_000)]);
    assert_eq!(
        e.data,
        pack(
            "emit",
            r#"["alice",[{"to":"alice","weight":600000},{"to":"bob","weight":400000}]]"#
        )
    );
    let p = actions::setparams(c, 20_000, 5, 900_000, 240);
    assert_eq!(p.data, pack("setparams", r#"[20000, 5, 900000, 240]"#));
    let s = actions::settle(c, alice, alice);
    assert_eq!(s.data, pack("settle", r#"["alice"]"#));
    let v = actions::evict(c, alice, alice);
    assert_eq!(v.data, pack("evict", r#"["alice"]"#));
    let u = actions::unsubscribe(c, alice);
    assert_eq!(u.data, pack("unsubscribe", r#"["alice"]"#));
    let hash = "ab".repeat(32);
    let v = actions::setvocab(c, &hash, 26_867);
    assert_eq!(v.data, pack("setvocab", &format!(r#"["{hash}", 26867]"#)));
}

/// The public key the client derives is the one nodeos stores for a dev-key account.
#[test]
fn derived_key_matches_chain_account_permissions() {
    let net = Localnet::start().expect("localnet");
    net.create_account("alice").unwrap();
    let account: serde_json::Value =
        serde_json::from_str(&net.cleos(&["get", "account", "alice", "-j"]).unwrap()).unwrap();
    let key = PrivateKey::from_wif(DEV_PRIVATE_KEY).unwrap().public_key();
    let stored = account["permissions"][0]["required_auth"]["keys"][0]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let parsed: PublicKey = stored.parse().expect("chain key parses");
    assert_eq!(parsed, key);
    assert!(
        stored == key.to_string() || stored == key.to_k1_string(),
        "{stored}"
    );
    let packed = key.packed();
    assert_eq!((packed.len(), packed[0]), (34, 0));
}

#[tokio::test]
async fn unreachable_node_fails_fast_and_backoff_gives_up() {
    // Bind then drop: a loopback port with nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::with_timeout(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2));
    let err = client.get_info().await.unwrap_err();
    assert!(matches!(err, ChainError::Unreachable { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(err.to_string().contains(&port.to_string()));

    let attempts = std::sync::atomic::AtomicU32::new(0);
    let policy = Backoff {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
        attempts: 4,
    };
    let result = with_backoff("get_info", &policy, || {
        attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        client.get_info()
    })
    .await;
    assert!(matches!(result, Err(ChainError::Unreachable { .. })));
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[tokio::test]
async fn silent_node_times_out() {
    // Accepts connections but never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = Client::with_timeout(
        &format!("http://127.0.0.1:{port}"),
        Duration::from_millis(300),
    );
    let err = client.get_info().await.unwrap_err();
    assert!(matches!(err, ChainError::Timeout), "{err:?}");
    assert!(err.is_transient());
    server.abort();
}

/// Typed reads (`metagraph`, `global`, `balance`, `stat`, `residuals`) decode the real
/// contract's rows, for transactions signed and pushed by the client.
#[tokio::test(flavor = "multi_thread")]
async fn typed_reads_against_the_contract() {
    let (net, contract) =
        tokio::task::block_in_place(bittensor_tests::deployed).expect("deployed contract");
    tokio::task::block_in_place(|| {
        bittensor_tests::funded(&net, &contract, &["alice", "bob"], 200_000)
    })
    .expect("funded");
    let client = Client::new(&net.url);
    let keys = [PrivateKey::from_wif(DEV_PRIVATE_KEY).unwrap()];
    let c = n(&contract);
    let (alice, bob) = (n("alice"), n("bob"));

    assert_eq!(client.balance(c, alice).await.unwrap(), 200_000);
    let global = client.global(c).await.unwrap().expect("global row");
    assert_eq!(global.symbol.to_string(), "4,BIT");
    assert_eq!(global.total_stake, 0);

    client
        .push(
            vec![
                actions::subscribe(c, alice, "127.0.0.1", 7001, sys("5.0000 BIT")),
                actions::subscribe(c, bob, "127.0.0.2", 7002, sys("7.0000 BIT")),
            ],
            &keys,
        )
        .await
        .expect("subscribe both");
    client
        .push(
            vec![actions::emit(c, alice, &[(alice, 700_000), (bob, 300_000)])],
            &keys,
        )
        .await
        .expect("emit");

    let mut rows = client.metagraph(c).await.unwrap();
    rows.sort_by_key(|r| r.user);
    assert_eq!(rows.len(), 2);
    let a = rows.iter().find(|r| r.user == alice).unwrap();
    assert_eq!((a.address.as_str(), a.port), ("127.0.0.1", 7001));
    assert!(a.stake >= 50_000);
    let edges: Vec<(Name, u32)> = a.edges.iter().map(|e| (e.to, e.weight)).collect();
    assert_eq!(edges, vec![(alice, 700_000), (bob, 300_000)]);
    assert_eq!(client.balance(c, alice).await.unwrap(), 150_000);
    assert_eq!(client.balance(c, bob).await.unwrap(), 130_000);

    let global = client.global(c).await.unwrap().unwrap();
    assert_eq!(
        global.total_stake,
        rows.iter().map(|r| r.stake).sum::<u64>()
    );
    let residuals = client.residuals(c).await.unwrap();
    assert_eq!(
        global.outstanding,
        residuals.iter().map(|r| r.residual).sum::<u64>()
    );
    let stat = client.stat(c).await.unwrap().expect("stat row");
    assert_eq!(stat.issuer, c);
}
