//! Token quantities (`10.0000 BIT`): a signed amount in base units and its symbol, as
//! `eosio::asset`, with the CDT's range rules and the text form nodeos prints.

use alloc::string::{String, ToString};
use core::fmt;
use core::str::FromStr;

use crate::codec::{Pack, Reader, Unpack};
use crate::error::{
    Error, ADD_OVERFLOW, ADD_SYMBOLS, ADD_UNDERFLOW, SUB_OVERFLOW, SUB_SYMBOLS, SUB_UNDERFLOW,
};
use crate::symbol::Symbol;

/// Largest amount an asset may hold: `2^62 - 1`, as `eosio::asset::max_amount`.
pub const MAX_AMOUNT: i64 = (1 << 62) - 1;

/// An amount of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Asset {
    /// Amount in base units (`1.0000 BIT` is 10 000).
    pub amount: i64,
    /// Which token, with its precision.
    pub symbol: Symbol,
}

/// Why a symbol or asset text is malformed.
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

impl Asset {
    /// An amount in base units of `symbol`.
    pub const fn new(amount: i64, symbol: Symbol) -> Asset {
        Asset { amount, symbol }
    }

    /// `eosio::asset::is_valid`: amount within `[-MAX_AMOUNT, MAX_AMOUNT]` and a valid symbol.
    pub fn is_valid(&self) -> bool {
        (-MAX_AMOUNT..=MAX_AMOUNT).contains(&self.amount) && self.symbol.is_valid()
    }

    /// `asset += asset` with the CDT's checks (same symbol, stays within range).
    pub fn checked_add(self, other: Asset) -> Result<Asset, Error> {
        if self.symbol != other.symbol {
            return Err(ADD_SYMBOLS);
        }
        let amount = self.amount + other.amount; // both within 2^62: cannot overflow i64
        in_range(amount, ADD_UNDERFLOW, ADD_OVERFLOW)?;
        Ok(Asset { amount, ..self })
    }

    /// `asset -= asset` with the CDT's checks.
    pub fn checked_sub(self, other: Asset) -> Result<Asset, Error> {
        if self.symbol != other.symbol {
            return Err(SUB_SYMBOLS);
        }
        let amount = self.amount - other.amount;
        in_range(amount, SUB_UNDERFLOW, SUB_OVERFLOW)?;
        Ok(Asset { amount, ..self })
    }
}

/// The CDT's range check after a sum: `below` under `-MAX_AMOUNT`, `above` over `MAX_AMOUNT`.
fn in_range(amount: i64, below: Error, above: Error) -> Result<(), Error> {
    if amount < -MAX_AMOUNT {
        Err(below)
    } else if amount > MAX_AMOUNT {
        Err(above)
    } else {
        Ok(())
    }
}

impl fmt::Display for Asset {
    /// `10.0000 BIT`: the amount with `precision` decimals, then the code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        let p = self.symbol.precision();
        let code = self.symbol.code();
        if p == 0 {
            return write!(f, "{sign}{abs} {code}");
        }
        // Past 19 decimals every digit of a u64 is fractional.
        let (whole, frac) = match 10u64.checked_pow(u32::from(p)) {
            Some(unit) => (abs / unit, abs % unit),
            None => (0, abs),
        };
        write!(
            f,
            "{sign}{whole}.{frac:0width$} {code}",
            width = usize::from(p)
        )
    }
}

impl FromStr for Asset {
    type Err = AssetError;

    /// Parses `10.0000 BIT`: the number of decimals written is the precision.
    fn from_str(s: &str) -> Result<Asset, AssetError> {
        let malformed = || AssetError::Malformed(s.to_string());
        let (num, code) = s.trim().split_once(' ').ok_or_else(malformed)?;
        let (neg, digits) = match num.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, num),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
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
        // `Symbol::new` holds the precision to 18, so the unit fits an i64.
        let unit = 10i64.pow(u32::from(precision));
        let mut amount: i64 = int.parse().map_err(|_| out_of_range())?;
        amount = amount.checked_mul(unit).ok_or_else(out_of_range)?;
        if !frac.is_empty() {
            let f: i64 = frac.parse().map_err(|_| out_of_range())?;
            amount = amount.checked_add(f).ok_or_else(out_of_range)?;
        }
        Ok(Asset::new(if neg { -amount } else { amount }, symbol))
    }
}

