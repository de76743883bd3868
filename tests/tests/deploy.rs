//! `scripts/deploy --url URL --account NAME --key-file FILE` against a chain that plays a
//! public one: two producers running `eosio.system` (RAM, CPU and NET metered), the contract
//! account made with `newaccount` and a key of its own (no development key on it), the script
//! pointed at a non-genesis producer's endpoint. Checked: the refusals a user meets first (a
//! key file others can read, a key that is not the account's, too little RAM: each names the
//! fix and nothing is sent), then the deploy itself, its RAM measured phase by phase (code
//! and ABI, the token rows, a node's subscription), a second deploy that changes nothing, and
//! a real worker that is refused while its account holds no BIT (its error names the fix),
//! then, funded, subscribes and emits on the deployed contract.

#[path = "../../worker/tests/support/mod.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use localnet::testnet::worker_resources;
use localnet::{Cluster, Localnet, NodeView, TableReader};
use serde_json::{json, Value};
use support::{num, spawn, wait_within, StatusReader, WorkerOpts};

/// Not `bittensor`: the script must work for any account name.
const CONTRACT: &str = "bitnetwork";
/// RAM the contract account starts with: enough for an account, not for the contract.
const SMALL_RAM: u64 = 16 * 1024;
/// What the docs recommend buying for the contract account (docs/deploy.md).
const CONTRACT_RAM: u64 = 1024 * 1024;

/// A fresh key pair from `cleos create key`: (private WIF, public).
fn new_key(net: &Localnet) -> (String, String) {
    let out = net
        .cleos(&["create", "key", "--to-console"])
        .expect("cleos create key");
    let field = |label: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(label))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| panic!("no {label} in {out}"))
    };
    (field("Private key:"), field("Public key:"))
}

fn write_key(dir: &Path, name: &str, wif: &str, mode: u32) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{wif}\n")).expect("key file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

