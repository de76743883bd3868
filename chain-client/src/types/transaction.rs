//! The EOSIO transaction layout, its id and its signing digest.

use sha2::{Digest, Sha256};

use super::action::Action;
use super::pack::{Pack, VarUint32};

/// An unsigned EOSIO transaction (header + actions, no context-free actions or extensions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    /// Expiration, seconds since the Unix epoch.
    pub expiration: u32,
    /// Low 16 bits of the reference block number (TaPoS).
    pub ref_block_num: u16,
    /// Bytes 8..12 of the reference block id, little-endian (TaPoS).
    pub ref_block_prefix: u32,
    /// The actions, run in order, atomically.
    pub actions: Vec<Action>,
}

impl Transaction {
    /// A transaction referencing the block `ref_block_id` (hex block id, 64 chars).
    pub fn new(expiration: u32, ref_block_id: &[u8; 32], actions: Vec<Action>) -> Transaction {
        let block_num = u32::from_be_bytes([
            ref_block_id[0],
            ref_block_id[1],
            ref_block_id[2],
            ref_block_id[3],
        ]);
        let ref_block_prefix = u32::from_le_bytes([
            ref_block_id[8],
            ref_block_id[9],
            ref_block_id[10],
            ref_block_id[11],
        ]);
        Transaction {
            expiration,
            ref_block_num: (block_num & 0xffff) as u16,
            ref_block_prefix,
            actions,
        }
    }

    /// The transaction id nodeos reports: sha256 of the packed transaction.
    pub fn id(&self) -> [u8; 32] {
        Sha256::digest(self.packed()).into()
    }

    /// The digest signed by the authorizing keys:
    /// `sha256(chain_id || packed_trx || 32 zero bytes)` (no context-free data).
    pub fn signing_digest(&self, chain_id: &[u8; 32]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(chain_id);
        h.update(self.packed());
        h.update([0u8; 32]);
        h.finalize().into()
    }
}

impl Pack for Transaction {
    fn pack(&self, out: &mut Vec<u8>) {
        self.expiration.pack(out);
        self.ref_block_num.pack(out);
        self.ref_block_prefix.pack(out);
        VarUint32(0).pack(out); // max_net_usage_words: no limit
        0u8.pack(out); // max_cpu_usage_ms: no limit
        VarUint32(0).pack(out); // delay_sec
        VarUint32(0).pack(out); // context_free_actions
        self.actions.pack(out);
        VarUint32(0).pack(out); // transaction_extensions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tapos_fields_from_block_id() {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&0x0001_2345u32.to_be_bytes());
        id[8..12].copy_from_slice(&[0x78, 0x56, 0x34, 0x12]);
        let t = Transaction::new(1_700_000_000, &id, vec![]);
        assert_eq!(t.ref_block_num, 0x2345);
        assert_eq!(t.ref_block_prefix, 0x1234_5678);
        let p = t.packed();
        assert_eq!(p.len(), 4 + 2 + 4 + 1 + 1 + 1 + 1 + 1 + 1);
        assert_eq!(&p[..4], &1_700_000_000u32.to_le_bytes());
    }
}
