//! Emission attacks on a real chain: the deployed WASM, real signed transactions, one action
//! list per transaction where the attack needs it. Each attack runs against its own copy of
//! the contract (its own token and metagraph) on one local chain, all four at once:
//! - flash unsubscribe sybil: 4 accounts leave and rejoin in one transaction before the
//!   honest node emits; the attacker's share stays 50 % and minted == rate x blocks;
//! - emit-frequency race: emitting every block earns what emitting once earns;
//! - whale dilution: a whale joining in the block a long-idle node emits takes nothing;
//! - edge laundering: `emit(self-only)` then `emit(generous)` in one transaction still pays the
//!   interval along the generous edges that were in force;
//! - dead weight: another account may `settle` a node only once it has been idle for
//!   `max_idle / 2` blocks, `evict` refuses it until `max_idle` blocks passed since its emit,
//!   then returns its stake to its balance;
//! - and, in [`attacks_cap`], the cap and departed-target attacks, eviction RAM, the supply
//!   cap, the announced parameter change and rings of 2 and 3 under caps from 10 % to 100 %
//!   (the waits of `max_idle` and of the parameter delay run here, in parallel, once).

mod attacks_cap;
mod contract_support;

use chain_client::contract as actions;
use chain_client::{Action, Asset, Name, Symbol};
use contract_support::{as_u64, balance_in, parse_asset, UNIT};
use emission::fixed::{mul_weight, WEIGHT_ONE};
use localnet::{contract_abi, contract_wasm, Localnet};
use serde_json::Value;

/// Base units the contract issues per block by default.
const RATE: u64 = emission::params::DEFAULT_EMISSION_RATE;

/// One copy of the contract on the shared chain.
struct Deployment<'a> {
    net: &'a Localnet,
    contract: &'static str,
    code: Name,
    symbol: Symbol,
}

fn name(text: &str) -> Name {
    text.parse().expect("account name")
}

impl<'a> Deployment<'a> {
    /// Deploys the contract on `contract`, creates BIT there and funds `users` with `funds`.
    fn new(
        net: &'a Localnet,
        wasm: &std::path::Path,
        contract: &'static str,
        users: &[&str],
        funds: i64,
    ) -> Self {
        net.create_account(contract).expect("contract account");
        net.deploy_contract(contract, wasm, &contract_abi())
            .expect("deploy the contract");
        bittensor_tests::funded(net, contract, users, funds as u64).expect("fund the users");
        Deployment {
            net,
            contract,
            code: name(contract),
            symbol: Symbol::new(4, "BIT").expect("symbol"),
        }
    }

    /// Like [`Deployment::new`], with the token created first with `max_supply` base units.
    fn with_max_supply(
        net: &'a Localnet,
        wasm: &std::path::Path,
        contract: &'static str,
        users: &[&str],
        funds: i64,
        max_supply: i64,
    ) -> Self {
        net.create_account(contract).expect("contract account");
        net.deploy_contract(contract, wasm, &contract_abi())
            .expect("deploy the contract");
        let code = name(contract);
        let symbol = Symbol::new(4, "BIT").expect("symbol");
        net.push_actions(vec![actions::create(
            code,
            code,
            Asset::new(max_supply, symbol),
        )])
        .expect("create the token");
        bittensor_tests::funded(net, contract, users, funds as u64).expect("fund the users");
        Deployment {
            net,
            contract,
            code,
            symbol,
        }
    }

    /// Pushes `actions` as one signed transaction; the chain's refusal as text.
    fn try_tx(&self, actions: Vec<Action>) -> Result<Value, String> {
        self.net.push_actions(actions).map_err(|e| e.to_string())
    }

    /// Pushes `actions` as one signed transaction; returns its trace.
    fn tx(&self, actions: Vec<Action>) -> Value {
        self.net
            .push_actions(actions)
            .unwrap_or_else(|e| panic!("{}: transaction refused: {e}", self.contract))
    }

    fn subscribe(&self, user: &str, stake: i64) -> Action {
        let stake = Asset::new(stake, self.symbol);
        actions::subscribe(self.code, name(user), "127.0.0.1", 9000, stake)
    }

    fn unsubscribe(&self, user: &str) -> Action {
        actions::unsubscribe(self.code, name(user))
    }

