//! K1 signatures in EOSIO's compact form (`SIG_K1_...`).

use std::fmt;
use std::str::FromStr;

use k256::ecdsa::{RecoveryId, VerifyingKey};

use super::checksum::{decode_ripemd, encode_ripemd};
use super::{KeyError, PublicKey};
use crate::types::pack::Pack;

/// A compact recoverable signature: byte 0 = 27 + 4 + recovery id, then r and s.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    data: [u8; 65],
}

impl Signature {
    /// Wraps the 65 compact bytes.
    pub(crate) fn from_compact(data: [u8; 65]) -> Signature {
        Signature { data }
    }

    /// The 65 compact bytes.
    pub fn as_bytes(&self) -> &[u8; 65] {
        &self.data
    }

    /// EOSIO's `is_canonical` rule (fc `public_key::is_canonical`): r and s are each
    /// exactly 32 bytes in DER, i.e. their first byte is < 0x80 and they do not start
    /// with a zero byte that could have been dropped.
    pub fn is_canonical(&self) -> bool {
        let c = &self.data;
        (c[1] & 0x80) == 0
            && !(c[1] == 0 && (c[2] & 0x80) == 0)
            && (c[33] & 0x80) == 0
            && !(c[33] == 0 && (c[34] & 0x80) == 0)
    }

    /// Whether this is a valid signature of `digest` by `key`: cheaper than [`recover`]
    /// (which verifies after recovering) when the expected signer is known.
    ///
    /// [`recover`]: Signature::recover
    pub fn verify(&self, digest: &[u8; 32], key: &PublicKey) -> bool {
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        let Ok(sig) = k256::ecdsa::Signature::from_slice(&self.data[1..]) else {
            return false;
        };
        let sig = sig.normalize_s().unwrap_or(sig);
        let Ok(vk) = VerifyingKey::from_sec1_bytes(key.compressed()) else {
            return false;
        };
        vk.verify_prehash(digest, &sig).is_ok()
    }

    /// Recovers the signer's public key from a digest (what nodeos does to check auth).
    pub fn recover(&self, digest: &[u8; 32]) -> Option<PublicKey> {
        let recid = RecoveryId::from_byte(self.data[0].checked_sub(31)?)?;
        let sig = k256::ecdsa::Signature::from_slice(&self.data[1..]).ok()?;
        let key = VerifyingKey::recover_from_prehash(digest, &sig, recid).ok()?;
        Some(PublicKey::from_verifying_key(&key))
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_ripemd("SIG_K1_", &self.data, b"K1"))
    }
}

impl FromStr for Signature {
    type Err = KeyError;

    /// Parses the `SIG_K1_...` text form (checksum checked, recovery byte in 31..=34).
    fn from_str(s: &str) -> Result<Signature, KeyError> {
        let body = s
            .strip_prefix("SIG_K1_")
            .ok_or_else(|| KeyError::Format(s.to_string()))?;
        let raw = decode_ripemd(s, body, 65, b"K1")?;
        let mut data = [0u8; 65];
        data.copy_from_slice(&raw);
        if !(31..=34).contains(&data[0]) {
            return Err(KeyError::Curve(s.to_string()));
        }
        Ok(Signature { data })
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl Pack for Signature {
    /// Variant index 0 (K1) then the compact bytes.
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(0);
        out.extend_from_slice(&self.data);
    }
}
