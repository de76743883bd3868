//! The on-chain keys of peer accounts, cached with expiry: every signed request and answer is
//! checked against them, and reading `get_account` for each would load the chain node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chain_client::PublicKey;

use crate::chain::{ChainApi, ChainFuture};

/// Where account keys come from: the chain for a running node.
pub trait KeySource: Send + Sync {
    /// The active-permission keys of `account`.
    fn account_keys<'a>(&'a self, account: &'a str) -> ChainFuture<'a, Vec<PublicKey>>;
}

/// Keys read from the chain the node runs against.
pub struct ChainKeys(pub Arc<dyn ChainApi>);

impl KeySource for ChainKeys {
    fn account_keys<'a>(&'a self, account: &'a str) -> ChainFuture<'a, Vec<PublicKey>> {
        self.0.account_keys(account)
    }
}

/// A fixed account -> key table, for in-process measurements whose peers have no chain.
pub struct StaticKeys(pub HashMap<String, Vec<PublicKey>>);

impl KeySource for StaticKeys {
    fn account_keys<'a>(&'a self, account: &'a str) -> ChainFuture<'a, Vec<PublicKey>> {
        let found = self.0.get(account).cloned();
        Box::pin(async move {
            found.ok_or_else(|| {
                crate::chain::ChainFailure::new(false, format!("unknown account {account}"))
            })
        })
    }
}

/// How long a key read is trusted.
pub const KEY_TTL: Duration = Duration::from_secs(60);
/// How long a failed read is remembered (so unknown names do not hammer the chain).
pub const FAILED_TTL: Duration = Duration::from_secs(5);
/// Accounts remembered at most; the stalest entry is dropped beyond.
pub const MAX_ACCOUNTS: usize = 4096;

#[derive(Clone)]
struct Entry {
    keys: Result<Vec<PublicKey>, String>,
    fetched: Instant,
}

/// Account keys cached for [`KEY_TTL`] (failures for [`FAILED_TTL`]), at most [`MAX_ACCOUNTS`].
pub struct KeyCache {
    source: Arc<dyn KeySource>,
    entries: Mutex<HashMap<String, Entry>>,
}

impl KeyCache {
    /// A cache in front of `source`.
    pub fn new(source: Arc<dyn KeySource>) -> Self {
        KeyCache {
            source,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, account: &str, max_age: Duration) -> Option<Entry> {
        let entries = crate::sync::lock(&self.entries);
        let e = entries.get(account)?;
        let ttl = if e.keys.is_ok() { KEY_TTL } else { FAILED_TTL };
        (e.fetched.elapsed() < ttl.min(max_age)).then(|| e.clone())
    }

    /// The keys of `account`, from the cache when younger than `max_age` (and its TTL).
    pub async fn keys_within(
        &self,
        account: &str,
        max_age: Duration,
    ) -> Result<Vec<PublicKey>, String> {
        if let Some(e) = self.cached(account, max_age) {
            return e.keys;
        }
        let keys = self
            .source
            .account_keys(account)
            .await
            .map_err(|e| e.message);
        let mut entries = crate::sync::lock(&self.entries);
        if entries.len() >= MAX_ACCOUNTS && !entries.contains_key(account) {
            if let Some(stalest) = entries
                .iter()
                .min_by_key(|(_, e)| e.fetched)
                .map(|(k, _)| k.clone())
            {
                entries.remove(&stalest);
            }
        }
        entries.insert(
            account.to_string(),
            Entry {
                keys: keys.clone(),
                fetched: Instant::now(),
            },
        );
        keys
    }

    /// The keys of `account`, cached.
    pub async fn keys(&self, account: &str) -> Result<Vec<PublicKey>, String> {
        self.keys_within(account, KEY_TTL).await
    }

    /// Whether `test` accepts `account`'s keys (e.g. one of them made a signature); a
    /// refusal against a cached read is tried once more against a read at most a second
    /// old (the account may have changed its key).
    pub async fn accepts(
        &self,
        account: &str,
        test: impl Fn(&[PublicKey]) -> bool,
    ) -> Result<bool, String> {
        if test(&self.keys(account).await?) {
            return Ok(true);
        }
        Ok(test(
            &self.keys_within(account, Duration::from_secs(1)).await?,
        ))
    }

    /// Whether `key` is one of `account`'s keys (see [`accepts`](Self::accepts)).
    pub async fn holds(&self, account: &str, key: &PublicKey) -> Result<bool, String> {
        self.accepts(account, |keys| keys.contains(key)).await
    }

    /// Accounts currently cached.
    pub fn len(&self) -> usize {
        crate::sync::lock(&self.entries).len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    struct Counting(AtomicU64, PublicKey);

    impl KeySource for Counting {
        fn account_keys<'a>(&'a self, account: &'a str) -> ChainFuture<'a, Vec<PublicKey>> {
            self.0.fetch_add(1, Ordering::Relaxed);
            let key = self.1;
            Box::pin(async move {
                if account == "alice" {
                    Ok(vec![key])
                } else {
                    Err(crate::chain::ChainFailure::new(false, "unknown"))
                }
            })
        }
    }

    #[tokio::test]
    async fn reads_are_cached_and_failures_remembered() {
        let key = chain_client::PrivateKey::from_bytes(&[3; 32])
            .unwrap()
            .public_key();
        let other = chain_client::PrivateKey::from_bytes(&[4; 32])
            .unwrap()
            .public_key();
        let src = Arc::new(Counting(AtomicU64::new(0), key));
        let cache = KeyCache::new(src.clone());
        assert_eq!(cache.keys("alice").await.unwrap(), vec![key]);
        assert_eq!(cache.keys("alice").await.unwrap(), vec![key]);
        assert_eq!(src.0.load(Ordering::Relaxed), 1);
        assert!(cache.keys("nobody").await.is_err());
        assert!(cache.keys("nobody").await.is_err());
        assert_eq!(src.0.load(Ordering::Relaxed), 2);
        assert!(cache.holds("alice", &key).await.unwrap());
        // A mismatch against a read younger than a second does not re-read.
        assert!(!cache.holds("alice", &other).await.unwrap());
        assert_eq!(src.0.load(Ordering::Relaxed), 2);
        assert_eq!(cache.len(), 2);
    }
}
