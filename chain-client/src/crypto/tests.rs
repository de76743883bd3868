//! Key derivation and signing checks against the well-known EOSIO development key.

use proptest::prelude::*;

use super::*;

const DEV_WIF: &str = "5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3";
const DEV_PUB: &str = "EOS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV";

#[test]
fn dev_wif_derives_dev_public_key() {
    let key = PrivateKey::from_wif(DEV_WIF).unwrap();
    assert_eq!(key.public_key().to_string(), DEV_PUB);
    assert_eq!(key.to_wif(), DEV_WIF);
    let parsed: PublicKey = DEV_PUB.parse().unwrap();
    assert_eq!(parsed, key.public_key());
    // The K1 form round-trips to the same key.
    let k1 = parsed.to_k1_string();
    assert!(k1.starts_with("PUB_K1_"));
    assert_eq!(k1.parse::<PublicKey>().unwrap(), parsed);
}

#[test]
fn rejects_corrupted_keys() {
    let mut bad = DEV_PUB.to_string();
    bad.replace_range(10..11, if &bad[10..11] == "a" { "b" } else { "a" });
    assert!(matches!(
        bad.parse::<PublicKey>(),
        Err(KeyError::Checksum(_))
    ));
    assert!(matches!(
        "XYZ123".parse::<PublicKey>(),
        Err(KeyError::Format(_))
    ));
    assert!(matches!(
        "EOS0OIl".parse::<PublicKey>(),
        Err(KeyError::Base58(_))
    ));
    let mut wif = DEV_WIF.to_string();
    wif.replace_range(20..21, if &wif[20..21] == "a" { "b" } else { "a" });
    assert!(PrivateKey::from_wif(&wif).is_err());
    assert!(PrivateKey::from_wif("PVT_K1_abc").is_err());
}

#[test]
fn signature_text_form_has_k1_checksum() {
    let key = PrivateKey::from_wif(DEV_WIF).unwrap();
    let sig = key.sign(&[7u8; 32]).unwrap();
    let text = sig.to_string();
    assert!(text.starts_with("SIG_K1_"));
    let raw = bs58::decode(&text[7..]).into_vec().unwrap();
    assert_eq!(&raw[..65], sig.as_bytes());
    assert_eq!(&raw[65..], &checksum::ripemd_check(sig.as_bytes(), b"K1"));
    // Deterministic: same digest, same signature.
    assert_eq!(key.sign(&[7u8; 32]).unwrap(), sig);
}

#[test]
fn signature_text_round_trips_and_rejects_tampering() {
    let key = PrivateKey::from_wif(DEV_WIF).unwrap();
    let sig = key.sign(&[9u8; 32]).unwrap();
    let text = sig.to_string();
    assert_eq!(text.parse::<Signature>().unwrap(), sig);
    let mut bad = text.clone();
    let i = text.len() - 3;
    bad.replace_range(i..i + 1, if &text[i..i + 1] == "a" { "b" } else { "a" });
    assert!(matches!(
        bad.parse::<Signature>(),
        Err(KeyError::Checksum(_))
    ));
    assert!(matches!(
        "SIG_R1_abc".parse::<Signature>(),
        Err(KeyError::Format(_))
    ));
    assert!("SIG_K1_".parse::<Signature>().is_err());
    // A signature over another digest recovers another key, and does not verify.
    assert_ne!(sig.recover(&[8u8; 32]), Some(key.public_key()));
    assert!(sig.verify(&[9u8; 32], &key.public_key()));
    assert!(!sig.verify(&[8u8; 32], &key.public_key()));
    let other = PrivateKey::from_bytes(&[5u8; 32]).unwrap().public_key();
    assert!(!sig.verify(&[9u8; 32], &other));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn signatures_are_canonical_and_recover_the_signer(digest in any::<[u8; 32]>(), secret in any::<[u8; 32]>()) {
        // Any non-zero scalar below the curve order is a valid secret; skip the rest.
        let Ok(key) = PrivateKey::from_bytes(&secret) else {
            return Ok(());
        };
        prop_assert_eq!(PrivateKey::from_wif(&key.to_wif()).unwrap().public_key(), key.public_key());
        let sig = key.sign(&digest).unwrap();
        prop_assert!(sig.is_canonical());
        prop_assert!(sig.as_bytes()[0] >= 31 && sig.as_bytes()[0] <= 34);
        prop_assert_eq!(sig.recover(&digest), Some(key.public_key()));
        let off = key.sign_offchain(&digest).unwrap();
        prop_assert!(off.verify(&digest, &key.public_key()));
        prop_assert_eq!(off.recover(&digest), Some(key.public_key()));
        prop_assert_eq!(off.to_string().parse::<Signature>().unwrap(), off);
    }
}
