use super::*;
use crate::fixed::mul_weight;
use crate::params::PARAM_DELAY;

fn e(to: u32, weight: u32) -> Edge<u32> {
    Edge { to, weight }
}

fn three_nodes() -> Ledger<u32> {
    let mut l = Ledger::new(10_000, 100);
    l.subscribe(1, 1_000, 0).unwrap();
    l.subscribe(2, 3_000, 0).unwrap();
    l.subscribe(3, 6_000, 0).unwrap();
    l
}

#[test]
fn subscribe_sets_self_edge_and_clock_and_enforces_min_stake() {
    let mut l = Ledger::new(10_000, 100);
    assert_eq!(
        l.subscribe(1, 99, 5),
        Err(LedgerError::StakeBelowMinimum {
            stake: 99,
            min: 100
        })
    );
    assert!(l.is_empty());
    l.subscribe(1, 100, 5).unwrap();
    assert_eq!(l.edges(&1), Some(&[e(1, WEIGHT_ONE)][..]));
    assert_eq!(l.last_emit(&1), Some(5));
    // A top-up settles first (the sole staker gets every unit of blocks 5..9), then adds
    // stake (0 allowed); the idle clock only moves on emit.
    l.subscribe(1, 0, 9).unwrap();
    assert_eq!(l.stake(&1), Some(100 + 4 * 10_000));
    assert_eq!(l.last_emit(&1), Some(5));
    l.subscribe(1, 50, 9).unwrap();
    assert_eq!(l.stake(&1), Some(100 + 40_000 + 50));
    assert_eq!(l.total_stake(), 40_150);
    assert_eq!(l.deposited(), 150);
    assert_eq!(l.minted() + l.unsettled(), 40_000);
    l.check().unwrap();
}

#[test]
fn emit_pushes_the_interval_along_the_stored_edges_then_stores_the_new_set() {
    let mut l = three_nodes();
    let edges = [e(2, 500_000), e(1, 300_000), e(3, 200_000)];
    // The interval 0..4 was under the stored self-only set: node 2 keeps all of it.
    let r = l.emit(&2, &edges, 4).unwrap();
    assert_eq!(r.accrued, 4 * 10_000 * 3_000 / 10_000);
    assert_eq!((r.kept, r.forwarded, r.edge_visits), (r.accrued, 0, 1));
    assert_eq!(l.edges(&2), Some(&edges[..]));
    assert_eq!(l.last_emit(&2), Some(4));
    // Again in the same block: nothing accrued, nothing moves.
    let again = l.emit(&2, &[e(2, WEIGHT_ONE)], 4).unwrap();
    assert_eq!((again.accrued, again.pushed), (0, 0));
    l.emit(&2, &edges, 4).unwrap();
    // The next interval follows the set now in force.
    // Unsettled emission compounds: node 2 holds 15 000 of the pool's 50 000 (stakes
    // 10 000 plus 40 000 issued), so it is owed 30 % of the next 40 000.
    assert_eq!(l.stake(&2), Some(15_000));
    let r = l.emit(&2, &[e(2, WEIGHT_ONE)], 8).unwrap();
    assert!(r.accrued.abs_diff(12_000) <= 1, "{}", r.accrued);
    // Only the kept half compounds for node 2: it pushes 15 000 ln(1.8) = 8 816 plus half of
    // the 3 184 above it, keeps half of that 10 408, and the other 1 592 of compounding goes
    // to the targets by weight (3 : 2) with their half.
    assert!(r.kept.abs_diff(5_204) <= 2, "kept {}", r.kept);
    assert_eq!(r.kept + r.forwarded + r.carried, r.accrued);
    assert!(r.carried < 3, "rounding carry {}", r.carried);
    assert!(r.forwarded > mul_weight(r.accrued, 500_000));
    let (to1, to3) = (l.residual(&1).unwrap(), l.residual(&3).unwrap());
    assert_eq!(to1 + to3, r.forwarded);
    assert!((2 * to1).abs_diff(3 * to3) <= 5, "{to1} : {to3}");
    assert_eq!(l.residual(&2), Some(r.carried));
    l.check().unwrap();
}

