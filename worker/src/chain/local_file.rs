//! The local experiment chain: a directory the nodes of one `bittensor-worker experiment`
//! share instead of a nodeos. The experiment writes its roster (`roster.json`: accounts,
//! loopback addresses, public keys, the self-weight cap, the pinned vocabulary); each node
//! writes only its own files (`subscribed/<account>` while it is subscribed,
//! `emits/<account>.jsonl`, one line per emit) and reads the others'.
//!
//! The nodes start together: a node's `subscribe` returns once every account of the roster
//! has subscribed (or after [`START_BARRIER`]), so each node's first metagraph read, right
//! after it, finds all its peers and its first exchange round has them. Without it, a fast
//! node could train much of its schedule before a slower one has even started.
//!
//! It carries no stake and mints nothing: it exists so N worker processes can find each
//! other, check each other's keys and pin one vocabulary without booting a chain. A node
//! uses it only when its configuration names it (`chain.local_experiment`), and it refuses
//! any roster or subscription that is not on a loopback address, so it can never point a
//! node at another host.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use chain_client::client::{Finality, PushReceipt};
use chain_client::PublicKey;
use emission::Edge;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::api::{ChainApi, ChainFailure, ChainFuture, PeerRow};

/// The roster's file name inside the experiment directory.
pub const ROSTER_FILE: &str = "roster.json";

/// Longest a subscribing node waits for the rest of the roster.
pub const START_BARRIER: std::time::Duration = std::time::Duration::from_secs(120);

/// One account of the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterAccount {
    /// Account name.
    pub user: String,
    /// Loopback IP its peer server listens on (the port is the one it subscribes with:
    /// nodes listen on any free port).
    pub address: String,
    /// Its public key (what its peer sessions must prove).
    pub public_key: String,
}

/// What the experiment pins for every node (the roles `setvocab` and `setparams` play on a
/// real chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roster {
    /// The accounts taking part.
    pub accounts: Vec<RosterAccount>,
    /// The pinned vocabulary file's SHA-256 (hex).
    pub vocab_hash: String,
    /// Its word count.
    pub vocab_words: u32,
    /// The self-weight cap, parts per million.
    pub max_self_weight: u32,
}

/// Why a roster cannot be used.
fn refuse(message: String) -> ChainFailure {
    ChainFailure::new(false, message)
}

fn is_loopback(address: &str) -> bool {
    address
        .trim_matches(['[', ']'])
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

impl Roster {
    /// Checks that every address is a loopback IP and every key parses.
    pub fn check(&self) -> Result<(), ChainFailure> {
        for a in &self.accounts {
            if !is_loopback(&a.address) {
                return Err(refuse(format!(
                    "the local experiment chain lists loopback addresses only; {} has {}",
                    a.user, a.address
                )));
            }
            a.public_key
                .parse::<PublicKey>()
                .map_err(|e| refuse(format!("public key of {}: {e}", a.user)))?;
        }
        Ok(())
    }

    /// Writes the roster into `dir` (created), after checking it.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, ChainFailure> {
        self.check()?;
        let io = |e: std::io::Error| refuse(format!("writing {}: {e}", dir.display()));
        for sub in ["subscribed", "emits"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(io)?;
        }
        let path = dir.join(ROSTER_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| refuse(e.to_string()))?;
        std::fs::write(&path, text).map_err(io)?;
        Ok(path)
    }
}

/// A subscription as `subscribed/<account>` holds it.
#[derive(Debug, Serialize, Deserialize)]
struct Subscription {
    address: String,
    port: u16,
    stake: u64,
}

/// One line of `emits/<account>.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
struct EmitLine {
    edges: Vec<(String, u32)>,
}

/// The local experiment chain, acting as one account of its roster.
pub struct LocalFileChain {
    dir: PathBuf,
    me: String,
    roster: Roster,
    chain_id: [u8; 32],
    emits: AtomicU32,
}

impl LocalFileChain {
    /// Opens the experiment directory `dir` as account `me` (which the roster must list).
    pub fn open(dir: &Path, me: &str) -> Result<Self, ChainFailure> {
        let path = dir.join(ROSTER_FILE);
        let bytes = std::fs::read(&path).map_err(|e| {
            refuse(format!(
                "local experiment chain: cannot read {}: {e}",
                path.display()
            ))
        })?;
        let roster: Roster = serde_json::from_slice(&bytes)
            .map_err(|e| refuse(format!("local experiment chain {}: {e}", path.display())))?;
        roster.check()?;
        if !roster.accounts.iter().any(|a| a.user == me) {
            return Err(refuse(format!(
                "account {me} is not in the local experiment chain's roster {}",
                path.display()
            )));
        }
        Ok(LocalFileChain {
            dir: dir.to_path_buf(),
            me: me.to_string(),
            chain_id: Sha256::digest(&bytes).into(),
            roster,
            emits: AtomicU32::new(0),
        })
    }

    fn subscription_path(&self, user: &str) -> PathBuf {
        self.dir.join("subscribed").join(user)
    }

    fn emits_path(&self, user: &str) -> PathBuf {
        self.dir.join("emits").join(format!("{user}.jsonl"))
    }

