//! Token symbols: a precision (low byte) and an up-to-7-letter code (upper bytes), as `eosio::symbol`.

/// The code part of a symbol (e.g. `BIT`), the primary key of `stat` and `accounts` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SymbolCode(pub u64);

impl SymbolCode {
    /// `eosio::symbol_code::is_valid`: 1 to 7 capital letters, no gap (no letter after a zero byte).
    pub fn is_valid(self) -> bool {
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

/// A full symbol: precision and code, packed as `eosio::symbol` (precision in the low byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Symbol(pub u64);

impl Symbol {
    /// Builds a symbol from its precision and text code (tests and the default configuration).
    pub const fn new(precision: u8, code: &str) -> Symbol {
        let bytes = code.as_bytes();
        let mut value: u64 = 0;
        let mut i = bytes.len();
        while i > 0 {
            i -= 1;
            value = (value << 8) | bytes[i] as u64;
        }
        Symbol((value << 8) | precision as u64)
    }

    /// The code part (the table key).
    pub fn code(self) -> SymbolCode {
        SymbolCode(self.0 >> 8)
    }

    /// Number of decimals.
    pub fn precision(self) -> u8 {
        (self.0 & 0xff) as u8
    }

    /// `eosio::symbol::is_valid`: the code is valid (precision is not checked, as in the CDT).
    pub fn is_valid(self) -> bool {
        self.code().is_valid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_like_the_cdt() {
        // "4,BIT": 'B' = 0x42, 'I' = 0x49, 'T' = 0x54.
        let bit = Symbol::new(4, "BIT");
        assert_eq!(bit.0, 0x54_49_42_04);
        assert_eq!(bit.precision(), 4);
        assert_eq!(bit.code().0, 0x54_49_42);
        assert!(bit.is_valid());
    }

    #[test]
    fn validity_matches_the_cdt_rules() {
        assert!(Symbol::new(0, "A").is_valid());
        assert!(Symbol::new(4, "ABCDEFG").is_valid());
        assert!(!Symbol::new(4, "").is_valid());
        assert!(!Symbol::new(4, "bit").is_valid());
        assert!(!Symbol::new(4, "B1T").is_valid());
        // A gap: 'A', 0, 'B'.
        assert!(!SymbolCode(0x42_00_41).is_valid());
    }
}