#[test]
fn emit_rejects_bad_callers_and_edge_sets_without_changing_state() {
    let mut l = three_nodes();
    let snapshot = l.clone();
    assert_eq!(
        l.emit(&9, &[e(9, WEIGHT_ONE)], 3),
        Err(LedgerError::NotSubscribed)
    );
    assert_eq!(
        l.emit(&1, &[e(1, 500_000), e(9, 500_000)], 3),
        Err(LedgerError::Edge(EdgeError::UnknownTarget { index: 1 }))
    );
    assert_eq!(
        l.emit(&1, &[e(2, WEIGHT_ONE)], 3),
        Err(LedgerError::Edge(EdgeError::SelfNotFirst))
    );
    assert_eq!(
        l.emit(&1, &[e(1, 500_000)], 3),
        Err(LedgerError::Edge(EdgeError::FixedSumOff { sum: 500_000 }))
    );
    assert_eq!(l, snapshot);
    let params = Params {
        max_self_weight: 900_000,
        ..*l.params()
    };
    l.set_params(params, 0).unwrap();
    // Announced: the old cap holds until the delay has passed.
    l.emit(&1, &[e(1, WEIGHT_ONE)], 3).unwrap();
    let at = PARAM_DELAY;
    assert_eq!(l.pending_params(), Some((params, at)));
    assert_eq!(
        l.emit(&1, &[e(1, WEIGHT_ONE)], at),
        Err(LedgerError::Edge(EdgeError::SelfWeightTooLarge {
            weight: WEIGHT_ONE,
            max: 900_000
        }))
    );
    assert_eq!(l.pending_params(), None);
    l.emit(&1, &[e(1, 900_000), e(2, 100_000)], at).unwrap();
}

#[test]
fn a_block_in_the_past_accrues_nothing_and_keeps_the_clock() {
    let mut l = three_nodes();
    l.emit(&1, &[e(1, WEIGHT_ONE)], 10).unwrap();
    let r = l.emit(&1, &[e(1, WEIGHT_ONE)], 7).unwrap();
    assert_eq!(r.accrued, 0);
    assert_eq!(l.last_emit(&1), Some(10));
}

#[test]
fn unsubscribe_settles_returns_stake_and_keeps_shares_of_gone_targets() {
    let mut l = three_nodes();
    l.emit(&1, &[e(1, 400_000), e(2, 300_000), e(3, 300_000)], 0)
        .unwrap();
    l.emit(&3, &[e(3, 500_000), e(1, 500_000)], 0).unwrap();
    // Node 3's interval 0..2 goes half to node 1's residual.
    let returned3 = l.unsubscribe(&3, 2).unwrap();
    assert!(!l.is_subscribed(&3));
    assert_eq!(l.returned(), returned3);
    l.check().unwrap();

    let pending = l.residual(&1).unwrap();
    assert!(pending > 0);
    let residual2 = l.residual(&2).unwrap();
    let r = l.settle(&1, 5).unwrap();
    assert!(r.pushed > pending, "the interval 0..5 accrued too");
    // Node 2 gets its 30 % and half of the compounding node 1 does not keep; node 3's 30 %
    // (gone) goes to the other holders (node 2's pool value), never back to node 1.
    let to2 = l.residual(&2).unwrap() - residual2;
    assert_eq!(to2, r.forwarded);
    assert!(to2 > mul_weight(r.pushed, 300_000));
    assert!(to2 < mul_weight(r.pushed, 500_000));
    assert!(r.redirected >= mul_weight(r.pushed, 300_000) - 1, "{r:?}");
    assert!(r.kept <= mul_weight(r.pushed, 400_000), "{r:?}");
    // Nothing of it comes back to node 1 (its rounding carry's shares aside: under a unit).
    assert!(l.owed(&1).unwrap() <= 1);
    l.unsubscribe(&1, 5).unwrap();
    assert_eq!(l.unsubscribe(&1, 5), Err(LedgerError::NotSubscribed));
    l.check().unwrap();
    assert_eq!(
        l.deposited() as u128 + l.minted() as u128,
        l.total_stake() as u128 + l.outstanding() as u128 + l.returned() as u128
    );
}

#[test]
fn the_cap_of_the_counters_limits_issue_and_refuses_overflowing_deposits() {
    let mut l = Ledger::new(u64::MAX, 0);
    l.subscribe(1, u64::MAX - 10, 0).unwrap();
    let snapshot = l.clone();
    assert_eq!(l.subscribe(2, 11, 0), Err(LedgerError::Overflow));
    assert_eq!(l, snapshot);
    let r = l.emit(&1, &[e(1, WEIGHT_ONE)], 5).unwrap();
    assert_eq!(
        l.minted() + l.unsettled(),
        10,
        "only the 10 units of room are issued"
    );
    assert!(
        r.accrued >= 9,
        "the claim loses less than one unit to rounding"
    );
    let r = l.emit(&1, &[e(1, WEIGHT_ONE)], 9).unwrap();
    assert_eq!(r.accrued, 0);
    l.check().unwrap();
}

