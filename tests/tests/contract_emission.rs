//! The 10-node emission scenario: ten funded nodes subscribe, emit with changing edge sets,
//! one leaves and one tops up; every transaction's block slot (from its trace) is replayed in
//! `emission::ledger::Ledger`, and after every step the on-chain stakes, residuals, edge
//! sets, clocks, shares, total_stake, total_shares, outstanding, minted and unsettled equal
//! the ledger's EXACTLY (both run `emission::settlement`), and
//! `stat.supply == sum(balances) + total_stake + outstanding` holds on chain.

mod contract_support;

use contract_support::{as_u128, as_u64, asset, block_slot, Chain, UNIT};
use emission::fixed::{MIN_SELF_WEIGHT, WEIGHT_ONE};
use emission::ledger::Ledger;
use emission::Edge;
use serde_json::{json, Value};

const CONTRACT: &str = bittensor_tests::CONTRACT_ACCOUNT;
const NODES: [&str; 10] = [
    "nodea", "nodeb", "nodec", "noded", "nodee", "nodef", "nodeg", "nodeh", "nodei", "nodej",
];
const FUNDS: i64 = 1_000 * UNIT;

/// Deterministic xorshift64 (the scenario is fixed by its seed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A valid edge set for `user`: itself first, then up to 4 other subscribed nodes.
fn edge_set(rng: &mut Rng, user: &str, subscribed: &[String]) -> Vec<Edge<String>> {
    let mut set = vec![Edge {
        to: user.to_string(),
        weight: 0,
    }];
    for other in subscribed {
        if other != user && set.len() < 5 && rng.below(3) == 0 {
            set.push(Edge {
                to: other.clone(),
                weight: 0,
            });
        }
    }
    let mut left = WEIGHT_ONE - MIN_SELF_WEIGHT;
    for edge in set.iter_mut().skip(1) {
        edge.weight = rng.below(left as u64 / 2 + 1) as u32;
        left -= edge.weight;
    }
    set[0].weight = MIN_SELF_WEIGHT + left;
    set
}

fn edges_json(set: &[Edge<String>]) -> Value {
    json!(set
        .iter()
        .map(|e| json!({"to": e.to, "weight": e.weight}))
        .collect::<Vec<_>>())
}

/// The chain's metagraph and residuals equal the ledger's nodes, and the globals its counters.
fn assert_matches(chain: &Chain, ledger: &Ledger<String>, step: &str) {
    let g = chain.global();
    assert_eq!(
        as_u64(&g["total_stake"]),
        ledger.total_stake(),
        "{step}: total_stake"
    );
    assert_eq!(
        as_u64(&g["outstanding"]),
        ledger.outstanding(),
        "{step}: outstanding"
    );
    assert_eq!(as_u64(&g["minted"]), ledger.minted(), "{step}: minted");
    assert_eq!(
        as_u64(&g["unsettled"]),
        ledger.unsettled(),
        "{step}: unsettled"
    );
    assert_eq!(
        as_u128(&g["total_shares"]),
        ledger.pool().total_shares,
        "{step}: total_shares"
    );
    let rows = chain.rows(CONTRACT, "metagraph");
    assert_eq!(rows.len(), ledger.len(), "{step}: node count");
    for row in &rows {
        let user = row["user"].as_str().expect("user").to_string();
        let node = ledger
            .node(&user)
            .unwrap_or_else(|| panic!("{step}: {user} not in ledger"));
        assert_eq!(as_u64(&row["stake"]), node.stake, "{step}: stake of {user}");
        assert_eq!(
            as_u64(&row["last_emit"]),
            node.last_emit,
            "{step}: last_emit of {user}"
        );
        assert_eq!(
            as_u128(&row["shares"]),
            node.shares,
            "{step}: shares of {user}"
        );
        assert_eq!(
            row["edges"],
            edges_json(&node.edges),
            "{step}: edges of {user}"
        );
    }
    let residuals = chain.rows(CONTRACT, "residuals");
    assert_eq!(residuals.len(), ledger.len(), "{step}: residual rows");
    for row in &residuals {
        let user = row["user"].as_str().expect("user").to_string();
        assert_eq!(
            Some(as_u64(&row["residual"])),
            ledger.residual(&user),
            "{step}: residual of {user}"
        );
    }
    ledger
        .check()
        .unwrap_or_else(|e| panic!("{step}: ledger invariant {e:?}"));
    chain.assert_conserved(&NODES);
}

