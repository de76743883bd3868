//! EOSIO account/action/table names: 12 (or 13) characters of `.1-5a-z` packed in a `u64`.

use alloc::string::String;
use core::fmt;

/// A packed EOSIO name; `Name(0)` is the empty name (also "same payer" for row updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Name(pub u64);

/// Maps one name character to its 5-bit code; `None` for characters names cannot hold.
const fn char_code(c: u8) -> Option<u64> {
    match c {
        b'a'..=b'z' => Some((c - b'a') as u64 + 6),
        b'1'..=b'5' => Some((c - b'1') as u64 + 1),
        b'.' => Some(0),
        _ => None,
    }
}

impl Name {
    /// Packs a name at compile time (for action and table names); `None` if it is not a valid name.
    pub const fn parse(s: &str) -> Option<Name> {
        let bytes = s.as_bytes();
        if bytes.len() > 13 {
            return None;
        }
        let mut value: u64 = 0;
        let mut i = 0;
        while i < bytes.len() {
            let code = match char_code(bytes[i]) {
                Some(code) => code,
                None => return None,
            };
            if i < 12 {
                value |= (code & 0x1f) << (64 - 5 * (i + 1));
            } else {
                if code > 0x0f {
                    return None;
                }
                value |= code & 0x0f;
            }
            i += 1;
        }
        Some(Name(value))
    }

    /// Packs a name known to be valid at compile time; a bad literal fails the build.
    pub const fn new(s: &str) -> Name {
        match Name::parse(s) {
            Some(name) => name,
            None => panic!("invalid EOSIO name literal"),
        }
    }

    /// The name as text, trailing dots removed (as `eosio::name::to_string`).
    pub fn to_text(self) -> String {
        const CHARMAP: &[u8; 32] = b".12345abcdefghijklmnopqrstuvwxyz";
        let mut out = [b'.'; 13];
        let mut tmp = self.0;
        for i in 0..13 {
            let (mask, shift) = if i == 0 { (0x0f, 4) } else { (0x1f, 5) };
            out[12 - i] = CHARMAP[(tmp & mask) as usize];
            tmp >>= shift;
        }
        let mut len = 13;
        while len > 0 && out[len - 1] == b'.' {
            len -= 1;
        }
        out[..len].iter().map(|&b| b as char).collect()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip() {
        // `eosio` and `eosio.token` packed values as nodeos reports them.
        assert_eq!(Name::new("eosio").0, 6_138_663_577_826_885_632);
        assert_eq!(Name::new("eosio.token").0, 6_138_663_591_592_764_928);
        for s in [
            "",
            "a",
            "alice",
            "bittensor",
            "node1.x",
            "zzzzzzzzzzzzj",
            "global",
        ] {
            assert_eq!(Name::new(s).to_text(), s);
        }
    }

    #[test]
    fn invalid_names_are_refused() {
        assert_eq!(Name::parse("Alice"), None);
        assert_eq!(Name::parse("abc6"), None);
        assert_eq!(Name::parse("aaaaaaaaaaaaaa"), None);
        assert_eq!(Name::parse("zzzzzzzzzzzzz"), None);
    }
}
