//! A measured metagraph on a local chain: `n` funded nodes subscribed in batched
//! transactions, each with a few seeded random out-edges. The set-up shared by `emit-cpu`
//! and `metagraph-reads`, grown step by step (10, then 100, then 1000 nodes).

use anyhow::{Context, Result};
use bittensor_tests::{deployed, funded};
use chain_client::contract as actions;
use chain_client::{Action, Asset, Client, Name, PrivateKey, Symbol};
use emission::schedule::SplitMix64;
use localnet::{Localnet, DEV_PRIVATE_KEY};

/// Out-edges per node besides itself.
pub const EDGES_PER_NODE: usize = 3;
/// Actions per batched set-up transaction.
const BATCH: usize = 50;
/// Stake per node, base units (10.0000 BIT).
pub const STAKE: u64 = 100_000;

/// Node `i`'s account name: `node` + 5 base-5 digits (names allow only 1-5 as digits).
pub fn node_name(i: usize) -> String {
    let mut digits = String::new();
    let mut v = i;
    for _ in 0..5 {
        digits.insert(0, char::from(b'1' + (v % 5) as u8));
        v /= 5;
    }
    format!("node{digits}")
}

/// An edge set: self first with the remaining weight, then `targets` sharing `spread`.
pub fn edge_set(me: Name, targets: &[Name], spread: u32) -> Vec<(Name, u32)> {
    let each = spread / targets.len().max(1) as u32;
    let mut edges = vec![(me, 1_000_000 - each * targets.len() as u32)];
    edges.extend(targets.iter().map(|&t| (t, each)));
    edges
}

/// A deployed chain whose metagraph grows on request.
pub struct Graph {
    /// The local chain (stopped on drop).
    pub net: Localnet,
    /// The contract account.
    pub contract: Name,
    /// A client of the chain.
    pub client: Client,
    /// The key of every account (the development key).
    pub key: PrivateKey,
    /// The seeded generator of edges.
    pub rng: SplitMix64,
    contract_text: String,
    names_text: Vec<String>,
    names: Vec<Name>,
}

impl Graph {
    /// Builds the contract, starts a local chain and deploys it; names for up to `max` nodes.
    pub async fn deploy(max: usize, seed: u64) -> Result<Graph> {
        let (net, contract_text) = tokio::task::spawn_blocking(deployed).await??;
        let contract: Name = contract_text.parse()?;
        let client = Client::new(&net.url);
        let key = PrivateKey::from_wif(DEV_PRIVATE_KEY)?;
        let names_text: Vec<String> = (0..max).map(node_name).collect();
        let names = names_text
            .iter()
            .map(|n| n.parse())
            .collect::<Result<_, _>>()?;
        Ok(Graph {
            net,
            contract,
            client,
            key,
            rng: SplitMix64::new(seed),
            contract_text,
            names_text,
            names,
        })
    }

    /// The account names of the first `n` nodes.
    pub fn names(&self, n: usize) -> &[Name] {
        &self.names[..n.min(self.names.len())]
    }

    /// Funds and subscribes nodes `from..to`, then gives every node `0..to` a fresh random
    /// edge set over the graph (batched transactions signed by chain-client).
    pub async fn grow(&mut self, from: usize, to: usize) -> Result<()> {
        let new: Vec<&str> = self.names_text[from..to]
            .iter()
            .map(String::as_str)
            .collect();
        // The harness is blocking; run it off the async workers.
        tokio::task::block_in_place(|| funded(&self.net, &self.contract_text, &new, STAKE))?;
        let stake = Asset::new(STAKE as i64, Symbol::new(4, "BIT")?);
        let subscribes = self.names[from..to]
            .iter()
            .map(|&u| actions::subscribe(self.contract, u, "127.0.0.1", 8000, stake))
            .collect();
        self.push_batched(subscribes).await?;
        let emits = (0..to).map(|i| self.random_emit(i, to, 600_000)).collect();
        self.push_batched(emits).await
    }

    /// An `emit` of node `i` with a fresh random edge set over nodes `0..size`.
    pub fn random_emit(&mut self, i: usize, size: usize, spread: u32) -> Action {
        let targets = self.random_targets(i, size);
        let me = self.names[i];
        actions::emit(self.contract, me, &edge_set(me, &targets, spread))
    }

    /// `EDGES_PER_NODE` distinct random targets other than node `me` among `0..count`.
    pub fn random_targets(&mut self, me: usize, count: usize) -> Vec<Name> {
        let mut picked: Vec<usize> = Vec::new();
        while picked.len() < EDGES_PER_NODE.min(count.saturating_sub(1)) {
            let j = self.rng.below(count as u64) as usize;
            if j != me && !picked.contains(&j) {
                picked.push(j);
            }
        }
        picked.into_iter().map(|j| self.names[j]).collect()
    }

    /// Pushes `all` in transactions of `BATCH` actions.
    pub async fn push_batched(&self, all: Vec<Action>) -> Result<()> {
        for chunk in all.chunks(BATCH) {
            self.client
                .push(chunk.to_vec(), std::slice::from_ref(&self.key))
                .await
                .context("batched set-up transaction")?;
        }
        Ok(())
    }

    /// Waits until the last irreversible block passes the current head (a push that just
    /// answered went into the block after it), so what was pushed can no longer be undone.
    pub async fn wait_irreversible(&self) -> Result<()> {
        let head = self.client.get_info().await?.head_block_num;
        for _ in 0..600 {
            let info = self.client.get_info().await?;
            if info.last_irreversible_block_num > head {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        anyhow::bail!("block {} did not become irreversible within 60 s", head + 1)
    }
}
