//! Building, signing and pushing transactions.

use std::sync::atomic::Ordering;

use serde::Deserialize;
use serde_json::{json, Value};

use super::time::parse_block_time;
use super::Client;
use crate::crypto::PrivateKey;
use crate::error::ChainError;
use crate::types::action::Action;
use crate::types::pack::Pack;
use crate::types::transaction::Transaction;

/// Seconds a pushed transaction stays valid, counted from the head block time (plus up to
/// [`EXPIRATION_SPREAD`] seconds that make repeated identical pushes distinct).
const EXPIRATION_SECS: u32 = 60;
/// Range of the per-push expiration offset.
const EXPIRATION_SPREAD: u32 = 600;

/// What nodeos reports for an executed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushReceipt {
    /// Hex transaction id.
    pub transaction_id: String,
    /// Block the transaction was (speculatively) executed in.
    pub block_num: u32,
    /// The transaction's expiration (seconds since the Unix epoch): after it, a
    /// transaction that is in no block can never be.
    pub expiration: u32,
    /// Billed CPU in microseconds: the measure of the contract's cost.
    pub cpu_usage_us: u64,
    /// Billed NET in 8-byte words.
    pub net_usage_words: u64,
    /// Concatenated console output of all action traces (`--contracts-console`).
    pub console: String,
}

#[derive(Deserialize)]
struct PushResponse {
    transaction_id: String,
    processed: Value,
}

fn hex32(field: &str, text: &str) -> Result<[u8; 32], ChainError> {
    let bytes = hex::decode(text).map_err(|e| ChainError::Decode(format!("{field}: {e}")))?;
    bytes
        .try_into()
        .map_err(|_| ChainError::Decode(format!("{field} is not 32 bytes")))
}

impl Client {
    /// Builds a transaction of `actions` (TaPoS on the last irreversible block, expiring
    /// 60 s or a little more after the head block time), signs it with every key and pushes it.
    pub async fn push(
        &self,
        actions: Vec<Action>,
        keys: &[PrivateKey],
    ) -> Result<PushReceipt, ChainError> {
        let info = self.get_info().await?;
        let chain_id = hex32("chain_id", &info.chain_id)?;
        let ref_block = hex32(
            "last_irreversible_block_id",
            &info.last_irreversible_block_id,
        )?;
        let now = parse_block_time(&info.head_block_time)?;
        let spread = self.pushes.fetch_add(1, Ordering::Relaxed) % EXPIRATION_SPREAD;
        let trx = Transaction::new(now + EXPIRATION_SECS + spread, &ref_block, actions);
        self.push_transaction(&trx, &chain_id, keys).await
    }

    /// Signs and pushes an already built transaction.
    pub async fn push_transaction(
        &self,
        trx: &Transaction,
        chain_id: &[u8; 32],
        keys: &[PrivateKey],
    ) -> Result<PushReceipt, ChainError> {
        let digest = trx.signing_digest(chain_id);
        let signatures = keys
            .iter()
            .map(|k| k.sign(&digest).map(|s| s.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let body = json!({
            "signatures": signatures,
            "compression": "none",
            "packed_context_free_data": "",
            "packed_trx": hex::encode(trx.packed()),
        });
        let response: PushResponse = self.post_json("/v1/chain/push_transaction", &body).await?;
        receipt(response, trx.expiration)
    }
}

fn receipt(response: PushResponse, expiration: u32) -> Result<PushReceipt, ChainError> {
    let p = &response.processed;
    if let Some(except) = p.get("except").filter(|e| !e.is_null()) {
        return Err(ChainError::Rejected {
            message: except["message"].as_str().unwrap_or("failed").to_string(),
        });
    }
    let number = |v: &Value| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    };
    let console = p["action_traces"]
        .as_array()
        .map(|traces| {
            traces
                .iter()
                .filter_map(|t| t["console"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default();
    Ok(PushReceipt {
        transaction_id: response.transaction_id,
        block_num: number(&p["block_num"])
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| ChainError::Decode("push: no block_num".into()))?,
        expiration,
        cpu_usage_us: number(&p["receipt"]["cpu_usage_us"])
            .ok_or_else(|| ChainError::Decode("push: no receipt.cpu_usage_us".into()))?,
        net_usage_words: number(&p["receipt"]["net_usage_words"]).unwrap_or(0),
        console,
    })
}