    fn emit(&self, user: &str, edges: &[(&str, u32)]) -> Action {
        let edges: Vec<(Name, u32)> = edges.iter().map(|(t, w)| (name(t), *w)).collect();
        actions::emit(self.code, name(user), &edges)
    }

    fn rows(&self, scope: &str, table: &str) -> Vec<Value> {
        self.net
            .table(self.contract, scope, table)
            .unwrap_or_else(|e| panic!("{}: reading {table}: {e}", self.contract))
    }

    fn global(&self) -> Value {
        self.rows(self.contract, "global").remove(0)
    }

    fn node(&self, user: &str) -> Option<Value> {
        self.rows(self.contract, "metagraph")
            .into_iter()
            .find(|r| r["user"] == user)
    }

    /// Balance plus stake plus pending residual of `user`, in base units.
    fn holdings(&self, user: &str) -> i64 {
        let stake = self.node(user).map_or(0, |n| as_u64(&n["stake"]) as i64);
        let residual = self
            .rows(self.contract, "residuals")
            .into_iter()
            .find(|r| r["user"] == user)
            .map_or(0, |r| as_u64(&r["residual"]) as i64);
        balance_in(&self.rows(user, "accounts")) + stake + residual
    }

    /// `stat.supply == balances + total_stake + outstanding` over `users` and the contract.
    fn assert_conserved(&self, users: &[&str]) {
        let g = self.global();
        let supply = parse_asset(
            self.rows("BIT", "stat")[0]["supply"]
                .as_str()
                .expect("supply"),
        );
        let mut balances: i64 = users
            .iter()
            .map(|u| balance_in(&self.rows(u, "accounts")))
            .sum();
        balances += balance_in(&self.rows(self.contract, "accounts"));
        let held = balances as u64 + as_u64(&g["total_stake"]) + as_u64(&g["outstanding"]);
        assert_eq!(supply as u64, held, "{}: supply conserved", self.contract);
    }

