//! Worker configuration: a TOML file (see `worker.example.toml`) whose every section has
//! defaults, overridden by command-line flags of `bittensor-worker run`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::model::w2v::W2vParams;
use crate::model::{ModelConfig, DEFAULT_BATCH, DEFAULT_WINDOW};

/// Everything a running node needs; built from the file, then flags.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Identity, listening address and run length.
    pub node: NodeConfig,
    /// Chain endpoint, contract and stake.
    pub chain: ChainConfig,
    /// Corpus and model sizes.
    pub model: ModelSection,
    /// Peer protocol timeouts and limits.
    pub peer: PeerConfig,
}

/// The node's identity and run parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Chain account this node acts as.
    pub account: String,
    /// WIF private key of that account (active permission).
    pub key: String,
    /// Where the peer server listens (port 0 = any free port).
    pub listen: SocketAddr,
    /// Host advertised on chain; defaults to the listen IP.
    pub advertise: Option<String>,
    /// Seed for model init, batch order and peer choice.
    pub seed: u64,
    /// Training steps to run (0 = until stopped).
    pub steps: u64,
    /// Log progress every this many steps.
    pub log_every: u64,
    /// How many recent losses `/status` reports.
    pub loss_tail: usize,
    /// Where to write a small JSON file with the bound address once listening (for scripts).
    pub ready_file: Option<PathBuf>,
    /// Directory of the node's checkpoint (model and step); none = no checkpoints.
    pub data_dir: Option<PathBuf>,
    /// Seconds between periodic checkpoints (one is also written at shutdown).
    pub checkpoint_secs: f64,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            account: String::new(),
            key: String::new(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            advertise: None,
            seed: 1,
            steps: 0,
            log_every: 50,
            loss_tail: 200,
            ready_file: None,
            data_dir: None,
            checkpoint_secs: 30.0,
        }
    }
}

/// Where the chain is and how the node behaves on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainConfig {
    /// nodeos HTTP endpoint.
    pub url: String,
    /// Account the bittensor contract is deployed on.
    pub contract: String,
    /// Stake moved into the metagraph at subscribe, e.g. "10.0000 BIT".
    pub stake: String,
    /// Seconds between emits.
    pub emit_interval_secs: f64,
    /// Seconds between metagraph reads for peer discovery.
    pub refresh_interval_secs: f64,
    /// Subscribe attempts before giving up at start.
    pub subscribe_attempts: u32,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig {
            url: "http://127.0.0.1:8888".into(),
            contract: "bittensor".into(),
            stake: "10.0000 BIT".into(),
            emit_interval_secs: 5.0,
            refresh_interval_secs: 5.0,
            subscribe_attempts: 20,
        }
    }
}

/// Corpus and model hyper-parameters (all workers of a network must share the corpus
/// and vocabulary size, since peers exchange embeddings indexed by word id).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Text corpus (any UTF-8 text, lower-cased and split on whitespace, or a text8 `.zip`);
    /// none = generated from `corpus_seed` (for tests).
    pub corpus: Option<PathBuf>,
    /// Words of the corpus seen fewer times map to `<unk>` (word2vec's min_count).
    pub min_count: u64,
    /// Seed of the generated corpus (shared by the network).
    pub corpus_seed: u64,
    /// Tokens of the generated corpus.
    pub corpus_tokens: usize,
    /// Vocabulary size cap.
    pub max_vocab: usize,
    /// This node's shard of the corpus and the number of shards.
    pub shard: usize,
    /// Number of shards the corpus is split into.
    pub shards: usize,
    /// Input embedding width.
    pub embed_dim: i64,
    /// Served (output) embedding width.
    pub out_dim: i64,
    /// Upstream peer slots k.
    pub peers: usize,
    /// Negative samples per positive.
    pub negatives: i64,
    /// Learning rate.
    pub lr: f64,
    /// Examples per step.
    pub batch: usize,
    /// Context window.
    pub window: usize,
    /// EMA decay of the attribution (closer to 1 = slower).
    pub attribution_decay: f64,
    /// libtorch intra-op threads (0 = libtorch's default); 1 is fastest for small models
    /// and when several workers share a machine.
    pub threads: i32,
}

impl Default for ModelSection {
    /// The model's own defaults ([`ModelConfig`], [`W2vParams`]): defined once, there.
    fn default() -> Self {
        let m = ModelConfig::default();
        ModelSection {
            corpus: None,
            min_count: W2vParams::default().min_count,
            corpus_seed: 42,
            corpus_tokens: 200_000,
            max_vocab: 2_000,
            shard: 0,
            shards: 1,
            embed_dim: m.embed_dim,
            out_dim: m.out_dim,
            peers: m.peers,
            negatives: m.negatives,
            lr: m.lr,
            batch: DEFAULT_BATCH,
            window: DEFAULT_WINDOW,
            attribution_decay: 0.95,
            threads: 1,
        }
    }
}

