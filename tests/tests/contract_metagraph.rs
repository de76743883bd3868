//! The metagraph actions on a real chain: success paths and every failure message
//! (auth, bad edge sets including 65 and 10 000 edges, overdraw, double unsubscribe, unknown
//! symbol, stake below minimum), with the conservation invariant checked after each step.

mod contract_support;

use bittensor_contract::asset::Asset;
use bittensor_contract::codec::to_bytes;
use bittensor_contract::metagraph::{Emit, SetParams, Settle, Subscribe, Unsubscribe};
use bittensor_contract::name::Name;
use bittensor_contract::symbol::Symbol;
use contract_support::{as_u64, asset, block_slot, Chain, UNIT};
use serde_json::{json, Value};

const CONTRACT: &str = bittensor_tests::CONTRACT_ACCOUNT;
const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];

fn edges(list: &[(&str, u32)]) -> Value {
    json!(list
        .iter()
        .map(|(to, weight)| json!({"to": to, "weight": weight}))
        .collect::<Vec<_>>())
}

fn node(chain: &Chain, user: &str) -> Option<Value> {
    chain
        .rows(CONTRACT, "metagraph")
        .into_iter()
        .find(|r| r["user"] == user)
}

/// Pushes `emit` for `user` with `n` edges (self first) through a JSON file: 10 000 edges do
/// not fit in one command-line argument.
fn emit_many(chain: &Chain, user: &str, n: usize) -> String {
    let mut list = vec![json!({"to": user, "weight": 1_000_000 - (n as u32 - 1)})];
    for i in 1..n {
        // Distinct valid names: `a` + base-5 digits of i spelled with 1..5.
        let mut name = String::from("x");
        let mut k = i;
        while k > 0 {
            name.push((b'1' + (k % 5) as u8) as char);
            k /= 5;
        }
        list.push(json!({"to": name, "weight": 1}));
    }
    let file = chain.net.dir().join(format!("emit-{n}.json"));
    std::fs::write(&file, json!({"user": user, "edges": list}).to_string()).expect("write args");
    let file = file.display().to_string();
    let permission = format!("{user}@active");
    match chain.net.cleos(&[
        "push",
        "action",
        CONTRACT,
        "emit",
        &file,
        "-p",
        &permission,
        "-j",
    ]) {
        Ok(out) => panic!("emit with {n} edges accepted: {out}"),
        Err(localnet::LocalnetError::Rejected { message }) => message,
        Err(other) => panic!("emit with {n} edges: harness failure: {other}"),
    }
}