/// Subscribes (or tops up) `user` with `stake` at `(address, port)`, on chain and in the
/// ledger at the block slot the chain used.
fn subscribe(
    chain: &Chain,
    ledger: &mut Ledger<String>,
    user: &str,
    (address, port): (&str, usize),
    stake: i64,
) {
    let trace = chain.ok(
        "subscribe",
        json!([user, address, port, asset(stake)]),
        user,
    );
    ledger
        .subscribe(user.to_string(), stake as u64, block_slot(&trace))
        .unwrap_or_else(|e| panic!("ledger refused {user}'s subscribe the chain accepted: {e:?}"));
}

#[test]
fn ten_node_emission_matches_the_ledger_exactly() {
    let chain = Chain::start(&NODES);
    chain.create_and_fund(&NODES, FUNDS);
    let g = chain.global();
    let mut ledger: Ledger<String> =
        Ledger::new(as_u64(&g["emission_rate"]), as_u64(&g["min_stake"]));
    let mut rng = Rng(0x5eed_2026_b17e_u64);
    let mut deposited = vec![0i64; NODES.len()];
    let mut returned = vec![0i64; NODES.len()];
    let mut cpu = Vec::new();

    for (i, user) in NODES.iter().enumerate() {
        let stake = (10 + 10 * i as i64) * UNIT;
        subscribe(&chain, &mut ledger, user, ("127.0.0.1", 9000 + i), stake);
        deposited[i] += stake;
        assert_matches(&chain, &ledger, &format!("subscribe {user}"));
    }

    for round in 0..4 {
        for (i, user) in NODES.iter().enumerate() {
            let id = user.to_string();
            if round == 2 && i == 3 {
                let trace = chain.ok("unsubscribe", json!([user]), user);
                returned[i] += ledger
                    .unsubscribe(&id, block_slot(&trace))
                    .expect("ledger unsubscribe") as i64;
                assert_matches(
                    &chain,
                    &ledger,
                    &format!("round {round} unsubscribe {user}"),
                );
                continue;
            }
            if round == 3 && i == 3 {
                subscribe(&chain, &mut ledger, user, ("127.0.0.4", 9003), 50 * UNIT);
                deposited[i] += 50 * UNIT;
                assert_matches(
                    &chain,
                    &ledger,
                    &format!("round {round} resubscribe {user}"),
                );
                continue;
            }
            if round == 1 && i == 6 {
                // Subscribing again tops the stake up.
                subscribe(&chain, &mut ledger, user, ("127.0.0.7", 9006), 7 * UNIT);
                deposited[i] += 7 * UNIT;
            }
            if !ledger.is_subscribed(&id) {
                continue;
            }
            if round == 2 && i == 5 {
                // Another account may not settle a live node; the node itself may.
                chain.fails(
                    "settle",
                    json!([user]),
                    NODES[0],
                    "another account may settle a node only after",
                );
                let trace = chain.ok("settle", json!([user]), user);
                ledger
                    .settle(&id, block_slot(&trace))
                    .expect("ledger settles what the chain settled");
                assert_matches(&chain, &ledger, &format!("round {round} settle {user}"));
            }
            let subscribed: Vec<String> = ledger.nodes().map(|(id, _)| id.clone()).collect();
            let set = edge_set(&mut rng, user, &subscribed);
            // The emit settles along the set stored before it (the one in force).
            let in_force = ledger.edges(&id).map_or(0, <[_]>::len);
            let trace = chain.ok(
                "emit",
                json!({"user": user, "edges": edges_json(&set)}),
                user,
            );
            cpu.push((
                set.len(),
                trace["processed"]["receipt"]["cpu_usage_us"].clone(),
            ));
            let report = ledger
                .emit(&id, &set, block_slot(&trace))
                .expect("ledger accepts what the chain accepted");
            assert_eq!(report.edge_visits, in_force);
            assert_matches(&chain, &ledger, &format!("round {round} emit {user}"));
        }
    }

    // Balances: funding minus stakes moved in plus stakes (with emission) returned.
    for (i, user) in NODES.iter().enumerate() {
        assert_eq!(
            chain.balance(user),
            FUNDS - deposited[i] + returned[i],
            "balance of {user}"
        );
    }
    eprintln!("emit (edges, billed cpu_usage_us): {cpu:?}");
    assert!(ledger.minted() > 0, "emission happened");
    assert!(returned[3] > 40 * UNIT, "the leaver got its stake back");
}
