//! A 4-producer chain running `eosio.system`, booted from the wheel's reference contracts:
//! the elected schedule, metered resources, and the loss and return of one producer.

use std::time::{Duration, Instant};

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

#[test]
fn four_producers_survive_the_loss_of_one() {
    let mut cluster = Cluster::boot(4).expect("cluster boots");
    let names: Vec<String> = cluster.producers().to_vec();
    assert_eq!(names, ["proda", "prodb", "prodc", "prodd"]);
    let mut active = cluster.genesis.active_producers().expect("schedule");
    active.sort();
    assert_eq!(active, names, "every producer elected");

    // Resources are metered as on a public chain: a new account has finite RAM, CPU and
    // NET, and RAM it has not bought cannot hold a contract.
    cluster
        .genesis
        .create_metered_account("small", &Resources::default())
        .expect("metered account");
    let limits = cluster.genesis.limits("small").expect("limits");
    assert!(
        limits.ram_quota > 0 && limits.ram_quota < 64 * 1024,
        "{limits:?}"
    );
    assert!(limits.cpu_max > 0 && limits.net_max > 0, "{limits:?}");
    let token = localnet::reference_contract("eosio.token");
    let err = cluster
        .genesis
        .deploy_contract(
            "small",
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
    cluster
        .genesis
        .buy_ram("eosio", "small", 300 * 1024)
        .expect("buy ram");
    cluster
        .genesis
        .deploy_contract(
            "small",
            &token.join("eosio.token.wasm"),
            &token.join("eosio.token.abi"),
        )
        .expect("deploys once the RAM is bought");

    // Every node follows the same chain.
    let (head0, _) = head_and_lib(&cluster, 0);
    assert!(
        wait_for(Duration::from_secs(30), || (1..4).all(|i| head_and_lib(
            &cluster, i
        )
        .0 + 4
            >= head0)),
        "all nodes synced"
    );

    // Lose prodc: the other three keep producing and finality keeps advancing (3 of 4 is
    // more than 2/3).
    cluster.stop(2).expect("stop prodc");
    let (head_at_stop, lib_at_stop) = head_and_lib(&cluster, 0);
    assert!(
        cluster.info(2).is_err(),
        "the stopped node no longer answers"
    );
    let advanced = wait_for(Duration::from_secs(120), || {
        let (head, lib) = head_and_lib(&cluster, 0);
        head > head_at_stop + 48 && lib > lib_at_stop + 24
    });
    let (head, lib) = head_and_lib(&cluster, 0);
    assert!(
        advanced,
        "blocks and irreversibility advance without prodc: head {head_at_stop} -> {head}, lib {lib_at_stop} -> {lib}"
    );
    for node in [1, 3] {
        let (h, l) = head_and_lib(&cluster, node);
        assert!(h > head_at_stop && l > lib_at_stop, "node {node}: {h} {l}");
    }

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
