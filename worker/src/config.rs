//! Worker configuration: a TOML file (see `worker.example.toml`) whose every section has
//! defaults, overridden by command-line flags of `bittensor-worker run`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bittensor_protocol::policy::AddressPolicy;
use chain_client::PrivateKey;
use serde::Deserialize;

use crate::model::w2v::{W2vParams, CHUNK_WORDS};

/// Environment variable holding the node's private key (takes precedence over `node.key_file`).
pub const KEY_ENV: &str = "BITTENSOR_WORKER_KEY";

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
    /// File holding the WIF private key of that account's active permission (the key never
    /// goes in the config or on the command line; `BITTENSOR_WORKER_KEY` overrides the file).
    pub key_file: Option<PathBuf>,
    /// Where the peer server listens (port 0 = any free port).
    pub listen: SocketAddr,
    /// Host advertised on chain; defaults to the listen IP.
    pub advertise: Option<String>,
    /// Seed for model init, subsampling, negatives and peer choice.
    pub seed: u64,
    /// Chunks to train, then stop the node (0 = `model.epochs` passes over the shard, then
    /// keep serving until stopped; `/status` says when training is done).
    pub steps: u64,
    /// Log progress every this many exchange rounds.
    pub log_every: u64,
    /// How many recent losses `/status` reports.
    pub loss_tail: usize,
    /// Where to write a small JSON file with the bound address once listening (for scripts).
    pub ready_file: Option<PathBuf>,
    /// Directory of the node's checkpoint (model and step); none = no checkpoints.
    pub data_dir: Option<PathBuf>,
    /// Seconds between periodic checkpoints (one is also written at shutdown).
    pub checkpoint_secs: f64,
    /// Upstream peers the node waits for before its first round (capped at `model.peers`;
    /// 0 = train at once): nodes of a network started together then train together, instead
    /// of the first one running its schedule ahead alone.
    pub start_with_peers: usize,
    /// Where an export request (the node's own key) and SIGUSR1 write the node's
    /// embeddings; none = `<data_dir>/export`, or no export when there is no data directory.
    pub export_dir: Option<PathBuf>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            account: String::new(),
            key_file: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            advertise: None,
            seed: 1,
            steps: 0,
            log_every: 8,
            loss_tail: 200,
            ready_file: None,
            data_dir: None,
            checkpoint_secs: 30.0,
            start_with_peers: 0,
            export_dir: None,
        }
    }
}

/// Where the chain is and how the node behaves on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainConfig {
    /// nodeos HTTP endpoint, or several endpoints of the same chain separated by commas
    /// (e.g. every producer's API node): requests fail over to the next one.
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
    /// Instead of a nodeos: the directory of a local experiment chain
    /// (`bittensor-worker experiment` writes it; loopback addresses only, no stake, no
    /// emission). Unset, the node uses the real chain at `url`.
    pub local_experiment: Option<PathBuf>,
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
            local_experiment: None,
        }
    }
}

/// Corpus and word2vec hyper-parameters (all workers of a network must share the corpus,
/// `min_count`, `max_vocab` and `dim`, since peers exchange vectors indexed by word id).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Text corpus (any UTF-8 text, lower-cased and split on whitespace, or a text8 `.zip`);
    /// none = generated from `corpus_seed` (for tests; the node warns that it is not real text).
    pub corpus: Option<PathBuf>,
    /// The network's vocabulary file (its hash pinned on chain by `setvocab`): with it, the
    /// corpus is this node's own text only (nothing else is opened) and the node counts its
    /// own words; without it, the vocabulary is built from the corpus (one machine's setup).
    pub vocab: Option<PathBuf>,
    /// Words of the corpus seen fewer times map to `<unk>` (word2vec's min_count).
    pub min_count: u64,
    /// Seed of the generated corpus (shared by the network).
    pub corpus_seed: u64,
    /// Tokens of the generated corpus.
    pub corpus_tokens: usize,
    /// Vocabulary size cap (the most frequent words are kept).
    pub max_vocab: usize,
    /// This node's shard of the corpus and the number of shards.
    pub shard: usize,
    /// Number of shards the corpus is split into.
    pub shards: usize,
    /// Dimension of the node's vectors, own and served (must match across the network).
    pub dim: usize,
    /// Largest distance between a word and a context word (shrunk at random per position).
    pub window: usize,
    /// Negative samples per (word, context) pair.
    pub negatives: usize,
    /// Frequent-word subsampling threshold (0 = off).
    pub sample: f64,
    /// Learning rate at the start, decaying linearly over `epochs` passes ...
    pub alpha: f64,
    /// ... to this, where it stays while the node keeps training.
    pub min_alpha: f64,
    /// Passes over the shard the learning rate decays over.
    pub epochs: usize,
    /// Tokens per training step (one peer request per peer and step, for its distinct words).
    pub chunk_words: usize,
    /// Upstream peer slots k.
    pub peers: usize,
    /// Threads each training step runs on (default: the machine's cores; 1 is deterministic
    /// for a seed).
    pub threads: usize,
    /// Seed of the initialisation every node of a network shares when no vocabulary is pinned
    /// (with `vocab`, the seed comes from the vocabulary's hash); `node.seed` seeds the
    /// node's own sampling.
    pub seed: u64,
    /// Exchanges of sparse updates with the peers per epoch of the node's shard (8, with the
    /// top quarter of the rows, measured as good as centralised training on GCIDE, and 4
    /// not; see docs/embeddings.md).
    pub syncs_per_epoch: usize,
    /// Largest L2 change one peer's update may make to one row of one table per round.
    pub max_row_norm: f32,
    /// Fraction of the rows of its residual the node sends per round, largest first (the
    /// rest later: error feedback; see docs/peers.md).
    pub update_top_fraction: f32,
    /// Element type of the update values the node sends and asks its upstreams for
    /// (`f16`; `i8` ships about half the bytes, see docs/peers.md).
    pub update_precision: crate::model::w2v::Precision,
    /// Half-life, in seconds, of the attribution's importance EMA (0 = the latest step only);
    /// time-based so that the posted edge sets mean the same on fast and slow machines.
    pub attribution_half_life_secs: f64,
}