    /// Waits until the head block has advanced `n` blocks.
    fn wait_blocks(&self, n: u64) {
        let head = || as_u64(&self.net.get_info().expect("get_info")["head_block_num"]);
        let target = head() + n;
        while head() < target {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// The block slot a transaction ran in (`block_time / 0.5 s`).
fn slot(trace: &Value) -> u64 {
    let time = trace["block_time"].as_str().expect("trace has block_time");
    let ms = chain_client::client::time::parse_block_time_ms(time).expect("block time");
    ms / 500
}

/// Relative difference `|a - b| / b`.
fn rel(a: i64, b: i64) -> f64 {
    (a - b).abs() as f64 / b as f64
}

fn flash_sybil(d: &Deployment, funds: i64) {
    let sybils = ["fsybila", "fsybilb", "fsybilc", "fsybild"];
    let mut join = vec![d.subscribe("fhonest", 40 * UNIT)];
    join.extend(sybils.iter().map(|s| d.subscribe(s, 10 * UNIT)));
    let start = slot(&d.tx(join));
    d.wait_blocks(20);
    // One transaction: each sybil leaves (settling) and rejoins, then the honest node emits.
    let mut flash: Vec<Action> = sybils.iter().map(|s| d.unsubscribe(s)).collect();
    flash.extend(sybils.iter().map(|s| d.subscribe(s, 10 * UNIT)));
    flash.push(d.emit("fhonest", &[("fhonest", WEIGHT_ONE)]));
    let end = slot(&d.tx(flash));
    let honest = d.holdings("fhonest") - funds;
    let attacker: i64 = sybils.iter().map(|s| d.holdings(s) - funds).sum();
    let share = attacker as f64 / (attacker + honest) as f64;
    let g = d.global();
    let (minted, unsettled) = (as_u64(&g["minted"]), as_u64(&g["unsettled"]));
    let issued = RATE * (end - start);
    eprintln!(
        "flash sybil: {} blocks, attacker {attacker}, honest {honest}, share {:.5}, minted {minted} + unsettled {unsettled} = rate x blocks {issued}",
        end - start,
        share
    );
    assert!((share - 0.5).abs() <= 0.001, "attacker share {share}");
    assert_eq!(
        minted + unsettled,
        issued,
        "everything issued is minted or visible"
    );
    assert!(
        unsettled <= 5,
        "below one unit per position unsettled: {unsettled}"
    );
    let mut users = vec!["fhonest"];
    users.extend(sybils);
    d.assert_conserved(&users);
}

fn frequency_race(d: &Deployment, funds: i64) {
    let start = slot(&d.tx(vec![
        d.subscribe("fastnode", 40 * UNIT),
        d.subscribe("slownode", 40 * UNIT),
    ]));
    let mut last = start;
    while last < start + 40 {
        let trace = d.tx(vec![d.emit("fastnode", &[("fastnode", WEIGHT_ONE)])]);
        last = slot(&trace);
        d.wait_blocks(1);
    }
    let end = slot(&d.tx(vec![
        d.emit("fastnode", &[("fastnode", WEIGHT_ONE)]),
        d.emit("slownode", &[("slownode", WEIGHT_ONE)]),
    ]));
    let fast = d.holdings("fastnode") - funds;
    let slow = d.holdings("slownode") - funds;
    eprintln!(
        "frequency race: {} blocks, every block {fast}, once {slow}, {:+.4} %",
        end - start,
        100.0 * (fast - slow) as f64 / slow as f64
    );
    assert!(rel(fast, slow) <= 0.001, "fast {fast} vs slow {slow}");
    assert_eq!(
        fast + slow,
        (RATE * (end - start)) as i64 - as_u64(&d.global()["unsettled"]) as i64
    );
    d.assert_conserved(&["fastnode", "slownode"]);
}

fn whale_dilution(d: &Deployment, funds: i64) {
    let start = slot(&d.tx(vec![
        d.subscribe("idlenode", 40 * UNIT),
        d.subscribe("busynode", 40 * UNIT),
    ]));
    d.wait_blocks(20);
    // The whale joins in the very block the long-idle node emits, then emits itself.
    let whale_stake = 4_000 * UNIT;
    let end = slot(&d.tx(vec![
        d.subscribe("whalenode", whale_stake),
        d.emit("idlenode", &[("idlenode", WEIGHT_ONE)]),
        d.emit("busynode", &[("busynode", WEIGHT_ONE)]),
        d.emit("whalenode", &[("whalenode", WEIGHT_ONE)]),
    ]));
    let idle = d.holdings("idlenode") - funds;
    let busy = d.holdings("busynode") - funds;
    let whale = d.holdings("whalenode") - funds;
    eprintln!(
        "whale dilution: {} blocks, idle {idle}, busy {busy}, whale {whale}",
        end - start
    );
    assert_eq!(
        whale, 0,
        "the whale earns nothing for blocks before it arrived"
    );
    assert!(rel(idle, busy) <= 0.001, "idle {idle} vs busy {busy}");
    let issued = (RATE * (end - start)) as i64;
    assert!(
        rel(idle + busy, issued) <= 0.001,
        "the interval went to the stake that was there"
    );
    d.assert_conserved(&["idlenode", "busynode", "whalenode"]);
}

fn edge_laundering(d: &Deployment, funds: i64) {
    let generous = [("laundera", 100_000), ("victimb", 900_000)];
    d.tx(vec![
        d.subscribe("laundera", 40 * UNIT),
        d.subscribe("victimb", 40 * UNIT),
    ]);
    // Store the generous set: it is the one in force from now on.
    d.tx(vec![d.emit("laundera", &generous)]);
    d.wait_blocks(20);
    // What each holds before the laundering transaction: the first emit settled the time
    // since the subscription too when it landed a block later (a slow chain), and that is
    // not the interval under test.
    let minted_before = as_u64(&d.global()["minted"]);
    let (victim_before, launderer_before) = (d.holdings("victimb"), d.holdings("laundera"));
    d.tx(vec![
        d.emit("laundera", &[("laundera", WEIGHT_ONE)]),
        d.emit("laundera", &generous),
    ]);
    let claimed = as_u64(&d.global()["minted"]) - minted_before;
    let victim_residual = d.holdings("victimb") - victim_before;
    let launderer = d.holdings("laundera") - launderer_before;
    eprintln!(
        "edge laundering: before the interval the victim held {} and the launderer {} above their funds",
        victim_before - funds,
        launderer_before - funds
    );
    eprintln!("edge laundering: claimed {claimed}, victim's residual {victim_residual}, launderer kept {launderer}");
    assert!(claimed > 0);
    // The interval goes along the generous set in force: the victim gets its 90 % and the
    // compounding on it the launderer does not keep; the launderer keeps at most its 10 %.
    assert!(
        victim_residual as u64 >= mul_weight(claimed, 900_000),
        "the interval went along the generous edges in force"
    );
    assert!(launderer as u64 <= mul_weight(claimed, 100_000));
    assert!(
        (victim_residual + launderer) as u64 <= claimed
            && claimed - ((victim_residual + launderer) as u64) < 2,
        "all of the claim is accounted for, up to the push's rounding carry"
    );
    let stored = d.node("laundera").expect("launderer row")["edges"].clone();
    assert_eq!(
        stored[1]["to"], "victimb",
        "the chain shows the set that carries the next interval"
    );
    d.assert_conserved(&["laundera", "victimb"]);
}

fn dead_weight_eviction(d: &Deployment, funds: i64) {
    let params = emission::params::Params::default();
    let max_idle = emission::params::MIN_MAX_IDLE;
    d.tx(vec![actions::setparams(
        d.code,
        params.emission_rate,
        params.min_stake,
        params.max_self_weight,
        max_idle,
    )]);
    d.tx(vec![
        d.subscribe("deadnode", 40 * UNIT),
        d.subscribe("livenode", 40 * UNIT),
    ]);
    d.tx(vec![
        d.emit("deadnode", &[("deadnode", 500_000), ("livenode", 500_000)]),
        d.emit("livenode", &[("livenode", WEIGHT_ONE)]),
    ]);
    let emitted_at = as_u64(&d.node("deadnode").expect("dead node row")["last_emit"]);
    d.wait_blocks(10);
    // Another account may not settle a node that emitted recently (no spam of its change
    // number); once it has been idle for max_idle / 2 blocks anyone may push its accrual.
    let spam = d
        .try_tx(vec![actions::settle(
            d.code,
            name("cranker"),
            name("deadnode"),
        )])
        .expect_err("settling a live node by another account");
    assert!(spam.contains("another account may settle"), "{spam}");
    let mut cranked = false;
    let early = d
        .try_tx(vec![actions::evict(
            d.code,
            name("cranker"),
            name("deadnode"),
        )])
        .expect_err("eviction before max_idle");
    assert!(early.contains("max_idle"), "{early}");
    // The live node keeps emitting; the dead one does not. Blocks are the contract's block
    // slots (`last_emit`, `acc_block`), read back after each action.
    loop {
        d.wait_blocks(20);
        d.tx(vec![d.emit("livenode", &[("livenode", WEIGHT_ONE)])]);
        let now = as_u64(&d.global()["acc_block"]);
        if !cranked && now >= emitted_at + max_idle / 2 + 5 {
            // Idle for max_idle / 2: anyone may push its accrual; its idle clock stays.
            let before = d.holdings("livenode");
            d.tx(vec![actions::settle(
                d.code,
                name("cranker"),
                name("deadnode"),
            )]);
            assert!(
                d.holdings("livenode") > before,
                "the crank paid the dead node's edge"
            );
            assert_eq!(
                as_u64(&d.node("deadnode").expect("row")["last_emit"]),
                emitted_at
            );
            cranked = true;
        }
        if now >= emitted_at + max_idle + 2 {
            break;
        }
    }
    assert!(cranked, "the crank ran before the eviction");
    let stake = as_u64(&d.node("deadnode").expect("row")["stake"]) as i64;
    let balance = balance_in(&d.rows("deadnode", "accounts"));
    d.tx(vec![actions::evict(
        d.code,
        name("cranker"),
        name("deadnode"),
    )]);
    assert!(d.node("deadnode").is_none(), "the dead node's row is gone");
    let back = balance_in(&d.rows("deadnode", "accounts")) - balance;
    eprintln!("dead weight: stake {stake} returned {back} after {max_idle} idle blocks");
    // Eviction settles first: the stake, the kept half of the accrual since the crank and the
    // push's carry come back.
    assert!(
        back > stake,
        "its whole stake and last accrual came back: {back} <= {stake}"
    );
    assert!(
        !d.rows(d.contract, "residuals")
            .iter()
            .any(|r| r["user"] == "deadnode"),
        "the dead node's residual row is gone"
    );
    let refused = d
        .try_tx(vec![actions::evict(
            d.code,
            name("cranker"),
            name("livenode"),
        )])
        .expect_err("the live node cannot be evicted");
    assert!(refused.contains("max_idle"), "{refused}");
    assert!(
        d.holdings("deadnode") - funds > 0,
        "the dead node kept what it earned"
    );
    d.assert_conserved(&["deadnode", "livenode", "cranker"]);
}

#[test]
fn emission_attacks_gain_nothing_on_a_real_chain() {
    let wasm = contract_wasm().expect("contract WASM");
    let net = Localnet::start().expect("local chain");
    let funds = 10_000 * UNIT;
    let flash = Deployment::new(
        &net,
        &wasm,
        "flashsybil",
        &["fhonest", "fsybila", "fsybilb", "fsybilc", "fsybild"],
        funds,
    );
    let race = Deployment::new(&net, &wasm, "freqrace", &["fastnode", "slownode"], funds);
    let whale = Deployment::new(
        &net,
        &wasm,
        "whaledil",
        &["idlenode", "busynode", "whalenode"],
        funds,
    );
    let launder = Deployment::new(&net, &wasm, "launder", &["laundera", "victimb"], funds);
    let dead = Deployment::new(
        &net,
        &wasm,
        "deadwt",
        &["deadnode", "livenode", "cranker"],
        funds,
    );
    let resub = Deployment::new(&net, &wasm, "resubscr", &["rhonest", "ratka"], funds);
    let throwaway = Deployment::new(
        &net,
        &wasm,
        "throwaway",
        &["thonest", "tattack", "tthrowa", "tthrowb"],
        funds,
    );
    let throwbase = Deployment::new(&net, &wasm, "throwbase", &["bhonest", "battack"], funds);
    let evicted = Deployment::new(
        &net,
        &wasm,
        "evicttgt",
        &[
            "ehonest", "eattack", "evicta", "evictb", "evictc", "evictd", "evicte",
        ],
        funds,
    );
    // Rings of 2 and 3 under caps from 10 % to 100 %, each on its own copy.
    let ring_users = ["ringa", "ringb", "ringc", "ringhona", "ringhonb"];
    let caps = [100_000u32, 250_000, 500_000, 750_000, 1_000_000];
    let ring_names = [
        ["ringtwoa", "ringtwob", "ringtwoc", "ringtwod", "ringtwoe"],
        ["ringthra", "ringthrb", "ringthrc", "ringthrd", "ringthre"],
    ];
    let mut rings: Vec<(Deployment, &[&str], u32)> = Vec::new();
    for (names, size) in ring_names.iter().zip([2, 3]) {
        for (contract, cap) in names.iter().zip(caps) {
            let d = Deployment::new(&net, &wasm, contract, &ring_users, funds);
            rings.push((d, &ring_users[..size], cap));
        }
    }
    let supply_max = 150 * UNIT;
    let supply = Deployment::with_max_supply(
        &net,
        &wasm,
        "supplycap",
        &["supplya"],
        100 * UNIT,
        supply_max,
    );
    std::thread::scope(|s| {
        s.spawn(|| flash_sybil(&flash, funds));
        s.spawn(|| frequency_race(&race, funds));
        s.spawn(|| whale_dilution(&whale, funds));
        s.spawn(|| edge_laundering(&launder, funds));
        s.spawn(|| dead_weight_eviction(&dead, funds));
        s.spawn(|| attacks_cap::never_emitting_resubscriber(&resub, funds));
        s.spawn(|| attacks_cap::throwaway_targets(&throwaway, &throwbase, funds));
        s.spawn(|| attacks_cap::evicted_targets_ram_and_delay(&evicted, &net));
        s.spawn(|| attacks_cap::supply_cap(&supply, supply_max));
        for (d, members, cap) in &rings {
            s.spawn(move || attacks_cap::ring(d, funds, members, *cap));
        }
    });
}
