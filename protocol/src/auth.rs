//! Signed peer requests and answers: who sent a message, and that nobody replayed it.
//!
//! A request carries the caller's account, a timestamp (Unix milliseconds), a random nonce,
//! the caller's vocabulary fingerprint and a K1 signature made with the caller's account key
//! over a canonical message: a domain tag, the method, the path, the SHA-256 of the body and
//! those fields, one per line. The server recovers the signing key, compares it with the
//! keys the chain lists for the account, refuses stale timestamps, and remembers nonces for
//! as long as their timestamp would pass ([`ReplayGuard`], bounded memory).
//!
//! An answer carries the serving account, its vocabulary fingerprint and a signature over
//! the request's digest, the status, the SHA-256 of the answer body and those fields: bound
//! to one request, so it cannot be replayed to another, and to one account, so that a node
//! advertising somebody else's server is caught by the downstream that pays it.

use std::collections::{HashSet, VecDeque};
use std::fmt;

use chain_client::{KeyError, PrivateKey, PublicKey, Signature};
use sha2::{Digest, Sha256};

/// Header naming the signing account.
pub const HEADER_ACCOUNT: &str = "x-bt-account";
/// Header with the request time, Unix milliseconds.
pub const HEADER_TIME: &str = "x-bt-time";
/// Header with the request nonce, 16 hex digits.
pub const HEADER_NONCE: &str = "x-bt-nonce";
/// Header with the sender's vocabulary fingerprint.
pub const HEADER_VOCAB: &str = "x-bt-vocab";
/// Header with the `SIG_K1_...` signature.
pub const HEADER_SIGNATURE: &str = "x-bt-signature";

/// Largest accepted distance between a request's timestamp and the server's clock.
pub const MAX_SKEW_MS: u64 = 30_000;

const REQUEST_DOMAIN: &str = "bittensor-peer-request-v1";
const ANSWER_DOMAIN: &str = "bittensor-peer-answer-v1";
/// Longest accepted account header (EOSIO names have at most 13 characters).
const MAX_ACCOUNT_LEN: usize = 13;
/// Longest accepted vocabulary header.
const MAX_VOCAB_LEN: usize = 64;

/// Why a request or answer is not accepted as authentic; the text is sent back with the 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// None of the authentication headers is present.
    Unsigned,
    /// One header is missing.
    Missing(&'static str),
    /// A header does not parse.
    Malformed(&'static str, String),
    /// The timestamp is too far from the receiver's clock.
    Stale {
        /// Request time minus receiver time.
        skew_ms: i64,
    },
    /// The signature does not recover to any key.
    BadSignature,
    /// The signature is valid but made with a key the chain does not list for the account.
    WrongKey(String),
    /// The chain has no usable key for the account (unknown account, read failure).
    UnknownAccount(String, String),
    /// The account is not in the metagraph.
    NotSubscribed(String),
    /// This (account, nonce) was already accepted.
    Replayed,
    /// Too many requests are remembered; retry shortly.
    ReplayCacheFull,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Unsigned => write!(
                f,
                "unsigned request: {HEADER_ACCOUNT}, {HEADER_TIME}, {HEADER_NONCE}, {HEADER_VOCAB} and {HEADER_SIGNATURE} are required"
            ),
            AuthError::Missing(h) => write!(f, "missing header {h}"),
            AuthError::Malformed(h, why) => write!(f, "malformed header {h}: {why}"),
            AuthError::Stale { skew_ms } => write!(
                f,
                "stale request: timestamp {skew_ms} ms from this node's clock (at most {MAX_SKEW_MS} ms)"
            ),
            AuthError::BadSignature => write!(f, "bad signature: it does not match the message"),
            AuthError::WrongKey(account) => write!(
                f,
                "bad signature: not made with a key of {account}'s on-chain active permission"
            ),
            AuthError::UnknownAccount(account, why) => {
                write!(f, "no on-chain key for account {account}: {why}")
            }
            AuthError::NotSubscribed(account) => {
                write!(f, "account {account} is not subscribed to the network")
            }
            AuthError::Replayed => write!(f, "replayed request: this nonce was already used"),
            AuthError::ReplayCacheFull => {
                write!(f, "too many recent requests remembered; retry shortly")
            }
        }
    }
}

impl std::error::Error for AuthError {}

