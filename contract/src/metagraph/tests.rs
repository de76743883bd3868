//! Metagraph actions on the in-memory chain: every failure message, and a pseudo-random action
//! sequence replayed in `emission::ledger::Ledger`, whose state must match the tables exactly.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use emission::fixed::WEIGHT_ONE;
use emission::ledger::Ledger;
use emission::Edge;

use crate::codec::from_bytes;
use crate::host::mock::MockChain;
use crate::metagraph::state::GLOBAL_PK;
use crate::metagraph::{
    Emit, Evict, Global, Node, Residual, SetParams, Settle, Subscribe, Unsubscribe,
};
use crate::name::Name;
use crate::symbol::Symbol;
use crate::table::{self, Row};
use crate::test_support::{bit, run, BIT};
use crate::token::{Account, Create, CurrencyStats, Issue, Transfer};

pub(super) const USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];

/// A chain with the token created and each user holding 1000.0000 BIT.
pub(super) fn funded() -> MockChain {
    let mut chain = MockChain::new("bittensor", &USERS, 100);
    let create = Create {
        issuer: Name::new("bittensor"),
        maximum_supply: bit(1 << 60),
    };
    run(&mut chain, "bittensor", "create", create).unwrap();
    let issue = Issue {
        to: Name::new("bittensor"),
        quantity: bit(100_000_000),
        memo: String::new(),
    };
    run(&mut chain, "bittensor", "issue", issue).unwrap();
    for user in USERS {
        let transfer = Transfer {
            from: Name::new("bittensor"),
            to: Name::new(user),
            quantity: bit(10_000_000),
            memo: String::new(),
        };
        run(&mut chain, "bittensor", "transfer", transfer).unwrap();
    }
    chain
}

pub(super) fn subscribe(user: &str, stake: i64) -> Subscribe {
    Subscribe {
        user: Name::new(user),
        address: "127.0.0.1".into(),
        port: 9000,
        stake: bit(stake),
    }
}

pub(super) fn emit(user: &str, edges: &[(&str, u32)]) -> Emit {
    Emit {
        user: Name::new(user),
        edges: edges
            .iter()
            .map(|(to, weight)| Edge {
                to: Name::new(to),
                weight: *weight,
            })
            .collect(),
    }
}

pub(super) fn global(chain: &MockChain) -> Global {
    table::find::<Global>(chain, chain.receiver.0, GLOBAL_PK)
        .unwrap()
        .unwrap()
}

/// All rows of one table (the mock can list them; the contract never does).
pub(super) fn rows<T: Row>(chain: &MockChain) -> Vec<T> {
    chain
        .rows
        .iter()
        .filter(|(id, _)| id.table == T::TABLE)
        .map(|(_, row)| from_bytes(&row.data).unwrap())
        .collect()
}

/// `stat.supply == sum(balances) + total_stake + outstanding`, and the sums behind the counters.
pub(super) fn assert_conserved(chain: &MockChain) {
    let g = global(chain);
    let supply = rows::<CurrencyStats>(chain)[0].supply.amount as u128;
    let balances: u128 = rows::<Account>(chain)
        .iter()
        .map(|a| a.balance.amount as u128)
        .sum();
    assert_eq!(
        supply,
        balances + g.total_stake as u128 + g.outstanding as u128
    );
    let stakes: u64 = rows::<Node>(chain).iter().map(|n| n.stake).sum();
    let residuals: u64 = rows::<Residual>(chain).iter().map(|r| r.residual).sum();
    assert_eq!(stakes, g.total_stake);
    assert_eq!(residuals, g.outstanding);
}

