//! Start-up and shutdown of a node: corpus and word2vec model (resumed from its checkpoint
//! if there is one), peer server, subscribe (with retries), then the training and chain
//! loops until the step budget is spent, SIGINT/SIGTERM arrives or the program that started
//! the node is gone (`parent`; SIGUSR1 exports the embeddings meanwhile, as an export
//! request does); then a last emit with the latest attribution, a last checkpoint and
//! `unsubscribe`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::chain_loop::{emit_now, run_chain_loop, ChainSettings};
use super::checkpoint::{run_checkpoints, stake_to_add, Checkpoint};
use super::hooks::Hooks;
use super::state::{lock, DeadlinePolicy, NodeEndpoint, NodeParams, Shared};
use super::trainer::{train, TrainSettings};
use crate::chain::lifecycle::{check_chain_params, subscribe_with_retry, unsubscribe_with_retry};
use crate::chain::{Backoff, ChainApi};
use crate::config::{Config, ModelSection, PeerConfig};
use crate::corpus::{Corpus, Vocab, VocabFile};
use crate::model::w2v::{Compression, UpdateBound, W2vParams, Word2Vec};
use crate::peer::client::{PeerClient, Signer};
use crate::peer::identity::Identity;
use crate::peer::keys::{ChainKeys, KeyCache};
use crate::peer::kinds::KindLimits;
use crate::peer::server::{serve, ServerContext, ServerSettings};
use crate::peer::session::admission::AdmissionLimits;
use crate::peer::Limits;

/// Tries of the last emit at shutdown.
const FINAL_EMIT_ATTEMPTS: u32 = 4;
/// Wait before the second try of the last emit, doubled after each failure: a metagraph
/// read shows the head block, which lags departures still pending by up to a block (0.5 s).
const FINAL_EMIT_RETRY: Duration = Duration::from_millis(300);
/// The most a stopping node gives the chain for its last emit and its unsubscribe: a slow
/// or unreachable chain does not keep a stopped node running (scripts wait 15 s, then kill).
const LEAVE_BUDGET: Duration = Duration::from_secs(8);

/// Loads the configured corpus (or generates the shared synthetic one) and takes this
/// node's shard. With a vocabulary file, the corpus is the node's own text and nothing else
/// is read; the file's hash is returned for the check against the chain.
pub fn load_corpus(m: &ModelSection) -> anyhow::Result<(Corpus, Option<VocabFile>)> {
    if let Some(vocab_path) = &m.vocab {
        let Some(path) = &m.corpus else {
            anyhow::bail!("model.vocab needs model.corpus: the node's own text");
        };
        if m.shards > 1 {
            anyhow::bail!(
                "with model.vocab the corpus is this node's own text: give it its shard's file, not shard {}/{}",
                m.shard,
                m.shards
            );
        }
        let file = VocabFile::read(vocab_path)
            .with_context(|| format!("loading vocabulary {}", vocab_path.display()))?;
        let corpus = Corpus::load_in(path, &file.vocab)
            .with_context(|| format!("loading corpus {}", path.display()))?;
        return Ok((corpus, Some(file)));
    }
    let corpus = match &m.corpus {
        Some(path) => Corpus::load_with(path, m.min_count, m.max_vocab)
            .with_context(|| format!("loading corpus {}", path.display()))?,
        None => Corpus::generate(m.corpus_seed, m.corpus_tokens),
    };
    Ok((corpus.shard(m.shard, m.shards), None))
}

/// Refuses to start when the vocabulary file is not the one the chain pins.
pub async fn check_pinned_vocab(chain: &dyn ChainApi, file: &VocabFile) -> anyhow::Result<()> {
    let words = file.vocab.len() - 1;
    match chain
        .pinned_vocab()
        .await
        .map_err(|e| anyhow::anyhow!("reading the pinned vocabulary: {e}"))?
    {
        Some((hash, n)) if hash == file.hash && n as usize == words => Ok(()),
        Some((hash, n)) => anyhow::bail!(
            "vocabulary mismatch: this node's file has hash {} ({} words) but the network pins {} ({} words); use the network's vocabulary file",
            file.hash,
            words,
            hash,
            n
        ),
        None => anyhow::bail!(
            "the contract pins no vocabulary yet (the network's booter runs setvocab with hash {} and {} words)",
            file.hash,
            words
        ),
    }
}

