//! Incremental metagraph reads against a real nodeos with the real contract: after one full
//! paged read, a reader fetches only the rows changed since its cursor (the change sequence
//! and its secondary indexes). A node emitting many times between two refreshes costs each
//! reader one row; leaving and coming back cost one entry; a reader that skipped many
//! refreshes converges to the table with one incremental read.

use std::collections::BTreeSet;
use std::time::Duration;

use bittensor_tests::{deployed, funded};
use chain_client::client::view::CHANGE_SLOT_SHIFT;
use chain_client::contract as actions;
use chain_client::{Action, Asset, Client, MetagraphRow, MetagraphView, Name, PrivateKey, Symbol};
use localnet::DEV_PRIVATE_KEY;

/// Nodes in the graph (small: the 100/1000 figures come from `ops`' `metagraph-reads`).
const NODES: usize = 20;
/// Stake per node, base units.
const STAKE: u64 = 100_000;
/// Emits the churning node pushes between two refreshes.
const CHURN: usize = 12;

fn user(i: usize) -> String {
    format!("reader{}", char::from(b'a' + i as u8))
}

struct Chain {
    client: Client,
    key: PrivateKey,
    contract: Name,
    users: Vec<Name>,
    stake: Asset,
}

impl Chain {
    async fn push(&self, actions: Vec<Action>) {
        self.client
            .push(actions, std::slice::from_ref(&self.key))
            .await
            .expect("push");
    }

    fn emit(&self, i: usize, to: usize, weight: u32) -> Action {
        let me = self.users[i];
        let edges = [(me, 1_000_000 - weight), (self.users[to], weight)];
        actions::emit(self.contract, me, &edges)
    }

    fn subscribe(&self, i: usize) -> Action {
        actions::subscribe(self.contract, self.users[i], "127.0.0.1", 9000, self.stake)
    }

    /// Until the last irreversible block passes the current head (a push just answered went
    /// into the block after it): what was pushed is final.
    async fn wait_irreversible(&self) {
        let head = self.client.get_info().await.unwrap().head_block_num;
        for _ in 0..600 {
            let info = self.client.get_info().await.unwrap();
            if info.last_irreversible_block_num > head {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("block {} never became irreversible", head + 1);
    }

    async fn table(&self) -> Vec<MetagraphRow> {
        let mut rows = self.client.metagraph(self.contract).await.unwrap();
        rows.sort_by_key(|r| r.user.as_u64());
        rows
    }
}

fn copy(view: &MetagraphView) -> Vec<MetagraphRow> {
    let mut rows: Vec<MetagraphRow> = view.rows().cloned().collect();
    rows.sort_by_key(|r| r.user.as_u64());
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_reads_follow_the_table_and_a_churner_costs_one_row() {
    let (net, contract) = deployed().expect("deployed contract");
    let names: Vec<String> = (0..NODES).map(user).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    funded(&net, &contract, &refs, 10 * STAKE).expect("funded users");
    let chain = Chain {
        client: Client::new(&net.url),
        key: PrivateKey::from_wif(DEV_PRIVATE_KEY).unwrap(),
        contract: contract.parse().unwrap(),
        users: names.iter().map(|n| n.parse().unwrap()).collect(),
        stake: Asset::new(STAKE as i64, Symbol::new(4, "BIT").unwrap()),
    };
    chain
        .push((0..NODES).map(|i| chain.subscribe(i)).collect())
        .await;
    chain.wait_irreversible().await;

    let (mut eager, mut lazy) = (MetagraphView::new(), MetagraphView::new());
    let reader = Client::new(&net.url);
    // Change numbers carry their block slot: the reader's and the contract's split agree,
    // and every row's slot is one this chain produced.
    assert_eq!(CHANGE_SLOT_SHIFT, bittensor_contract::metagraph::SLOT_SHIFT);
    let head_slot = {
        let info = chain.client.get_info().await.unwrap();
        chain_client::client::time::parse_block_time_ms(&info.head_block_time).unwrap() / 500
    };
    for row in chain.table().await {
        let slot = row.seq >> CHANGE_SLOT_SHIFT;
        assert!(
            slot <= head_slot && slot + 600 > head_slot,
            "{row:?} at slot {head_slot}"
        );
    }
    let first = eager.refresh(&reader, chain.contract).await.unwrap();
    assert!(first.full, "the first refresh reads the whole table");
    assert_eq!((first.rows_read, first.nodes), (NODES, NODES));
    assert!(lazy.refresh(&reader, chain.contract).await.unwrap().full);
    assert_eq!(copy(&eager), chain.table().await);

    for round in 0..4 {
        // The churner (node 0) emits CHURN times; node 1+round leaves; node 5+round emits
        // once; the node that left last round comes back.
        let mut changed = BTreeSet::from([0, 1 + round, 5 + round]);
        for k in 0..CHURN {
            chain
                .push(vec![chain.emit(
                    0,
                    10,
                    100_000 + (round * CHURN + k) as u32,
                )])
                .await;
        }
        let leave = actions::unsubscribe(chain.contract, chain.users[1 + round]);
        chain
            .push(vec![leave, chain.emit(5 + round, 11, 300_000)])
            .await;
        if round > 0 {
            chain.push(vec![chain.subscribe(round)]).await;
            changed.insert(round);
        }
        chain.wait_irreversible().await;
        let r = eager.refresh(&reader, chain.contract).await.unwrap();
        eprintln!("round {round}: {r:?}");
        assert!(!r.full, "round {round}: an incremental read");
        assert_eq!(
            r.rows_read + r.departures_read,
            changed.len(),
            "round {round}: one entry per account that changed, the churner's {CHURN} emits included"
        );
        assert_eq!(copy(&eager), chain.table().await, "round {round}");
    }

    // The lazy reader missed every round: one incremental read brings it to the table,
    // reading each changed account once.
    let r = lazy.refresh(&reader, chain.contract).await.unwrap();
    eprintln!("lazy reader: {r:?}");
    assert!(!r.full);
    assert!(r.rows_read + r.departures_read <= 9, "{r:?}");
    assert_eq!(copy(&lazy), chain.table().await);
    assert_eq!(r.nodes, NODES - 1, "one node left and has not come back");
    // A full read of the table costs more than the incremental read did.
    let mut fresh = MetagraphView::new();
    let full = fresh.refresh(&reader, chain.contract).await.unwrap();
    assert!(full.full && full.bytes > r.bytes, "{full:?} vs {r:?}");
    assert_eq!(copy(&fresh), copy(&lazy));
}
