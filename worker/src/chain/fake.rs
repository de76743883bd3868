//! In-process fake chain for unit tests of the node's chain logic (never used by the
//! binary or the end-to-end test, which run against a real nodeos).

use std::collections::BTreeMap;
use std::sync::Mutex;

use chain_client::client::{Finality, PushReceipt};
use chain_client::{PublicKey, Resource};
use emission::Edge;

use super::api::{ChainApi, ChainFailure, ChainFuture, PeerRow};

/// Metagraph rows, pushed emits and scripted failures.
#[derive(Default)]
struct State {
    rows: BTreeMap<String, PeerRow>,
    keys: BTreeMap<String, Vec<PublicKey>>,
    emits: Vec<Vec<Edge<String>>>,
    /// Emit calls made, failed ones included.
    emit_calls: usize,
    fail: Vec<ChainFailure>,
    /// Failures the next emits meet (pushes are what spend CPU, NET and RAM; reads are free).
    exhaust: Vec<ChainFailure>,
    /// Emits the next finality checks report dropped (a fork or a lost block).
    drop_next: usize,
    /// The contract's self-weight cap, `None` for the default (no cap).
    max_self_weight: Option<u32>,
    /// The contract's parameters as `params` reports them.
    params: Option<super::params::ChainParams>,
    /// The pinned vocabulary (hash, words).
    vocab: Option<(String, u32)>,
}

/// A fake chain acting as user `me`; `fail_next` scripts the next calls to fail.
pub struct FakeChain {
    me: String,
    state: Mutex<State>,
}

impl FakeChain {
    /// An empty metagraph seen by `me`.
    pub fn new(me: &str) -> Self {
        FakeChain {
            me: me.into(),
            state: Mutex::new(State::default()),
        }
    }

    /// Sets what `params` reports (the `global` row's parameters).
    pub fn set_params(&self, params: super::params::ChainParams) {
        self.lock().params = Some(params);
    }

    /// Makes the next `n` finality checks report the emit dropped.
    pub fn drop_next(&self, n: usize) {
        self.lock().drop_next += n;
    }

    /// Makes the next `n` calls fail (transiently or as a chain rejection).
    pub fn fail_next(&self, n: usize, transient: bool) {
        let failure = ChainFailure::new(transient, "scripted failure");
        self.lock().fail.extend(std::iter::repeat_n(failure, n));
    }

    /// Makes the next `n` emits fail as the chain reports an account out of `resource`
    /// (CPU and NET transient, RAM not), with chain-client's wording.
    pub fn exhaust_next(&self, n: usize, resource: Resource) {
        let failure = ChainFailure {
            transient: resource != Resource::Ram,
            message: format!("{resource} exhausted (stake or buy more, then retry): scripted"),
            exhausted: Some(resource),
        };
        self.lock().exhaust.extend(std::iter::repeat_n(failure, n));
    }

    /// Sets the contract's `max_self_weight`: emits above it are refused as the contract does.
    pub fn set_max_self_weight(&self, max: u32) {
        self.lock().max_self_weight = Some(max);
    }

    /// Pins a vocabulary as `setvocab` does.
    pub fn pin_vocab(&self, hash: &str, words: u32) {
        self.lock().vocab = Some((hash.into(), words));
    }

    /// Emit calls made so far, failed ones included.
    pub fn emit_calls(&self) -> usize {
        self.lock().emit_calls
    }

    /// Adds another subscribed user.
    pub fn add_user(&self, user: &str) {
        self.lock().rows.insert(
            user.into(),
            PeerRow {
                user: user.into(),
                address: "127.0.0.1".into(),
                port: 1,
                stake: 1,
                edges: vec![],
            },
        );
    }

    /// Sets the active keys the fake chain lists for `user`.
    pub fn set_keys(&self, user: &str, keys: Vec<PublicKey>) {
        self.lock().keys.insert(user.into(), keys);
    }

    /// Whether `user` is in the metagraph.
    pub fn is_subscribed(&self, user: &str) -> bool {
        self.lock().rows.contains_key(user)
    }

    /// Every successful emit so far.
    pub fn emits(&self) -> Vec<Vec<Edge<String>>> {
        self.lock().emits.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn scripted(&self) -> Result<(), ChainFailure> {
        let mut s = self.lock();
        if s.fail.is_empty() {
            return Ok(());
        }
        Err(s.fail.remove(0))
    }
}

impl ChainApi for FakeChain {
    fn subscribe(&self, address: String, port: u16, stake: u64) -> ChainFuture<'_, ()> {
        Box::pin(async move {
            self.scripted()?;
            let me = self.me.clone();
            self.lock().rows.insert(
                me.clone(),
                PeerRow {
                    user: me,
                    address,
                    port,
                    stake,
                    edges: vec![],
                },
            );
            Ok(())
        })
    }

    fn unsubscribe(&self) -> ChainFuture<'_, ()> {
        Box::pin(async move {
            self.scripted()?;
            self.lock().rows.remove(&self.me);
            Ok(())
        })
    }

    fn emit(&self, edges: Vec<Edge<String>>) -> ChainFuture<'_, PushReceipt> {
        Box::pin(async move {
            self.scripted()?;
            {
                let mut s = self.lock();
                s.emit_calls += 1;
                if !s.exhaust.is_empty() {
                    return Err(s.exhaust.remove(0));
                }
            }
            let mut s = self.lock();
            if let Some(bad) = edges.iter().find(|e| !s.rows.contains_key(&e.to)) {
                return Err(ChainFailure::new(
                    false,
                    format!("edge target not subscribed: {}", bad.to),
                ));
            }
            let cap = s.max_self_weight.unwrap_or(emission::fixed::WEIGHT_ONE);
            if edges.first().is_some_and(|e| e.weight > cap) {
                return Err(ChainFailure::new(
                    false,
                    "self weight above max_self_weight",
                ));
            }
            s.emits.push(edges);
            let n = s.emits.len() as u32;
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
            self.scripted()?;
            let mut s = self.lock();
            if s.drop_next > 0 {
                s.drop_next -= 1;
                return Ok(Finality::Dropped);
            }
            Ok(Finality::Irreversible {
                block: emit.block_num,
            })
        })
    }

    fn metagraph(&self) -> ChainFuture<'_, Vec<PeerRow>> {
        Box::pin(async move {
            self.scripted()?;
            Ok(self.lock().rows.values().cloned().collect())
        })
    }

    fn account_keys<'a>(&'a self, account: &'a str) -> ChainFuture<'a, Vec<PublicKey>> {
        Box::pin(async move {
            self.lock()
                .keys
                .get(account)
                .cloned()
                .ok_or_else(|| ChainFailure::new(false, format!("unknown account {account}")))
        })
    }

    fn max_self_weight(&self) -> ChainFuture<'_, u32> {
        Box::pin(async move {
            Ok(self
                .lock()
                .max_self_weight
                .unwrap_or(emission::fixed::WEIGHT_ONE))
        })
    }

    fn params(&self) -> ChainFuture<'_, Option<super::params::ChainParams>> {
        Box::pin(async move { Ok(self.lock().params) })
    }

    fn pinned_vocab(&self) -> ChainFuture<'_, Option<(String, u32)>> {
        Box::pin(async move {
            self.scripted()?;
            Ok(self.lock().vocab.clone())
        })
    }
}
