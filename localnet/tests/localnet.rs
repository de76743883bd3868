//! Starts a real nodeos and exercises the harness with the reference eosio.token contract.

use localnet::{reference_contract, Localnet, LocalnetError};

fn token_files() -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = reference_contract("eosio.token");
    (dir.join("eosio.token.wasm"), dir.join("eosio.token.abi"))
}

fn balance(net: &Localnet, owner: &str) -> String {
    let rows = net
        .table("eosio.token", owner, "accounts")
        .expect("accounts table");
    assert_eq!(rows.len(), 1, "{owner}: {rows:?}");
    rows[0]["balance"]
        .as_str()
        .expect("balance string")
        .to_string()
}

#[test]
fn token_lifecycle_on_a_fresh_chain() {
    let mut net = Localnet::start().expect("localnet starts");
    let dir = net.dir().to_path_buf();
    assert!(net.get_info().unwrap()["head_block_num"].as_u64().unwrap() >= 2);

    for name in ["eosio.token", "alice", "bob"] {
        net.create_account(name).expect("create account");
    }
    let (wasm, abi) = token_files();
    net.deploy_contract("eosio.token", &wasm, &abi)
        .expect("deploy");

    net.push_action(
        "eosio.token",
        "create",
        r#"["alice","1000000.0000 SYS"]"#,
        "eosio.token",
    )
    .expect("create");
    let trace = net
        .push_action(
            "eosio.token",
            "issue",
            r#"["alice","100.0000 SYS","m"]"#,
            "alice",
        )
        .expect("issue");
    assert!(
        trace["processed"]["receipt"]["cpu_usage_us"]
            .as_u64()
            .is_some(),
        "{trace}"
    );
    net.push_action(
        "eosio.token",
        "transfer",
        r#"["alice","bob","25.5000 SYS","hi"]"#,
        "alice",
    )
    .expect("transfer");
    // The same transfer twice in a row must not be refused as a duplicate transaction.
    net.push_action(
        "eosio.token",
        "transfer",
        r#"["alice","bob","25.5000 SYS","hi"]"#,
        "alice",
    )
    .expect("second identical transfer");

    assert_eq!(balance(&net, "alice"), "49.0000 SYS");
    assert_eq!(balance(&net, "bob"), "51.0000 SYS");
    let stat = net.table("eosio.token", "SYS", "stat").unwrap();
    assert_eq!(stat[0]["supply"], "100.0000 SYS");

    match net.push_action(
        "eosio.token",
        "transfer",
        r#"["bob","alice","99.0000 SYS",""]"#,
        "bob",
    ) {
        Err(LocalnetError::Rejected { message }) => assert_eq!(message, "overdrawn balance"),
        other => panic!("expected rejection, got {other:?}"),
    }
    match net.push_action(
        "eosio.token",
        "transfer",
        r#"["bob","alice","1.0000 SYS",""]"#,
        "alice",
    ) {
        Err(LocalnetError::Rejected { message }) => assert!(message.contains("bob"), "{message}"),
        other => panic!("expected missing-auth rejection, got {other:?}"),
    }

    let mut holders = net.table_scopes("eosio.token", "accounts").unwrap();
    holders.sort();
    assert_eq!(holders, ["alice", "bob"]);

    // Restarting nodeos keeps state, URL and wallet.
    let url = net.url.clone();
    net.restart_node().expect("restart");
    assert_eq!(net.url, url);
    assert_eq!(balance(&net, "bob"), "51.0000 SYS");
    net.push_action(
        "eosio.token",
        "transfer",
        r#"["bob","alice","1.0000 SYS",""]"#,
        "bob",
    )
    .expect("transfer after restart");
    assert_eq!(balance(&net, "alice"), "50.0000 SYS");

    let (nodeos, keosd) = net.pgids();
    drop(net);
    assert!(!dir.exists(), "temp dir removed on drop");
    assert!(
        !localnet_alive(nodeos) && !localnet_alive(keosd),
        "processes stopped on drop"
    );
}

fn localnet_alive(pgid: u32) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            std::fs::read_to_string(e.path().join("stat")).is_ok_and(|s| {
                let rest = s
                    .rsplit_once(')')
                    .map(|(_, r)| r.to_string())
                    .unwrap_or_default();
                let f: Vec<&str> = rest.split_whitespace().collect();
                f.len() > 2 && f[2] == pgid.to_string() && f[0] != "Z"
            })
        })
}

#[test]
fn batched_account_creation_and_paged_tables() {
    let net = Localnet::start().expect("localnet starts");
    let names: Vec<String> = (0..260).map(|i| format!("user{}", to_base5(i))).collect();
    net.create_accounts(&names).expect("batched accounts");
    for n in [&names[0], &names[137], &names[259]] {
        let out = net
            .cleos(&["get", "account", n, "-j"])
            .expect("account exists");
        assert!(
            out.contains(localnet::DEV_PUBLIC_KEY) || out.contains("PUB_K1_"),
            "{out}"
        );
    }
    // Re-creating an existing account is a chain rejection, not a silent success.
    assert!(matches!(
        net.create_accounts(&names[..1]),
        Err(LocalnetError::Rejected { .. })
    ));

    // Several balance rows in one scope, read in pages of 2.
    net.create_account("eosio.token").unwrap();
    let (wasm, abi) = token_files();
    net.deploy_contract("eosio.token", &wasm, &abi).unwrap();
    let issuer = &names[0];
    net.push_action(
        "eosio.token",
        "create",
        &format!(r#"["{issuer}","1000000.0000 SYS"]"#),
        "eosio.token",
    )
    .unwrap();
    let codes: Vec<String> = (0..5)
        .map(|i| format!("T{}", char::from(b'A' + i)))
        .collect();
    for code in &codes {
        net.push_action(
            "eosio.token",
            "create",
            &format!(r#"["{issuer}","1000.0000 {code}"]"#),
            "eosio.token",
        )
        .unwrap();
    }
    // The issuer's `accounts` scope holds one row per symbol.
    for code in &codes {
        net.push_action(
            "eosio.token",
            "issue",
            &format!(r#"["{issuer}","1.0000 {code}",""]"#),
            issuer,
        )
        .unwrap();
    }
    let rows = net
        .table_paged("eosio.token", issuer, "accounts", 2)
        .unwrap();
    let mut got: Vec<&str> = rows
        .iter()
        .map(|r| r["balance"].as_str().unwrap())
        .collect();
    got.sort_unstable();
    let mut want: Vec<String> = codes.iter().map(|c| format!("1.0000 {c}")).collect();
    want.sort_unstable();
    assert_eq!(got, want);
}

/// Digits 1-5 only, as EOSIO names allow.
fn to_base5(mut i: usize) -> String {
    let mut s = Vec::new();
    for _ in 0..4 {
        s.push(b'1' + (i % 5) as u8);
        i /= 5;
    }
    String::from_utf8(s).unwrap()
}