/// Peer protocol limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeerConfig {
    /// Per-request timeout to an upstream peer, in milliseconds.
    pub timeout_ms: u64,
    /// First wait before retrying an unhealthy peer, in milliseconds.
    pub backoff_initial_ms: u64,
    /// Longest wait before retrying an unhealthy peer, in milliseconds.
    pub backoff_max_ms: u64,
    /// Backward requests per second allowed per remote IP.
    pub backward_rate: f64,
    /// Burst size of the backward token bucket.
    pub backward_burst: f64,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            timeout_ms: 1_000,
            backoff_initial_ms: 500,
            backoff_max_ms: 10_000,
            backward_rate: 200.0,
            backward_burst: 400.0,
            max_body_bytes: 8 << 20,
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("bad config {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    /// A value is out of range or missing.
    #[error("invalid config: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads and parses a TOML config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
    }

    /// Checks the values a run needs; returns the stake in base units.
    pub fn validate(&self) -> Result<u64, ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.node.account.is_empty() {
            return bad("node.account is required".into());
        }
        if self.node.key.is_empty() {
            return bad("node.key is required".into());
        }
        if self.model.shards == 0 || self.model.shard >= self.model.shards {
            return bad(format!(
                "model.shard {} must be < model.shards {}",
                self.model.shard, self.model.shards
            ));
        }
        if self.model.batch == 0 || self.model.embed_dim <= 0 || self.model.out_dim <= 0 {
            return bad("model.batch, embed_dim and out_dim must be positive".into());
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.chain.emit_interval_secs) || !positive(self.chain.refresh_interval_secs) {
            return bad("chain intervals must be positive".into());
        }
        if !positive(self.node.checkpoint_secs) {
            return bad("node.checkpoint_secs must be positive".into());
        }
        if !positive(self.peer.backward_rate) || !positive(self.peer.backward_burst - 0.5) {
            return bad("peer.backward_rate must be > 0 and backward_burst >= 1".into());
        }
        parse_stake(&self.chain.stake).map_err(ConfigError::Invalid)
    }

    /// Seconds between emits as a Duration.
    pub fn emit_interval(&self) -> Duration {
        Duration::from_secs_f64(self.chain.emit_interval_secs)
    }

    /// Seconds between metagraph refreshes as a Duration.
    pub fn refresh_interval(&self) -> Duration {
        Duration::from_secs_f64(self.chain.refresh_interval_secs)
    }
}

/// Parses "10.0000 BIT", "10.5 BIT" or "10" into base units (precision 4).
pub fn parse_stake(text: &str) -> Result<u64, String> {
    let amount = text.trim().trim_end_matches("BIT").trim();
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (!frac.is_empty() && !digits(frac)) || frac.len() > 4 {
        return Err(format!(
            "stake {text:?} is not an amount like \"10.0000 BIT\""
        ));
    }
    let int: u64 = int
        .parse()
        .map_err(|_| format!("stake {text:?} too large"))?;
    let frac: u64 = format!("{frac:0<4}").parse().unwrap_or(0);
    int.checked_mul(10_000)
        .and_then(|v| v.checked_add(frac))
        .ok_or_else(|| format!("stake {text:?} too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stake_parses_in_base_units() {
        assert_eq!(parse_stake("10.0000 BIT"), Ok(100_000));
        assert_eq!(parse_stake("1.5 BIT"), Ok(15_000));
        assert_eq!(parse_stake("3"), Ok(30_000));
        assert!(parse_stake("1.23456 BIT").is_err());
        assert!(parse_stake("-1 BIT").is_err());
        assert!(parse_stake("ten").is_err());
    }

    #[test]
    fn example_config_parses_and_validates() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("worker.example.toml");
        let cfg = Config::load(&path).unwrap();
        assert!(cfg.validate().is_ok());
        assert_eq!(cfg.model.peers, 3);
    }

    #[test]
    fn example_config_holds_exactly_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("worker.example.toml");
        let mut example = Config::load(&path).unwrap();
        // The identity has no default: the example's is the local dev account.
        example.node.account.clear();
        example.node.key.clear();
        assert_eq!(
            format!("{example:#?}"),
            format!("{:#?}", Config::default()),
            "worker.example.toml and the defaults in code disagree"
        );
    }

    #[test]
    fn unknown_keys_and_missing_identity_are_errors() {
        assert!(toml::from_str::<Config>("[node]\nacount = \"x\"").is_err());
        let cfg: Config = toml::from_str("").unwrap();
        assert!(matches!(cfg.validate(), Err(ConfigError::Invalid(_))));
    }
}
