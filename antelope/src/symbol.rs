//! Token symbols: a precision (low byte) and an up-to-7-letter code (upper bytes), as
//! `eosio::symbol`; the code alone is `eosio::symbol_code`.

use alloc::format;
use alloc::string::ToString;
use core::fmt;
use core::str::FromStr;

use crate::asset::AssetError;

/// Most decimals a symbol may have (`eosio::asset::max_precision`): `10^18` fits an `i64`.
pub const MAX_PRECISION: u8 = 18;

/// The code part of a symbol (e.g. `BIT`): the scope of `stat` rows and the primary key of
/// `accounts` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SymbolCode(pub u64);

/// Packs code letters as `eosio::symbol_code` does (first letter in the low byte); `None`
/// for more than 7 bytes.
const fn pack_code(bytes: &[u8]) -> Option<u64> {
    if bytes.len() > 7 {
        return None;
    }
    let mut value: u64 = 0;
    let mut i = bytes.len();
    while i > 0 {
        i -= 1;
        value = (value << 8) | bytes[i] as u64;
    }
    Some(value)
}

impl SymbolCode {
    /// `eosio::symbol_code::is_valid`: 1 to 7 capital letters, no gap (no letter after a zero byte).
    pub const fn is_valid(self) -> bool {
        let mut sym = self.0;
        let mut i = 0;
        while i < 7 {
            let c = (sym & 0xff) as u8;
            if !c.is_ascii_uppercase() {
                return false;
            }
            sym >>= 8;
            if sym & 0xff == 0 {
                while i < 7 {
                    sym >>= 8;
                    if sym & 0xff != 0 {
                        return false;
                    }
                    i += 1;
                }
            }
            i += 1;
        }
        true
    }
}

impl fmt::Display for SymbolCode {
    /// The letters up to the first zero byte (as `eosio::symbol_code::to_string`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0.to_le_bytes().iter().take_while(|&&b| b != 0) {
            fmt::Write::write_char(f, char::from(b))?;
        }
        Ok(())
    }
}

impl PartialEq<str> for SymbolCode {
    /// Whether `text` packs to exactly this code (so `BIT` never equals `BIT\0X`).
    fn eq(&self, text: &str) -> bool {
        pack_code(text.as_bytes()) == Some(self.0)
    }
}

impl PartialEq<&str> for SymbolCode {
    fn eq(&self, text: &&str) -> bool {
        *self == **text
    }
}

/// A full symbol: precision and code, packed as `eosio::symbol` (precision in the low byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Symbol(pub u64);

impl Symbol {
    /// A checked symbol from its precision and code (e.g. `4`, `"BIT"`): the code is 1 to 7
    /// capital letters and the precision at most [`MAX_PRECISION`].
    pub fn new(precision: u8, code: &str) -> Result<Symbol, AssetError> {
        if precision > MAX_PRECISION {
            return Err(AssetError::BadPrecision(format!("{precision},{code}")));
        }
        match pack_code(code.as_bytes()) {
            Some(raw) if SymbolCode(raw).is_valid() => Ok(Symbol((raw << 8) | precision as u64)),
            _ => Err(AssetError::BadCode(code.to_string())),
        }
    }

    /// A symbol literal for `const` items; an invalid literal fails the build.
    pub const fn constant(precision: u8, code: &str) -> Symbol {
        let symbol = Symbol::unchecked(precision, code);
        assert!(
            symbol.is_valid() && precision <= MAX_PRECISION,
            "invalid symbol literal"
        );
        symbol
    }

    /// Packs precision and code without checking them: how tests build the invalid symbols
    /// an attacker may send. Bytes past the 7th are dropped.
    pub const fn unchecked(precision: u8, code: &str) -> Symbol {
        let bytes = code.as_bytes();
        let (head, _) = bytes.split_at(if bytes.len() > 7 { 7 } else { bytes.len() });
        let raw = match pack_code(head) {
            Some(raw) => raw,
            None => 0,
        };
        Symbol((raw << 8) | precision as u64)
    }