/// SHA-256 of a body.
pub fn body_hash(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

fn digest_of(lines: &[&str]) -> [u8; 32] {
    Sha256::digest(lines.join("\n").as_bytes()).into()
}

/// The signed fields of a peer request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAuth {
    /// Calling account.
    pub account: String,
    /// Unix milliseconds at signing.
    pub time_ms: u64,
    /// Random per request.
    pub nonce: u64,
    /// The caller's vocabulary fingerprint.
    pub vocab: String,
    /// Signature over [`RequestAuth::digest`].
    pub signature: Signature,
}

/// The canonical request digest (what is signed).
#[allow(clippy::too_many_arguments)]
fn request_digest(
    method: &str,
    path: &str,
    body: &[u8],
    account: &str,
    time_ms: u64,
    nonce: u64,
    vocab: &str,
) -> [u8; 32] {
    digest_of(&[
        REQUEST_DOMAIN,
        method,
        path,
        &hex::encode(body_hash(body)),
        account,
        &time_ms.to_string(),
        &format!("{nonce:016x}"),
        vocab,
    ])
}

fn header<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
    name: &'static str,
) -> Result<&'a str, AuthError> {
    get(name).ok_or(AuthError::Missing(name))
}

fn bounded(name: &'static str, value: &str, max: usize) -> Result<String, AuthError> {
    if value.is_empty() || value.len() > max || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AuthError::Malformed(
            name,
            format!("expected 1..={max} printable characters"),
        ));
    }
    Ok(value.to_string())
}

fn signature<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<Signature, AuthError> {
    header(get, HEADER_SIGNATURE)?
        .parse()
        .map_err(|e: KeyError| AuthError::Malformed(HEADER_SIGNATURE, e.to_string()))
}

impl RequestAuth {
    /// Signs a request as `account` with `key`.
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        key: &PrivateKey,
        account: &str,
        vocab: &str,
        method: &str,
        path: &str,
        body: &[u8],
        time_ms: u64,
        nonce: u64,
    ) -> Result<RequestAuth, KeyError> {
        let digest = request_digest(method, path, body, account, time_ms, nonce, vocab);
        Ok(RequestAuth {
            account: account.to_string(),
            time_ms,
            nonce,
            vocab: vocab.to_string(),
            signature: key.sign_offchain(&digest)?,
        })
    }

    /// The digest these fields sign for `method path body`.
    pub fn digest(&self, method: &str, path: &str, body: &[u8]) -> [u8; 32] {
        request_digest(
            method,
            path,
            body,
            &self.account,
            self.time_ms,
            self.nonce,
            &self.vocab,
        )
    }

    /// The headers that carry these fields.
    pub fn headers(&self) -> [(&'static str, String); 5] {
        [
            (HEADER_ACCOUNT, self.account.clone()),
            (HEADER_TIME, self.time_ms.to_string()),
            (HEADER_NONCE, format!("{:016x}", self.nonce)),
            (HEADER_VOCAB, self.vocab.clone()),
            (HEADER_SIGNATURE, self.signature.to_string()),
        ]
    }

    /// Reads the fields from headers (`get(name)` returns a header's value).
    pub fn from_headers<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, AuthError> {
        let names = [
            HEADER_ACCOUNT,
            HEADER_TIME,
            HEADER_NONCE,
            HEADER_VOCAB,
            HEADER_SIGNATURE,
        ];
        if names.iter().all(|n| get(n).is_none()) {
            return Err(AuthError::Unsigned);
        }
        let account = bounded(
            HEADER_ACCOUNT,
            header(&get, HEADER_ACCOUNT)?,
            MAX_ACCOUNT_LEN,
        )?;
        let time_ms = header(&get, HEADER_TIME)?
            .parse()
            .map_err(|_| AuthError::Malformed(HEADER_TIME, "expected Unix milliseconds".into()))?;
        let nonce_text = header(&get, HEADER_NONCE)?;
        if nonce_text.len() != 16 {
            return Err(AuthError::Malformed(
                HEADER_NONCE,
                "expected 16 hex digits".into(),
            ));
        }
        let nonce = u64::from_str_radix(nonce_text, 16)
            .map_err(|_| AuthError::Malformed(HEADER_NONCE, "expected 16 hex digits".into()))?;
        let vocab = bounded(HEADER_VOCAB, header(&get, HEADER_VOCAB)?, MAX_VOCAB_LEN)?;
        Ok(RequestAuth {
            account,
            time_ms,
            nonce,
            vocab,
            signature: signature(&get)?,
        })
    }

    /// Refuses timestamps more than [`MAX_SKEW_MS`] away from `now_ms`.
    pub fn check_time(&self, now_ms: u64) -> Result<(), AuthError> {
        let skew_ms = self.time_ms as i64 - now_ms as i64;
        if skew_ms.unsigned_abs() > MAX_SKEW_MS {
            return Err(AuthError::Stale { skew_ms });
        }
        Ok(())
    }

    /// Accepts the request only if one of `keys` (the account's on-chain keys) signed it.
    pub fn verify(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        keys: &[PublicKey],
    ) -> Result<(), AuthError> {
        if made_by_any(&self.signature, &self.digest(method, path, body), keys) {
            Ok(())
        } else {
            Err(AuthError::WrongKey(self.account.clone()))
        }
    }

    /// The key that signed `method path body` with these fields.
    pub fn signer(&self, method: &str, path: &str, body: &[u8]) -> Result<PublicKey, AuthError> {
        self.signature
            .recover(&self.digest(method, path, body))
            .ok_or(AuthError::BadSignature)
    }
}

