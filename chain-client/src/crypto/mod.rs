//! K1 (secp256k1) keys and signatures in EOSIO's text and binary formats.

mod checksum;
mod private_key;
mod public_key;
mod signature;

pub use private_key::PrivateKey;
pub use public_key::PublicKey;
pub use signature::Signature;

/// Why a key or signature string is not usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Unknown prefix (expected `EOS`, `PUB_K1_`, `PVT_K1_`, `SIG_K1_` or a legacy WIF).
    #[error("unsupported key format `{0}`")]
    Format(String),
    /// Not valid base58.
    #[error("invalid base58 in `{0}`")]
    Base58(String),
    /// Wrong decoded length.
    #[error("wrong length for `{0}`")]
    Length(String),
    /// The embedded checksum does not match.
    #[error("checksum mismatch in `{0}`")]
    Checksum(String),
    /// The bytes are not a valid secp256k1 point / scalar.
    #[error("not a valid secp256k1 key: `{0}`")]
    Curve(String),
    /// Signing failed to find a canonical signature (practically impossible).
    #[error("could not produce a canonical signature")]
    NonCanonical,
}

#[cfg(test)]
mod tests;
