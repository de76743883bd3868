//! The checksums embedded in EOSIO key strings.

use ripemd::Ripemd160;
use sha2::{Digest, Sha256};

use super::KeyError;

/// First 4 bytes of `ripemd160(data || suffix)` (suffix `K1` for the `*_K1_` formats,
/// empty for legacy `EOS...` public keys).
pub(crate) fn ripemd_check(data: &[u8], suffix: &[u8]) -> [u8; 4] {
    let mut h = Ripemd160::new();
    h.update(data);
    h.update(suffix);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// First 4 bytes of `sha256(sha256(data))`, the legacy WIF checksum.
pub(crate) fn double_sha_check(data: &[u8]) -> [u8; 4] {
    let d = Sha256::digest(Sha256::digest(data));
    [d[0], d[1], d[2], d[3]]
}

/// Base58-encodes `payload || ripemd_check(payload, suffix)` after `prefix`.
pub(crate) fn encode_ripemd(prefix: &str, payload: &[u8], suffix: &[u8]) -> String {
    let mut buf = payload.to_vec();
    buf.extend_from_slice(&ripemd_check(payload, suffix));
    format!("{prefix}{}", bs58::encode(buf).into_string())
}

/// Decodes `base58(payload || ripemd_check)` of a payload of exactly `len` bytes.
pub(crate) fn decode_ripemd(
    text: &str,
    body: &str,
    len: usize,
    suffix: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let raw = bs58::decode(body)
        .into_vec()
        .map_err(|_| KeyError::Base58(text.to_string()))?;
    if raw.len() != len + 4 {
        return Err(KeyError::Length(text.to_string()));
    }
    let (payload, check) = raw.split_at(len);
    if ripemd_check(payload, suffix) != check {
        return Err(KeyError::Checksum(text.to_string()));
    }
    Ok(payload.to_vec())
}
