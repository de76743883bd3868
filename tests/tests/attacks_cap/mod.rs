//! Attacks on the self-weight cap, on forwards to departed or evicted targets, on the
//! contract's RAM and on the supply cap, plus the announced parameter change, each on its own
//! copy of the contract on the chain of `attacks_emission` (the scenarios that wait for
//! `max_idle` or the parameter delay share that chain's one wait).

use std::time::{Duration, Instant};

use chain_client::contract as actions;
use chain_client::{Asset, Symbol};
use contract_support::{as_u128, as_u64, balance_in, parse_asset, UNIT};
use emission::params::{Params, MIN_MAX_IDLE, PARAM_DELAY};
use localnet::Localnet;

use super::{contract_support, name, Deployment};

/// Sets the cap (and `max_idle` at its floor) while no node is subscribed: at once.
fn set_cap(d: &Deployment, cap: u32) {
    let p = Params::default();
    d.tx(vec![actions::setparams(
        d.code,
        p.emission_rate,
        p.min_stake,
        cap,
        MIN_MAX_IDLE,
    )]);
    assert_eq!(as_u64(&d.global()["max_self_weight"]), cap as u64);
}

/// What `user`'s position is worth now (stake, residual and what it is owed), from its
/// shares of the pool as the tables show them.
fn position(d: &Deployment, user: &str) -> i64 {
    let g = d.global();
    let value = as_u64(&g["total_stake"]) as u128
        + as_u64(&g["outstanding"]) as u128
        + as_u64(&g["unsettled"]) as u128;
    let total = as_u128(&g["total_shares"]);
    let node = d.node(user).map_or(0, |n| as_u128(&n["shares"]));
    let residual = d
        .rows(d.contract, "residuals")
        .into_iter()
        .find(|r| r["user"] == user)
        .map_or(0, |r| as_u128(&r["shares"]));
    if total == 0 {
        return 0;
    }
    ((node + residual) * value / total) as i64
}

/// Everything `user` gained: balance moved plus the position's worth.
fn gained(d: &Deployment, user: &str, funds: i64) -> i64 {
    balance_in(&d.rows(user, "accounts")) + position(d, user) - funds
}

