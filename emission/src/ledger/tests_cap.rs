//! The self-weight cap at settlement time and where its excess goes: the attacks of the
//! never-emitting re-subscriber, the throwaway target and the evicted target, each against
//! the honest play it replaces.

extern crate std;

use super::*;
use crate::fixed::mul_weight;

/// 100 BIT each, 1.0000 BIT per block, cap 50 %.
const STAKE: u64 = 1_000_000;
const RATE: u64 = 10_000;
const CAP: u32 = 500_000;
/// Blocks each play runs.
const BLOCKS: u64 = 400;

fn e(to: u32, weight: u32) -> Edge<u32> {
    Edge { to, weight }
}

fn capped() -> Ledger<u32> {
    let mut l = Ledger::new(RATE, 1);
    let params = Params {
        max_self_weight: CAP,
        emission_rate: RATE,
        min_stake: 1,
        ..Params::default()
    };
    l.set_params(params, 0).unwrap();
    l
}

/// Node 1 (`honest`) emits `[1: 50 %, 2: 50 %]` every 4 blocks; node 2 plays `attacker` every
/// 20 blocks (and once at block 0), for `BLOCKS` blocks. Returns node 2's share of everything paid out.
fn share_of_attacker(attacker: impl Fn(&mut Ledger<u32>, u64) -> u64) -> f64 {
    let mut l = capped();
    l.subscribe(1, STAKE, 0).unwrap();
    l.subscribe(2, STAKE, 0).unwrap();
    let honest = [e(1, 500_000), e(2, 500_000)];
    l.emit(&1, &honest, 0).unwrap();
    let mut gained2: u64 = attacker(&mut l, 0);
    for block in 1..=BLOCKS {
        if block % 4 == 0 {
            l.emit(&1, &honest, block).unwrap();
        }
        if block % 20 == 10 {
            gained2 += attacker(&mut l, block);
        }
        l.check().unwrap();
    }
    // What is in flight at the end goes where the pushes take it: settle both in turn (no
    // block passes) until the residuals are spent, then count each one's whole position.
    for _ in 0..60 {
        l.settle(&1, BLOCKS).unwrap();
        l.settle(&2, BLOCKS).unwrap();
    }
    let worth = |l: &Ledger<u32>, id: u32| {
        l.stake(&id).unwrap() + l.residual(&id).unwrap() + l.owed(&id).unwrap() - STAKE
    };
    let (gained1, gained2) = (worth(&l, 1), gained2 + worth(&l, 2));
    gained2 as f64 / (gained2 + gained1) as f64
}

#[test]
fn a_never_emitting_resubscriber_takes_no_more_than_honest_play() {
    // The attack: never emit; leave and rejoin in one block (the self-only set stays stored).
    let attack = share_of_attacker(|l, block| {
        let back = l.unsubscribe(&2, block).unwrap();
        l.subscribe(2, STAKE, block).unwrap();
        back - STAKE
    });
    // Honest play: emit the capped set pointing back at node 1.
    let honest = share_of_attacker(|l, block| {
        l.emit(&2, &[e(2, 500_000), e(1, 500_000)], block).unwrap();
        0
    });
    std::eprintln!("re-subscriber: attack {attack:.4}, honest {honest:.4}");
    assert!(attack <= 0.502, "attacker's share {attack}");
    // Honest play takes half (up to the timing of a finite run); the attack takes less: what
    // it withdraws on each rejoin stops compounding.
    assert!((honest - 0.5).abs() <= 0.005, "honest {honest}");
    assert!(
        attack <= honest + 0.001,
        "attack {attack} vs honest {honest}"
    );
}

