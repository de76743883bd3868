//! Token actions on the in-memory chain: success paths and every `eosio.token` failure message.

use alloc::string::String;

use crate::asset::Asset;
use crate::codec::to_bytes;
use crate::host::mock::MockChain;
use crate::name::Name;
use crate::symbol::Symbol;
use crate::table;
use crate::test_support::{bit, run, BIT};
use crate::token::{Account, Close, Create, CurrencyStats, Issue, Open, Retire, Transfer};

fn balance(chain: &MockChain, owner: &str) -> Option<i64> {
    table::find::<Account>(chain, Name::new(owner).0, BIT.code().0)
        .unwrap()
        .map(|a| a.balance.amount)
}

fn supply(chain: &MockChain) -> i64 {
    table::find::<CurrencyStats>(chain, BIT.code().0, BIT.code().0)
        .unwrap()
        .unwrap()
        .supply
        .amount
}

fn created() -> MockChain {
    let mut chain = MockChain::new("bittensor", &["issuer", "alice", "bob"], 1);
    let create = Create {
        issuer: Name::new("issuer"),
        maximum_supply: bit(1_000_000),
    };
    run(&mut chain, "bittensor", "create", create).unwrap();
    chain
}

fn transfer(from: &str, to: &str, amount: i64, memo: &str) -> Transfer {
    Transfer {
        from: Name::new(from),
        to: Name::new(to),
        quantity: bit(amount),
        memo: memo.into(),
    }
}

fn issue(to: &str, amount: i64) -> Issue {
    Issue {
        to: Name::new(to),
        quantity: bit(amount),
        memo: String::new(),
    }
}

#[test]
fn create_checks_auth_symbol_supply_and_uniqueness() {
    let mut chain = MockChain::new("bittensor", &["issuer"], 1);
    let mk = |max: Asset| Create {
        issuer: Name::new("issuer"),
        maximum_supply: max,
    };
    assert_eq!(
        run(&mut chain, "issuer", "create", mk(bit(1))).unwrap_err(),
        "missing authority of bittensor"
    );
    let bad_symbol = Asset {
        amount: 1,
        symbol: Symbol::unchecked(4, "bit"),
    };
    let cases = [
        (bad_symbol, "invalid symbol name"),
        (bit(1 << 62), "invalid supply"),
        (bit(0), "max-supply must be positive"),
    ];
    for (max, message) in cases {
        assert_eq!(
            run(&mut chain, "bittensor", "create", mk(max)).unwrap_err(),
            message
        );
    }
    run(&mut chain, "bittensor", "create", mk(bit(10))).unwrap();
    assert_eq!(
        run(&mut chain, "bittensor", "create", mk(bit(10))).unwrap_err(),
        "token with symbol already exists"
    );
}

#[test]
fn issue_only_to_issuer_within_supply() {
    let mut chain = created();
    run(&mut chain, "issuer", "issue", issue("issuer", 400_000)).unwrap();
    assert_eq!(balance(&chain, "issuer"), Some(400_000));
    assert_eq!(supply(&chain), 400_000);
    let failures = [
        (
            "issuer",
            issue("alice", 1),
            "tokens can only be issued to issuer account",
        ),
        ("alice", issue("issuer", 1), "missing authority of issuer"),
        ("issuer", issue("issuer", 0), "must issue positive quantity"),
        (
            "issuer",
            issue("issuer", 600_001),
            "quantity exceeds available supply",
        ),
    ];
    for (signer, args, message) in failures {
        assert_eq!(run(&mut chain, signer, "issue", args).unwrap_err(), message);
    }
    let mut long = issue("issuer", 1);
    long.memo = "x".repeat(257);
    assert_eq!(
        run(&mut chain, "issuer", "issue", long).unwrap_err(),
        "memo has more than 256 bytes"
    );
    let mut wrong = issue("issuer", 1);
    wrong.quantity.symbol = Symbol::constant(4, "XYZ");
    assert_eq!(
        run(&mut chain, "issuer", "issue", wrong).unwrap_err(),
        "token with symbol does not exist, create token before issue"
    );
    let mut precision = issue("issuer", 1);
    precision.quantity.symbol = Symbol::constant(2, "BIT");
    assert_eq!(
        run(&mut chain, "issuer", "issue", precision).unwrap_err(),
        "symbol precision mismatch"
    );
    run(&mut chain, "issuer", "issue", issue("issuer", 600_000)).unwrap();
    assert_eq!(supply(&chain), 1_000_000);
}