    fn io(&self, what: &Path) -> impl FnOnce(std::io::Error) -> ChainFailure + '_ {
        let what = what.display().to_string();
        move |e| ChainFailure::new(true, format!("local experiment chain: {what}: {e}"))
    }

    fn subscribed(&self) -> BTreeMap<String, Subscription> {
        self.roster
            .accounts
            .iter()
            .filter_map(|a| {
                let text = std::fs::read_to_string(self.subscription_path(&a.user)).ok()?;
                Some((a.user.clone(), serde_json::from_str(&text).ok()?))
            })
            .collect()
    }

    fn last_edges(&self, user: &str) -> Vec<(String, u32)> {
        std::fs::read_to_string(self.emits_path(user))
            .ok()
            .and_then(|text| {
                let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
                serde_json::from_str::<EmitLine>(line).ok()
            })
            .map(|e| e.edges)
            .unwrap_or_default()
    }
}

impl ChainApi for LocalFileChain {
    fn subscribe(&self, address: String, port: u16, stake: u64) -> ChainFuture<'_, ()> {
        Box::pin(async move {
            if !is_loopback(&address) {
                return Err(refuse(format!(
                    "the local experiment chain takes loopback addresses only, not {address}"
                )));
            }
            let listed = self.roster.accounts.iter().find(|a| a.user == self.me);
            if listed.is_none_or(|a| a.address != address) {
                return Err(refuse(format!(
                    "{} may subscribe only with the address its roster lists, not {address}",
                    self.me
                )));
            }
            let path = self.subscription_path(&self.me);
            let doc = Subscription {
                address,
                port,
                stake,
            };
            let text = serde_json::to_string(&doc).map_err(|e| refuse(e.to_string()))?;
            // Written whole then renamed, so a reader never sees half a row.
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, text).map_err(self.io(&tmp))?;
            std::fs::rename(&tmp, &path).map_err(self.io(&path))?;
            let end = std::time::Instant::now() + START_BARRIER;
            while self.subscribed().len() < self.roster.accounts.len() {
                if std::time::Instant::now() > end {
                    tracing::warn!(
                        waited = ?START_BARRIER,
                        "not every node of the local experiment chain subscribed; starting anyway"
                    );
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Ok(())
        })
    }