#[test]
fn the_excess_goes_to_the_others_and_none_back_to_the_node() {
    let mut l = capped();
    l.subscribe(1, STAKE, 0).unwrap();
    l.subscribe(2, STAKE, 0).unwrap();
    // Node 2's stored set is self-only (never emitted): it settles 40 blocks of claim.
    let r = l.settle(&2, 40).unwrap();
    assert_eq!(r.accrued, 40 * RATE / 2);
    assert_eq!(r.kept + r.redirected, r.accrued);
    assert!(r.kept <= mul_weight(r.accrued, CAP), "{r:?}");
    assert_eq!(l.pool().redirected, r.redirected);
    // Node 2 is owed nothing of what it sent away; node 1 is owed its claim plus all of it.
    assert_eq!(l.owed(&2), Some(0));
    let owed1 = l.owed(&1).unwrap();
    assert!(
        owed1.abs_diff(40 * RATE / 2 + r.redirected) <= 1,
        "{owed1} vs {}",
        40 * RATE / 2 + r.redirected
    );
    l.check().unwrap();
}

#[test]
fn lowering_the_cap_applies_to_sets_already_stored() {
    let mut l = Ledger::new(RATE, 1);
    l.subscribe(1, STAKE, 0).unwrap();
    l.subscribe(2, STAKE, 0).unwrap();
    l.emit(&2, &[e(2, 900_000), e(1, 100_000)], 0).unwrap();
    let params = Params {
        max_self_weight: 200_000,
        emission_rate: RATE,
        min_stake: 1,
        ..Params::default()
    };
    l.set_params(params, 0).unwrap();
    // Announced now, in force from `PARAM_DELAY` on; node 2 settles after.
    let r = l.settle(&2, crate::params::PARAM_DELAY + 40).unwrap();
    assert!(r.kept <= mul_weight(r.pushed, 200_000) + 1, "{r:?}");
    assert!(r.redirected >= mul_weight(r.pushed, 700_000) - 1, "{r:?}");
    l.check().unwrap();
}

#[test]
fn a_forward_to_a_target_that_left_goes_to_the_others() {
    // Throwaway target: 3 points half at 2, 2 leaves, 3 settles.
    let mut l = capped();
    l.subscribe(1, STAKE, 0).unwrap();
    l.subscribe(2, STAKE, 0).unwrap();
    l.subscribe(3, STAKE, 0).unwrap();
    l.emit(&3, &[e(3, 500_000), e(2, 500_000)], 0).unwrap();
    l.unsubscribe(&2, 30).unwrap();
    let r = l.settle(&3, 30).unwrap();
    assert_eq!(r.forwarded, 0);
    assert!(r.kept <= mul_weight(r.pushed, 500_000) + 1, "{r:?}");
    assert_eq!(r.kept + r.redirected + r.carried, r.pushed, "{r:?}");
    assert_eq!(l.owed(&3), Some(0));
    l.check().unwrap();
}

#[test]
fn a_join_that_buys_no_share_is_refused() {
    let mut l = Ledger::new(u64::MAX / 4, 1);
    l.subscribe(1, 1, 0).unwrap();
    // The pool's price is now far above 2^32 base units per share: one unit buys nothing.
    l.settle(&1, 3).unwrap();
    assert_eq!(
        l.subscribe(2, 1, 3),
        Err(LedgerError::Settle(SettleError::NoShares))
    );
    assert!(!l.is_subscribed(&2));
    l.check().unwrap();
}

#[test]
fn joining_right_before_a_redirect_and_leaving_right_after_takes_none_of_it() {
    let mut l = capped();
    l.subscribe(1, STAKE, 0).unwrap();
    l.subscribe(2, STAKE, 0).unwrap();
    // One block: a whale joins, node 2 (self-only stored) settles and sends half of its
    // claim to the others, the whale leaves.
    l.subscribe(9, 100 * STAKE, 40).unwrap();
    let r = l.settle(&2, 40).unwrap();
    assert!(r.redirected > 0);
    let back = l.unsubscribe(&9, 40).unwrap();
    assert!(
        back <= 100 * STAKE,
        "the whale took {} of it",
        back - 100 * STAKE
    );
    // What the whale held for that instant stays in the pool for the holders left, node 2
    // (the source) included: a whale of the source's own recaptures the source's value share
    // of its redirect (here half), a known limit of an instant redistribution
    // (docs/emission.md, "Flash holders").
    let owed1 = l.owed(&1).unwrap();
    let owed2 = l.owed(&2).unwrap();
    let claim = 40 * RATE / 2;
    assert!(
        owed1 + owed2 + 2 >= claim + r.redirected,
        "{owed1} + {owed2}"
    );
    assert!(owed2 <= r.redirected / 2 + 1, "node 2 recaptured {owed2}");
    l.check().unwrap();
}

