//! A BitTensor testnet on a multi-producer chain: the [`Cluster`] (P producers running
//! `eosio.system`), the contract deployed on a metered account, the `BIT` token, and one
//! metered, funded account per worker with the list of chain endpoints it fails over
//! across (its own producer's first, workers spread round-robin over the producers).
//!
//! Starting the worker processes is left to the caller (`scripts/run-testnet` through
//! `localnet-testnet`, the fault test in `tests/tests/producers.rs`): the worker's config
//! format belongs to the worker crate.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use chain_client::contract as actions;
use chain_client::{Action, Asset, Name, Symbol};

use crate::cluster::{Cluster, Resources};
use crate::error::LocalnetError;
use crate::node::LOOPBACK;
use crate::view::NodeView;

/// The account the contract is deployed on (as in production and the other tests).
pub const CONTRACT_ACCOUNT: &str = "bittensor";
/// Maximum supply of the testnet token.
const MAX_SUPPLY: i64 = 10_000_000_000_000;
/// Most workers a testnet names (`btnodea` ... `btnodez`).
pub const MAX_WORKERS: usize = 26;
/// RAM bought for the contract account: `setcode` charges about ten bytes per byte of
/// the ~50 KB WASM, plus the ABI and the balance rows the contract pays for.
const CONTRACT_RAM: u64 = 2 << 20;
/// Longest wait for the funding transfers to reach the head block.
const FUNDING_TIMEOUT: Duration = Duration::from_secs(30);

/// What to boot.
#[derive(Debug, Clone)]
pub struct TestnetSpec {
    /// Producer nodes (2 to [`crate::cluster::MAX_PRODUCERS`]).
    pub producers: usize,
    /// Worker accounts (1 to [`MAX_WORKERS`]).
    pub workers: usize,
    /// Where every node's HTTP API listens (loopback, or a bridge namespaces reach).
    pub http_host: IpAddr,
    /// `BIT` base units each worker account receives.
    pub funds: u64,
    /// RAM and CPU/NET stake each worker account gets from `eosio`.
    pub resources: Resources,
}

impl TestnetSpec {
    /// `producers` producers and `workers` workers on loopback, 100 BIT each, and enough
    /// staked CPU/NET for an emit every second ([`worker_resources`]).
    pub fn new(producers: usize, workers: usize) -> TestnetSpec {
        TestnetSpec {
            producers,
            workers,
            http_host: LOOPBACK,
            funds: 1_000_000,
            resources: worker_resources(),
        }
    }
}

/// A worker's RAM and stake: 64 KiB of RAM (its metagraph and residual rows cost a few
/// hundred bytes), and 1 % of the voters' stake for CPU and NET, so a worker emitting
/// every second stays far inside its metered CPU share on an otherwise idle chain.
pub fn worker_resources() -> Resources {
    Resources {
        ram_bytes: 64 * 1024,
        net: "1000000.0000 SYS".into(),
        cpu: "1000000.0000 SYS".into(),
    }
}

/// One worker's chain identity and the endpoints its `chain.url` lists, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerAccount {
    /// The chain account.
    pub account: String,
    /// The node this worker talks to first (index into [`Cluster::urls`]).
    pub home: usize,
    /// Every node's API URL: the home node's first, then the others in ring order.
    pub endpoints: Vec<String>,
}

/// A booted testnet: the chain, the contract account and the worker accounts.
pub struct Testnet {
    /// The producers' chain.
    pub cluster: Cluster,
    /// Account holding the contract.
    pub contract: String,
    /// The worker accounts, funded and metered.
    pub workers: Vec<WorkerAccount>,
}

/// The worker account name of index `i` (`btnodea`, `btnodeb`, ...), as `run-testnet` names them.
pub fn worker_name(i: usize) -> String {
    format!("btnode{}", char::from(b'a' + (i % MAX_WORKERS) as u8))
}

/// The endpoint list of worker `i`: node `i mod P` first, then the following nodes.
pub fn endpoints_for(urls: &[String], i: usize) -> Vec<String> {
    let p = urls.len().max(1);
    (0..urls.len()).map(|k| urls[(i + k) % p].clone()).collect()
}

