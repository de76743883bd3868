//! The change sequence on the in-memory chain: every node has exactly one index entry (its
//! row while subscribed, its departure after), each write moves it to a fresh number, and a
//! reader that applies "everything after my cursor" converges to the table, however many
//! refreshes it skipped, while a node churning its row costs each refresh one entry.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use emission::fixed::WEIGHT_ONE;

use super::tests::{emit, funded, global, random_edges, rows, subscribe, Rng, USERS};
use crate::host::mock::MockChain;
use crate::metagraph::{Departure, Evict, Node, SetParams, Settle, Unsubscribe, SLOT_SHIFT};
use crate::name::Name;
use crate::table::Row;
use crate::test_support::run;

/// The index entries of `T`'s table after `cursor`, in index order: (seq, primary key).
fn changed<T: Row>(chain: &MockChain, cursor: u64) -> Vec<(u64, u64)> {
    chain.by_idx64(chain.receiver.0, T::TABLE, cursor + 1)
}

/// What an incremental reader keeps: each user's latest known state and its change number.
#[derive(Default)]
struct Reader {
    cursor: u64,
    /// user -> (seq, Some(row) while subscribed, None once departed).
    known: BTreeMap<Name, (u64, Option<Node>)>,
    /// Entries read by the last refresh.
    last_read: usize,
}

impl Reader {
    /// Reads the changes after the cursor from both indexes and keeps, per user, the newer.
    fn refresh(&mut self, chain: &MockChain) {
        let upto = global(chain).change_seq;
        let mut read = 0;
        for (seq, pk) in changed::<Node>(chain, self.cursor) {
            let row = crate::table::find::<Node>(chain, chain.receiver.0, pk)
                .unwrap()
                .unwrap();
            self.apply(Name(pk), seq, Some(row));
            read += 1;
        }
        for (seq, pk) in changed::<Departure>(chain, self.cursor) {
            self.apply(Name(pk), seq, None);
            read += 1;
        }
        self.last_read = read;
        self.cursor = upto;
    }

    fn apply(&mut self, user: Name, seq: u64, row: Option<Node>) {
        let newer = self.known.get(&user).is_none_or(|(known, _)| seq > *known);
        if newer {
            self.known.insert(user, (seq, row));
        }
    }

    fn nodes(&self) -> Vec<Node> {
        self.known
            .values()
            .filter_map(|(_, row)| row.clone())
            .collect()
    }
}

/// Every node row and departure has exactly one index entry, keyed by its `seq`; no user is
/// both subscribed and departed; every number is at most `change_seq`, and all are distinct.
fn assert_indexed(chain: &MockChain) {
    let nodes = rows::<Node>(chain);
    let all = rows::<Departure>(chain);
    // A subscribed node holds a departure row at number 0 (reserved, paid by the node), which
    // no reader paging after a cursor sees.
    let (reserved, gone): (Vec<Departure>, Vec<Departure>) =
        all.into_iter().partition(|d| d.seq == 0);
    for node in &nodes {
        assert!(
            reserved.iter().any(|d| d.user == node.user),
            "{} has its departure row reserved",
            node.user
        );
    }
    assert_eq!(
        reserved.len(),
        nodes.len(),
        "reservations are the subscribed nodes'"
    );
    let entries = changed::<Node>(chain, 0).len() + changed::<Departure>(chain, 0).len();
    assert_eq!(entries, nodes.len() + gone.len(), "one index entry per row");
    let mut seqs: Vec<u64> = Vec::new();
    for node in &nodes {
        assert!(changed::<Node>(chain, 0).contains(&(node.seq, node.user.0)));
        assert!(
            !gone.iter().any(|d| d.user == node.user),
            "{} both",
            node.user
        );
        seqs.push(node.seq);
    }
    for d in &gone {
        assert!(changed::<Departure>(chain, 0).contains(&(d.seq, d.user.0)));
        seqs.push(d.seq);
    }
    let count = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), count, "change numbers are distinct");
    assert!(seqs.last().is_none_or(|&s| s <= global(chain).change_seq));
}

#[test]
fn every_write_moves_the_node_to_a_new_number_and_departures_are_seen() {
    let mut chain = funded();
    let slot = chain.now_us / 500_000;
    run(&mut chain, "alice", "subscribe", subscribe("alice", 20_000)).unwrap();
    run(&mut chain, "bob", "subscribe", subscribe("bob", 20_000)).unwrap();
    let base = slot << SLOT_SHIFT;
    assert_eq!(
        global(&chain).change_seq,
        base + 1,
        "two changes in slot {slot}"
    );
    let mut reader = Reader::default();
    reader.refresh(&chain);
    assert_eq!(reader.nodes().len(), 2);
    let cursor = reader.cursor;
    run(
        &mut chain,
        "alice",
        "emit",
        emit("alice", &[("alice", 600_000), ("bob", 400_000)]),
    )
    .unwrap();
    assert_eq!(
        changed::<Node>(&chain, cursor),
        [(base + 2, Name::new("alice").0)]
    );
    run(
        &mut chain,
        "bob",
        "settle",
        Settle {
            user: Name::new("bob"),
        },
    )
    .unwrap();
    run(
        &mut chain,
        "bob",
        "unsubscribe",
        Unsubscribe {
            user: Name::new("bob"),
        },
    )
    .unwrap();
    assert_eq!(
        changed::<Node>(&chain, cursor),
        [(base + 2, Name::new("alice").0)]
    );
    assert_eq!(
        changed::<Departure>(&chain, cursor),
        [(base + 4, Name::new("bob").0)]
    );
    reader.refresh(&chain);
    assert_eq!(reader.last_read, 2);
    assert_eq!(reader.nodes(), rows::<Node>(&chain));
    // A later block's first change starts at its slot: the number says when it was made.
    chain.now_us += 3 * 500_000;
    run(&mut chain, "bob", "subscribe", subscribe("bob", 20_000)).unwrap();
    assert_eq!(global(&chain).change_seq, (slot + 3) << SLOT_SHIFT);
    // Coming back moved the departure row back to the reserved number 0: no reader sees
    // it, one visible entry per account, never two.
    assert!(changed::<Departure>(&chain, 0).is_empty());
    assert!(rows::<Departure>(&chain).iter().all(|d| d.seq == 0));
    assert_indexed(&chain);
    reader.refresh(&chain);
    assert_eq!(reader.nodes(), rows::<Node>(&chain));
}