    /// The code part (the table key).
    pub const fn code(self) -> SymbolCode {
        SymbolCode(self.0 >> 8)
    }

    /// Number of decimals.
    pub const fn precision(self) -> u8 {
        (self.0 & 0xff) as u8
    }

    /// `eosio::symbol::is_valid`: the code is valid (precision is not checked, as in the CDT).
    pub const fn is_valid(self) -> bool {
        self.code().is_valid()
    }
}

impl fmt::Display for Symbol {
    /// `4,BIT`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.precision(), self.code())
    }
}

impl FromStr for Symbol {
    type Err = AssetError;

    /// Parses `4,BIT`.
    fn from_str(s: &str) -> Result<Symbol, AssetError> {
        let (p, code) = s
            .split_once(',')
            .ok_or_else(|| AssetError::Malformed(s.to_string()))?;
        let precision = p
            .trim()
            .parse::<u8>()
            .map_err(|_| AssetError::BadPrecision(s.to_string()))?;
        Symbol::new(precision, code.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Pack;
    use alloc::string::ToString;

    #[test]
    fn packs_like_the_cdt() {
        // "4,BIT": 'B' = 0x42, 'I' = 0x49, 'T' = 0x54; symbol("4,EOS") == 0x534f4504.
        let bit = Symbol::constant(4, "BIT");
        assert_eq!(bit.0, 0x54_49_42_04);
        assert_eq!(bit.precision(), 4);
        assert_eq!(bit.code().0, 0x54_49_42);
        assert!(bit.is_valid());
        assert_eq!(Symbol::new(4, "EOS").unwrap().0, 0x534f_4504);
        assert_eq!(Symbol::new(4, "BIT"), Ok(bit));
        assert_eq!(bit.packed(), 0x54_49_42_04u64.to_le_bytes());
    }

    #[test]
    fn validity_matches_the_cdt_rules() {
        assert!(Symbol::unchecked(0, "A").is_valid());
        assert!(Symbol::unchecked(4, "ABCDEFG").is_valid());
        assert!(!Symbol::unchecked(4, "").is_valid());
        assert!(!Symbol::unchecked(4, "bit").is_valid());
        assert!(!Symbol::unchecked(4, "B1T").is_valid());
        // A gap: 'A', 0, 'B'.
        assert!(!SymbolCode(0x42_00_41).is_valid());
    }

    #[test]
    fn checked_constructor_refuses_what_the_cdt_refuses() {
        for (precision, code) in [
            (4, ""),
            (4, "bit"),
            (4, "B1T"),
            (4, "TOOLONGX"),
            (4, "A\0B"),
        ] {
            assert!(
                matches!(Symbol::new(precision, code), Err(AssetError::BadCode(_))),
                "{precision},{code} accepted"
            );
        }
        assert!(matches!(
            Symbol::new(19, "BIT"),
            Err(AssetError::BadPrecision(_))
        ));
        assert!(Symbol::new(18, "BIT").is_ok());
    }

    #[test]
    fn text_forms() {
        assert_eq!("4,BIT".parse::<Symbol>().unwrap().to_string(), "4,BIT");
        assert_eq!(" 0 , XYZ ".parse::<Symbol>().unwrap().to_string(), "0,XYZ");
        assert!(matches!(
            "4BIT".parse::<Symbol>(),
            Err(AssetError::Malformed(_))
        ));
        assert!(matches!(
            "x,BIT".parse::<Symbol>(),
            Err(AssetError::BadPrecision(_))
        ));
        let code = Symbol::constant(4, "BIT").code();
        assert_eq!(code.to_string(), "BIT");
        assert_eq!(code, "BIT");
        assert!(code != "BI");
        assert!(code != "BITE");
        // A gap code displays up to the gap but equals only its exact bytes.
        let gap = SymbolCode(0x58_00_54_49_42);
        assert_eq!(gap.to_string(), "BIT");
        assert!(gap != "BIT");
    }
}