/// The fingerprint of a vocabulary (words in id order), exchanged with every peer.
pub fn vocab_fingerprint(vocab: &Vocab) -> String {
    bittensor_protocol::vocab::vocab_fingerprint(
        (0..vocab.len() as i64).map(|id| vocab.word(id).unwrap_or_default()),
    )
}

/// The per-account rates of a config's peer section.
pub fn kind_limits(p: &PeerConfig) -> KindLimits {
    KindLimits {
        forward_rate: p.forward_rate,
        forward_burst: p.forward_burst,
        updates_rate: p.updates_rate,
        updates_burst: p.updates_burst,
    }
}

/// The step deadline of a config's peer section.
pub fn deadline_policy(p: &PeerConfig) -> DeadlinePolicy {
    DeadlinePolicy {
        steps: p.deadline_steps,
        min: Duration::from_millis(p.min_deadline_ms),
        max: Duration::from_millis(p.timeout_ms),
    }
}

/// Waits for SIGINT or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Exports the node's embeddings on each SIGUSR1 until `shutdown` turns true.
async fn export_on_signal(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
            return;
        };
        loop {
            tokio::select! {
                _ = usr1.recv() => {
                    let shared = shared.clone();
                    match tokio::task::spawn_blocking(move || super::export::export_now(&shared)).await {
                        Ok(Ok(files)) => tracing::info!(?files, "exported on SIGUSR1"),
                        Ok(Err(e)) => tracing::warn!(error = %e, "export on SIGUSR1 failed"),
                        Err(e) => tracing::warn!(error = %e, "export task failed"),
                    }
                }
                _ = shutdown.changed() => {
                    if *shutdown.borrow() { return; }
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (shared, shutdown.changed().await);
    }
}

fn write_ready_file(cfg: &Config, listen: SocketAddr) {
    if let Some(path) = &cfg.node.ready_file {
        let doc = serde_json::json!({ "listen": listen.to_string(), "account": cfg.node.account });
        if let Err(e) = std::fs::write(path, doc.to_string()) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write ready file");
        }
    }
}

/// The seed of the initialisation every node of a network shares: from the pinned
/// vocabulary's hash when there is one, else `model.seed`.
pub fn network_seed(m: &ModelSection, vocab: Option<&VocabFile>) -> u64 {
    match vocab {
        Some(file) => {
            u64::from_str_radix(&file.hash[..16.min(file.hash.len())], 16).unwrap_or(m.seed)
        }
        None => m.seed,
    }
}

/// Runs a node with `chain`, signing peer traffic with `key` (the account's active key),
/// until done or signalled; errors only for start-up failures.
pub async fn run(
    cfg: Config,
    key: chain_client::PrivateKey,
    chain: Arc<dyn ChainApi>,
) -> anyhow::Result<()> {
    run_with_hooks(cfg, key, chain, Hooks::default()).await
}