    fn unsubscribe(&self) -> ChainFuture<'_, ()> {
        Box::pin(async move {
            let path = self.subscription_path(&self.me);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.io(&path)(e)),
                _ => Ok(()),
            }
        })
    }

    fn emit(&self, edges: Vec<Edge<String>>) -> ChainFuture<'_, PushReceipt> {
        Box::pin(async move {
            let subscribed = self.subscribed();
            if edges.first().is_none_or(|e| e.to != self.me) {
                return Err(refuse("edge set must start with the caller".into()));
            }
            if let Some(bad) = edges.iter().find(|e| !subscribed.contains_key(&e.to)) {
                return Err(refuse(format!("edge target not subscribed: {}", bad.to)));
            }
            if edges[0].weight > self.roster.max_self_weight {
                return Err(refuse("self weight above max_self_weight".into()));
            }
            let line = EmitLine {
                edges: edges.iter().map(|e| (e.to.clone(), e.weight)).collect(),
            };
            let text = serde_json::to_string(&line).map_err(|e| refuse(e.to_string()))?;
            let path = self.emits_path(&self.me);
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(self.io(&path))?;
            writeln!(file, "{text}").map_err(self.io(&path))?;
            let n = self.emits.fetch_add(1, Ordering::Relaxed) + 1;
            Ok(PushReceipt {
                transaction_id: format!("{n:064x}"),
                block_num: n,
                expiration: n,
                cpu_usage_us: 0,
                net_usage_words: 0,
                console: String::new(),
            })
        })
    }

    fn finality(&self, emit: PushReceipt) -> ChainFuture<'_, Finality> {
        Box::pin(async move {
            Ok(Finality::Irreversible {
                block: emit.block_num,
            })
        })
    }

    fn metagraph(&self) -> ChainFuture<'_, Vec<PeerRow>> {
        Box::pin(async move {
            Ok(self
                .subscribed()
                .into_iter()
                // A subscription file another process wrote is checked like the roster.
                .filter(|(_, s)| is_loopback(&s.address))
                .map(|(user, s)| PeerRow {
                    edges: self.last_edges(&user),
                    user,
                    address: s.address,
                    port: s.port,
                    stake: s.stake,
                })
                .collect())
        })
    }

    fn account_keys<'a>(&'a self, account: &'a str) -> ChainFuture<'a, Vec<PublicKey>> {
        Box::pin(async move {
            let a = self
                .roster
                .accounts
                .iter()
                .find(|a| a.user == account)
                .ok_or_else(|| refuse(format!("unknown account {account}")))?;
            let key = a
                .public_key
                .parse()
                .map_err(|e| refuse(format!("public key of {account}: {e}")))?;
            Ok(vec![key])
        })
    }

    fn max_self_weight(&self) -> ChainFuture<'_, u32> {
        Box::pin(async move { Ok(self.roster.max_self_weight) })
    }

    fn chain_id(&self) -> ChainFuture<'_, [u8; 32]> {
        Box::pin(async move { Ok(self.chain_id) })
    }

    fn pinned_vocab(&self) -> ChainFuture<'_, Option<(String, u32)>> {
        Box::pin(async move {
            Ok(Some((
                self.roster.vocab_hash.clone(),
                self.roster.vocab_words,
            )))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> String {
        chain_client::PrivateKey::from_bytes(&[n; 32])
            .unwrap()
            .public_key()
            .to_string()
    }

    fn roster(address: &str) -> Roster {
        Roster {
            accounts: ["alice", "bob"]
                .iter()
                .enumerate()
                .map(|(i, u)| RosterAccount {
                    user: u.to_string(),
                    address: address.into(),
                    public_key: key(i as u8 + 1),
                })
                .collect(),
            vocab_hash: "ab".repeat(32),
            vocab_words: 10,
            max_self_weight: 500_000,
        }
    }

    fn edges(list: &[(&str, u32)]) -> Vec<Edge<String>> {
        list.iter()
            .map(|(to, w)| Edge {
                to: to.to_string(),
                weight: *w,
            })
            .collect()
    }

    #[tokio::test]
    async fn nodes_find_each_other_see_each_others_emits_and_keys() {
        let dir = tempfile::tempdir().unwrap();
        roster("127.0.0.1").write(dir.path()).unwrap();
        let a = LocalFileChain::open(dir.path(), "alice").unwrap();
        let b = LocalFileChain::open(dir.path(), "bob").unwrap();
        assert_eq!(a.chain_id().await.unwrap(), b.chain_id().await.unwrap());
        // A subscribe returns once the whole roster has subscribed.
        let early = tokio::time::timeout(
            std::time::Duration::from_millis(300),
            a.subscribe("127.0.0.1".into(), 7000, 5),
        )
        .await;
        assert!(early.is_err(), "alice waits for bob");
        assert_eq!(b.metagraph().await.unwrap().len(), 1);
        // An edge to an account not subscribed is refused, as the contract refuses it.
        let err = a
            .emit(edges(&[("alice", 500_000), ("bob", 500_000)]))
            .await
            .unwrap_err();
        assert!(err.message.contains("not subscribed"), "{err}");
        b.subscribe("127.0.0.1".into(), 7001, 5).await.unwrap();
        a.subscribe("127.0.0.1".into(), 7000, 5).await.unwrap();
        a.emit(edges(&[("alice", 400_000), ("bob", 600_000)]))
            .await
            .unwrap();
        let rows = b.metagraph().await.unwrap();
        let alice = rows.iter().find(|r| r.user == "alice").unwrap();
        assert_eq!(
            alice.edges,
            vec![("alice".into(), 400_000), ("bob".into(), 600_000)]
        );
        assert_eq!(alice.port, 7000);
        let cap = a.emit(edges(&[("alice", 600_000), ("bob", 400_000)])).await;
        assert!(cap.is_err(), "self weight above the cap");
        let other = a.emit(edges(&[("bob", 1_000_000)])).await;
        assert!(
            other.is_err(),
            "an edge set that does not start with the caller"
        );
        assert_eq!(
            b.account_keys("alice").await.unwrap()[0].to_string(),
            key(1)
        );
        assert!(b.account_keys("mallory").await.is_err());
        assert_eq!(a.pinned_vocab().await.unwrap(), Some(("ab".repeat(32), 10)));
        a.unsubscribe().await.unwrap();
        let rows = b.metagraph().await.unwrap();
        assert_eq!(
            rows.iter().map(|r| r.user.as_str()).collect::<Vec<_>>(),
            ["bob"]
        );
    }

    #[tokio::test]
    async fn only_loopback_addresses_and_listed_accounts_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        assert!(roster("10.0.0.1").write(dir.path()).is_err());
        // A roster written by hand with a public address is refused at open.
        std::fs::write(
            dir.path().join(ROSTER_FILE),
            serde_json::to_string(&roster("8.8.8.8")).unwrap(),
        )
        .unwrap();
        let err = LocalFileChain::open(dir.path(), "alice").err().unwrap();
        assert!(err.message.contains("loopback"), "{err}");
        roster("127.0.0.1").write(dir.path()).unwrap();
        assert!(LocalFileChain::open(dir.path(), "mallory").is_err());
        let a = LocalFileChain::open(dir.path(), "alice").unwrap();
        let err = a.subscribe("192.168.1.5".into(), 1, 1).await.unwrap_err();
        assert!(err.message.contains("loopback"), "{err}");
        let err = a.subscribe("127.0.0.2".into(), 1, 1).await.unwrap_err();
        assert!(err.message.contains("roster"), "{err}");
        // A subscription file naming another host is left out of the metagraph.
        std::fs::write(
            dir.path().join("subscribed").join("bob"),
            r#"{"address":"8.8.8.8","port":1,"stake":1}"#,
        )
        .unwrap();
        assert!(a.metagraph().await.unwrap().is_empty());
        assert!(LocalFileChain::open(&dir.path().join("missing"), "alice").is_err());
    }
}
