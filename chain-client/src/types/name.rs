//! EOSIO account/action names: up to 13 characters packed base-32 into a `u64`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The EOSIO name alphabet, in value order (`.` = 0).
const CHARMAP: &[u8; 32] = b".12345abcdefghijklmnopqrstuvwxyz";

/// An EOSIO name (account, action, table, permission), stored as its `u64` encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Name(u64);

/// Why a string is not a valid EOSIO name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// More than 13 characters.
    #[error("name `{0}` is longer than 13 characters")]
    TooLong(String),
    /// A character outside `.12345a-z`.
    #[error("name `{name}` has invalid character `{ch}` (allowed: . 1-5 a-z)")]
    InvalidChar { name: String, ch: char },
    /// The 13th character must be one of `.12345a-j`.
    #[error("name `{0}`: the 13th character must be one of .12345abcdefghij")]
    BadThirteenth(String),
    /// Trailing dots do not round-trip, so EOSIO rejects them.
    #[error("name `{0}` is not normalized (trailing `.`)")]
    NotNormalized(String),
}

impl Name {
    /// Builds a name from its raw encoding (e.g. a table primary key).
    pub const fn from_u64(value: u64) -> Name {
        Name(value)
    }

    /// Encodes a literal at compile time; use it only in `const` items, where an invalid
    /// literal is a compile error rather than a run-time panic.
    pub const fn constant(text: &str) -> Name {
        let bytes = text.as_bytes();
        assert!(bytes.len() <= 13, "name longer than 13 characters");
        let mut value = 0u64;
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            let v = match c {
                b'.' => 0,
                b'1'..=b'5' => (c - b'1') as u64 + 1,
                b'a'..=b'z' => (c - b'a') as u64 + 6,
                _ => panic!("invalid name character"),
            };
            if i < 12 {
                value |= (v & 0x1f) << (64 - 5 * (i + 1));
            } else {
                assert!(v <= 0x0f, "invalid 13th name character");
                value |= v;
            }
            i += 1;
        }
        Name(value)
    }

    /// The raw `u64` encoding, as used for primary keys and scopes.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

fn char_value(c: u8) -> Option<u64> {
    match c {
        b'.' => Some(0),
        b'1'..=b'5' => Some(u64::from(c - b'1') + 1),
        b'a'..=b'z' => Some(u64::from(c - b'a') + 6),
        _ => None,
    }
}

impl FromStr for Name {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Name, NameError> {
        if s.chars().count() > 13 {
            return Err(NameError::TooLong(s.to_string()));
        }
        let mut value = 0u64;
        for (i, ch) in s.chars().enumerate() {
            let v = u8::try_from(ch).ok().and_then(char_value).ok_or_else(|| {
                NameError::InvalidChar {
                    name: s.to_string(),
                    ch,
                }
            })?;
            if i < 12 {
                value |= (v & 0x1f) << (64 - 5 * (i + 1));
            } else {
                if v > 0x0f {
                    return Err(NameError::BadThirteenth(s.to_string()));
                }
                value |= v;
            }
        }
        if s.ends_with('.') {
            return Err(NameError::NotNormalized(s.to_string()));
        }
        Ok(Name(value))
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [b'.'; 13];
        let mut tmp = self.0;
        for i in 0..13 {
            let mask = if i == 0 { 0x0f } else { 0x1f };
            out[12 - i] = CHARMAP[(tmp & mask) as usize];
            tmp >>= if i == 0 { 4 } else { 5 };
        }
        let len = out.iter().rposition(|&c| c != b'.').map_or(0, |p| p + 1);
        // The alphabet is ASCII, so every byte is a char.
        for &c in &out[..len] {
            fmt::Write::write_char(f, char::from(c))?;
        }
        Ok(())
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        // Values from the EOSIO reference (N(eosio), N(eosio.token), N(active)).
        assert_eq!(
            Name::from_str("eosio").unwrap().as_u64(),
            0x5530_EA00_0000_0000
        );
        assert_eq!(
            Name::from_str("eosio.token").unwrap().as_u64(),
            0x5530_EA03_3482_A600
        );
        assert_eq!(
            Name::from_str("active").unwrap().as_u64(),
            0x3232_EDA8_0000_0000
        );
        assert_eq!(Name::from_str("").unwrap().as_u64(), 0);
        const TOKEN: Name = Name::constant("eosio.token");
        assert_eq!(TOKEN, Name::from_str("eosio.token").unwrap());
    }

    #[test]
    fn rejects_bad_names() {
        assert!(matches!(
            "Alice".parse::<Name>(),
            Err(NameError::InvalidChar { .. })
        ));
        assert!(matches!(
            "a6".parse::<Name>(),
            Err(NameError::InvalidChar { .. })
        ));
        assert!(matches!(
            "abcdefghijklmn".parse::<Name>(),
            Err(NameError::TooLong(_))
        ));
        assert!(matches!(
            "aaaaaaaaaaaaz".parse::<Name>(),
            Err(NameError::BadThirteenth(_))
        ));
        assert!(matches!(
            "alice.".parse::<Name>(),
            Err(NameError::NotNormalized(_))
        ));
    }

    proptest! {
        #[test]
        fn display_round_trips(s in "[a-z1-5][a-z1-5.]{0,10}[a-z1-5]") {
            let n: Name = s.parse().unwrap();
            prop_assert_eq!(n.to_string(), s);
        }

        #[test]
        fn any_u64_round_trips_through_text(v in any::<u64>()) {
            let text = Name::from_u64(v).to_string();
            // Names whose low bits are dots lose nothing: the text parses back to the value.
            prop_assert_eq!(text.parse::<Name>().unwrap().as_u64(), v);
        }
    }
}
