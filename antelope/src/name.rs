//! Account, action, table and permission names: up to 13 characters of `.1-5a-z` packed
//! base-32 into a `u64` (12 characters of 5 bits, a 13th of 4 bits).

use alloc::string::{String, ToString};
use core::fmt;
use core::str::FromStr;

/// The name alphabet in value order (`.` is 0).
const CHARMAP: &[u8; 32] = b".12345abcdefghijklmnopqrstuvwxyz";

/// A packed name; `Name(0)` is the empty name (also "same payer" for row updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Name(pub u64);

/// Why a string is not a valid name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// More than 13 characters.
    #[error("name `{0}` is longer than 13 characters")]
    TooLong(String),
    /// A character outside `.12345a-z`.
    #[error("name `{name}` has invalid character `{ch}` (allowed: . 1-5 a-z)")]
    InvalidChar {
        /// The whole text.
        name: String,
        /// The first character refused.
        ch: char,
    },
    /// The 13th character must be one of `.12345a-j`.
    #[error("name `{0}`: the 13th character must be one of .12345abcdefghij")]
    BadThirteenth(String),
    /// Trailing dots do not round-trip, so nodeos refuses them.
    #[error("name `{0}` is not normalized (trailing `.`)")]
    NotNormalized(String),
}

/// What is wrong with a name's bytes: [`NameError`] without the text, so it is `const`.
enum Fault {
    TooLong,
    InvalidChar(usize),
    BadThirteenth,
    NotNormalized,
}

/// Maps one name character to its 5-bit value; `None` for characters names cannot hold.
const fn char_value(c: u8) -> Option<u64> {
    match c {
        b'.' => Some(0),
        b'1'..=b'5' => Some((c - b'1') as u64 + 1),
        b'a'..=b'z' => Some((c - b'a') as u64 + 6),
        _ => None,
    }
}

/// The one encoding rule: packs `bytes` or says which rule they break (a bad character
/// first, then the length, the 13th character and trailing dots).
const fn encode(bytes: &[u8]) -> Result<u64, Fault> {
    let mut value = 0u64;
    let mut thirteenth_fits = true;
    let mut i = 0;
    while i < bytes.len() {
        let v = match char_value(bytes[i]) {
            Some(v) => v,
            None => return Err(Fault::InvalidChar(i)),
        };
        if i < 12 {
            value |= v << (59 - 5 * i);
        } else if i == 12 {
            thirteenth_fits = v <= 0x0f;
            value |= v & 0x0f;
        }
        i += 1;
    }
    if bytes.len() > 13 {
        Err(Fault::TooLong)
    } else if !thirteenth_fits {
        Err(Fault::BadThirteenth)
    } else if !bytes.is_empty() && bytes[bytes.len() - 1] == b'.' {
        Err(Fault::NotNormalized)
    } else {
        Ok(value)
    }
}

impl Name {
    /// Builds a name from its raw encoding (a table primary key, a scope).
    pub const fn from_u64(value: u64) -> Name {
        Name(value)
    }

    /// The raw `u64` encoding, as used for primary keys and scopes.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// Packs `text` in a `const` context; `None` if it is not a valid, normalized name.
    pub const fn parse(text: &str) -> Option<Name> {
        match encode(text.as_bytes()) {
            Ok(value) => Some(Name(value)),
            Err(_) => None,
        }
    }

    /// Packs a literal; use it in `const` items, where an invalid literal fails the build.
    pub const fn new(text: &str) -> Name {
        match Name::parse(text) {
            Some(name) => name,
            None => panic!("invalid EOSIO name literal"),
        }
    }

    /// The same as [`Name::new`], under the name the chain client's `const` items use.
    pub const fn constant(text: &str) -> Name {
        Name::new(text)
    }
}

impl FromStr for Name {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Name, NameError> {
        encode(s.as_bytes()).map(Name).map_err(|fault| match fault {
            Fault::TooLong => NameError::TooLong(s.to_string()),
            Fault::InvalidChar(at) => NameError::InvalidChar {
                name: s.to_string(),
                // Every byte before `at` is ASCII, so `at` starts a character.
                ch: s
                    .get(at..)
                    .and_then(|t| t.chars().next())
                    .unwrap_or('\u{fffd}'),
            },
            Fault::BadThirteenth => NameError::BadThirteenth(s.to_string()),
            Fault::NotNormalized => NameError::NotNormalized(s.to_string()),
        })
    }
}

impl fmt::Display for Name {
    /// The text, trailing dots removed (as `eosio::name::to_string`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [b'.'; 13];
        let mut rest = self.0;
        for i in 0..13 {
            let (mask, shift) = if i == 0 { (0x0f, 4) } else { (0x1f, 5) };
            out[12 - i] = CHARMAP[(rest & mask) as usize];
            rest >>= shift;
        }
        let len = out.iter().rposition(|&c| c != b'.').map_or(0, |p| p + 1);
        // The alphabet is ASCII, so every byte is a character.
        for &c in &out[..len] {
            fmt::Write::write_char(f, char::from(c))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Pack;
    use alloc::string::ToString;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        // Values from the EOSIO reference and as nodeos reports them.
        assert_eq!(Name::new("eosio").0, 0x5530_EA00_0000_0000);
        assert_eq!(Name::new("eosio").0, 6_138_663_577_826_885_632);
        assert_eq!(Name::new("eosio.token").0, 0x5530_EA03_3482_A600);
        assert_eq!(Name::new("active").0, 0x3232_EDA8_0000_0000);
        assert_eq!(Name::new("").0, 0);
        const TOKEN: Name = Name::constant("eosio.token");
        assert_eq!(Ok(TOKEN), "eosio.token".parse());
        assert_eq!(Name::parse("eosio.token"), Some(TOKEN));
        assert_eq!(Name::from_u64(TOKEN.as_u64()), TOKEN);
    }

    #[test]
    fn text_round_trips() {
        for s in [
            "",
            "a",
            "alice",
            "bittensor",
            "node1.x",
            "zzzzzzzzzzzzj",
            "global",
        ] {
            assert_eq!(s.parse::<Name>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects_bad_names() {
        assert!(matches!(
            "Alice".parse::<Name>(),
            Err(NameError::InvalidChar { ch: 'A', .. })
        ));
        assert!(matches!(
            "a6".parse::<Name>(),
            Err(NameError::InvalidChar { ch: '6', .. })
        ));
        assert!(matches!(
            "aé".parse::<Name>(),
            Err(NameError::InvalidChar { ch: 'é', .. })
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
        for bad in ["Alice", "abc6", "aaaaaaaaaaaaaa", "zzzzzzzzzzzzz", "a."] {
            assert_eq!(Name::parse(bad), None, "{bad} accepted");
        }
    }

    #[test]
    fn packs_as_its_u64() {
        let name = Name::new("alice");
        assert_eq!(name.packed(), name.0.to_le_bytes());
        assert_eq!(crate::codec::from_bytes(&name.0.to_le_bytes()), Ok(name));
    }

    proptest! {
        #[test]
        fn display_round_trips(s in "[a-z1-5][a-z1-5.]{0,10}[a-z1-5]") {
            let n: Name = s.parse().unwrap();
            prop_assert_eq!(n.to_string(), s);
        }

        #[test]
        fn any_u64_round_trips_through_text(v in any::<u64>()) {
            // Names whose low bits are dots lose nothing: the text parses back to the value.
            let text = Name::from_u64(v).to_string();
            prop_assert_eq!(text.parse::<Name>().unwrap().as_u64(), v);
        }
    }
}
