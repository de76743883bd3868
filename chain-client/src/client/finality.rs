//! Whether a pushed transaction became irreversible, is still on its way, or was dropped.
//!
//! A push only says the transaction executed on one node's speculative state. On a chain of
//! several producers it can still be lost: the block it went into may be forked out, or the
//! producer holding it may die before it is in a block. This reads only the chain API every
//! node serves (`get_info`, `get_block`), no history plugin: a transaction is irreversible
//! once a block at or below the last irreversible block holds its id, and dropped once the
//! last irreversible block is past its expiration without holding it (it can then never be
//! included, so pushing it again cannot double-apply it).

use serde_json::Value;

use super::time::parse_block_time;
use super::{Client, PushReceipt};
use crate::error::ChainError;

/// Most blocks one check reads past the block a push reported: more than a transaction's
/// longest life (the client's expirations reach 660 s, 1 320 half-second blocks). Usually
/// one block is read; more only when a fork moved the transaction or it was dropped.
const SCAN_LIMIT: u32 = 1_500;

/// Where a pushed transaction stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finality {
    /// In block `block`, which is irreversible: it can no longer be lost.
    Irreversible {
        /// The block holding it.
        block: u32,
    },
    /// Not yet decided: its block is not irreversible yet, or it may still be included.
    Pending,
    /// It is in no irreversible block and expired: it will never be applied; push again.
    Dropped,
}

impl Client {
    /// Where `receipt`'s transaction stands (see [`Finality`]).
    pub async fn finality(&self, receipt: &PushReceipt) -> Result<Finality, ChainError> {
        let info = self.get_info().await?;
        let lib = info.last_irreversible_block_num;
        if receipt.block_num > lib {
            return Ok(Finality::Pending);
        }
        let last = lib.min(receipt.block_num.saturating_add(SCAN_LIMIT));
        for num in receipt.block_num..=last {
            let block = self.get_block(num).await?;
            if holds(&block, &receipt.transaction_id) {
                return Ok(Finality::Irreversible { block: num });
            }
            let time = block["timestamp"].as_str().unwrap_or_default();
            if parse_block_time(time)? > receipt.expiration {
                return Ok(Finality::Dropped);
            }
        }
        Ok(Finality::Pending)
    }

    /// `/v1/chain/get_block` as JSON.
    pub async fn get_block(&self, num: u32) -> Result<Value, ChainError> {
        self.post_json(
            "/v1/chain/get_block",
            &serde_json::json!({ "block_num_or_id": num }),
        )
        .await
    }
}

/// Whether a `get_block` answer lists transaction `id` (as a full transaction or an id).
fn holds(block: &Value, id: &str) -> bool {
    block["transactions"].as_array().is_some_and(|txs| {
        txs.iter().any(|t| match &t["trx"] {
            Value::String(s) => s == id,
            trx => trx["id"].as_str() == Some(id),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_transactions_in_both_shapes() {
        let block = serde_json::json!({
            "timestamp": "2026-12-01T08:00:00.500",
            "transactions": [
                {"status": "executed", "trx": {"id": "aa", "signatures": []}},
                {"status": "executed", "trx": "bb"}
            ]
        });
        assert!(holds(&block, "aa"));
        assert!(holds(&block, "bb"));
        assert!(!holds(&block, "cc"));
        assert!(!holds(&serde_json::json!({}), "aa"));
    }
}