/// [`run`] with a strategy's `hooks` (library only: the strategy catalogue's harness).
pub async fn run_with_hooks(
    cfg: Config,
    key: chain_client::PrivateKey,
    chain: Arc<dyn ChainApi>,
    hooks: Hooks,
) -> anyhow::Result<()> {
    let stake = cfg.validate()?;
    let advertised_ip = cfg.advertised_host()?;
    let m = &cfg.model;
    if m.corpus.is_none() {
        tracing::warn!("training on {}", m.corpus_source());
    }
    let (corpus, vocab_file) = load_corpus(m)?;
    if let Some(file) = &vocab_file {
        check_pinned_vocab(chain.as_ref(), file).await?;
        tracing::info!(hash = %file.hash, "vocabulary matches the one the chain pins");
    }
    tracing::info!(
        text = %m.corpus_source(),
        tokens = corpus.ids.len(),
        vocab = corpus.vocab.len(),
        shard = m.shard,
        shards = m.shards,
        "corpus ready"
    );
    let chain_id = chain
        .chain_id()
        .await
        .map_err(|e| anyhow::anyhow!("reading the chain id: {e}"))?;
    let identity = Arc::new(
        Identity::new(&cfg.node.account, key, &vocab_fingerprint(&corpus.vocab)).on_chain(chain_id),
    );
    tracing::info!(vocab = %identity.vocab, "vocabulary fingerprint");
    let params = m.params(cfg.node.seed);
    let init = W2vParams {
        seed: network_seed(m, vocab_file.as_ref()),
        ..params.clone()
    };
    let mut model = Word2Vec::new(corpus.vocab.counts(), &init)?;
    let checkpoint = match &cfg.node.data_dir {
        Some(dir) => Some(
            Checkpoint::new(dir, &cfg.node.account)
                .with_context(|| format!("creating data dir {}", dir.display()))?,
        ),
        None => None,
    };
    let resumed_step = checkpoint
        .as_ref()
        .and_then(|c| c.restore(&mut model, corpus.vocab.words()));
    let export_dir = cfg
        .node
        .export_dir
        .clone()
        .or_else(|| cfg.node.data_dir.as_ref().map(|d| d.join("export")));

    let listener = TcpListener::bind(cfg.node.listen)
        .await
        .with_context(|| format!("binding {}", cfg.node.listen))?;
    let listen = listener.local_addr()?;
    let advertise = advertised_ip.to_string();
    let peer_backoff = Backoff::new(
        Duration::from_millis(cfg.peer.backoff_initial_ms),
        Duration::from_millis(cfg.peer.backoff_max_ms),
    );
    let shared = Shared::with_hooks(
        NodeParams {
            identity: identity.clone(),
            listen,
            advertised: Some(SocketAddr::new(advertised_ip, listen.port())),
            model,
            words: corpus.vocab.words().to_vec(),
            counts: corpus.vocab.counts().to_vec(),
            export_dir,
            peers: m.peers,
            attribution_half_life_secs: m.attribution_half_life_secs,
            seed: cfg.node.seed,
            backoff: peer_backoff,
            loss_tail: cfg.node.loss_tail,
            policy: cfg.peer.policy(),
            deadline: deadline_policy(&cfg.peer),
        },
        hooks,
    );
    lock(&shared.stats).step = resumed_step.unwrap_or(0);
    // A whole update (every row of both tables) always fits, whatever the configured limit.
    let whole = crate::peer::wire_updates::largest_update_bytes(corpus.vocab.len(), m.dim);
    if whole > cfg.peer.max_body_bytes {
        tracing::info!(
            configured = cfg.peer.max_body_bytes,
            used = whole,
            "peer message limit raised to hold a whole update of this vocabulary"
        );
    }
    let limits = Limits {
        max_bytes: cfg.peer.max_body_bytes.max(whole),
        ..Limits::default()
    };
    let keys = Arc::new(KeyCache::new(Arc::new(ChainKeys(chain.clone()))));
    let (stop_tx, stop_rx) = watch::channel(false);
    let ctx = Arc::new(ServerContext::new(
        Arc::new(NodeEndpoint(shared.clone())),
        identity.clone(),
        keys.clone(),
        ServerSettings {
            limits,
            rates: kind_limits(&cfg.peer),
            admission: AdmissionLimits::default(),
        },
    ));
    let server = tokio::spawn(serve(listener, ctx, stop_rx.clone()));
    tracing::info!(%listen, account = %cfg.node.account, policy = ?cfg.peer.policy(), "peer server listening");
    write_ready_file(&cfg, listen);

    let chain_backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(5));
    if let Err(e) = check_chain_params(chain.as_ref(), cfg.emit_interval()).await {
        let _ = stop_tx.send(true);
        let _ = server.await;
        anyhow::bail!("refusing to start: {e}");
    }
    let stake = stake_to_add(chain.as_ref(), &cfg.node.account, stake).await;
    if let Err(e) = subscribe_with_retry(
        chain.as_ref(),
        &advertise,
        listen.port(),
        stake,
        cfg.chain.subscribe_attempts,
        chain_backoff.clone(),
    )
    .await
    {
        let _ = stop_tx.send(true);
        let _ = server.await;
        let text = e.to_string();
        match crate::chain::hints::subscribe_fix(
            &text,
            &cfg.node.account,
            &cfg.chain.contract,
            &cfg.chain.stake,
        ) {
            Some(fix) => anyhow::bail!("subscribe failed: {text}; {fix}"),
            None => anyhow::bail!("subscribe failed: {text}"),
        }
    }
    tracing::info!(%advertise, port = listen.port(), stake, "subscribed");
    match chain.metagraph().await {
        Ok(rows) => shared.refresh_peers(&rows),
        Err(e) => tracing::warn!(error = %e, "first metagraph read failed"),
    }

    let client = PeerClient::signed(
        Duration::from_millis(cfg.peer.timeout_ms),
        limits,
        Signer { identity, keys },
    );
    let settings = TrainSettings {
        params,
        chunk_words: m.chunk_words,
        steps: cfg.node.steps,
        log_every: cfg.node.log_every,
        syncs_per_epoch: m.syncs_per_epoch,
        threads: m.threads,
        bound: UpdateBound {
            max_row_norm: m.max_row_norm,
            max_rows: corpus.vocab.len(),
        },
        compression: Compression {
            top_fraction: m.update_top_fraction,
            precision: m.update_precision,
        },
        exit_when_done: cfg.node.steps > 0,
        start_with_peers: cfg.node.start_with_peers,
    };
    let mut trainer = tokio::spawn(train(
        shared.clone(),
        corpus,
        settings,
        client,
        stop_rx.clone(),
    ));
    let chain_loop = tokio::spawn(run_chain_loop(
        shared.clone(),
        chain.clone(),
        ChainSettings {
            emit_interval: cfg.emit_interval(),
            refresh_interval: cfg.refresh_interval(),
        },
        stop_rx.clone(),
    ));

    let checkpoints = checkpoint.clone().map(|c| {
        let every = Duration::from_secs_f64(cfg.node.checkpoint_secs);
        tokio::spawn(run_checkpoints(shared.clone(), c, every, stop_rx.clone()))
    });

    let exports = tokio::spawn(export_on_signal(shared.clone(), stop_rx.clone()));
    let finished = tokio::select! {
        _ = stop_signal() => { tracing::info!("stop signal received"); false }
        _ = super::parent::gone() => false,
        _ = &mut trainer => { tracing::info!("training finished"); true }
    };
    lock(&shared.stats).stopping = true;
    let _ = stop_tx.send(true);
    if !finished {
        let _ = trainer.await;
    }
    let _ = chain_loop.await;
    let _ = exports.await;
    if let Some(task) = checkpoints {
        let _ = task.await;
    }
    if let Some(c) = &checkpoint {
        c.save(&shared).await;
    }
    let leave = async {
        // The last emit may race with peers leaving at the same moment ("edge target not
        // subscribed"): each retry re-reads the metagraph and drops the departed targets.
        if lock(&shared.stats).step > 0 {
            let mut wait = FINAL_EMIT_RETRY;
            for attempt in 1..=FINAL_EMIT_ATTEMPTS {
                if emit_now(&shared, chain.as_ref()).await.is_some()
                    || attempt == FINAL_EMIT_ATTEMPTS
                {
                    break;
                }
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
        match unsubscribe_with_retry(chain.as_ref(), 5, chain_backoff).await {
            Ok(()) => tracing::info!("unsubscribed"),
            Err(e) => tracing::warn!(error = %e, "unsubscribe failed"),
        }
    };
    if tokio::time::timeout(LEAVE_BUDGET, leave).await.is_err() {
        tracing::warn!(
            budget_secs = LEAVE_BUDGET.as_secs(),
            "the chain did not take the last emit and the unsubscribe in time; stopping without them"
        );
    }
    let _ = server.await;
    let s = lock(&shared.stats).clone();
    tracing::info!(
        steps = s.step,
        emits_pushed = s.emits_pushed,
        emits_failed = s.emits_failed,
        peer_failures = s.peer_failures,
        "node stopped"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::fake::FakeChain;

    fn config() -> Config {
        let mut cfg = Config::default();
        cfg.node.account = "me".into();
        cfg.node.key_file = Some("unused by the fake chain".into());
        cfg.node.steps = 40;
        cfg.node.log_every = 0;
        cfg.chain.emit_interval_secs = 0.01;
        cfg.chain.refresh_interval_secs = 0.01;
        cfg.model.corpus_tokens = 3_000;
        cfg.model.dim = 8;
        cfg.model.peers = 1;
        cfg.model.chunk_words = 50;
        cfg
    }

    fn key() -> chain_client::PrivateKey {
        chain_client::PrivateKey::from_bytes(&[7; 32]).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_subscribes_trains_emits_and_unsubscribes() {
        let chain = Arc::new(FakeChain::new("me"));
        run(config(), key(), chain.clone()).await.unwrap();
        let emits = chain.emits();
        assert!(!emits.is_empty(), "the final emit at least");
        assert!(emits.iter().all(|e| e[0].to == "me"));
        assert!(!chain.is_subscribed("me"), "unsubscribed at the end");
    }

    /// A node alone on one thread with a seed trains the same model every time; another
    /// node seed gives another model from the same initialisation.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_thread_and_a_seed_train_the_same_model_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let trained = |name: &str, seed: u64| {
            let mut cfg = config();
            cfg.model.threads = 1;
            cfg.node.seed = seed;
            cfg.node.data_dir = Some(dir.path().join(name));
            cfg
        };
        for (name, seed) in [("a", 5), ("b", 5), ("c", 6)] {
            let chain = Arc::new(FakeChain::new("me"));
            run(trained(name, seed), key(), chain).await.unwrap();
        }
        let model = |name: &str| std::fs::read(dir.path().join(name).join("me.model")).unwrap();
        assert_eq!(model("a"), model("b"), "same seed, one thread: same bytes");
        assert_ne!(model("a"), model("c"), "another seed: another model");
        let init = |seed| {
            let mut cfg = config();
            cfg.node.seed = seed;
            let p = cfg.model.params(seed);
            Word2Vec::new(
                &[5, 4, 3],
                &W2vParams {
                    seed: network_seed(&cfg.model, None),
                    ..p
                },
            )
            .unwrap()
            .syn0
        };
        assert_eq!(
            init(5),
            init(6),
            "every node of a network starts from one initialisation"
        );
    }

    #[tokio::test]
    async fn a_chain_rejection_at_subscribe_stops_the_node() {
        let chain = Arc::new(FakeChain::new("me"));
        // The first failure hits the membership read before subscribe, the second subscribe.
        chain.fail_next(2, false);
        let err = run(config(), key(), chain.clone()).await.unwrap_err();
        assert!(err.to_string().contains("subscribe failed"), "{err}");
        assert!(chain.emits().is_empty());
    }

    #[test]
    fn invalid_config_is_refused_before_anything_starts() {
        let mut cfg = config();
        cfg.model.shard = 3;
        let rt = tokio::runtime::Runtime::new().unwrap();
        let chain = Arc::new(FakeChain::new("me"));
        assert!(rt.block_on(run(cfg, key(), chain.clone())).is_err());
        assert!(!chain.is_subscribed("me"));
    }
}

#[cfg(test)]
mod vocab_tests {
    use super::*;
    use crate::chain::fake::FakeChain;

    #[tokio::test]
    async fn a_node_starts_only_on_the_pinned_vocabulary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vocab.txt");
        std::fs::write(&path, "the\nof\nand\n").unwrap();
        let file = VocabFile::read(&path).unwrap();
        let chain = FakeChain::new("alice");
        let none = check_pinned_vocab(&chain, &file).await.unwrap_err();
        assert!(none.to_string().contains("pins no vocabulary"), "{none}");
        chain.pin_vocab(&"0".repeat(64), 3);
        let other = check_pinned_vocab(&chain, &file).await.unwrap_err();
        assert!(other.to_string().contains("vocabulary mismatch"), "{other}");
        chain.pin_vocab(&file.hash, 4);
        assert!(check_pinned_vocab(&chain, &file).await.is_err());
        chain.pin_vocab(&file.hash, 3);
        check_pinned_vocab(&chain, &file).await.unwrap();
        std::fs::write(&path, "the\nThe\n").unwrap();
        assert!(VocabFile::read(&path).is_err());
        std::fs::write(&path, "the\nthe\n").unwrap();
        assert!(VocabFile::read(&path).is_err());
    }
}
