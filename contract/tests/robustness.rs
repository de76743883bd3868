//! Property tests: any action data, however malformed, is rejected with an error and never
//! panics (a panic on chain would abort with a generic message), and every action's
//! arguments survive an encode/decode round trip.

use bittensor_contract::asset::Asset;
use bittensor_contract::codec::{from_bytes, to_bytes};
use bittensor_contract::dispatch::dispatch;
use bittensor_contract::metagraph::{Emit, Subscribe};
use bittensor_contract::name::Name;
use bittensor_contract::symbol::Symbol;
use bittensor_contract::token::{Create, Issue, Transfer};
use emission::Edge;
use proptest::prelude::*;

mod chain {
    //! A minimal in-memory host (the crate's own mock is test-private).
    use bittensor_contract::error::{ContractError, Result};
    use bittensor_contract::host::{Host, RowId};
    use bittensor_contract::name::Name;
    use std::collections::BTreeMap;

    /// Rows in memory; every authorization and account check passes.
    #[derive(Default)]
    pub struct Memory {
        /// Rows by address.
        pub rows: BTreeMap<RowId, Vec<u8>>,
        /// Secondary index keys by row address.
        pub index: BTreeMap<RowId, u64>,
    }

    impl Host for Memory {
        fn receiver(&self) -> Name {
            Name::new("bittensor")
        }
        fn require_auth(&mut self, _: Name) -> Result<()> {
            Ok(())
        }
        fn has_auth(&self, _: Name) -> bool {
            true
        }
        fn is_account(&self, _: Name) -> bool {
            true
        }
        fn require_recipient(&mut self, _: Name) {}
        fn current_time_us(&self) -> u64 {
            1_000_000_000
        }
        fn db_get(&self, row: RowId) -> Option<Vec<u8>> {
            self.rows.get(&row).cloned()
        }
        fn db_store(&mut self, row: RowId, _: Name, data: &[u8]) -> Result<()> {
            self.rows.insert(row, data.to_vec());
            Ok(())
        }
        fn db_update(&mut self, row: RowId, _: Name, data: &[u8]) -> Result<()> {
            let stored = self
                .rows
                .get_mut(&row)
                .ok_or(ContractError::new("no row"))?;
            *stored = data.to_vec();
            Ok(())
        }
        fn db_remove(&mut self, row: RowId) -> Result<()> {
            self.rows
                .remove(&row)
                .map(|_| ())
                .ok_or(ContractError::new("no row"))
        }
        fn idx64_store(&mut self, row: RowId, _: Name, key: u64) -> Result<()> {
            self.index.insert(row, key);
            Ok(())
        }
        fn idx64_update(&mut self, row: RowId, _: Name, key: u64) -> Result<()> {
            let stored = self
                .index
                .get_mut(&row)
                .ok_or(ContractError::new("no index entry"))?;
            *stored = key;
            Ok(())
        }
        fn idx64_remove(&mut self, row: RowId) -> Result<()> {
            self.index
                .remove(&row)
                .map(|_| ())
                .ok_or(ContractError::new("no index entry"))
        }
    }
}

const ACTIONS: [&str; 13] = [
    "create",
    "issue",
    "retire",
    "transfer",
    "open",
    "close",
    "subscribe",
    "unsubscribe",
    "emit",
    "setparams",
    "settle",
    "evict",
    "nosuchaction",
];

fn asset() -> impl Strategy<Value = Asset> {
    (any::<i64>(), any::<u64>()).prop_map(|(amount, s)| Asset {
        amount,
        symbol: Symbol(s),
    })
}

/// A host where `BIT` exists and `alice` is subscribed, so random data reaches deep paths.
fn seeded() -> chain::Memory {
    let mut host = chain::Memory::default();
    let me = Name::new("bittensor");
    let alice = Name::new("alice");
    let bit = |amount| Asset {
        amount,
        symbol: Symbol::constant(4, "BIT"),
    };
    let create = Create {
        issuer: me,
        maximum_supply: bit(1 << 40),
    };
    let issue = Issue {
        to: me,
        quantity: bit(1 << 30),
        memo: String::new(),
    };
    let transfer = Transfer {
        from: me,
        to: alice,
        quantity: bit(1 << 20),
        memo: String::new(),
    };
    let subscribe = Subscribe {
        user: alice,
        address: "a".into(),
        port: 1,
        stake: bit(1 << 16),
    };
    let setup: [(&str, Vec<u8>); 4] = [
        ("create", to_bytes(&create)),
        ("issue", to_bytes(&issue)),
        ("transfer", to_bytes(&transfer)),
        ("subscribe", to_bytes(&subscribe)),
    ];
    for (action, data) in setup {
        dispatch(&mut host, me, me, Name::new(action), &data).expect("setup action");
    }
    host
}

proptest! {
    #[test]
    fn arbitrary_action_data_never_panics(
        steps in proptest::collection::vec(
            (0..ACTIONS.len(), proptest::collection::vec(any::<u8>(), 0..120)),
            1..20,
        ),
    ) {
        let mut host = seeded();
        let me = Name::new("bittensor");
        for (action, data) in steps {
            let _ = dispatch(&mut host, me, me, Name::new(ACTIONS[action]), &data);
        }
    }

    #[test]
    fn transfer_round_trips(from in any::<u64>(), to in any::<u64>(), quantity in asset(), memo in ".{0,300}") {
        let t = Transfer { from: Name(from), to: Name(to), quantity, memo };
        prop_assert_eq!(from_bytes::<Transfer>(&to_bytes(&t)).unwrap(), t);
    }

    #[test]
    fn subscribe_and_emit_round_trip(
        user in any::<u64>(), address in ".{0,64}", port in any::<u16>(), stake in asset(),
        edges in proptest::collection::vec((any::<u64>(), any::<u32>()), 0..80),
    ) {
        let s = Subscribe { user: Name(user), address, port, stake };
        prop_assert_eq!(from_bytes::<Subscribe>(&to_bytes(&s)).unwrap(), s);
        let e = Emit {
            user: Name(user),
            edges: edges.into_iter().map(|(to, weight)| Edge { to: Name(to), weight }).collect(),
        };
        let bytes = to_bytes(&e);
        prop_assert_eq!(from_bytes::<Emit>(&bytes).unwrap(), e);
        // Any strict prefix is an error, not a panic.
        for cut in 0..bytes.len() {
            prop_assert!(from_bytes::<Emit>(&bytes[..cut]).is_err());
        }
    }
}