#[test]
fn subscribe_moves_stake_and_rejects_bad_requests() {
    let mut chain = funded();
    run(&mut chain, "alice", "subscribe", subscribe("alice", 20_000)).unwrap();
    let node = table::find::<Node>(&chain, chain.receiver.0, Name::new("alice").0)
        .unwrap()
        .unwrap();
    assert_eq!(node.stake, 20_000);
    assert_eq!(node.last_emit, 100);
    assert_eq!(
        node.edges,
        vec![Edge {
            to: Name::new("alice"),
            weight: WEIGHT_ONE
        }]
    );
    assert_eq!(global(&chain).total_stake, 20_000);
    // Top-up with zero stake updates the endpoint only.
    let mut again = subscribe("alice", 0);
    again.port = 9001;
    run(&mut chain, "alice", "subscribe", again).unwrap();
    assert_eq!(global(&chain).total_stake, 20_000);

    let mut other = subscribe("bob", 20_000);
    other.stake.symbol = Symbol::constant(4, "XYZ");
    let failures = [
        (
            "alice",
            subscribe("bob", 20_000),
            "missing authority of bob",
        ),
        ("bob", subscribe("bob", 9_999), "stake below minimum stake"),
        ("bob", subscribe("bob", -1), "stake must not be negative"),
        ("bob", subscribe("bob", 10_000_001), "overdrawn balance"),
        ("bob", other, "stake symbol does not match the staked token"),
    ];
    for (signer, args, message) in failures {
        assert_eq!(
            run(&mut chain, signer, "subscribe", args).unwrap_err(),
            message
        );
    }
    let mut long = subscribe("bob", 20_000);
    long.address = "a".repeat(129);
    assert_eq!(
        run(&mut chain, "bob", "subscribe", long).unwrap_err(),
        "address longer than 128 bytes"
    );
    assert_conserved(&chain);
}

#[test]
fn metagraph_needs_a_token_and_setparams_needs_the_contract() {
    let mut chain = MockChain::new("bittensor", &USERS, 1);
    assert_eq!(
        run(&mut chain, "alice", "subscribe", subscribe("alice", 1)).unwrap_err(),
        "token not created yet"
    );
    let mut chain = funded();
    let params = SetParams {
        emission_rate: 7,
        min_stake: 1,
        max_self_weight: 900_000,
        max_idle: 1_000,
    };
    assert_eq!(
        run(&mut chain, "alice", "setparams", params.clone()).unwrap_err(),
        "missing authority of bittensor"
    );
    let bounds = [
        (
            SetParams {
                emission_rate: emission::params::MAX_EMISSION_RATE + 1,
                ..params.clone()
            },
            "emission_rate above 1000000000000",
        ),
        (
            SetParams {
                min_stake: 0,
                ..params.clone()
            },
            "min_stake must be between 1 and 2^62",
        ),
        (
            SetParams {
                max_self_weight: 9_999,
                ..params.clone()
            },
            "max_self_weight must be between 10000 and 1000000",
        ),
        (
            SetParams {
                max_idle: 639,
                ..params.clone()
            },
            "max_idle below 640 blocks",
        ),
    ];
    for (bad, message) in bounds {
        assert_eq!(
            run(&mut chain, "bittensor", "setparams", bad).unwrap_err(),
            message
        );
    }
    run(&mut chain, "bittensor", "setparams", params).unwrap();
    let g = global(&chain);
    assert_eq!((g.emission_rate, g.min_stake), (7, 1));
    assert_eq!((g.max_self_weight, g.max_idle), (900_000, 1_000));
    run(&mut chain, "alice", "subscribe", subscribe("alice", 1)).unwrap();
    assert_eq!(
        run(
            &mut chain,
            "alice",
            "emit",
            emit("alice", &[("alice", WEIGHT_ONE)])
        )
        .unwrap_err(),
        "self weight above max_self_weight"
    );
}

#[test]
fn setparams_is_announced_and_never_retroactive() {
    let mut chain = funded();
    run(&mut chain, "alice", "subscribe", subscribe("alice", 20_000)).unwrap();
    chain.now_us += 10 * 500_000;
    let doubled = SetParams {
        emission_rate: 20_000,
        min_stake: 10_000,
        max_self_weight: WEIGHT_ONE,
        max_idle: 1_000,
    };
    run(&mut chain, "bittensor", "setparams", doubled).unwrap();
    // A node is subscribed: the change is announced, in force PARAM_DELAY blocks later.
    let g = global(&chain);
    let start = chain.now_us / 500_000 - 10;
    let at = start + 10 + emission::params::PARAM_DELAY;
    assert_eq!(
        (g.emission_rate, g.next_emission_rate, g.next_at),
        (10_000, 20_000, at)
    );
    chain.now_us += (emission::params::PARAM_DELAY + 10) * 500_000;
    run(
        &mut chain,
        "alice",
        "emit",
        emit("alice", &[("alice", WEIGHT_ONE)]),
    )
    .unwrap();
    let g = global(&chain);
    assert_eq!((g.emission_rate, g.next_at), (20_000, 0));
    assert_eq!(g.minted + g.unsettled, (at - start) * 10_000 + 10 * 20_000);
    assert!(g.unsettled <= 1);
    assert_conserved(&chain);
}

