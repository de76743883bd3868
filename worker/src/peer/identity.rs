//! Who this node is on the wire: its account, the key it signs peer requests and answers
//! with (the account's active key), and its vocabulary fingerprint.

use std::time::{SystemTime, UNIX_EPOCH};

use bittensor_protocol::auth::{AnswerAuth, RequestAuth};
use chain_client::{KeyError, PrivateKey, PublicKey};
use rand::Rng;

/// This node's signing identity.
pub struct Identity {
    /// The chain account.
    pub account: String,
    key: PrivateKey,
    /// Fingerprint of the vocabulary (word ids must mean the same words on both sides).
    pub vocab: String,
    /// The chain this node's accounts live on (sessions are bound to it).
    pub chain_id: [u8; 32],
}

/// Unix time in milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Identity {
    /// An identity for `account` signing with `key`.
    pub fn new(account: &str, key: PrivateKey, vocab: &str) -> Self {
        Identity {
            account: account.to_string(),
            key,
            vocab: vocab.to_string(),
            chain_id: [0; 32],
        }
    }

    /// The same identity on the chain `chain_id` (sessions with nodes of other chains fail).
    pub fn on_chain(mut self, chain_id: [u8; 32]) -> Self {
        self.chain_id = chain_id;
        self
    }

    /// Signs a session's handshake binding with the account key.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Result<chain_client::Signature, KeyError> {
        self.key.sign_offchain(digest)
    }

    /// The public half of the signing key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// Signs a request to `path` with `body`, stamped now with a random nonce.
    pub fn sign_request(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<RequestAuth, KeyError> {
        let nonce = rand::thread_rng().gen::<u64>();
        RequestAuth::sign(
            &self.key,
            &self.account,
            &self.vocab,
            method,
            path,
            body,
            now_ms(),
            nonce,
        )
    }

    /// Signs an answer to the request whose digest is `request`.
    pub fn sign_answer(
        &self,
        request: &[u8; 32],
        status: u16,
        body: &[u8],
    ) -> Result<AnswerAuth, KeyError> {
        AnswerAuth::sign(&self.key, &self.account, &self.vocab, request, status, body)
    }
}
