//! The server's door: a peer request is served only if it is signed by a subscribed
//! account with its on-chain key, fresh, not a replay, from a node with the same vocabulary,
//! and within that account's rate limit. Each refusal says why.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bittensor_protocol::auth::{AuthError, ReplayGuard, RequestAuth};
use hyper::{HeaderMap, StatusCode};

use super::identity::{now_ms, Identity};
use super::keys::KeyCache;
use super::ratelimit::RateLimiter;

/// Signed requests remembered against replay (about a minute of traffic at 1 000 requests/s).
pub const REPLAY_CAPACITY: usize = 100_000;

/// Per-account request rates.
#[derive(Debug, Clone, Copy)]
pub struct GateLimits {
    /// `/forward` requests per second per account.
    pub forward_rate: f64,
    /// Burst of `/forward`.
    pub forward_burst: f64,
    /// `/backward` requests per second per account.
    pub backward_rate: f64,
    /// Burst of `/backward`.
    pub backward_burst: f64,
}

/// Why a request was refused, by category (for the server's counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// Unsigned, badly signed, stale, replayed, unknown or unsubscribed caller (401).
    Unauthorized,
    /// Another vocabulary (409).
    Vocabulary,
    /// Over the account's rate (429).
    RateLimited,
    /// Replay memory full (503).
    Busy,
}

/// A refused request: status and the one-line reason sent back.
#[derive(Debug, Clone)]
pub struct Refused {
    /// Category.
    pub kind: RefusalKind,
    /// HTTP status.
    pub status: StatusCode,
    /// Reason.
    pub message: String,
}

impl From<AuthError> for Refused {
    fn from(e: AuthError) -> Self {
        let (kind, status) = match e {
            AuthError::ReplayCacheFull => (RefusalKind::Busy, StatusCode::SERVICE_UNAVAILABLE),
            _ => (RefusalKind::Unauthorized, StatusCode::UNAUTHORIZED),
        };
        Refused {
            kind,
            status,
            message: e.to_string(),
        }
    }
}

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Its account.
    pub account: String,
    /// The digest of its request, which the answer signature covers.
    pub digest: [u8; 32],
}

/// Verification state shared by all connections.
pub struct Gate {
    identity: Arc<Identity>,
    keys: Arc<KeyCache>,
    replay: Mutex<ReplayGuard>,
    forward_limit: RateLimiter,
    backward_limit: RateLimiter,
}

impl Gate {
    /// A gate for the node `identity`, checking callers' keys through `keys`.
    pub fn new(identity: Arc<Identity>, keys: Arc<KeyCache>, limits: GateLimits) -> Self {
        Gate {
            identity,
            keys,
            replay: Mutex::new(ReplayGuard::new(REPLAY_CAPACITY)),
            forward_limit: RateLimiter::new(limits.forward_rate, limits.forward_burst),
            backward_limit: RateLimiter::new(limits.backward_rate, limits.backward_burst),
        }
    }

    /// This node's identity (answers are signed with it).
    pub fn identity(&self) -> &Arc<Identity> {
        &self.identity
    }

    /// Checks a request's signature, caller and rate; `subscribed` says who is in the metagraph.
    pub async fn admit(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
        subscribed: impl Fn(&str) -> bool,
    ) -> Result<Caller, Refused> {
        let auth = RequestAuth::from_headers(|name| headers.get(name)?.to_str().ok())?;
        auth.check_time(now_ms())?;
        if !subscribed(&auth.account) {
            return Err(AuthError::NotSubscribed(auth.account.clone()).into());
        }
        let signed =
            |keys: &[chain_client::PublicKey]| auth.verify(method, path, body, keys).is_ok();
        match self.keys.accepts(&auth.account, signed).await {
            Ok(true) => {}
            Ok(false) => return Err(AuthError::WrongKey(auth.account.clone()).into()),
            Err(why) => return Err(AuthError::UnknownAccount(auth.account.clone(), why).into()),
        }
        crate::node::state::lock(&self.replay).admit(&auth, now_ms())?;
        if auth.vocab != self.identity.vocab {
            return Err(Refused {
                kind: RefusalKind::Vocabulary,
                status: StatusCode::CONFLICT,
                message: format!(
                    "vocabulary mismatch: caller's fingerprint {} differs from this node's {} (same corpus and max_vocab needed)",
                    auth.vocab, self.identity.vocab
                ),
            });
        }
        let limiter = if path == "/backward" {
            &self.backward_limit
        } else {
            &self.forward_limit
        };
        if !limiter.allow(&auth.account, Instant::now()) {
            return Err(Refused {
                kind: RefusalKind::RateLimited,
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!("{path} rate limit exceeded for account {}", auth.account),
            });
        }
        Ok(Caller {
            digest: auth.digest(method, path, body),
            account: auth.account,
        })
    }
}