impl Testnet {
    /// Boots the chain, deploys the freshly built contract and creates the worker accounts.
    pub fn boot(spec: &TestnetSpec) -> Result<Testnet, LocalnetError> {
        if !(1..=MAX_WORKERS).contains(&spec.workers) {
            return Err(LocalnetError::Decode(format!(
                "a testnet has 1 to {MAX_WORKERS} workers, not {}",
                spec.workers
            )));
        }
        let wasm = crate::paths::contract_wasm()?;
        log(&format!(
            "booting {} producers (API on {})",
            spec.producers, spec.http_host
        ));
        let cluster = Cluster::boot_on(spec.producers, spec.http_host)?;
        let net = &cluster.genesis;
        log("deploying the contract");
        let contract_resources = Resources {
            ram_bytes: CONTRACT_RAM,
            ..worker_resources()
        };
        net.create_metered_account(CONTRACT_ACCOUNT, &contract_resources)?;
        net.deploy_contract(CONTRACT_ACCOUNT, &wasm, &crate::paths::contract_abi())?;
        let urls = cluster.urls();
        let workers: Vec<WorkerAccount> = (0..spec.workers)
            .map(|i| WorkerAccount {
                account: worker_name(i),
                home: i % urls.len(),
                endpoints: endpoints_for(&urls, i),
            })
            .collect();
        for w in &workers {
            log(&format!("creating metered account {}", w.account));
            net.create_metered_account(&w.account, &spec.resources)?;
        }
        let testnet = Testnet {
            cluster,
            contract: CONTRACT_ACCOUNT.to_string(),
            workers,
        };
        testnet.fund(spec.funds)?;
        Ok(testnet)
    }

    /// Each node's view of the tables, in node order.
    pub fn views(&self) -> Vec<NodeView> {
        self.cluster
            .urls()
            .into_iter()
            .map(|url| NodeView { url })
            .collect()
    }

    /// Creates `BIT` (issuer: the contract account), issues `funds` per worker and sends
    /// each its share; returns once the last transfer is in the head block's state.
    fn fund(&self, funds: u64) -> Result<(), LocalnetError> {
        let code = parse_name(&self.contract)?;
        let symbol =
            Symbol::new(4, "BIT").map_err(|e| LocalnetError::Decode(format!("symbol: {e}")))?;
        let each = i64::try_from(funds)
            .map_err(|_| LocalnetError::Decode(format!("funds {funds} too large")))?;
        let total = each
            .checked_mul(self.workers.len() as i64)
            .filter(|t| *t <= MAX_SUPPLY)
            .ok_or_else(|| LocalnetError::Decode("total funds exceed the supply".into()))?;
        let net = &self.cluster.genesis;
        // One transaction: on a chain of several producers a second transaction pushed
        // right after the first may be checked against a state that lacks the first.
        let mut batch: Vec<Action> = vec![
            actions::create(code, code, Asset::new(MAX_SUPPLY, symbol)),
            actions::issue(code, code, Asset::new(total, symbol), "testnet"),
        ];
        for w in &self.workers {
            let to = parse_name(&w.account)?;
            batch.push(actions::transfer(
                code,
                code,
                to,
                Asset::new(each, symbol),
                "testnet",
            ));
        }
        log(&format!(
            "funding {} workers with {} each",
            self.workers.len(),
            Asset::new(each, symbol)
        ));
        net.push_actions(batch)?;
        let last = &self.workers[self.workers.len() - 1].account;
        let deadline = Instant::now() + FUNDING_TIMEOUT;
        while net.table(&self.contract, last, "accounts")?.is_empty() {
            if Instant::now() > deadline {
                return Err(LocalnetError::Decode(format!(
                    "the funding of {last} never reached a block"
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }
}

fn parse_name(text: &str) -> Result<Name, LocalnetError> {
    text.parse()
        .map_err(|e: chain_client::NameError| LocalnetError::Decode(format!("{text}: {e}")))
}

/// Progress on stderr (booting takes about a minute).
fn log(message: &str) {
    eprintln!("[localnet] {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_start_on_their_own_node_and_fail_over_in_ring_order() {
        let urls: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        assert_eq!(endpoints_for(&urls, 0), ["a", "b", "c", "d"]);
        assert_eq!(endpoints_for(&urls, 2), ["c", "d", "a", "b"]);
        assert_eq!(endpoints_for(&urls, 5), ["b", "c", "d", "a"]);
        for i in 0..9 {
            let mut e = endpoints_for(&urls, i);
            e.sort();
            assert_eq!(e, urls, "every endpoint listed once");
        }
        assert!(endpoints_for(&[], 3).is_empty());
    }

    #[test]
    fn worker_names_are_valid_account_names() {
        assert_eq!(worker_name(0), "btnodea");
        assert_eq!(worker_name(25), "btnodez");
        for i in 0..MAX_WORKERS {
            parse_name(&worker_name(i)).expect("valid name");
        }
    }
}