/// The issue's attack: `ratka` never emits and every 10 s leaves and rejoins in one
/// transaction (its stored set stays self-only, its idle clock resets); `rhonest` emits
/// `[self 50 %, ratka 50 %]` every 2 s; 40 s; cap 50 %. Equal stakes: at most half.
pub fn never_emitting_resubscriber(d: &Deployment, funds: i64) {
    set_cap(d, 500_000);
    let stake = 100 * UNIT;
    d.tx(vec![
        d.subscribe("rhonest", stake),
        d.subscribe("ratka", stake),
    ]);
    let honest = [("rhonest", 500_000), ("ratka", 500_000)];
    let start = Instant::now();
    let mut churn = Duration::from_secs(10);
    while start.elapsed() < Duration::from_secs(40) {
        d.tx(vec![d.emit("rhonest", &honest)]);
        if start.elapsed() >= churn {
            d.tx(vec![d.unsubscribe("ratka"), d.subscribe("ratka", stake)]);
            churn += Duration::from_secs(10);
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    // What is in flight goes where the pushes take it: both settle in turn, a few blocks
    // apart (a second settlement in one block would forfeit what arrived in it). What is
    // left in `ratka`'s residual is counted as all its own: an upper bound for the attacker.
    for _ in 0..3 {
        d.wait_blocks(3);
        d.tx(vec![
            d.emit("rhonest", &honest),
            actions::settle(d.code, name("ratka"), name("ratka")),
        ]);
    }
    let (attacker, honest) = (gained(d, "ratka", funds), gained(d, "rhonest", funds));
    let share = attacker as f64 / (attacker + honest) as f64;
    let redirected = as_u64(&d.global()["redirected"]);
    eprintln!(
        "never-emitting re-subscriber: share {:.4} (attacker {attacker}, honest {honest}), redirected {redirected}",
        share
    );
    assert!(share <= 0.502, "the re-subscriber took {share:.4}");
    assert!(redirected > 0, "the cap's excess went to the other node");
    d.assert_conserved(&["rhonest", "ratka"]);
}

/// `tattack` points half at a throwaway account that leaves in the same transaction (two
/// throwaways taking turns, 1 BIT each); `thonest` emits `[self 50 %, tattack 50 %]`. Cap 50 %.
/// Honest play runs beside it on its own copy of the contract (`b`), in the SAME transactions
/// (so in the same blocks): `battack` emits `[self 50 %, bhonest 50 %]`, `bhonest` as
/// `thonest`. The attacker (throwaways included) may take at most 0.1 % more of what the pair
/// gained than the honest baseline measured in this run.
pub fn throwaway_targets(d: &Deployment, b: &Deployment, funds: i64) {
    set_cap(d, 500_000);
    set_cap(b, 500_000);
    let stake = 100 * UNIT;
    d.tx(vec![
        d.subscribe("thonest", stake),
        d.subscribe("tattack", stake),
        b.subscribe("bhonest", stake),
        b.subscribe("battack", stake),
    ]);
    let honest = [("thonest", 500_000), ("tattack", 500_000)];
    let b_honest = [("bhonest", 500_000), ("battack", 500_000)];
    let b_fair = [("battack", 500_000), ("bhonest", 500_000)];
    d.tx(vec![
        d.emit("thonest", &honest),
        b.emit("bhonest", &b_honest),
    ]);
    let throwaways = ["tthrowa", "tthrowb"];
    for round in 0..8 {
        // Blocks apart, so no two identical transactions share an expiry.
        std::thread::sleep(Duration::from_secs(2));
        let t = throwaways[round % 2];
        d.tx(vec![
            d.subscribe(t, UNIT),
            d.emit("tattack", &[("tattack", 500_000), (t, 500_000)]),
            d.unsubscribe(t),
            b.emit("battack", &b_fair),
        ]);
        d.tx(vec![
            d.emit("thonest", &honest),
            b.emit("bhonest", &b_honest),
        ]);
    }
    let fair = [("tattack", 500_000), ("thonest", 500_000)];
    for _ in 0..3 {
        d.wait_blocks(3);
        d.tx(vec![
            d.emit("tattack", &fair),
            d.emit("thonest", &honest),
            b.emit("battack", &b_fair),
            b.emit("bhonest", &b_honest),
        ]);
    }
    let attacker: i64 = ["tattack", "tthrowa", "tthrowb"]
        .iter()
        .map(|u| gained(d, u, funds))
        .sum();
    let honest_gain = gained(d, "thonest", funds);
    let share = attacker as f64 / (attacker + honest_gain) as f64;
    let (b_attacker, b_honest_gain) = (gained(b, "battack", funds), gained(b, "bhonest", funds));
    let baseline = b_attacker as f64 / (b_attacker + b_honest_gain) as f64;
    // A redirect reaches `thonest` as a lump its next settlement pushes like a forward into
    // its residual (`emission::settlement::lump`), so none of it returns to the attacker
    // through the compounding rule; before that rule the attacker took 0.5142 here. What a
    // 1 BIT throwaway's same-block forfeit hands back to the attacker is well inside the
    // bound (the ledger measures +0.0006 at 1 % of the stake; docs/emission.md).
    let bound = baseline + 0.001;
    eprintln!(
        "throwaway targets: share {share:.4} (attacker {attacker}, honest {honest_gain}), \
         honest play beside it {baseline:.4} ({b_attacker} / {b_honest_gain}), bound {bound:.4}"
    );
    assert!(
        share <= bound,
        "throwaway targets took {share:.4}, honest play {baseline:.4}"
    );
    d.assert_conserved(&["thonest", "tattack", "tthrowa", "tthrowb"]);
    b.assert_conserved(&["bhonest", "battack"]);
}

/// One deployment, one wait of `max_idle` (= the parameter delay): `eattack` points half at
/// two idle nodes and evicts them (with three more idle nodes) once it may; the forwards its
/// stored set still carries go to the other holders, not back to it. The five evictions leave
/// the contract's RAM where it was before anyone subscribed (±1 KiB), the idle nodes cannot
/// close their balance rows meanwhile, and a `setparams` announced while nodes are subscribed
/// applies `PARAM_DELAY` blocks later.
pub fn evicted_targets_ram_and_delay(d: &Deployment, net: &Localnet) {
    set_cap(d, 500_000);
    let ram_before = net.limits(d.contract).expect("contract RAM").ram_usage;
    let stake = 100 * UNIT;
    let victims = ["evicta", "evictb", "evictc", "evictd", "evicte"];
    let mut joins = vec![d.subscribe("ehonest", stake), d.subscribe("eattack", stake)];
    joins.extend(victims.iter().map(|v| d.subscribe(v, UNIT)));
    d.tx(joins);
    let joined = as_u64(&d.node("evicta").expect("victim row")["last_emit"]);
    let closing = d
        .try_tx(vec![actions::close(d.code, name("evicta"), d.symbol)])
        .expect_err("closing a subscribed account's balance");
    assert!(
        closing.contains("Cannot close while subscribed"),
        "{closing}"
    );
    let attack = [
        ("eattack", 500_000),
        ("evicta", 250_000),
        ("evictb", 250_000),
    ];
    let honest = [("ehonest", 500_000), ("eattack", 500_000)];
    d.tx(vec![d.emit("eattack", &attack), d.emit("ehonest", &honest)]);
    // Announced while nodes are subscribed: nothing changes until the delay has passed.
    let p = Params::default();
    let trace = d.tx(vec![actions::setparams(
        d.code,
        2 * p.emission_rate,
        p.min_stake,
        500_000,
        MIN_MAX_IDLE,
    )]);
    let announced = super::slot(&trace);
    let g = d.global();
    assert_eq!(as_u64(&g["emission_rate"]), p.emission_rate);
    assert_eq!(as_u64(&g["next_emission_rate"]), 2 * p.emission_rate);
    assert_eq!(as_u64(&g["next_at"]), announced + PARAM_DELAY);
    let mut early_rate = None;
    loop {
        d.wait_blocks(20);
        d.tx(vec![d.emit("eattack", &attack), d.emit("ehonest", &honest)]);
        let g = d.global();
        if as_u64(&g["acc_block"]) < announced + PARAM_DELAY {
            early_rate = Some(as_u64(&g["emission_rate"]));
        }
        if as_u64(&g["acc_block"]) >= (joined + MIN_MAX_IDLE).max(announced + PARAM_DELAY) + 2 {
            break;
        }
    }
    assert_eq!(
        early_rate,
        Some(p.emission_rate),
        "the old rate held until the delay"
    );
    let g = d.global();
    assert_eq!(as_u64(&g["emission_rate"]), 2 * p.emission_rate);
    assert_eq!(as_u64(&g["next_at"]), 0);
    let evictions = victims
        .iter()
        .map(|v| actions::evict(d.code, name("ehonest"), name(v)))
        .collect();
    d.tx(evictions);
    // eattack's stored set still points at two evicted nodes: half of what it settles now
    // goes to the other holders, none of it back to eattack.
    let before = d.global();
    let stake_before = as_u64(&d.node("eattack").expect("row")["stake"]);
    d.tx(vec![actions::settle(
        d.code,
        name("eattack"),
        name("eattack"),
    )]);
    let after = d.global();
    let kept = as_u64(&d.node("eattack").expect("row")["stake"]) - stake_before;
    let redirected = as_u64(&after["redirected"]) - as_u64(&before["redirected"]);
    eprintln!("evicted targets: kept {kept}, redirected {redirected}");
    assert!(
        redirected + 2 >= kept && kept > 0,
        "kept {kept} of what it settled, redirected {redirected}"
    );
    let ram_after = net.limits(d.contract).expect("contract RAM").ram_usage;
    eprintln!("contract RAM: {ram_before} bytes before, {ram_after} after 5 evictions");
    assert!(
        (ram_after - ram_before).abs() <= 1024,
        "contract RAM {ram_before} -> {ram_after}"
    );
    let mut users = vec!["ehonest", "eattack"];
    users.extend(victims);
    d.assert_conserved(&users);
}

/// A token whose `max_supply` leaves 50 BIT of room: the node accrues past it, the issuer
/// tries to issue what accrued emission already claims, and the supply never passes the cap.
pub fn supply_cap(d: &Deployment, max_supply: i64) {
    let stat = || parse_asset(d.rows("BIT", "stat")[0]["supply"].as_str().expect("supply"));
    let max = || {
        parse_asset(
            d.rows("BIT", "stat")[0]["max_supply"]
                .as_str()
                .expect("max_supply"),
        )
    };
    assert_eq!(max(), max_supply);
    d.tx(vec![d.subscribe("supplya", 100 * UNIT)]);
    d.wait_blocks(20);
    let room = max_supply - stat();
    let refused = d
        .try_tx(vec![actions::issue(
            d.code,
            d.code,
            Asset::new(room, Symbol::new(4, "BIT").expect("symbol")),
            "past the accrued emission",
        )])
        .expect_err("issuing what accrued emission already claims");
    assert!(refused.contains("accrued emission"), "{refused}");
    for _ in 0..6 {
        d.wait_blocks(20);
        d.tx(vec![d.emit("supplya", &[("supplya", 1_000_000)])]);
        let unsettled = as_u64(&d.global()["unsettled"]) as i64;
        assert!(
            stat() + unsettled <= max_supply,
            "supply {} + unsettled {unsettled} past {max_supply}",
            stat()
        );
    }
    let unsettled = as_u64(&d.global()["unsettled"]) as i64;
    eprintln!(
        "supply cap: supply {} + unsettled {unsettled} of max {max_supply}",
        stat()
    );
    assert!(max_supply - stat() <= 1, "the emission filled the room");
    d.assert_conserved(&["supplya"]);
}

/// A ring on a real chain: `ring` accounts (100 BIT each) each keep `cap` and attribute the
/// rest to the next; two honest nodes of the same total stake each keep `min(50 %, cap)` and
/// attribute the rest to each other; every 2 s for 20 s all emit. The ring takes its stake
/// share, one half, whatever the cap: bounded by its stake, not by `max_self_weight`.
/// Returns the ring's share of what everyone gained.
pub fn ring(d: &Deployment, funds: i64, ring: &[&str], cap: u32) -> f64 {
    set_cap(d, cap);
    let honest = ["ringhona", "ringhonb"];
    let each = 100 * UNIT;
    let mut joins: Vec<_> = ring.iter().map(|u| d.subscribe(u, each)).collect();
    joins.extend(
        honest
            .iter()
            .map(|u| d.subscribe(u, each * ring.len() as i64 / 2)),
    );
    let keep = 500_000u32.min(cap);
    let sets: Vec<(&str, Vec<(&str, u32)>)> = ring
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let next = ring[(i + 1) % ring.len()];
            let set = if cap == 1_000_000 {
                vec![(*u, cap)]
            } else {
                vec![(*u, cap), (next, 1_000_000 - cap)]
            };
            (*u, set)
        })
        .chain([
            (
                honest[0],
                vec![(honest[0], keep), (honest[1], 1_000_000 - keep)],
            ),
            (
                honest[1],
                vec![(honest[1], keep), (honest[0], 1_000_000 - keep)],
            ),
        ])
        .collect();
    let all = || -> Vec<_> { sets.iter().map(|(u, set)| d.emit(u, set)).collect() };
    // The sets take force in the joining transaction: until a node's first emit its stored
    // set is self-only, and at this cap the contract redirects 90 % of it to every other
    // holder by value, which favours the side whose nodes hold less each (the ring of three
    // holds 100 each, the honest pair 150): a first emit that landed blocks after the joins
    // moved the share (0.5053 once on a loaded machine).
    joins.extend(all());
    d.tx(joins);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        d.tx(all());
        std::thread::sleep(Duration::from_secs(2));
    }
    for _ in 0..3 {
        d.wait_blocks(3);
        d.tx(all());
    }
    let ring_gain: i64 = ring.iter().map(|u| gained(d, u, funds)).sum();
    let honest_gain: i64 = honest.iter().map(|u| gained(d, u, funds)).sum();
    let share = ring_gain as f64 / (ring_gain + honest_gain) as f64;
    eprintln!(
        "ring of {} at cap {} %: share {share:.4} (ring {ring_gain}, honest {honest_gain})",
        ring.len(),
        cap / 10_000
    );
    assert!(
        (share - 0.5).abs() <= 0.005,
        "ring of {} at cap {cap}: {share:.4}",
        ring.len()
    );
    // Every funded account, the ring's unused ones included.
    d.assert_conserved(&["ringa", "ringb", "ringc", "ringhona", "ringhonb"]);
    share
}