impl Default for ModelSection {
    /// The model's own defaults ([`W2vParams`], [`CHUNK_WORDS`]): defined once, there.
    fn default() -> Self {
        let w = W2vParams::default();
        ModelSection {
            corpus: None,
            vocab: None,
            min_count: w.min_count,
            corpus_seed: 42,
            corpus_tokens: 200_000,
            max_vocab: 100_000,
            shard: 0,
            shards: 1,
            dim: w.dim,
            window: w.window,
            negatives: w.negatives,
            sample: w.sample,
            alpha: w.alpha,
            min_alpha: w.min_alpha,
            epochs: w.epochs,
            chunk_words: CHUNK_WORDS,
            peers: 3,
            threads: crate::model::w2v::machine_threads(),
            seed: 1,
            syncs_per_epoch: DEFAULT_SYNCS_PER_EPOCH,
            max_row_norm: crate::model::w2v::DEFAULT_MAX_ROW_NORM,
            update_top_fraction: crate::model::w2v::DEFAULT_TOP_FRACTION,
            update_precision: crate::model::w2v::DEFAULT_PRECISION,
            attribution_half_life_secs: 2.0,
        }
    }
}

impl ModelSection {
    /// The text this node trains on, as its start-up log names it.
    pub fn corpus_source(&self) -> String {
        match &self.corpus {
            Some(path) => path.display().to_string(),
            None => format!(
                "the generated test corpus (seed {}, {} tokens), not real text: set model.corpus \
                 or --corpus (e.g. .data/wiki.txt)",
                self.corpus_seed, self.corpus_tokens
            ),
        }
    }

    /// The word2vec parameters of this section, seeded with `seed`.
    pub fn params(&self, seed: u64) -> W2vParams {
        W2vParams {
            dim: self.dim,
            window: self.window,
            negatives: self.negatives,
            min_count: self.min_count,
            sample: self.sample,
            alpha: self.alpha,
            min_alpha: self.min_alpha,
            epochs: self.epochs,
            seed,
            ..W2vParams::default()
        }
    }
}

/// Default of `model.syncs_per_epoch`.
pub const DEFAULT_SYNCS_PER_EPOCH: usize = 8;

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
    /// Updates requests per second allowed per calling account (a downstream polls while it
    /// waits for a round).
    pub updates_rate: f64,
    /// Burst size of the updates token bucket.
    pub updates_burst: f64,
    /// Forward requests per second allowed per calling account.
    pub forward_rate: f64,
    /// Burst size of the forward token bucket.
    pub forward_burst: f64,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// A step waits for its peers this many model-step times (between the bounds below).
    pub deadline_steps: f64,
    /// Shortest wait for peers in a step, in milliseconds (`timeout_ms` is the longest).
    pub min_deadline_ms: u64,
    /// Dial loopback peer addresses (local testnets only).
    pub allow_loopback: bool,
    /// Dial private-range peer addresses (testnets on a private network only).
    pub allow_private: bool,
    /// Dial link-local peer addresses (testnets of network namespaces on one host only).
    pub allow_link_local: bool,
}

