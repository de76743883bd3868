//! One seed's network on disk: the shard files, the network's vocabulary file, a key per
//! node, the local experiment chain's roster, and one `bittensor-worker run` configuration
//! per node (its own shard only, the vocabulary, its key, a loopback listener, the chain
//! directory; its upstreams are the other nodes, found through the chain).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::RngCore;

use crate::chain::local_file::{Roster, RosterAccount};
use crate::corpus::{Corpus, VocabFile};
use crate::model::w2v::W2vParams;

/// Most nodes an experiment runs (account names `exnodea` .. `exnodez`).
pub const MAX_NODES: usize = 26;

/// The account of node `i`.
pub fn account(i: usize) -> String {
    format!("exnode{}", char::from(b'a' + (i % MAX_NODES) as u8))
}

/// What every node's configuration shares.
#[derive(Debug, Clone)]
pub struct NodeTemplate {
    /// The training settings (the node's seed is derived from `params.seed` and its index).
    pub params: W2vParams,
    /// Nodes in the network.
    pub nodes: usize,
    /// Training threads of each node.
    pub threads: usize,
    /// Extra `[model]` lines (the exchange settings the node's loop reads).
    pub model_extra: String,
}

/// One node as written: its configuration, files and account.
#[derive(Debug, Clone)]
pub struct NodeFiles {
    /// Its account.
    pub account: String,
    /// Its `run --config` file.
    pub config: PathBuf,
    /// Its shard (the only text it may open).
    pub shard: PathBuf,
    /// Where it writes `{"listen": ADDR}` once listening.
    pub ready: PathBuf,
    /// Its log (stdout and stderr).
    pub log: PathBuf,
    /// Where its exports go.
    pub export_dir: PathBuf,
}

/// Writes a fresh key for `account` into `dir` (owner-only); returns the path and public key.
fn write_key(dir: &Path, account: &str) -> anyhow::Result<(PathBuf, String)> {
    let key = loop {
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        if let Ok(k) = chain_client::PrivateKey::from_bytes(&secret) {
            break k;
        }
    };
    let path = dir.join(format!("{account}.key"));
    std::fs::write(&path, key.to_wif()).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("chmod {}", path.display()))?;
    }
    Ok((path, key.public_key().to_string()))
}

/// Writes the network's vocabulary (built from the whole prefix, as the network's booter
/// does) into `dir`; returns the file, its hash and word count.
pub fn write_vocab(whole: &Corpus, dir: &Path) -> anyhow::Result<(PathBuf, String, u32)> {
    let path = dir.join("vocab.txt");
    let hash = VocabFile::write(&whole.vocab, &path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok((path, hash, (whole.vocab.len() - 1) as u32))
}

/// Writes the roster, keys and configurations of one network into `dir`: node `i` trains on
/// `shards[i]` only.
pub fn write_network(
    dir: &Path,
    shards: &[PathBuf],
    vocab: (&Path, &str, u32),
    t: &NodeTemplate,
) -> anyhow::Result<Vec<NodeFiles>> {
    let chain_dir = dir.join("chain");
    let (vocab_path, vocab_hash, vocab_words) = vocab;
    let mut accounts = Vec::new();
    let mut keys = Vec::new();
    for i in 0..shards.len() {
        let user = account(i);
        let (key_file, public_key) = write_key(dir, &user)?;
        keys.push(key_file);
        accounts.push(RosterAccount {
            user,
            address: "127.0.0.1".into(),
            public_key,
        });
    }
    Roster {
        accounts: accounts.clone(),
        vocab_hash: vocab_hash.to_string(),
        vocab_words,
        max_self_weight: emission::fixed::WEIGHT_ONE,
    }
    .write(&chain_dir)
    .map_err(anyhow::Error::msg)?;
    let p = &t.params;
    let mut out = Vec::new();
    for (i, (a, key)) in accounts.iter().zip(&keys).enumerate() {
        let node = NodeFiles {
            account: a.user.clone(),
            config: dir.join(format!("{}.toml", a.user)),
            shard: shards[i].clone(),
            ready: dir.join(format!("{}.ready", a.user)),
            log: dir.join(format!("{}.log", a.user)),
            export_dir: dir.join(format!("{}-export", a.user)),
        };
        let mut toml = String::new();
        let q = |p: &Path| format!("{:?}", p.display().to_string());
        let _ = write!(
            toml,
            r#"# node {i} of a local experiment ({nodes} nodes): its own shard, the network's vocabulary
[node]
account = "{account}"
key_file = {key}
listen = "127.0.0.1:0"
seed = {seed}
steps = 0
log_every = 100
ready_file = {ready}
start_with_peers = {peers}
export_dir = {export}

[chain]
local_experiment = {chain}
emit_interval_secs = 2.0
refresh_interval_secs = 0.5

[model]
corpus = {shard}
vocab = {vocab}
min_count = {min_count}
dim = {dim}
window = {window}
negatives = {negatives}
sample = {sample:e}
alpha = {alpha:e}
min_alpha = {min_alpha:e}
epochs = {epochs}
peers = {peers}
threads = {threads}
{model_extra}
[peer]
allow_loopback = true
"#,
            nodes = t.nodes,
            account = a.user,
            key = q(key),
            seed = p.seed.wrapping_mul(1000).wrapping_add(i as u64),
            ready = q(&node.ready),
            export = q(&node.export_dir),
            chain = q(&chain_dir),
            shard = q(&node.shard),
            vocab = q(vocab_path),
            min_count = p.min_count,
            dim = p.dim,
            window = p.window,
            negatives = p.negatives,
            sample = p.sample,
            alpha = p.alpha,
            min_alpha = p.min_alpha,
            epochs = p.epochs,
            peers = t.nodes - 1,
            threads = t.threads,
            model_extra = t.model_extra,
        );
        std::fs::write(&node.config, toml)
            .with_context(|| format!("writing {}", node.config.display()))?;
        out.push(node);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn every_node_gets_a_valid_config_of_its_own_shard_on_the_local_chain() {
        let dir = tempfile::tempdir().unwrap();
        let shards: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("s{i}"))).collect();
        for s in &shards {
            std::fs::write(s, "a b c\n").unwrap();
        }
        let vocab = dir.path().join("vocab.txt");
        std::fs::write(&vocab, "a\nb\n").unwrap();
        let t = NodeTemplate {
            params: W2vParams::default(),
            nodes: 3,
            threads: 1,
            model_extra: String::new(),
        };
        let nodes = write_network(dir.path(), &shards, (&vocab, &"0".repeat(64), 2), &t).unwrap();
        assert_eq!(nodes.len(), 3);
        for (i, n) in nodes.iter().enumerate() {
            let cfg = Config::load(&n.config).unwrap();
            cfg.validate().unwrap();
            assert_eq!(cfg.model.corpus.as_deref(), Some(shards[i].as_path()));
            assert_eq!(cfg.model.peers, 2);
            assert_eq!(cfg.model.sample, t.params.sample);
            assert_eq!(cfg.model.alpha, t.params.alpha);
            assert!(cfg.chain.local_experiment.is_some());
            assert!(cfg.peer.allow_loopback);
            assert_eq!(cfg.node.account, account(i));
            cfg.signing_key().unwrap();
        }
        let chain =
            crate::chain::local_file::LocalFileChain::open(&dir.path().join("chain"), &account(2));
        assert!(chain.is_ok());
    }
}