#[test]
fn settle_by_others_waits_for_idle_and_evict_waits_for_max_idle() {
    let mut chain = funded();
    let params = SetParams {
        emission_rate: 10_000,
        min_stake: 10_000,
        max_self_weight: WEIGHT_ONE,
        max_idle: 640,
    };
    // No node yet: the parameters apply at once.
    run(&mut chain, "bittensor", "setparams", params).unwrap();
    assert_eq!(global(&chain).max_idle, 640);
    for user in ["alice", "bob"] {
        run(&mut chain, user, "subscribe", subscribe(user, 20_000)).unwrap();
    }
    // bob routes half of his emission to alice, then goes quiet.
    run(
        &mut chain,
        "bob",
        "emit",
        emit("bob", &[("bob", 500_000), ("alice", 500_000)]),
    )
    .unwrap();
    let emitted = chain.now_us / 500_000;
    chain.now_us += 100 * 500_000;
    let crank = Settle {
        user: Name::new("bob"),
    };
    // Another account may not settle a live node (no spam of its change number) ...
    assert_eq!(
        run(&mut chain, "carol", "settle", crank.clone()).unwrap_err(),
        crate::metagraph::errors::SETTLE_BY_OTHERS
    );
    // ... the node itself may, at any time.
    run(&mut chain, "bob", "settle", crank.clone()).unwrap();
    let alice = table::find::<Residual>(&chain, chain.receiver.0, Name::new("alice").0)
        .unwrap()
        .unwrap();
    // Half of bob's half-share of the 1 000 000 issued, plus the compounding on it that bob
    // does not keep (bob's stake grew 25-fold, so that part is large here).
    let half = 100 * 10_000 / 2 / 2;
    assert!(
        alice.residual > half && alice.residual < 2 * half,
        "alice got {} of bob's 500 000",
        alice.residual
    );
    // Idle for max_idle / 2 and unchanged for max_idle / 4: anyone may settle it, once.
    chain.now_us += 220 * 500_000;
    run(&mut chain, "carol", "settle", crank.clone()).unwrap();
    assert_eq!(
        run(&mut chain, "carol", "settle", crank).unwrap_err(),
        crate::metagraph::errors::SETTLE_BY_OTHERS
    );
    let bob = table::find::<Node>(&chain, chain.receiver.0, Name::new("bob").0)
        .unwrap()
        .unwrap();
    assert_eq!(
        bob.last_emit, emitted,
        "settle does not reset the idle clock"
    );
    let evict = Evict {
        user: Name::new("bob"),
    };
    assert_eq!(
        run(&mut chain, "carol", "evict", evict.clone()).unwrap_err(),
        "node emitted within max_idle blocks"
    );
    chain.now_us += 320 * 500_000;
    let balance_before = table::find::<Account>(&chain, Name::new("bob").0, BIT.code().0)
        .unwrap()
        .unwrap()
        .balance
        .amount;
    run(&mut chain, "carol", "evict", evict.clone()).unwrap();
    let balance = table::find::<Account>(&chain, Name::new("bob").0, BIT.code().0)
        .unwrap()
        .unwrap()
        .balance
        .amount;
    assert!(
        balance > balance_before + 20_000,
        "stake and emission returned"
    );
    assert_eq!(
        run(&mut chain, "carol", "evict", evict).unwrap_err(),
        "user not subscribed"
    );
    assert_eq!(
        run(
            &mut chain,
            "carol",
            "settle",
            Settle {
                user: Name::new("bob")
            }
        )
        .unwrap_err(),
        "user not subscribed"
    );
    assert_conserved(&chain);
}

