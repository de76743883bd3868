//! Packs sample arguments of every action and a sample of every table row two ways, through
//! the ABI file (as cleos/nodeos would) and through the contract's own codec, and requires
//! identical bytes; the codec must also decode the ABI's bytes back to the same value.

use bittensor_abi::model::abi_path;
use bittensor_abi::pack::pack;
use bittensor_abi::{load_abi, Abi};
use bittensor_contract::abi::AbiStruct;
use bittensor_contract::asset::Asset;
use bittensor_contract::codec::{from_bytes, to_bytes, Pack};
use bittensor_contract::metagraph::{
    Departure, Emit, Evict, Global, Node, Residual, SetParams, Settle, Subscribe, Unsubscribe, U128,
};
use bittensor_contract::name::Name;
use bittensor_contract::symbol::Symbol;
use bittensor_contract::token::{
    Account, Close, Create, CurrencyStats, Issue, Open, Retire, Transfer,
};
use emission::Edge;
use serde_json::{json, Value};

const BIT: Symbol = Symbol::constant(4, "BIT");

fn bit(amount: i64) -> Asset {
    Asset {
        amount,
        symbol: BIT,
    }
}

fn n(s: &str) -> Name {
    Name::new(s)
}

fn same<T: Pack + AbiStruct + PartialEq + std::fmt::Debug>(abi: &Abi, json: Value, typed: T) {
    let mut via_abi = Vec::new();
    pack(abi, T::NAME, &json, &mut via_abi).unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
    assert_eq!(
        via_abi,
        to_bytes(&typed),
        "{}: ABI and codec bytes differ",
        T::NAME
    );
    assert_eq!(
        from_bytes::<T>(&via_abi).expect("codec decodes"),
        typed,
        "{}",
        T::NAME
    );
}

#[test]
fn every_action_and_row_packs_identically_through_the_abi_and_the_codec() {
    let abi = load_abi(&abi_path()).expect("ABI parses");
    same(
        &abi,
        json!(["issuer", "1000.0000 BIT"]),
        Create {
            issuer: n("issuer"),
            maximum_supply: bit(10_000_000),
        },
    );
    same(
        &abi,
        json!(["issuer", "0.0001 BIT", "m"]),
        Issue {
            to: n("issuer"),
            quantity: bit(1),
            memo: "m".into(),
        },
    );
    same(
        &abi,
        json!(["-2.5000 BIT", ""]),
        Retire {
            quantity: bit(-25_000),
            memo: String::new(),
        },
    );
    same(
        &abi,
        json!({"from": "alice", "to": "bob.x", "quantity": "1.2345 BIT", "memo": "héllo"}),
        Transfer {
            from: n("alice"),
            to: n("bob.x"),
            quantity: bit(12_345),
            memo: "héllo".into(),
        },
    );
    same(
        &abi,
        json!(["carol", "4,BIT", "alice"]),
        Open {
            owner: n("carol"),
            symbol: BIT,
            ram_payer: n("alice"),
        },
    );
    same(
        &abi,
        json!(["carol", "4,BIT"]),
        Close {
            owner: n("carol"),
            symbol: BIT,
        },
    );
    same(
        &abi,
        json!(["alice", "10.0.0.1", 65535, "10.0000 BIT"]),
        Subscribe {
            user: n("alice"),
            address: "10.0.0.1".into(),
            port: 65_535,
            stake: bit(100_000),
        },
    );
    same(&abi, json!(["alice"]), Unsubscribe { user: n("alice") });
    let edges = vec![
        Edge {
            to: n("alice"),
            weight: 600_000,
        },
        Edge {
            to: n("bob"),
            weight: 400_000,
        },
    ];
    same(
        &abi,
        json!({"user": "alice", "edges": [{"to": "alice", "weight": 600000}, {"to": "bob", "weight": 400000}]}),
        Emit {
            user: n("alice"),
            edges: edges.clone(),
        },
    );
    same(
        &abi,
        json!([10000, "18446744073709551615", 1000000, 1209600]),
        SetParams {
            emission_rate: 10_000,
            min_stake: u64::MAX,
            max_self_weight: 1_000_000,
            max_idle: 1_209_600,
        },
    );
    same(&abi, json!(["alice"]), Settle { user: n("alice") });
    same(&abi, json!({"user": "bob"}), Evict { user: n("bob") });
    same(
        &abi,
        json!(["5.0000 BIT"]),
        Account {
            balance: bit(50_000),
        },
    );
    same(
        &abi,
        json!(["1.0000 BIT", "9.0000 BIT", "issuer"]),
        CurrencyStats {
            supply: bit(10_000),
            max_supply: bit(90_000),
            issuer: n("issuer"),
        },
    );
    same(
        &abi,
        json!(["alice", "h", 1, 7, 3591248436u64, "340282366920938463463374607431768211455", [{"to": "alice", "weight": 600000}, {"to": "bob", "weight": 400000}], 12, "5", "1180591620717411303424"]),
        Node {
            user: n("alice"),
            address: "h".into(),
            port: 1,
            stake: 7,
            last_emit: 3_591_248_436,
            shares: U128(u128::MAX),
            edges,
            seq: 12,
            lump_at: U128(5),
            lump_shares_at: U128(1 << 70),
        },
    );
    same(
        &abi,
        json!(["bob", 42, "18446744073709551617", 7]),
        Residual {
            user: n("bob"),
            residual: 42,
            shares: U128((1 << 64) + 1),
            pushed: 7,
        },
    );
    same(
        &abi,
        json!([
            1,
            2,
            3,
            4,
            "18446744073709551616",
            6,
            7,
            8,
            9,
            10,
            "4,BIT",
            11,
            12,
            13,
            14,
            15,
            16,
            17,
            "18",
            "1267650600228229401496703205376"
        ]),
        Global {
            total_stake: 1,
            outstanding: 2,
            minted: 3,
            unsettled: 4,
            total_shares: U128(1 << 64),
            acc_block: 6,
            emission_rate: 7,
            min_stake: 8,
            max_self_weight: 9,
            max_idle: 10,
            symbol: BIT,
            change_seq: 11,
            redirected: 12,
            next_emission_rate: 13,
            next_min_stake: 14,
            next_max_self_weight: 15,
            next_max_idle: 16,
            next_at: 17,
            lump_per_share: U128(18),
            lump_shares_per_share: U128(1 << 100),
        },
    );
    same(
        &abi,
        json!(["carol", 13]),
        Departure {
            user: n("carol"),
            seq: 13,
        },
    );
}
