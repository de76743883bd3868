//! Conservation: the ledger never creates or loses a base unit, through any action sequence.

mod common;

use emission::fixed::WEIGHT_ONE;
use emission::ledger::Ledger;
use emission::Edge;
use proptest::prelude::*;

/// One action of a random sequence.
#[derive(Debug, Clone)]
enum Action {
    Subscribe {
        id: u8,
        stake: u64,
    },
    Emit {
        id: u8,
        targets: Vec<u8>,
        self_weight: u32,
        advance: u64,
    },
    Unsubscribe {
        id: u8,
        advance: u64,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0u8..8, 0u64..5_000_000).prop_map(|(id, stake)| Action::Subscribe { id, stake }),
        (
            0u8..8,
            proptest::collection::vec(0u8..8, 0..5),
            emission::fixed::MIN_SELF_WEIGHT..=WEIGHT_ONE,
            0u64..20
        )
            .prop_map(|(id, targets, self_weight, advance)| Action::Emit {
                id,
                targets,
                self_weight,
                advance
            }),
        (0u8..8, 0u64..20).prop_map(|(id, advance)| Action::Unsubscribe { id, advance }),
    ]
}

/// An edge set for `id` over subscribed distinct targets (or an invalid one the ledger rejects).
fn edges(id: u8, targets: &[u8], self_weight: u32) -> Vec<Edge<u8>> {
    let mut distinct: Vec<u8> = targets.iter().copied().filter(|t| *t != id).collect();
    distinct.sort();
    distinct.dedup();
    let mut set = vec![Edge {
        to: id,
        weight: self_weight,
    }];
    let rest = WEIGHT_ONE - self_weight;
    let count = distinct.len() as u32;
    for (k, t) in distinct.iter().enumerate() {
        let share = if k as u32 + 1 == count {
            rest - (rest / count) * (count - 1)
        } else {
            rest / count
        };
        set.push(Edge {
            to: *t,
            weight: share,
        });
    }
    if distinct.is_empty() {
        set[0].weight = WEIGHT_ONE;
    }
    set
}

proptest! {
    #![proptest_config(common::config("proptest-regressions/conservation.txt", 128))]

    #[test]
    fn every_unit_is_accounted_for(
        actions in proptest::collection::vec(action(), 1..80),
        rate in 0u64..100_000_000,
    ) {
        let mut ledger: Ledger<u8> = Ledger::new(rate, 1_000);
        let mut block = 0u64;
        for a in actions {
            let before = ledger.clone();
            let result = match a {
                Action::Subscribe { id, stake } => ledger.subscribe(id, stake, block).map(|_| ()),
                Action::Emit { id, targets, self_weight, advance } => {
                    block += advance;
                    ledger.emit(&id, &edges(id, &targets, self_weight), block).map(|_| ())
                }
                Action::Unsubscribe { id, advance } => {
                    block += advance;
                    ledger.unsubscribe(&id, block).map(|_| ())
                }
            };
            if result.is_err() {
                prop_assert_eq!(&ledger, &before, "a refused action changed the state");
            }
            prop_assert_eq!(ledger.check(), Ok(()));
            let stakes: u128 = ledger.nodes().map(|(_, n)| n.stake as u128).sum();
            prop_assert_eq!(
                ledger.minted() as u128 + ledger.deposited() as u128,
                stakes + ledger.outstanding() as u128 + ledger.returned() as u128
            );
        }
    }

    #[test]
    fn minted_equals_credited_plus_outstanding(
        (graph, stakes) in common::graph_and_stakes(10, 5),
        rate in 1u64..1_000_000_000,
        blocks in 1u64..6,
        order_seed in any::<u64>(),
    ) {
        let n = graph.len();
        let mut ledger = common::subscribed(rate, &graph, &stakes);
        let mut order = emission::schedule::Schedule::new(order_seed, 0.7);
        for block in 1..=blocks {
            for node in order.next_block(n) {
                ledger.emit(&node, graph.edges(node), block).unwrap();
            }
            let credited: u64 = (0..n).map(|i| ledger.stake(&i).unwrap() - stakes[i]).sum();
            prop_assert_eq!(ledger.minted(), credited + ledger.outstanding());
        }
    }
}