impl Pack for Asset {
    #[inline]
    fn pack(&self, out: &mut alloc::vec::Vec<u8>) {
        self.amount.pack(out);
        self.symbol.pack(out);
    }
}

impl Unpack for Asset {
    #[inline]
    fn unpack(reader: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(Asset {
            amount: i64::unpack(reader)?,
            symbol: Symbol::unpack(reader)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::from_bytes;
    use alloc::vec;
    use proptest::prelude::*;

    const BIT: Symbol = Symbol::constant(4, "BIT");

    #[test]
    fn range_and_symbol_decide_validity() {
        assert!(Asset::new(MAX_AMOUNT, BIT).is_valid());
        assert!(Asset::new(-MAX_AMOUNT, BIT).is_valid());
        assert!(!Asset::new(MAX_AMOUNT + 1, BIT).is_valid());
        assert!(!Asset::new(-MAX_AMOUNT - 1, BIT).is_valid());
        assert!(!Asset::new(1, Symbol::unchecked(4, "bit")).is_valid());
    }

    #[test]
    fn arithmetic_checks_symbol_and_range() {
        let a = Asset::new(5, BIT);
        assert_eq!(a.checked_add(a).unwrap().amount, 10);
        assert_eq!(a.checked_sub(a).unwrap().amount, 0);
        let other = Asset::new(5, Symbol::constant(3, "BIT"));
        let add = a.checked_add(other).unwrap_err().message;
        assert_eq!(add, "attempt to add asset with different symbol");
        let sub = a.checked_sub(other).unwrap_err().message;
        assert_eq!(sub, "attempt to subtract asset with different symbol");
        let (max, min, minus) = (
            Asset::new(MAX_AMOUNT, BIT),
            Asset::new(-MAX_AMOUNT, BIT),
            Asset::new(-5, BIT),
        );
        assert_eq!(max.checked_add(a).unwrap_err().message, "addition overflow");
        assert_eq!(
            min.checked_add(minus).unwrap_err().message,
            "addition underflow"
        );
        assert_eq!(
            min.checked_sub(a).unwrap_err().message,
            "subtraction underflow"
        );
        assert_eq!(
            max.checked_sub(minus).unwrap_err().message,
            "subtraction overflow"
        );
    }

    #[test]
    fn binary_layout() {
        let asset = Asset::new(10_000, BIT);
        let bytes = vec![
            0x10, 0x27, 0, 0, 0, 0, 0, 0, 4, b'B', b'I', b'T', 0, 0, 0, 0,
        ];
        assert_eq!(asset.packed(), bytes);
        assert_eq!(from_bytes::<Asset>(&bytes), Ok(asset));
    }

    #[test]
    fn parse_and_display() {
        let a: Asset = "10.0000 BIT".parse().unwrap();
        assert_eq!(a, Asset::new(100_000, BIT));
        assert_eq!(a.to_string(), "10.0000 BIT");
        assert_eq!("-0.0001 BIT".parse::<Asset>().unwrap().amount, -1);
        assert_eq!("5 XYZ".parse::<Asset>().unwrap().to_string(), "5 XYZ");
        // A decoded symbol may claim any precision; showing it never panics.
        let wide = Asset::new(-12, Symbol::unchecked(20, "BIT"));
        assert_eq!(wide.to_string(), "-0.00000000000000000012 BIT");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "10",
            "10.0000",
            "1.0.0 BIT",
            "1. BIT",
            "x BIT",
            "1.0 bit",
            "1.0 TOOLONGX",
            "1.0000000000000000000 BIT",
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
        fn text_round_trips(amount in -1_000_000_000_000i64..1_000_000_000_000, p in 0u8..9) {
            let a = Asset::new(amount, Symbol::new(p, "BIT").unwrap());
            prop_assert_eq!(a.to_string().parse::<Asset>().unwrap(), a);
        }

        #[test]
        fn binary_round_trips(amount in any::<i64>(), raw in any::<u64>()) {
            let a = Asset::new(amount, Symbol(raw));
            prop_assert_eq!(from_bytes::<Asset>(&a.packed()), Ok(a));
        }
    }
}