#[test]
fn a_node_churning_every_block_costs_each_refresh_one_entry() {
    let mut chain = funded();
    for user in USERS {
        run(&mut chain, user, "subscribe", subscribe(user, 20_000)).unwrap();
    }
    let mut reader = Reader::default();
    reader.refresh(&chain);
    assert_eq!(reader.last_read, USERS.len());
    for round in 0..50u32 {
        chain.now_us += 500_000;
        let w = 500_000 + round;
        run(
            &mut chain,
            "alice",
            "emit",
            emit("alice", &[("alice", w), ("bob", WEIGHT_ONE - w)]),
        )
        .unwrap();
        // Leaving and coming back every other block: still one entry for the account.
        if round % 2 == 0 {
            run(
                &mut chain,
                "carol",
                "unsubscribe",
                Unsubscribe {
                    user: Name::new("carol"),
                },
            )
            .unwrap();
        } else {
            run(&mut chain, "carol", "subscribe", subscribe("carol", 20_000)).unwrap();
        }
    }
    reader.refresh(&chain);
    assert_eq!(
        reader.last_read, 2,
        "alice and carol once each, after 100 changes"
    );
    assert_eq!(reader.nodes(), rows::<Node>(&chain));
    assert_indexed(&chain);
}

#[test]
fn evict_moves_the_departure_row_the_node_paid_for() {
    let mut chain = funded();
    let params = SetParams {
        emission_rate: 10_000,
        min_stake: 10_000,
        max_self_weight: WEIGHT_ONE,
        max_idle: 640,
    };
    run(&mut chain, "bittensor", "setparams", params).unwrap();
    run(&mut chain, "alice", "subscribe", subscribe("alice", 20_000)).unwrap();
    chain.now_us += 640 * 500_000;
    run(
        &mut chain,
        "bob",
        "evict",
        Evict {
            user: Name::new("alice"),
        },
    )
    .unwrap();
    let gone = rows::<Departure>(&chain);
    assert_eq!(gone.len(), 1);
    assert!(gone[0].seq > 0, "the departure is visible after any cursor");
    let payers: Vec<_> = chain
        .rows
        .iter()
        .filter(|(id, _)| id.table != crate::token::CurrencyStats::TABLE)
        .filter(|(id, _)| id.scope == chain.receiver.0 || id.table == Departure::TABLE)
        .filter(|(_, row)| row.payer == chain.receiver)
        .map(|(id, _)| id.table)
        .collect();
    // The contract pays only for its own rows (the global row, its own balance), never for
    // the evicted account's departure record.
    assert!(
        !payers.contains(&Departure::TABLE),
        "the contract paid for a departure: {payers:?}"
    );
    let stored = chain
        .rows
        .iter()
        .find(|(id, _)| id.table == Departure::TABLE)
        .map(|(_, row)| row.payer);
    assert_eq!(
        stored,
        Some(Name::new("alice")),
        "paid when alice subscribed"
    );
    assert_indexed(&chain);
}

#[test]
fn a_reader_that_missed_refreshes_converges_to_the_table() {
    for seed in 1..5u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut chain = funded();
        let mut eager = Reader::default();
        let mut lazy = Reader::default();
        for step in 0..300 {
            chain.now_us += rng.below(3) * 500_000;
            let user = USERS[rng.below(USERS.len() as u64) as usize];
            let id = Name::new(user);
            let subscribed: Vec<Name> = rows::<Node>(&chain).iter().map(|n| n.user).collect();
            let result = match rng.below(6) {
                0 => run(&mut chain, user, "subscribe", subscribe(user, 10_000)),
                1 => run(&mut chain, user, "unsubscribe", Unsubscribe { user: id }),
                2 => run(&mut chain, user, "settle", Settle { user: id }),
                _ => {
                    let edges = random_edges(&mut rng, id, &subscribed);
                    let args = crate::metagraph::Emit { user: id, edges };
                    run(&mut chain, user, "emit", args)
                }
            };
            // Not-subscribed failures leave no trace, like a failed transaction.
            if let Err(e) = result {
                assert_eq!(e, "user not subscribed", "step {step}");
            }
            assert_indexed(&chain);
            eager.refresh(&chain);
            assert_eq!(
                eager.nodes(),
                rows::<Node>(&chain),
                "seed {seed} step {step}"
            );
            if rng.below(20) == 0 {
                lazy.refresh(&chain);
                assert!(
                    lazy.last_read <= USERS.len(),
                    "at most one entry per account"
                );
            }
        }
        lazy.refresh(&chain);
        assert_eq!(
            lazy.nodes(),
            rows::<Node>(&chain),
            "seed {seed}: the lazy reader"
        );
    }
}
