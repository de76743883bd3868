//! Token symbols and amounts (`4,BIT`, `10.0000 BIT`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::pack::Pack;

/// A token symbol: precision plus an upper-case code of 1..=7 letters, packed into a `u64`
/// the way EOSIO does (precision in the low byte, code bytes above).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Symbol {
    precision: u8,
    code: [u8; 7],
    len: u8,
}

/// A quantity of a token: base units and their symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Asset {
    /// Amount in base units (`10.0000 BIT` = 100 000).
    pub amount: i64,
    /// Symbol and precision.
    pub symbol: Symbol,
}

/// Why a symbol or asset string is malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AssetError {
    /// The code is empty, too long or not upper-case A-Z.
    #[error("invalid symbol code `{0}` (1-7 upper-case letters)")]
    BadCode(String),
    /// Precision above 18.
    #[error("invalid precision in `{0}` (0-18)")]
    BadPrecision(String),
    /// The text is not `<amount> <CODE>` or `<precision>,<CODE>`.
    #[error("malformed `{0}`: expected e.g. `10.0000 BIT` or `4,BIT`")]
    Malformed(String),
    /// The amount does not fit an `i64`.
    #[error("amount out of range in `{0}`")]
    OutOfRange(String),
}

impl Symbol {
    /// Builds a symbol from its precision and code (e.g. `4`, `"BIT"`).
    pub fn new(precision: u8, code: &str) -> Result<Symbol, AssetError> {
        if precision > 18 {
            return Err(AssetError::BadPrecision(format!("{precision},{code}")));
        }
        let bytes = code.as_bytes();
        if bytes.is_empty() || bytes.len() > 7 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(AssetError::BadCode(code.to_string()));
        }
        let mut c = [0u8; 7];
        c[..bytes.len()].copy_from_slice(bytes);
        Ok(Symbol {
            precision,
            code: c,
            len: bytes.len() as u8,
        })
    }

    /// Decimal places of amounts in this symbol.
    pub fn precision(&self) -> u8 {
        self.precision
    }

    /// The code, e.g. `BIT`.
    pub fn code(&self) -> &str {
        // Built only from ASCII upper-case letters.
        std::str::from_utf8(&self.code[..usize::from(self.len)]).unwrap_or("")
    }

    /// The code as EOSIO's `symbol_code` `u64`: the scope of the `stat` table and the
    /// primary key of `accounts` rows.
    pub fn code_raw(&self) -> u64 {
        self.code[..usize::from(self.len)]
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    }

    /// The full EOSIO `symbol` encoding (precision in the low byte).
    pub fn raw(&self) -> u64 {
        (self.code_raw() << 8) | u64::from(self.precision)
    }

    /// 10^precision: base units per whole token.
    pub fn unit(&self) -> i64 {
        10i64.pow(u32::from(self.precision))
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.precision, self.code())
    }
}

impl FromStr for Symbol {
    type Err = AssetError;

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

impl Pack for Symbol {
    fn pack(&self, out: &mut Vec<u8>) {
        self.raw().pack(out);
    }
}

impl Asset {
    /// An amount in base units of `symbol`.
    pub fn new(amount: i64, symbol: Symbol) -> Asset {
        Asset { amount, symbol }
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        let p = u32::from(self.symbol.precision);
        if p == 0 {
            return write!(f, "{sign}{abs} {}", self.symbol.code());
        }
        let unit = 10u64.pow(p);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / unit,
            abs % unit,
            self.symbol.code(),
            width = p as usize
        )
    }
}

impl FromStr for Asset {
    type Err = AssetError;

    fn from_str(s: &str) -> Result<Asset, AssetError> {
        let malformed = || AssetError::Malformed(s.to_string());
        let (num, code) = s.trim().split_once(' ').ok_or_else(malformed)?;
        let (neg, digits) = match num.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, num),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !all_digits(int) || !all_digits(frac) {
            return Err(malformed());
        }
        if digits.contains('.') && frac.is_empty() {
            return Err(malformed());
        }
        let precision =
            u8::try_from(frac.len()).map_err(|_| AssetError::BadPrecision(s.to_string()))?;
        let symbol = Symbol::new(precision, code.trim())?;
        let out_of_range = || AssetError::OutOfRange(s.to_string());
        let mut amount: i64 = int.parse().map_err(|_| out_of_range())?;
        amount = amount.checked_mul(symbol.unit()).ok_or_else(out_of_range)?;
        if !frac.is_empty() {
            let f: i64 = frac.parse().map_err(|_| out_of_range())?;
            amount = amount.checked_add(f).ok_or_else(out_of_range)?;
        }
        Ok(Asset::new(if neg { -amount } else { amount }, symbol))
    }
}

impl Pack for Asset {
    fn pack(&self, out: &mut Vec<u8>) {
        self.amount.pack(out);
        self.symbol.pack(out);
    }
}

macro_rules! serde_as_string {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_string!(Symbol);
serde_as_string!(Asset);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn symbol_encoding_matches_eosio() {
        // symbol("4,EOS") == 0x534f4504 in the EOSIO reference.
        let eos = Symbol::new(4, "EOS").unwrap();
        assert_eq!(eos.raw(), 0x0000_534f_4504);
        assert_eq!(eos.code_raw(), 0x0053_4f45);
        assert_eq!("4,BIT".parse::<Symbol>().unwrap().to_string(), "4,BIT");
    }

    #[test]
    fn asset_parse_display_pack() {
        let a: Asset = "10.0000 BIT".parse().unwrap();
        assert_eq!(a.amount, 100_000);
        assert_eq!(a.to_string(), "10.0000 BIT");
        let mut expected = 100_000i64.to_le_bytes().to_vec();
        expected.extend_from_slice(&[4, b'B', b'I', b'T', 0, 0, 0, 0]);
        assert_eq!(a.packed(), expected);
        assert_eq!("-0.0001 BIT".parse::<Asset>().unwrap().amount, -1);
        assert_eq!("5 XYZ".parse::<Asset>().unwrap().to_string(), "5 XYZ");
    }

    #[test]
    fn asset_rejects_garbage() {
        for bad in [
            "",
            "10",
            "10.0000",
            "1.0.0 BIT",
            "1. BIT",
            "x BIT",
            "1.0 bit",
            "1.0 TOOLONGX",
        ] {
            assert!(bad.parse::<Asset>().is_err(), "{bad} accepted");
        }
        assert!(matches!(
            "99999999999999999999.0000 BIT".parse::<Asset>(),
            Err(AssetError::OutOfRange(_))
        ));
    }

    proptest! {
        #[test]
        fn asset_text_round_trips(amount in -1_000_000_000_000i64..1_000_000_000_000, p in 0u8..9) {
            let a = Asset::new(amount, Symbol::new(p, "BIT").unwrap());
            prop_assert_eq!(a.to_string().parse::<Asset>().unwrap(), a);
        }
    }
}