#[test]
fn emit_rejects_every_kind_of_bad_edge_set() {
    let mut chain = funded();
    for user in ["alice", "bob"] {
        run(&mut chain, user, "subscribe", subscribe(user, 20_000)).unwrap();
    }
    let many: Vec<(&str, u32)> = (0..65).map(|_| ("bob", 1)).collect();
    let failures: [(&str, Emit, &str); 10] = [
        (
            "bob",
            emit("alice", &[("alice", WEIGHT_ONE)]),
            "missing authority of alice",
        ),
        (
            "carol",
            emit("carol", &[("carol", WEIGHT_ONE)]),
            "user not subscribed",
        ),
        ("alice", emit("alice", &[]), "edge set is empty"),
        (
            "alice",
            emit("alice", &[("bob", WEIGHT_ONE)]),
            "edge set must start with the caller",
        ),
        (
            "alice",
            emit(
                "alice",
                &[("alice", 500_000), ("bob", 250_000), ("bob", 250_000)],
            ),
            "duplicate edge target",
        ),
        (
            "alice",
            emit("alice", &[("alice", 500_000), ("carol", 500_000)]),
            "edge target not subscribed",
        ),
        (
            "alice",
            emit("alice", &[("alice", 500_000), ("bob", 499_999)]),
            "weights must sum to 1000000",
        ),
        (
            "alice",
            emit("alice", &[("alice", 9_999), ("bob", 990_001)]),
            "self weight below minimum 10000",
        ),
        ("alice", emit("alice", &many), "too many edges: at most 64"),
        (
            "alice",
            emit("alice", &[("alice", u32::MAX), ("bob", 1_000_001)]),
            "weights must sum to 1000000",
        ),
    ];
    for (signer, args, message) in failures {
        assert_eq!(run(&mut chain, signer, "emit", args).unwrap_err(), message);
    }
}

#[test]
fn unsubscribe_returns_stake_once() {
    let mut chain = funded();
    run(&mut chain, "alice", "subscribe", subscribe("alice", 20_000)).unwrap();
    chain.now_us += 10 * 500_000;
    let unsub = Unsubscribe {
        user: Name::new("alice"),
    };
    run(&mut chain, "alice", "unsubscribe", unsub.clone()).unwrap();
    // Sole staker for 10 blocks: all 10 blocks of emission come back with the stake.
    let balance = table::find::<Account>(&chain, Name::new("alice").0, BIT.code().0)
        .unwrap()
        .unwrap();
    assert_eq!(balance.balance.amount, 10_000_000 + 10 * 10_000);
    assert_eq!(
        run(&mut chain, "alice", "unsubscribe", unsub).unwrap_err(),
        "user not subscribed"
    );
    assert!(rows::<Node>(&chain).is_empty());
    assert!(rows::<Residual>(&chain).is_empty());
    assert_conserved(&chain);
}

/// A deterministic xorshift generator for the replay test.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random valid edge set for `user` over the currently subscribed `users`.
pub(super) fn random_edges(rng: &mut Rng, user: Name, subscribed: &[Name]) -> Vec<Edge<Name>> {
    let mut edges = vec![Edge {
        to: user,
        weight: 0,
    }];
    for &other in subscribed {
        if other != user && rng.below(2) == 0 {
            edges.push(Edge {
                to: other,
                weight: 0,
            });
        }
    }
    let mut left = WEIGHT_ONE - 10_000;
    for edge in edges.iter_mut().skip(1) {
        let w = rng.below(left as u64 + 1) as u32;
        edge.weight = w;
        left -= w;
    }
    edges[0].weight = 10_000 + left;
    edges
}