#[test]
fn evict_needs_max_idle_blocks_and_returns_the_stake() {
    let mut l = three_nodes();
    let max_idle = l.params().max_idle;
    l.emit(&1, &[e(1, 500_000), e(2, 500_000)], 10).unwrap();
    assert_eq!(
        l.evict(&1, 10 + max_idle - 1),
        Err(LedgerError::NotIdle {
            idle: max_idle - 1,
            max_idle
        })
    );
    let before = l.stake(&1).unwrap();
    let returned = l.evict(&1, 10 + max_idle).unwrap();
    assert!(returned > before, "the idle interval was settled first");
    assert!(!l.is_subscribed(&1));
    assert_eq!(l.evict(&1, 10 + max_idle), Err(LedgerError::NotSubscribed));
    l.check().unwrap();
}

#[test]
fn settle_cranks_residual_along_stored_edges_without_touching_the_clock() {
    let mut l = three_nodes();
    l.emit(&1, &[e(1, 500_000), e(2, 500_000)], 0).unwrap();
    l.emit(&2, &[e(2, 500_000), e(3, 500_000)], 0).unwrap();
    l.emit(&1, &[e(1, 500_000), e(2, 500_000)], 6).unwrap();
    let pending = l.residual(&2).unwrap();
    assert!(pending > 0);
    let r = l.settle(&2, 6).unwrap();
    assert_eq!(r.pushed, pending + r.accrued);
    assert_eq!(l.residual(&2), Some(0));
    assert_eq!(l.last_emit(&2), Some(0));
    assert_eq!(l.settle(&9, 6), Err(LedgerError::NotSubscribed));
    l.check().unwrap();
}

#[test]
fn set_params_is_never_retroactive_and_checks_bounds() {
    let mut l = three_nodes();
    let doubled = Params {
        emission_rate: 20_000,
        ..*l.params()
    };
    l.set_params(doubled, 10).unwrap();
    let at = 10 + PARAM_DELAY;
    l.unsubscribe(&1, at + 10).unwrap();
    l.unsubscribe(&2, at + 10).unwrap();
    // Announced at block 10: the old rate runs up to `at`, the new one after it.
    assert_eq!(l.minted() + l.unsettled(), at * 10_000 + 10 * 20_000);
    // With no node left a change applies at once.
    l.unsubscribe(&3, at + 10).unwrap();
    assert!(l.unsettled() <= 3);
    l.set_params(*l.params(), at + 10).unwrap();
    assert_eq!(l.pending_params(), None);
    let bad = Params {
        min_stake: 0,
        ..doubled
    };
    assert_eq!(
        l.set_params(bad, 30),
        Err(LedgerError::Param(ParamError::MinStakeOutOfRange))
    );
}

#[test]
fn conservation_holds_through_a_mixed_sequence() {
    let mut l = three_nodes();
    let sets: [&[Edge<u32>]; 3] = [
        &[e(1, 333_333), e(2, 333_333), e(3, 333_334)],
        &[e(2, 10_000), e(1, 990_000)],
        &[e(3, 700_001), e(2, 299_999)],
    ];
    for block in 1..50u64 {
        for (i, set) in sets.iter().enumerate() {
            let id = i as u32 + 1;
            if l.is_subscribed(&id) && set.iter().all(|x| l.is_subscribed(&x.to)) {
                l.emit(&id, set, block).unwrap();
            }
            l.check().unwrap();
        }
        if block == 20 {
            l.unsubscribe(&2, block).unwrap();
            l.check().unwrap();
        }
        if block == 30 {
            l.subscribe(2, 500, block).unwrap();
        }
    }
    assert!(l.minted() > 0);
}

#[test]
fn emitting_every_block_farms_no_rounding() {
    // Two equal nodes forward two thirds to the same targets; each block's claim is about 2
    // units, so every push rounds. Remainders wait in the residual: emitting every block
    // keeps what emitting once keeps, to a few units.
    let mut l = Ledger::new(10, 0);
    for id in 1..=4 {
        l.subscribe(id, 1_000_000, 0).unwrap();
    }
    let set = |me: u32| [e(me, 333_334), e(3, 333_333), e(4, 333_333)];
    l.emit(&1, &set(1), 0).unwrap();
    l.emit(&2, &set(2), 0).unwrap();
    for block in 1..=300 {
        l.emit(&1, &set(1), block).unwrap();
    }
    l.emit(&2, &set(2), 300).unwrap();
    let gain = |id: u32| l.stake(&id).unwrap() + l.residual(&id).unwrap() - 1_000_000;
    let (often, once) = (gain(1), gain(2));
    assert!(once > 200, "{once}");
    assert!(
        often.abs_diff(once) <= 4,
        "every block {often} vs once {once}"
    );
    l.check().unwrap();
}
