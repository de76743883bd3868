use super::*;
use crate::accrual::accrue;
use crate::fixed::mul_weight;

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
    // Re-subscribing settles at the old stake first (self-only edges keep it all), moves the
    // clock, then adds stake (0 allowed); a second top-up in the same block accrues nothing.
    l.subscribe(1, 0, 9).unwrap();
    let settled = 100 + accrue(10_000, 4, 100, 100);
    assert_eq!(l.stake(&1), Some(settled));
    assert_eq!(l.last_emit(&1), Some(9));
    l.subscribe(1, 50, 9).unwrap();
    assert_eq!(l.stake(&1), Some(settled + 50));
    assert_eq!(l.total_stake(), settled + 50);
    assert_eq!(l.deposited(), 150);
    l.check().unwrap();
}

#[test]
fn emit_accrues_with_pre_push_stake_then_pushes_one_hop() {
    let mut l = three_nodes();
    let edges = [e(2, 500_000), e(1, 300_000), e(3, 200_000)];
    let r = l.emit(&2, &edges, 4).unwrap();
    let accrued = accrue(10_000, 4, 3_000, 10_000);
    assert_eq!(r.accrued, accrued);
    assert_eq!(r.pushed, accrued);
    assert_eq!(
        r.forwarded,
        mul_weight(accrued, 300_000) + mul_weight(accrued, 200_000)
    );
    assert_eq!(r.kept + r.forwarded, accrued);
    assert_eq!(r.edge_visits, 3);
    assert_eq!(l.stake(&2), Some(3_000 + r.kept));
    assert_eq!(l.residual(&1), Some(mul_weight(accrued, 300_000)));
    assert_eq!(l.residual(&3), Some(mul_weight(accrued, 200_000)));
    assert_eq!(l.residual(&2), Some(0));
    assert_eq!(l.minted(), accrued);
    assert_eq!(l.outstanding(), r.forwarded);
    assert_eq!(l.edges(&2), Some(&edges[..]));
    assert_eq!(l.last_emit(&2), Some(4));
    l.check().unwrap();

    // Node 1 now pushes its received residual together with its own accrual.
    let before = l.residual(&1).unwrap();
    let total = l.total_stake();
    let r1 = l.emit(&1, &[e(1, WEIGHT_ONE)], 4).unwrap();
    assert_eq!(r1.accrued, accrue(10_000, 4, 1_000, total));
    assert_eq!(r1.pushed, before + r1.accrued);
    assert_eq!(r1.kept, r1.pushed);
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
    l.emit(&1, &[e(1, 400_000), e(2, 300_000), e(3, 300_000)], 2)
        .unwrap();
    // Give node 1 a pending residual from node 3.
    l.emit(&3, &[e(3, 500_000), e(1, 500_000)], 2).unwrap();
    let returned3 = l.unsubscribe(&3, 2).unwrap();
    assert!(!l.is_subscribed(&3));
    assert_eq!(l.returned(), returned3);
    l.check().unwrap();

    let pending = l.residual(&1).unwrap();
    assert!(pending > 0);
    let stake = l.stake(&1).unwrap();
    let total = l.total_stake();
    let residual2 = l.residual(&2).unwrap();
    let accrued = accrue(10_000, 3, stake, total);
    let pushed = pending + accrued;
    let to2 = mul_weight(pushed, 300_000);
    let returned = l.unsubscribe(&1, 5).unwrap();
    // The share for node 3 (gone) stays with node 1; node 2 still gets its share.
    assert_eq!(returned, stake + pushed - to2);
    assert_eq!(l.residual(&2), Some(residual2 + to2));
    assert_eq!(l.unsubscribe(&1, 5), Err(LedgerError::NotSubscribed));
    l.check().unwrap();
    assert_eq!(
        l.deposited() as u128 + l.minted() as u128,
        l.total_stake() as u128 + l.outstanding() as u128 + l.returned() as u128
    );
}

#[test]
fn overflowing_operations_are_refused_before_any_change() {
    let mut l = Ledger::new(u64::MAX, 0);
    l.subscribe(1, u64::MAX - 10, 0).unwrap();
    assert_eq!(l.subscribe(2, 11, 0), Err(LedgerError::Overflow));
    let snapshot = l.clone();
    assert_eq!(
        l.emit(&1, &[e(1, WEIGHT_ONE)], 5),
        Err(LedgerError::Overflow)
    );
    assert_eq!(l, snapshot);
    l.check().unwrap();
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