impl PeerConfig {
    /// The address policy these settings describe.
    pub fn policy(&self) -> AddressPolicy {
        AddressPolicy {
            allow_loopback: self.allow_loopback,
            allow_private: self.allow_private,
            allow_link_local: self.allow_link_local,
        }
    }
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            timeout_ms: 1_000,
            backoff_initial_ms: 500,
            backoff_max_ms: 10_000,
            updates_rate: 100.0,
            updates_burst: 200.0,
            forward_rate: 400.0,
            forward_burst: 800.0,
            max_body_bytes: 8 << 20,
            deadline_steps: 1.0,
            min_deadline_ms: 25,
            allow_loopback: false,
            allow_private: false,
            allow_link_local: false,
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
        if self.node.key_file.is_none() && std::env::var_os(KEY_ENV).is_none() {
            return bad(format!(
                "a key is required: set node.key_file to a file holding the WIF key, or {KEY_ENV}"
            ));
        }
        self.advertised_host()?;
        if let Some(path) = &self.model.corpus {
            if !path.is_file() {
                return bad(format!(
                    "model.corpus {}: no such file (run scripts/setup to prepare .data/wiki.txt, \
                     or name another UTF-8 text or text8 zip; every node of the network uses the same)",
                    path.display()
                ));
            }
        }
        if self.model.shards == 0 || self.model.shard >= self.model.shards {
            return bad(format!(
                "model.shard {} must be < model.shards {}",
                self.model.shard, self.model.shards
            ));
        }
        if let Err(e) = self.model.params(self.node.seed).validate() {
            return bad(format!("model: {e}"));
        }
        if self.model.chunk_words == 0 || self.model.peers > 64 {
            return bad("model.chunk_words must be at least 1 and model.peers at most 64".into());
        }
        if !(1..=256).contains(&self.model.threads) {
            return bad(format!(
                "model.threads must be between 1 and 256, got {}",
                self.model.threads
            ));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.chain.emit_interval_secs) || !positive(self.chain.refresh_interval_secs) {
            return bad("chain intervals must be positive".into());
        }
        let h = self.model.attribution_half_life_secs;
        if !(h.is_finite() && h >= 0.0) {
            return bad(format!(
                "model.attribution_half_life_secs must be a number of seconds >= 0, got {h}"
            ));
        }
        if !positive(self.node.checkpoint_secs) {
            return bad("node.checkpoint_secs must be positive".into());
        }
        if !positive(self.peer.updates_rate) || !positive(self.peer.updates_burst - 0.5) {
            return bad("peer.updates_rate must be > 0 and updates_burst >= 1".into());
        }
        if self.model.syncs_per_epoch == 0 {
            return bad("model.syncs_per_epoch must be at least 1".into());
        }
        if !positive(self.model.max_row_norm as f64) {
            return bad("model.max_row_norm must be positive".into());
        }
        let f = self.model.update_top_fraction;
        if !(f > 0.0 && f <= 1.0) {
            return bad(format!(
                "model.update_top_fraction must be in (0, 1], got {f}"
            ));
        }
        if !positive(self.peer.forward_rate) || !positive(self.peer.forward_burst - 0.5) {
            return bad("peer.forward_rate must be > 0 and forward_burst >= 1".into());
        }
        if !positive(self.peer.deadline_steps) || self.peer.timeout_ms == 0 {
            return bad("peer.deadline_steps and peer.timeout_ms must be positive".into());
        }
        parse_stake(&self.chain.stake).map_err(ConfigError::Invalid)
    }

    /// The IP published on chain: `node.advertise`, else the listen IP; it must be an IP
    /// literal other nodes can dial (not unspecified, not a host name).
    pub fn advertised_host(&self) -> Result<std::net::IpAddr, ConfigError> {
        let text = match &self.node.advertise {
            Some(a) => a.clone(),
            None => self.node.listen.ip().to_string(),
        };
        let ip: std::net::IpAddr = text.trim_matches(['[', ']']).parse().map_err(|_| {
            ConfigError::Invalid(format!(
                "node.advertise {text:?} is not an IP address (peers dial IP literals only)"
            ))
        })?;
        if ip.is_unspecified() {
            return Err(ConfigError::Invalid(format!(
                "node.listen is {} and node.advertise is not set: set node.advertise to the address other nodes dial",
                self.node.listen
            )));
        }
        Ok(ip)
    }

    /// The node's private key: from `BITTENSOR_WORKER_KEY` if set, else from `node.key_file`.
    pub fn signing_key(&self) -> Result<PrivateKey, ConfigError> {
        let (text, from) = match std::env::var(KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => (v, KEY_ENV.to_string()),
            _ => {
                let path = self.node.key_file.as_ref().ok_or_else(|| {
                    ConfigError::Invalid(format!("no key: set node.key_file or {KEY_ENV}"))
                })?;
                warn_if_readable_by_others(path);
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                (text, path.display().to_string())
            }
        };
        PrivateKey::from_wif(text.trim())
            .map_err(|e| ConfigError::Invalid(format!("key from {from}: {e}")))
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

/// Warns when a key file can be read by other users of the machine.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "key file is readable by other users; chmod 600 it");
            }
        }
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
        let mut cfg = Config::load(&path).unwrap();
        // An operator's node trains on the real text scripts/setup prepares (a path relative
        // to the repository, where the README's command runs).
        assert_eq!(
            cfg.model.corpus.as_deref(),
            Some(Path::new(".data/wiki.txt"))
        );
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let err = cfg.validate().map(|_| ()).unwrap_err().to_string();
        assert!(
            err.contains("model.corpus .data/wiki.txt: no such file")
                && err.contains("scripts/setup"),
            "a missing corpus names the fix: {err}"
        );
        cfg.model.corpus = Some(root.join("worker/worker.example.toml")); // any existing file
        assert!(cfg.validate().is_ok());
        assert!(cfg.model.corpus_source().ends_with("worker.example.toml"));
        cfg.model.corpus = None;
        assert!(cfg.model.corpus_source().contains("not real text"));
        assert_eq!(cfg.model.peers, 3);
        // Two nodes started from the example never share a listening port, and it dials
        // public addresses only.
        assert!(cfg.node.listen.ip().is_unspecified() && cfg.node.advertise.is_some());
        assert_eq!(cfg.peer.policy(), AddressPolicy::PUBLIC_ONLY);
        assert!(cfg.node.key_file.is_some());
    }

    #[test]
    fn the_key_comes_from_the_file_and_an_inline_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(
            &path,
            "5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3\n",
        )
        .unwrap();
        let mut cfg = Config::default();
        cfg.node.key_file = Some(path.clone());
        if std::env::var_os(KEY_ENV).is_none() {
            let key = cfg.signing_key().unwrap();
            assert_eq!(
                key.public_key().to_string(),
                "EOS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV"
            );
            std::fs::write(&path, "not a key").unwrap();
            let err = cfg.signing_key().unwrap_err().to_string();
            assert!(err.contains("key from"), "{err}");
        }
        assert!(toml::from_str::<Config>("[node]\nkey = \"5K...\"").is_err());
    }

    #[test]
    fn example_config_holds_exactly_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("worker.example.toml");
        let mut example = Config::load(&path).unwrap();
        // The identity and the addresses are the operator's (the example shows a public
        // deployment); everything else must be the default.
        let defaults = Config::default();
        example.node.account.clear();
        example.node.key_file = defaults.node.key_file.clone();
        example.node.listen = defaults.node.listen;
        example.node.advertise = defaults.node.advertise.clone();
        example.model.corpus = defaults.model.corpus.clone();
        assert_eq!(
            format!("{example:#?}"),
            format!("{:#?}", Config::default()),
            "worker.example.toml and the defaults in code disagree"
        );
    }

    #[test]
    fn training_threads_default_to_the_cores_and_zero_is_refused() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("worker.example.toml");
        let mut cfg = Config::load(&path).unwrap();
        assert_eq!(cfg.model.threads, crate::model::w2v::machine_threads());
        // The example's corpus path is relative to the repository root, not to this crate.
        cfg.model.corpus = None;
        assert!(cfg.validate().is_ok());
        cfg.model.threads = 0;
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("model.threads"), "{err}");
    }

    /// Every element type a node may send its updates in is named in lower case; any
    /// other name is refused.
    #[test]
    fn update_precisions_are_read_by_name() {
        use crate::model::w2v::Precision;
        for &p in <Precision as clap::ValueEnum>::value_variants() {
            let text = format!("[model]\nupdate_precision = \"{}\"", p.name());
            let cfg: Config = toml::from_str(&text).unwrap();
            assert_eq!(cfg.model.update_precision, p);
        }
        assert!(toml::from_str::<Config>("[model]\nupdate_precision = \"i4\"").is_err());
    }

    #[test]
    fn unknown_keys_and_missing_identity_are_errors() {
        assert!(toml::from_str::<Config>("[node]\nacount = \"x\"").is_err());
        let cfg: Config = toml::from_str("").unwrap();
        assert!(matches!(cfg.validate(), Err(ConfigError::Invalid(_))));
    }
}