/// Runs `scripts/deploy --no-build ARGS` (the test built the WASM already).
fn deploy(args: &[&str]) -> Output {
    let root = localnet::repo_root();
    Command::new(root.join("scripts/deploy"))
        .arg("--no-build")
        .args(args)
        .current_dir(&root)
        .output()
        .expect("running scripts/deploy")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ram_used(net: &Localnet, account: &str) -> i64 {
    net.limits(account).expect("limits").ram_usage
}

fn code_hash(net: &Localnet, account: &str) -> String {
    let out = net.cleos(&["get", "code", account]).expect("get code");
    out.lines()
        .find_map(|l| l.strip_prefix("code hash: "))
        .unwrap_or("")
        .trim()
        .to_string()
}

#[test]
fn deploy_to_a_metered_chain_by_url_and_account_then_a_worker_runs_on_it() {
    let wasm = localnet::contract_wasm().expect("contract WASM");
    let wasm_bytes = std::fs::metadata(&wasm).expect("wasm").len();
    let cluster = Cluster::boot(2).expect("two producers with eosio.system");
    let net = &cluster.genesis;
    // The public endpoint the user is given: not the node that holds the harness's wallet.
    let url = cluster.urls()[1].clone();
    let dir = tempfile::tempdir().expect("temp dir");

    // The contract account, as a user makes it on a public chain: its own key, RAM bought
    // and CPU/NET staked by its creator. Too little RAM for the contract, at first.
    let (wif, public) = new_key(net);
    assert_ne!(public, localnet::DEV_PUBLIC_KEY);
    let ram = SMALL_RAM.to_string();
    net.cleos(&[
        "system",
        "newaccount",
        "eosio",
        CONTRACT,
        &public,
        &public,
        "--stake-net",
        "1000000.0000 SYS",
        "--stake-cpu",
        "1000000.0000 SYS",
        "--buy-ram-bytes",
        &ram,
    ])
    .expect("newaccount");
    net.wait_account(CONTRACT).expect("account in a block");
    let fresh = ram_used(net, CONTRACT);

    // Refusals before anything is sent, each naming its fix.
    let key = write_key(dir.path(), "contract.key", &wif, 0o600);
    let open = write_key(dir.path(), "open.key", &wif, 0o644);
    let with_key = |file: &Path, extra: &[&str]| {
        let file = file.display().to_string();
        let mut args = vec!["--url", url.as_str(), "--account", CONTRACT, "--key-file"];
        args.push(&file);
        args.extend_from_slice(extra);
        deploy(&args)
    };
    let out = with_key(&open, &[]);
    assert!(
        !out.status.success() && text(&out).contains("chmod 600"),
        "{}",
        text(&out)
    );
    let (other_wif, _) = new_key(net);
    let other = write_key(dir.path(), "other.key", &other_wif, 0o600);
    let out = with_key(&other, &[]);
    assert!(
        !out.status.success() && text(&out).contains("is not an active key of"),
        "{}",
        text(&out)
    );
    let out = deploy(&["--url", &url, "--account", CONTRACT, "--key", &wif]);
    assert!(
        !out.status.success() && text(&out).contains("never taken on the command line"),
        "{}",
        text(&out)
    );
    let out = with_key(&key, &[]);
    let said = text(&out);
    assert!(
        !out.status.success() && said.contains("system buyram") && said.contains("bytes of RAM"),
        "{said}"
    );
    assert_eq!(code_hash(net, CONTRACT), "0".repeat(64), "nothing deployed");
    assert_eq!(ram_used(net, CONTRACT), fresh, "no RAM spent by a refusal");

    // With the recommended RAM bought, the code and ABI first, then the token.
    net.buy_ram("eosio", CONTRACT, CONTRACT_RAM - SMALL_RAM)
        .expect("buyram");
    // The endpoint deploy reads may be a block behind the genesis node: wait until it holds
    // the bought RAM (the contract's resource row), so the deploy is judged on it.
    let public = NodeView { url: url.clone() };
    wait_within(Duration::from_secs(15), "the bought RAM", &[], || {
        let rows = public.table("eosio", CONTRACT, "userres").ok()?;
        let bytes = rows.first()?["ram_bytes"].as_u64()?;
        (bytes > 2 * SMALL_RAM).then_some(())
    });
    let out = with_key(&key, &["--no-token"]);
    assert!(out.status.success(), "{}", text(&out));
    let local_hash = {
        let out = Command::new("sha256sum").arg(&wasm).output().expect("sha");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string()
    };
    wait_within(Duration::from_secs(15), "the code on chain", &[], || {
        (code_hash(net, CONTRACT) == local_hash).then_some(())
    });
    let with_code = ram_used(net, CONTRACT);
    let out = with_key(&key, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("code already deployed"),
        "{}",
        text(&out)
    );
    let stat = wait_within(Duration::from_secs(15), "the token", &[], || {
        let rows = net.table(CONTRACT, "BIT", "stat").ok()?;
        (!rows.is_empty()).then_some(rows)
    });
    assert_eq!(stat.len(), 1, "token created");
    assert_eq!(stat[0]["issuer"], CONTRACT);
    let with_token = ram_used(net, CONTRACT);
    // Run again: nothing to do, nothing spent.
    let out = with_key(&key, &[]);
    assert!(
        out.status.success() && text(&out).contains("token BIT already exists"),
        "{}",
        text(&out)
    );
    assert_eq!(ram_used(net, CONTRACT), with_token);

    // A worker on the deployed contract: its own metered account, funded by the contract
    // account (the harness's wallet learns the contract key for this transfer only).
    let worker = "btworker1";
    net.create_metered_account(worker, &worker_resources())
        .expect("worker account");
    // The endpoint the worker uses may be a block behind the genesis node: wait until it
    // knows the account (its resource row), so the refusal below is about funds.
    wait_within(Duration::from_secs(15), "the worker's account", &[], || {
        (!public.table("eosio", worker, "userres").ok()?.is_empty()).then_some(())
    });
    // Not funded yet: the worker stops at subscribe and says what to do.
    let opts = WorkerOpts::new(worker, &url, CONTRACT);
    let mut unfunded = spawn(dir.path(), &opts, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = unfunded.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "an unfunded worker keeps running:\n{}",
            support::log_tail(&unfunded)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let said = support::log_tail(&unfunded);
    assert!(
        !status.success() && said.contains(&format!("transfer BIT to {worker}")),
        "{said}"
    );
    net.cleos(&["wallet", "import", "--private-key", &wif])
        .expect("import");
    let transfer = json!([CONTRACT, worker, "100.0000 BIT", "stake"]).to_string();
    net.push_action(CONTRACT, "transfer", &transfer, CONTRACT)
        .expect("funding the worker");
    // On the endpoint the worker uses (a block behind the genesis node at times).
    wait_within(Duration::from_secs(15), "the worker's balance", &[], || {
        (!public.table(CONTRACT, worker, "accounts").ok()?.is_empty()).then_some(())
    });
    let worker_before = ram_used(net, worker);
    let mut w = spawn(dir.path(), &opts, 1);
    let reader = StatusReader::new();
    wait_within(
        Duration::from_secs(150),
        "two confirmed emits",
        &[&w],
        || {
            let s = reader.status(&w)?;
            (num(&s, "emits_confirmed") >= 2).then_some(s)
        },
    );
    let rows = net
        .table(CONTRACT, CONTRACT, "metagraph")
        .expect("metagraph");
    assert!(
        rows.iter().any(|r| r["user"] == worker),
        "the worker is in the metagraph: {rows:?}"
    );
    let with_node = ram_used(net, CONTRACT);
    let worker_after = ram_used(net, worker);
    let status = support::stop(&mut w);
    assert!(status.success(), "worker exit {status}");
    let abi_packed = {
        let v: Value =
            serde_json::from_str(&net.cleos(&["get", "abi", CONTRACT]).expect("get abi"))
                .expect("abi json");
        v.to_string().len()
    };
    eprintln!(
        "RAM of {CONTRACT} (bytes): fresh account {fresh}; after setcode + setabi {with_code} \
         (+{}; WASM {wasm_bytes} bytes, ABI {abi_packed} bytes as JSON); after the token \
         (stat row + issuer balance) {with_token} (+{}); after one node subscribed and emitted \
         {with_node} (+{}). The node's own account: {worker_before} -> {worker_after} (+{}).",
        with_code - fresh,
        with_token - with_code,
        with_node - with_token,
        worker_after - worker_before,
    );
    assert!(with_code - fresh > wasm_bytes as i64, "setcode is charged");
}