#[test]
fn random_sequences_match_the_ledger_exactly() {
    for seed in 1..6u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut chain = funded();
        let mut ledger: Ledger<Name> = Ledger::new(10_000, 10_000);
        for _ in 0..300 {
            chain.now_us += rng.below(5) * 500_000;
            let block = chain.now_us / 500_000;
            let user = USERS[rng.below(USERS.len() as u64) as usize];
            let id = Name::new(user);
            let subscribed: Vec<Name> = ledger.nodes().map(|(id, _)| *id).collect();
            match rng.below(10) {
                0..=1 => {
                    let stake = 10_000 + rng.below(100_000) as i64;
                    run(&mut chain, user, "subscribe", subscribe(user, stake)).unwrap();
                    ledger.subscribe(id, stake as u64, block).unwrap();
                }
                2 if ledger.is_subscribed(&id) => {
                    let unsub = Unsubscribe { user: id };
                    run(&mut chain, user, "unsubscribe", unsub).unwrap();
                    ledger.unsubscribe(&id, block).unwrap();
                }
                3 if ledger.is_subscribed(&id) => {
                    run(&mut chain, user, "settle", Settle { user: id }).unwrap();
                    ledger.settle(&id, block).unwrap();
                }
                _ if ledger.is_subscribed(&id) => {
                    let edges = random_edges(&mut rng, id, &subscribed);
                    let args = Emit {
                        user: id,
                        edges: edges.clone(),
                    };
                    run(&mut chain, user, "emit", args).unwrap();
                    ledger.emit(&id, &edges, block).unwrap();
                }
                _ => {
                    let args = emit(user, &[(user, WEIGHT_ONE)]);
                    assert_eq!(
                        run(&mut chain, user, "emit", args).unwrap_err(),
                        "user not subscribed"
                    );
                }
            }
            assert_conserved(&chain);
            let g = global(&chain);
            assert_eq!(g.total_stake, ledger.total_stake());
            assert_eq!(g.outstanding, ledger.outstanding());
            assert_eq!(g.minted, ledger.minted());
            assert_eq!(g.unsettled, ledger.unsettled());
            assert_eq!(g.total_shares.0, ledger.pool().total_shares);
            let nodes = rows::<Node>(&chain);
            assert_eq!(nodes.len(), ledger.len());
            for node in nodes {
                let state = ledger.node(&node.user).unwrap();
                assert_eq!(node.stake, state.stake);
                assert_eq!(node.last_emit, state.last_emit);
                assert_eq!(node.shares.0, state.shares);
                assert_eq!(node.edges, state.edges);
            }
            for residual in rows::<Residual>(&chain) {
                assert_eq!(Some(residual.residual), ledger.residual(&residual.user));
            }
        }
        assert!(ledger.minted() > 0);
        ledger.check().unwrap();
    }
}

#[test]
fn emission_stops_at_max_supply() {
    let mut chain = MockChain::new("bittensor", &USERS, 100);
    let me = Name::new("bittensor");
    let create = Create {
        issuer: me,
        maximum_supply: bit(1_000_000),
    };
    run(&mut chain, "bittensor", "create", create).unwrap();
    let issue = Issue {
        to: me,
        quantity: bit(1_000_000 - 25_000),
        memo: String::new(),
    };
    run(&mut chain, "bittensor", "issue", issue).unwrap();
    let transfer = Transfer {
        from: me,
        to: Name::new("alice"),
        quantity: bit(100_000),
        memo: String::new(),
    };
    run(&mut chain, "bittensor", "transfer", transfer).unwrap();
    run(&mut chain, "alice", "subscribe", subscribe("alice", 50_000)).unwrap();
    let stay = emit("alice", &[("alice", WEIGHT_ONE)]);
    // 2 blocks at 10 000 per block: 20 000 issued (less than a unit of it waits as dust),
    // 5 000 of room left.
    chain.now_us += 2 * 500_000;
    run(&mut chain, "alice", "emit", stay.clone()).unwrap();
    let g = global(&chain);
    assert_eq!(g.minted + g.unsettled, 20_000);
    assert!(g.unsettled <= 1);
    // 3 more blocks would issue 30 000: only the 5 000 left under the cap are.
    chain.now_us += 3 * 500_000;
    run(&mut chain, "alice", "emit", stay.clone()).unwrap();
    let g = global(&chain);
    assert_eq!(g.minted + g.unsettled, 25_000);
    let stats = rows::<CurrencyStats>(&chain).remove(0);
    assert_eq!(
        stats.supply.amount + g.unsettled as i64,
        stats.max_supply.amount
    );
    // At the cap, emit still works and issues nothing.
    chain.now_us += 10 * 500_000;
    run(&mut chain, "alice", "emit", stay).unwrap();
    let g = global(&chain);
    assert_eq!(g.minted + g.unsettled, 25_000);
    let node = rows::<Node>(&chain).remove(0);
    assert_eq!(node.stake, 50_000 + g.minted);
    assert_conserved(&chain);
}