#[test]
fn transfer_moves_balances_and_notifies_both() {
    let mut chain = created();
    run(&mut chain, "issuer", "issue", issue("issuer", 1_000)).unwrap();
    run(
        &mut chain,
        "issuer",
        "transfer",
        transfer("issuer", "alice", 300, "hi"),
    )
    .unwrap();
    assert_eq!(chain.recipients, [Name::new("issuer"), Name::new("alice")]);
    assert_eq!(balance(&chain, "issuer"), Some(700));
    assert_eq!(balance(&chain, "alice"), Some(300));
    let failures = [
        (
            "alice",
            transfer("alice", "alice", 1, ""),
            "cannot transfer to self",
        ),
        (
            "bob",
            transfer("alice", "bob", 1, ""),
            "missing authority of alice",
        ),
        (
            "alice",
            transfer("alice", "nobody", 1, ""),
            "to account does not exist",
        ),
        (
            "alice",
            transfer("alice", "bob", 0, ""),
            "must transfer positive quantity",
        ),
        (
            "alice",
            transfer("alice", "bob", 301, ""),
            "overdrawn balance",
        ),
        (
            "bob",
            transfer("bob", "alice", 1, ""),
            "no balance object found",
        ),
    ];
    for (signer, args, message) in failures {
        assert_eq!(
            run(&mut chain, signer, "transfer", args).unwrap_err(),
            message
        );
    }
    let mut unknown = transfer("alice", "bob", 1, "");
    unknown.quantity.symbol = Symbol::constant(4, "XYZ");
    assert_eq!(
        run(&mut chain, "alice", "transfer", unknown).unwrap_err(),
        "unable to find key"
    );
    // Failed transactions left no trace.
    assert_eq!(balance(&chain, "alice"), Some(300));
    assert_eq!(balance(&chain, "bob"), None);
}

#[test]
fn retire_open_close() {
    let mut chain = created();
    run(&mut chain, "issuer", "issue", issue("issuer", 1_000)).unwrap();
    let retire = |amount| Retire {
        quantity: bit(amount),
        memo: String::new(),
    };
    run(&mut chain, "issuer", "retire", retire(400)).unwrap();
    assert_eq!(supply(&chain), 600);
    assert_eq!(balance(&chain, "issuer"), Some(600));
    assert_eq!(
        run(&mut chain, "alice", "retire", retire(1)).unwrap_err(),
        "missing authority of issuer"
    );
    assert_eq!(
        run(&mut chain, "issuer", "retire", retire(0)).unwrap_err(),
        "must retire positive quantity"
    );
    assert_eq!(
        run(&mut chain, "issuer", "retire", retire(601)).unwrap_err(),
        "overdrawn balance"
    );

    let open = |owner: &str, symbol, payer: &str| Open {
        owner: Name::new(owner),
        symbol,
        ram_payer: Name::new(payer),
    };
    assert_eq!(
        run(&mut chain, "alice", "open", open("bob", BIT, "bob")).unwrap_err(),
        "missing authority of bob"
    );
    assert_eq!(
        run(&mut chain, "alice", "open", open("ghost", BIT, "alice")).unwrap_err(),
        "owner account does not exist"
    );
    assert_eq!(
        run(
            &mut chain,
            "alice",
            "open",
            open("bob", Symbol::constant(4, "XYZ"), "alice")
        )
        .unwrap_err(),
        "symbol does not exist"
    );
    assert_eq!(
        run(
            &mut chain,
            "alice",
            "open",
            open("bob", Symbol::constant(3, "BIT"), "alice")
        )
        .unwrap_err(),
        "symbol precision mismatch"
    );
    run(&mut chain, "alice", "open", open("bob", BIT, "alice")).unwrap();
    assert_eq!(balance(&chain, "bob"), Some(0));
    // Opening again is a no-op.
    run(&mut chain, "alice", "open", open("bob", BIT, "alice")).unwrap();

    let close = |owner: &str| Close {
        owner: Name::new(owner),
        symbol: BIT,
    };
    assert_eq!(
        run(&mut chain, "issuer", "close", close("issuer")).unwrap_err(),
        "Cannot close because the balance is not zero."
    );
    assert_eq!(
        run(&mut chain, "alice", "close", close("bob")).unwrap_err(),
        "missing authority of bob"
    );
    run(&mut chain, "bob", "close", close("bob")).unwrap();
    assert_eq!(balance(&chain, "bob"), None);
    assert_eq!(
        run(&mut chain, "bob", "close", close("bob")).unwrap_err(),
        "Balance row already deleted or never existed. Action won't have any effect."
    );
}

#[test]
fn unknown_actions_and_garbage_data_are_rejected_and_notifications_ignored() {
    let mut chain = created();
    assert_eq!(
        chain.run("alice", "steal", &[]).unwrap_err().message,
        "unknown action"
    );
    assert_eq!(
        chain
            .run("alice", "transfer", &[1, 2, 3])
            .unwrap_err()
            .message,
        "datastream attempted to read past the end"
    );
    let mut data = to_bytes(&transfer("issuer", "alice", 1, ""));
    data.push(0);
    assert_eq!(
        chain.run("issuer", "transfer", &data).unwrap_err().message,
        "action data has trailing bytes"
    );
    let receiver = chain.receiver;
    let result = crate::dispatch::dispatch(
        &mut chain,
        receiver,
        Name::new("eosio.token"),
        Name::new("transfer"),
        &[],
    );
    assert_eq!(result, Ok(()));
}