/// Whether `signature` over `digest` was made by one of `keys`.
fn made_by_any(signature: &Signature, digest: &[u8; 32], keys: &[PublicKey]) -> bool {
    keys.iter().any(|k| signature.verify(digest, k))
}

/// Accepts `signer` only if it is one of the keys the chain lists for `account`.
pub fn check_signer(
    signer: &PublicKey,
    keys: &[PublicKey],
    account: &str,
) -> Result<(), AuthError> {
    if keys.contains(signer) {
        Ok(())
    } else {
        Err(AuthError::WrongKey(account.to_string()))
    }
}

/// The signed fields of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerAuth {
    /// Serving account.
    pub account: String,
    /// The server's vocabulary fingerprint.
    pub vocab: String,
    /// Signature over [`AnswerAuth::digest`].
    pub signature: Signature,
}

fn answer_digest(
    request: &[u8; 32],
    status: u16,
    body: &[u8],
    account: &str,
    vocab: &str,
) -> [u8; 32] {
    digest_of(&[
        ANSWER_DOMAIN,
        &hex::encode(request),
        &status.to_string(),
        &hex::encode(body_hash(body)),
        account,
        vocab,
    ])
}

impl AnswerAuth {
    /// Signs an answer to the request whose digest is `request`.
    pub fn sign(
        key: &PrivateKey,
        account: &str,
        vocab: &str,
        request: &[u8; 32],
        status: u16,
        body: &[u8],
    ) -> Result<AnswerAuth, KeyError> {
        let digest = answer_digest(request, status, body, account, vocab);
        Ok(AnswerAuth {
            account: account.to_string(),
            vocab: vocab.to_string(),
            signature: key.sign_offchain(&digest)?,
        })
    }

    /// The headers that carry these fields.
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            (HEADER_ACCOUNT, self.account.clone()),
            (HEADER_VOCAB, self.vocab.clone()),
            (HEADER_SIGNATURE, self.signature.to_string()),
        ]
    }

    /// Reads the fields from an answer's headers.
    pub fn from_headers<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, AuthError> {
        if [HEADER_ACCOUNT, HEADER_VOCAB, HEADER_SIGNATURE]
            .iter()
            .all(|n| get(n).is_none())
        {
            return Err(AuthError::Unsigned);
        }
        Ok(AnswerAuth {
            account: bounded(
                HEADER_ACCOUNT,
                header(&get, HEADER_ACCOUNT)?,
                MAX_ACCOUNT_LEN,
            )?,
            vocab: bounded(HEADER_VOCAB, header(&get, HEADER_VOCAB)?, MAX_VOCAB_LEN)?,
            signature: signature(&get)?,
        })
    }

    /// Whether one of `keys` signed this answer to `request`.
    pub fn made_by(
        &self,
        request: &[u8; 32],
        status: u16,
        body: &[u8],
        keys: &[PublicKey],
    ) -> bool {
        let digest = answer_digest(request, status, body, &self.account, &self.vocab);
        made_by_any(&self.signature, &digest, keys)
    }

    /// The key that signed this answer to `request`.
    pub fn signer(
        &self,
        request: &[u8; 32],
        status: u16,
        body: &[u8],
    ) -> Result<PublicKey, AuthError> {
        self.signature
            .recover(&answer_digest(
                request,
                status,
                body,
                &self.account,
                &self.vocab,
            ))
            .ok_or(AuthError::BadSignature)
    }
}

/// Remembers accepted (account, nonce) pairs for as long as their timestamp would pass the
/// freshness check, so each signed request is accepted once; memory is bounded by `capacity`.
#[derive(Debug)]
pub struct ReplayGuard {
    capacity: usize,
    seen: HashSet<(String, u64)>,
    /// (forget at, account, nonce) in insertion order; forget times only grow with the clock.
    order: VecDeque<(u64, String, u64)>,
}

