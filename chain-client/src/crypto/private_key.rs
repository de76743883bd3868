//! K1 private keys (legacy WIF `5...` and `PVT_K1_...`) and canonical signing.

use std::fmt;
use std::str::FromStr;

use k256::ecdsa::hazmat::SignPrimitive;
use k256::ecdsa::SigningKey;
use k256::FieldBytes;

use super::checksum::{decode_ripemd, double_sha_check};
use super::{KeyError, PublicKey, Signature};

/// A secp256k1 private key that signs transaction digests the way nodeos accepts them.
#[derive(Clone)]
pub struct PrivateKey {
    key: SigningKey,
}

/// How many nonce variations to try before giving up on a canonical signature; each try
/// succeeds with probability about 1/4.
const MAX_SIGN_ATTEMPTS: u32 = 1000;

impl PrivateKey {
    /// Parses a legacy WIF (`5K...`) or `PVT_K1_...` key.
    pub fn from_wif(text: &str) -> Result<PrivateKey, KeyError> {
        let secret = if let Some(body) = text.strip_prefix("PVT_K1_") {
            decode_ripemd(text, body, 32, b"K1")?
        } else {
            let raw = bs58::decode(text)
                .into_vec()
                .map_err(|_| KeyError::Base58(text.to_string()))?;
            if raw.len() != 37 || raw[0] != 0x80 {
                return Err(KeyError::Format(text.to_string()));
            }
            if double_sha_check(&raw[..33]) != raw[33..] {
                return Err(KeyError::Checksum(text.to_string()));
            }
            raw[1..33].to_vec()
        };
        let key = SigningKey::from_slice(&secret).map_err(|_| KeyError::Curve(text.to_string()))?;
        Ok(PrivateKey { key })
    }

    /// A key from its 32-byte secret (e.g. derived from a seed for test accounts).
    pub fn from_bytes(secret: &[u8; 32]) -> Result<PrivateKey, KeyError> {
        let key = SigningKey::from_slice(secret)
            .map_err(|_| KeyError::Curve("32-byte secret out of range".into()))?;
        Ok(PrivateKey { key })
    }

    /// The legacy WIF text form (`5...`), as cleos and wallets import it.
    pub fn to_wif(&self) -> String {
        let mut raw = vec![0x80];
        raw.extend_from_slice(&self.key.to_bytes());
        let check = double_sha_check(&raw);
        raw.extend_from_slice(&check);
        bs58::encode(raw).into_string()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_verifying_key(self.key.verifying_key())
    }

    /// Signs a 32-byte digest, deterministically (RFC 6979, with a counter as extra data
    /// until the signature is canonical per EOSIO's `is_canonical` rule).
    pub fn sign(&self, digest: &[u8; 32]) -> Result<Signature, KeyError> {
        let z = FieldBytes::from(*digest);
        let scalar = self.key.as_nonzero_scalar();
        for attempt in 0..MAX_SIGN_ATTEMPTS {
            let extra = if attempt == 0 {
                Vec::new()
            } else {
                attempt.to_le_bytes().to_vec()
            };
            let Ok((sig, recid)) = scalar.try_sign_prehashed_rfc6979::<sha2::Sha256>(&z, &extra)
            else {
                continue;
            };
            let Some(recid) = recid else { continue };
            let mut data = [0u8; 65];
            data[0] = 27 + 4 + recid.to_byte();
            data[1..].copy_from_slice(&sig.to_bytes());
            let signature = Signature::from_compact(data);
            if signature.is_canonical() {
                return Ok(signature);
            }
        }
        Err(KeyError::NonCanonical)
    }

    /// Signs a 32-byte digest for off-chain messages (peer requests): deterministic and
    /// low-S, recoverable and verifiable like [`sign`](Self::sign), but without the retries
    /// EOSIO's stricter `is_canonical` rule needs (about four tries on average), since
    /// nodeos never sees these signatures.
    pub fn sign_offchain(&self, digest: &[u8; 32]) -> Result<Signature, KeyError> {
        let z = FieldBytes::from(*digest);
        let (sig, recid) = self
            .key
            .as_nonzero_scalar()
            .try_sign_prehashed_rfc6979::<sha2::Sha256>(&z, &[])
            .map_err(|_| KeyError::NonCanonical)?;
        let recid = recid.ok_or(KeyError::NonCanonical)?;
        let mut data = [0u8; 65];
        data[0] = 27 + 4 + recid.to_byte();
        data[1..].copy_from_slice(&sig.to_bytes());
        Ok(Signature::from_compact(data))
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.public_key())
    }
}

impl FromStr for PrivateKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<PrivateKey, KeyError> {
        PrivateKey::from_wif(s)
    }
}
