//! K1 public keys: `EOS...` (legacy) and `PUB_K1_...` text forms.

use std::fmt;
use std::str::FromStr;

use k256::ecdsa::VerifyingKey;

use super::checksum::{decode_ripemd, encode_ripemd};
use super::KeyError;
use crate::types::pack::Pack;

/// A secp256k1 public key, as used in account authorities and signature recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey {
    compressed: [u8; 33],
}

impl PublicKey {
    /// Wraps a verifying key.
    pub(crate) fn from_verifying_key(key: &VerifyingKey) -> PublicKey {
        let point = key.to_encoded_point(true);
        let mut compressed = [0u8; 33];
        compressed.copy_from_slice(point.as_bytes());
        PublicKey { compressed }
    }

    /// The 33-byte compressed SEC1 point.
    pub fn compressed(&self) -> &[u8; 33] {
        &self.compressed
    }

    /// The modern text form `PUB_K1_...`.
    pub fn to_k1_string(&self) -> String {
        encode_ripemd("PUB_K1_", &self.compressed, b"K1")
    }

    fn from_bytes(text: &str, bytes: &[u8]) -> Result<PublicKey, KeyError> {
        VerifyingKey::from_sec1_bytes(bytes).map_err(|_| KeyError::Curve(text.to_string()))?;
        let mut compressed = [0u8; 33];
        compressed.copy_from_slice(bytes);
        Ok(PublicKey { compressed })
    }
}

impl fmt::Display for PublicKey {
    /// The legacy `EOS...` form, which every EOSIO tool accepts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_ripemd("EOS", &self.compressed, b""))
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<PublicKey, KeyError> {
        let bytes = if let Some(body) = s.strip_prefix("PUB_K1_") {
            decode_ripemd(s, body, 33, b"K1")?
        } else if let Some(body) = s.strip_prefix("EOS") {
            decode_ripemd(s, body, 33, b"")?
        } else {
            return Err(KeyError::Format(s.to_string()));
        };
        PublicKey::from_bytes(s, &bytes)
    }
}

impl Pack for PublicKey {
    /// Variant index 0 (K1) then the compressed point.
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(0);
        out.extend_from_slice(&self.compressed);
    }
}