impl ReplayGuard {
    /// A guard remembering at most `capacity` requests.
    pub fn new(capacity: usize) -> Self {
        ReplayGuard {
            capacity: capacity.max(1),
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Requests currently remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Accepts a fresh, already verified request once; a second time is [`AuthError::Replayed`].
    pub fn admit(&mut self, auth: &RequestAuth, now_ms: u64) -> Result<(), AuthError> {
        auth.check_time(now_ms)?;
        while self.order.front().is_some_and(|(t, _, _)| *t <= now_ms) {
            if let Some((_, account, nonce)) = self.order.pop_front() {
                self.seen.remove(&(account, nonce));
            }
        }
        let key = (auth.account.clone(), auth.nonce);
        if self.seen.contains(&key) {
            return Err(AuthError::Replayed);
        }
        if self.seen.len() >= self.capacity {
            return Err(AuthError::ReplayCacheFull);
        }
        // A timestamp accepted now stays acceptable until time_ms + MAX_SKEW_MS <= now + 2 skew.
        let forget_at = now_ms.max(auth.time_ms) + 2 * MAX_SKEW_MS;
        let forget_at = forget_at.max(self.order.back().map_or(0, |(t, _, _)| *t));
        self.order.push_back((forget_at, key.0.clone(), key.1));
        self.seen.insert(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const DEV_WIF: &str = "5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3";

    fn key(seed: u8) -> PrivateKey {
        if seed == 0 {
            PrivateKey::from_wif(DEV_WIF).unwrap()
        } else {
            PrivateKey::from_bytes(&[seed; 32]).unwrap()
        }
    }

    fn signed(k: &PrivateKey, account: &str, time_ms: u64, nonce: u64) -> RequestAuth {
        RequestAuth::sign(
            k, account, "v0", "POST", "/forward", b"body", time_ms, nonce,
        )
        .unwrap()
    }

    fn roundtrip(a: &RequestAuth) -> Result<RequestAuth, AuthError> {
        let h: HashMap<&str, String> = a.headers().into_iter().collect();
        RequestAuth::from_headers(|n| h.get(n).map(String::as_str))
    }

    #[test]
    fn a_signed_request_recovers_its_signer_after_the_header_trip() {
        let k = key(0);
        let a = signed(&k, "alice", 1_000_000, 7);
        let back = roundtrip(&a).unwrap();
        assert_eq!(back, a);
        assert_eq!(
            back.signer("POST", "/forward", b"body").unwrap(),
            k.public_key()
        );
        check_signer(
            &k.public_key(),
            &[key(3).public_key(), k.public_key()],
            "alice",
        )
        .unwrap();
        back.verify(
            "POST",
            "/forward",
            b"body",
            &[key(3).public_key(), k.public_key()],
        )
        .unwrap();
        assert_eq!(
            back.verify("POST", "/forward", b"bodY", &[k.public_key()]),
            Err(AuthError::WrongKey("alice".into()))
        );
        assert!(back
            .verify("POST", "/forward", b"body", &[key(3).public_key()])
            .is_err());
    }

    #[test]
    fn any_changed_field_changes_the_recovered_key() {
        let k = key(0);
        let a = signed(&k, "alice", 1_000_000, 7);
        let keys = [k.public_key()];
        let changed = |m: &str, p: &str, b: &[u8], a: &RequestAuth| {
            a.signer(m, p, b)
                .map(|s| check_signer(&s, &keys, &a.account))
        };
        assert!(matches!(
            changed("POST", "/backward", b"body", &a),
            Ok(Err(_)) | Err(_)
        ));
        assert!(matches!(
            changed("POST", "/forward", b"bodY", &a),
            Ok(Err(_)) | Err(_)
        ));
        for edit in [
            |a: &mut RequestAuth| a.account = "bob".into(),
            |a: &mut RequestAuth| a.time_ms += 1,
            |a: &mut RequestAuth| a.nonce += 1,
            |a: &mut RequestAuth| a.vocab = "v1".into(),
        ] {
            let mut b = a.clone();
            edit(&mut b);
            assert!(matches!(
                changed("POST", "/forward", b"body", &b),
                Ok(Err(_)) | Err(_)
            ));
        }
    }

    #[test]
    fn another_accounts_key_is_a_wrong_key() {
        let mallory = key(5);
        let a = signed(&mallory, "alice", 1, 1);
        let signer = a.signer("POST", "/forward", b"body").unwrap();
        let err = check_signer(&signer, &[key(0).public_key()], "alice").unwrap_err();
        assert_eq!(err, AuthError::WrongKey("alice".into()));
        assert!(err.to_string().contains("alice"), "{err}");
    }

    #[test]
    fn missing_and_malformed_headers_are_named() {
        assert_eq!(
            RequestAuth::from_headers(|_| None),
            Err(AuthError::Unsigned)
        );
        let a = signed(&key(0), "alice", 1, 1);
        let mut h: HashMap<&str, String> = a.headers().into_iter().collect();
        h.remove(HEADER_NONCE);
        let get =
            |h: &HashMap<&str, String>| RequestAuth::from_headers(|n| h.get(n).map(String::as_str));
        assert_eq!(get(&h), Err(AuthError::Missing(HEADER_NONCE)));
        h.insert(HEADER_NONCE, "xyz".into());
        assert!(matches!(
            get(&h),
            Err(AuthError::Malformed(HEADER_NONCE, _))
        ));
        h.insert(HEADER_NONCE, "0000000000000001".into());
        h.insert(HEADER_SIGNATURE, "SIG_K1_nope".into());
        assert!(matches!(
            get(&h),
            Err(AuthError::Malformed(HEADER_SIGNATURE, _))
        ));
        h.insert(HEADER_ACCOUNT, "a-very-long-account-name".into());
        assert!(matches!(
            get(&h),
            Err(AuthError::Malformed(HEADER_ACCOUNT, _))
        ));
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let a = signed(&key(0), "alice", 100_000, 1);
        assert!(a.check_time(100_000 + MAX_SKEW_MS).is_ok());
        assert!(matches!(
            a.check_time(100_001 + MAX_SKEW_MS),
            Err(AuthError::Stale { skew_ms }) if skew_ms < 0
        ));
        assert!(matches!(
            a.check_time(100_000 - MAX_SKEW_MS - 1),
            Err(AuthError::Stale { skew_ms }) if skew_ms > 0
        ));
    }

    #[test]
    fn the_replay_guard_admits_once_forgets_late_and_stays_bounded() {
        let k = key(0);
        let mut g = ReplayGuard::new(3);
        let t = 1_000_000;
        let a = signed(&k, "alice", t, 1);
        g.admit(&a, t).unwrap();
        assert_eq!(g.admit(&a, t + 10), Err(AuthError::Replayed));
        // Same nonce, other account: another request.
        g.admit(&signed(&k, "bob", t, 1), t).unwrap();
        g.admit(&signed(&k, "alice", t, 2), t).unwrap();
        assert_eq!(
            g.admit(&signed(&k, "alice", t, 3), t),
            Err(AuthError::ReplayCacheFull)
        );
        assert_eq!(g.len(), 3);
        // While its timestamp is acceptable the replay is caught; later it is stale anyway.
        assert_eq!(g.admit(&a, t + MAX_SKEW_MS), Err(AuthError::Replayed));
        assert!(matches!(
            g.admit(&a, t + 2 * MAX_SKEW_MS + 1),
            Err(AuthError::Stale { .. })
        ));
        let later = t + 2 * MAX_SKEW_MS + 1;
        g.admit(&signed(&k, "alice", later, 9), later).unwrap();
        assert_eq!(g.len(), 1, "old entries were forgotten");
    }

    #[test]
    fn answers_are_bound_to_request_account_and_body() {
        let server = key(4);
        let req = signed(&key(0), "alice", 1, 1).digest("POST", "/forward", b"body");
        let ans = AnswerAuth::sign(&server, "bob", "v0", &req, 200, b"tensor").unwrap();
        let h: HashMap<&str, String> = ans.headers().into_iter().collect();
        let back = AnswerAuth::from_headers(|n| h.get(n).map(String::as_str)).unwrap();
        assert_eq!(back, ans);
        assert_eq!(
            back.signer(&req, 200, b"tensor").unwrap(),
            server.public_key()
        );
        assert!(back.made_by(&req, 200, b"tensor", &[server.public_key()]));
        assert!(!back.made_by(&req, 201, b"tensor", &[server.public_key()]));
        assert!(!back.made_by(&req, 200, b"tensor", &[key(0).public_key()]));
        let other_req = [0u8; 32];
        assert_ne!(
            back.signer(&other_req, 200, b"tensor").ok(),
            Some(server.public_key())
        );
        assert_ne!(
            back.signer(&req, 200, b"tensoR").ok(),
            Some(server.public_key())
        );
        assert_eq!(AnswerAuth::from_headers(|_| None), Err(AuthError::Unsigned));
    }
}
