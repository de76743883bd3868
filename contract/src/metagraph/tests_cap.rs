//! The cap at settlement time, the supply cap with accrued emission counted, `close` while
//! subscribed and joins that would buy no share, on the in-memory chain.

use alloc::string::String;

use emission::fixed::WEIGHT_ONE;

use crate::host::mock::MockChain;
use crate::metagraph::tests::{assert_conserved, emit, funded, global, rows, subscribe, USERS};
use crate::metagraph::{SetParams, Unsubscribe, CLOSE_WHILE_SUBSCRIBED, ISSUE_OVER_CAP};
use crate::name::Name;
use crate::test_support::{bit, run, BIT};
use crate::token::{Close, Create, CurrencyStats, Issue, Transfer};

fn balance(chain: &MockChain, user: &str) -> i64 {
    crate::token::balance_of(chain, Name::new(user), BIT)
        .unwrap()
        .map_or(0, |a| a.amount)
}

fn params(max_self_weight: u32) -> SetParams {
    SetParams {
        emission_rate: 10_000,
        min_stake: 10_000,
        max_self_weight,
        max_idle: 640,
    }
}

#[test]
fn a_never_emitting_resubscriber_takes_at_most_half() {
    let mut chain = funded();
    run(&mut chain, "bittensor", "setparams", params(500_000)).unwrap();
    for user in ["alice", "bob"] {
        run(&mut chain, user, "subscribe", subscribe(user, 1_000_000)).unwrap();
    }
    let honest = emit("alice", &[("alice", 500_000), ("bob", 500_000)]);
    run(&mut chain, "alice", "emit", honest.clone()).unwrap();
    let mut taken: u64 = 0;
    for round in 0..8 {
        for _ in 0..5 {
            chain.now_us += 4 * 500_000;
            run(&mut chain, "alice", "emit", honest.clone()).unwrap();
        }
        // bob never emits: he leaves and rejoins, keeping his self-only set and his clock.
        let before = balance(&chain, "bob");
        let bye = Unsubscribe {
            user: Name::new("bob"),
        };
        run(&mut chain, "bob", "unsubscribe", bye).unwrap();
        run(&mut chain, "bob", "subscribe", subscribe("bob", 1_000_000)).unwrap();
        let after = balance(&chain, "bob");
        taken += (after - before) as u64;
        assert!(
            global(&chain).redirected > 0,
            "round {round}: the excess went out"
        );
        assert_conserved(&chain);
    }
    let g = global(&chain);
    let issued = g.minted + g.unsettled;
    let share = taken as f64 / issued as f64;
    assert!(share <= 0.502, "bob took {share} of {issued}");
}

#[test]
fn the_supply_never_passes_max_supply() {
    let mut chain = MockChain::new("bittensor", &USERS, 100);
    let create = Create {
        issuer: Name::new("bittensor"),
        maximum_supply: bit(3_000_000),
    };
    run(&mut chain, "bittensor", "create", create).unwrap();
    let issue = |amount| Issue {
        to: Name::new("bittensor"),
        quantity: bit(amount),
        memo: String::new(),
    };
    run(&mut chain, "bittensor", "issue", issue(2_000_000)).unwrap();
    let transfer = Transfer {
        from: Name::new("bittensor"),
        to: Name::new("alice"),
        quantity: bit(1_000_000),
        memo: String::new(),
    };
    run(&mut chain, "bittensor", "transfer", transfer).unwrap();
    run(
        &mut chain,
        "alice",
        "subscribe",
        subscribe("alice", 1_000_000),
    )
    .unwrap();
    chain.now_us += 50 * 500_000;
    // 500 000 accrued and not yet minted: the issuer may add only what is left beside it.
    assert_eq!(
        run(&mut chain, "bittensor", "issue", issue(1_000_000)).unwrap_err(),
        ISSUE_OVER_CAP
    );
    run(&mut chain, "bittensor", "issue", issue(500_000)).unwrap();
    assert_eq!(
        run(&mut chain, "bittensor", "issue", issue(1)).unwrap_err(),
        ISSUE_OVER_CAP
    );
    for _ in 0..10 {
        chain.now_us += 100 * 500_000;
        let self_only = emit("alice", &[("alice", WEIGHT_ONE)]);
        run(&mut chain, "alice", "emit", self_only).unwrap();
        let stat = &rows::<CurrencyStats>(&chain)[0];
        assert!(
            stat.supply.amount + global(&chain).unsettled as i64 <= stat.max_supply.amount,
            "supply {} + unsettled past {}",
            stat.supply.amount,
            stat.max_supply.amount
        );
    }
    assert_eq!(rows::<CurrencyStats>(&chain)[0].supply.amount, 3_000_000);
    assert_conserved(&chain);
}

#[test]
fn close_is_refused_while_subscribed() {
    let mut chain = funded();
    let all = balance(&chain, "alice");
    run(&mut chain, "alice", "subscribe", subscribe("alice", all)).unwrap();
    let close = Close {
        owner: Name::new("alice"),
        symbol: BIT,
    };
    assert_eq!(
        run(&mut chain, "alice", "close", close.clone()).unwrap_err(),
        CLOSE_WHILE_SUBSCRIBED
    );
    let bye = Unsubscribe {
        user: Name::new("alice"),
    };
    run(&mut chain, "alice", "unsubscribe", bye).unwrap();
    // Its stake came back to the row; with a zero balance it may close again.
    assert!(balance(&chain, "alice") >= all);
}

#[test]
fn a_join_that_buys_no_share_is_refused() {
    let mut chain = funded();
    let extreme = SetParams {
        emission_rate: emission::params::MAX_EMISSION_RATE,
        min_stake: 1,
        max_self_weight: WEIGHT_ONE,
        max_idle: 640,
    };
    run(&mut chain, "bittensor", "setparams", extreme).unwrap();
    run(&mut chain, "alice", "subscribe", subscribe("alice", 1)).unwrap();
    chain.now_us += 500_000;
    assert_eq!(
        run(&mut chain, "bob", "subscribe", subscribe("bob", 1)).unwrap_err(),
        emission::settlement::SettleError::NoShares.message()
    );
}