/// `cleos convert pack_action_data` (nodeos' ABI serializer with the deployed ABI) as hex.
fn pack_with_cleos(chain: &Chain, action: &str, args: &Value) -> String {
    let out = chain
        .net
        .cleos(&[
            "convert",
            "pack_action_data",
            CONTRACT,
            action,
            &args.to_string(),
        ])
        .expect("cleos convert pack_action_data");
    out.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or_default()
        .to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The deployed ABI and the contract's codec produce the same bytes for the metagraph actions.
fn assert_cleos_packs_like_the_codec(chain: &Chain) {
    let bit = |amount| Asset {
        amount,
        symbol: Symbol::constant(4, "BIT"),
    };
    let subscribe = Subscribe {
        user: Name::new("alice"),
        address: "127.0.0.1".into(),
        port: 9100,
        stake: bit(123_456),
    };
    let json = json!(["alice", "127.0.0.1", 9100, "12.3456 BIT"]);
    assert_eq!(
        pack_with_cleos(chain, "subscribe", &json),
        hex(&to_bytes(&subscribe))
    );
    let emit = Emit {
        user: Name::new("alice"),
        edges: vec![
            emission::Edge {
                to: Name::new("alice"),
                weight: 600_000,
            },
            emission::Edge {
                to: Name::new("bob"),
                weight: 400_000,
            },
        ],
    };
    let json = json!({"user": "alice", "edges": edges(&[("alice", 600_000), ("bob", 400_000)])});
    assert_eq!(pack_with_cleos(chain, "emit", &json), hex(&to_bytes(&emit)));
    let unsubscribe = Unsubscribe {
        user: Name::new("carol"),
    };
    assert_eq!(
        pack_with_cleos(chain, "unsubscribe", &json!(["carol"])),
        hex(&to_bytes(&unsubscribe))
    );
    let params = SetParams {
        emission_rate: 20_000,
        min_stake: 50_000,
        max_self_weight: 900_000,
        max_idle: 640,
    };
    assert_eq!(
        pack_with_cleos(chain, "setparams", &json!([20_000, 50_000, 900_000, 640])),
        hex(&to_bytes(&params))
    );
    let settle = Settle {
        user: Name::new("carol"),
    };
    assert_eq!(
        pack_with_cleos(chain, "settle", &json!(["carol"])),
        hex(&to_bytes(&settle))
    );
}

#[test]
fn metagraph_actions_succeed_and_fail_as_specified() {
    let chain = Chain::start(&USERS);
    assert_cleos_packs_like_the_codec(&chain);
    let everyone: Vec<&str> = USERS.to_vec();
    chain.fails(
        "subscribe",
        json!(["alice", "127.0.0.1", 9000, asset(UNIT)]),
        "alice",
        "token not created yet",
    );
    chain.create_and_fund(&USERS[..3], 1_000 * UNIT);
    chain.assert_conserved(&everyone);

    // subscribe
    let sub = |user: &str, stake: i64| json!([user, "127.0.0.1", 9000, asset(stake)]);
    chain.fails(
        "subscribe",
        sub("alice", 10 * UNIT),
        "bob",
        "missing authority of alice",
    );
    chain.fails(
        "subscribe",
        sub("alice", UNIT - 1),
        "alice",
        "stake below minimum stake",
    );
    chain.fails(
        "subscribe",
        sub("alice", 1_000 * UNIT + 1),
        "alice",
        "overdrawn balance",
    );
    chain.fails(
        "subscribe",
        sub("dave", 10 * UNIT),
        "dave",
        "no balance object found",
    );
    chain.fails(
        "subscribe",
        json!(["alice", "127.0.0.1", 9000, "10.0000 XYZ"]),
        "alice",
        "stake symbol does not match the staked token",
    );
    chain.fails(
        "subscribe",
        json!(["alice", "127.0.0.1", 9000, "10.000 BIT"]),
        "alice",
        "stake symbol does not match the staked token",
    );
    chain.fails(
        "subscribe",
        sub("alice", -UNIT),
        "alice",
        "stake must not be negative",
    );
    for user in ["alice", "bob", "carol"] {
        chain.ok("subscribe", sub(user, 100 * UNIT), user);
        chain.assert_conserved(&everyone);
    }
    assert_eq!(chain.balance("alice"), 900 * UNIT);
    let alice = node(&chain, "alice").expect("alice subscribed");
    assert_eq!(alice["edges"], edges(&[("alice", 1_000_000)]));
    assert_eq!(as_u64(&alice["stake"]), 100 * UNIT as u64);
    // Re-subscribe: new endpoint, more stake.
    let resubscribed = chain.ok(
        "subscribe",
        json!(["alice", "127.0.0.1", 9100, asset(5 * UNIT)]),
        "alice",
    );
    let alice = node(&chain, "alice").expect("alice subscribed");
    assert_eq!(alice["address"], "127.0.0.1");
    assert_eq!(alice["port"], 9100);
    assert!(as_u64(&alice["stake"]) >= 105 * UNIT as u64);
    chain.assert_conserved(&everyone);

    // emit: every kind of bad edge set
    let emit = |user: &str, list: &[(&str, u32)]| json!({"user": user, "edges": edges(list)});
    chain.fails(
        "emit",
        emit("alice", &[("alice", 1_000_000)]),
        "bob",
        "missing authority of alice",
    );
    chain.fails(
        "emit",
        emit("dave", &[("dave", 1_000_000)]),
        "dave",
        "user not subscribed",
    );
    chain.fails("emit", emit("alice", &[]), "alice", "edge set is empty");
    chain.fails(
        "emit",
        emit("alice", &[("bob", 1_000_000)]),
        "alice",
        "edge set must start with the caller",
    );
    chain.fails(
        "emit",
        emit(
            "alice",
            &[("alice", 500_000), ("bob", 250_000), ("bob", 250_000)],
        ),
        "alice",
        "duplicate edge target",
    );
    chain.fails(
        "emit",
        emit("alice", &[("alice", 500_000), ("dave", 500_000)]),
        "alice",
        "edge target not subscribed",
    );
    chain.fails(
        "emit",
        emit("alice", &[("alice", 500_000), ("bob", 400_000)]),
        "alice",
        "weights must sum to 1000000",
    );
    chain.fails(
        "emit",
        emit("alice", &[("alice", 9_999), ("bob", 990_001)]),
        "alice",
        "self weight below minimum 10000",
    );
    assert!(emit_many(&chain, "alice", 65).contains("too many edges: at most 64"));
    assert!(emit_many(&chain, "alice", 10_000).contains("too many edges: at most 64"));
    chain.assert_conserved(&everyone);

    // emit: success, the residual moves to the neighbours (a slot after alice's stake last
    // changed, so something has accrued to mint)
    chain.wait_head_slot(block_slot(&resubscribed));
    let alice_emit = chain.ok(
        "emit",
        emit(
            "alice",
            &[("alice", 600_000), ("bob", 300_000), ("carol", 100_000)],
        ),
        "alice",
    );
    chain.assert_conserved(&everyone);
    let alice = node(&chain, "alice").expect("alice subscribed");
    assert_eq!(
        alice["edges"],
        edges(&[("alice", 600_000), ("bob", 300_000), ("carol", 100_000)])
    );
    assert!(as_u64(&chain.global()["minted"]) > 0);
    chain.ok(
        "emit",
        emit("bob", &[("bob", 10_000), ("alice", 990_000)]),
        "bob",
    );
    chain.assert_conserved(&everyone);

    // unsubscribe: stake (and settled emission) back to the balance, once
    let before = chain.balance("carol");
    let stake = as_u64(&node(&chain, "carol").expect("carol")["stake"]);
    chain.fails(
        "unsubscribe",
        json!(["carol"]),
        "alice",
        "missing authority of carol",
    );
    chain.ok("unsubscribe", json!(["carol"]), "carol");
    assert!(node(&chain, "carol").is_none());
    assert!(chain.balance("carol") >= before + stake as i64);
    chain.assert_conserved(&everyone);
    chain.fails(
        "unsubscribe",
        json!(["carol"]),
        "carol",
        "user not subscribed",
    );
    // alice's stored edges point at carol, who left: that share goes to the other holder
    // (bob), never back to alice. (A later slot than her emit, or she has accrued nothing.)
    chain.wait_head_slot(block_slot(&alice_emit));
    chain.ok("unsubscribe", json!(["alice"]), "alice");
    chain.assert_conserved(&everyone);

    // setparams: only the contract; unknown actions are refused
    chain.fails(
        "setparams",
        json!([1, 1, 1_000_000, 1_000]),
        "alice",
        "missing authority of bittensor",
    );
    chain.fails(
        "setparams",
        json!([20_000, 0, 1_000_000, 1_000]),
        CONTRACT,
        "min_stake must be between 1 and 2^62",
    );
    assert!(as_u64(&chain.global()["redirected"]) > 0);
    // bob is still subscribed: the change is announced, not applied.
    chain.ok(
        "setparams",
        json!([20_000, 5 * UNIT, 900_000, 1_000]),
        CONTRACT,
    );
    let g = chain.global();
    assert_eq!(as_u64(&g["emission_rate"]), 10_000);
    assert_eq!(as_u64(&g["next_emission_rate"]), 20_000);
    assert!(as_u64(&g["next_at"]) > 0);
    // With no node subscribed a change applies at once.
    chain.ok("unsubscribe", json!(["bob"]), "bob");
    chain.ok(
        "setparams",
        json!([20_000, 5 * UNIT, 900_000, 1_000]),
        CONTRACT,
    );
    let g = chain.global();
    assert_eq!(as_u64(&g["next_at"]), 0);
    assert_eq!(as_u64(&g["emission_rate"]), 20_000);
    assert_eq!(as_u64(&g["min_stake"]), 5 * UNIT as u64);
    assert_eq!(as_u64(&g["max_self_weight"]), 900_000);
    assert_eq!(as_u64(&g["max_idle"]), 1_000);
    chain.assert_conserved(&everyone);
}