/// 2 = attacker, 1 = honest; `mode` 0: honest `[2: 50 %, 1: 50 %]`; 1: throwaways (1 % of
/// the stake) joining before the emit and leaving after; 2: throwaways joining after it.
fn throwaway_share(mode: u8, throwaway: u64) -> f64 {
    let mut l = capped();
    l.subscribe(1, STAKE, 0).unwrap();
    l.subscribe(2, STAKE, 0).unwrap();
    let honest = [e(1, 500_000), e(2, 500_000)];
    let fair = [e(2, 500_000), e(1, 500_000)];
    l.emit(&1, &honest, 0).unwrap();
    let mut balance2: i64 = 0;
    for round in 1..=40u64 {
        let block = 4 * round;
        let t = 7 + (round % 2) as u32;
        match mode {
            0 => {
                l.emit(&2, &fair, block).unwrap();
            }
            1 => {
                l.subscribe(t, throwaway, block).unwrap();
                l.emit(&2, &[e(2, 500_000), e(t, 500_000)], block).unwrap();
                balance2 += l.unsubscribe(&t, block).unwrap() as i64 - throwaway as i64;
            }
            _ => {
                // The throwaway exists only between the emit and its leaving: the next
                // settlement's forward finds it gone.
                l.subscribe(t, throwaway, block).unwrap();
                l.emit(&2, &[e(2, 500_000), e(t, 500_000)], block).unwrap();
                balance2 += l.unsubscribe(&t, block + 1).unwrap() as i64 - throwaway as i64;
            }
        }
        l.emit(&1, &honest, block).unwrap();
        l.check().unwrap();
    }
    let end = 4 * 41;
    for k in 0..3 {
        l.emit(&2, &fair, end + 3 * k).unwrap();
        l.emit(&1, &honest, end + 3 * k).unwrap();
    }
    let worth = |l: &Ledger<u32>, id: u32| {
        (l.stake(&id).unwrap() + l.residual(&id).unwrap() + l.owed(&id).unwrap() - STAKE) as i64
    };
    let (g1, g2) = (worth(&l, 1), worth(&l, 2) + balance2);
    g2 as f64 / (g1 + g2) as f64
}

/// The attacker keeps its capped half either way. A redirected amount reaches the honest node
/// as pool value; its next settlement reads it as a lump (`settlement::lump`: money that
/// arrived, pushed like a forward into its residual), not as growth of its stake, so the
/// compounding rule withholds nothing extra on it and forwards nothing extra back to the
/// attacker. Before the lump accumulators the attack took +0.25 and +0.34 points over honest
/// play (0.5051 and 0.5060 against 0.5026); docs/emission.md has today's figures.
#[test]
fn throwaway_targets_taking_turns_gain_at_most_a_tenth_of_a_percent() {
    let honest = throwaway_share(0, 0);
    assert!((honest - 0.5).abs() <= 0.005, "honest {honest}");
    // (mode, throwaway stake, bound over honest play). What is left is the throwaway's own
    // stake share: in mode 1 its same-block forfeit is shared by the holders left, the
    // attacker included; in mode 2 it holds across a block boundary and keeps its share of
    // the redirect ("Flash holders" in docs/emission.md). A 1-unit throwaway gains nothing.
    for (mode, t, bound) in [
        (1, 1, 0.0001),
        (1, STAKE / 100, 0.001),
        (2, 1, 0.0005),
        (2, STAKE / 100, 0.0025),
    ] {
        let attack = throwaway_share(mode, t);
        std::eprintln!("throwaway mode {mode} stake {t}: {attack:.5} vs honest {honest:.5}");
        assert!(
            attack <= honest + bound,
            "mode {mode}, throwaway {t}: {attack} vs honest {honest}"
        );
    }
}
