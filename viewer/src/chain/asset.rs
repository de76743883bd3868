//! Token amounts as nodeos prints them (`"12.3456 BIT"`), read into base units so sums are exact.

use std::fmt;

/// A token amount in base units with its symbol, as in `eosio.token`'s `asset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Amount in base units (`1.0000 BIT` = 10 000).
    pub amount: i64,
    /// Digits after the decimal point.
    pub precision: u8,
    /// The symbol code, e.g. `BIT`.
    pub code: String,
}

impl Asset {
    /// Parses `"<amount> <CODE>"`; the number of decimals gives the precision.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("bad asset {text:?}: {why}");
        let (number, code) = text
            .trim()
            .split_once(' ')
            .ok_or_else(|| bad("expected `<amount> <SYMBOL>`"))?;
        let code = code.trim();
        if code.is_empty() || code.len() > 7 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad("symbol must be 1 to 7 capital letters"));
        }
        let (negative, digits) = match number.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, number),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(bad("amount must be decimal digits"));
        }
        let precision = u8::try_from(fraction.len())
            .ok()
            .filter(|p| *p <= 18)
            .ok_or_else(|| bad("too many decimals"))?;
        let joined = format!("{whole}{fraction}");
        let magnitude: i64 = joined.parse().map_err(|_| bad("amount out of range"))?;
        Ok(Self {
            amount: if negative { -magnitude } else { magnitude },
            precision,
            code: code.to_string(),
        })
    }

    /// The symbol code of a `symbol` as printed in tables (`"4,BIT"`), or of a bare code.
    pub fn symbol_code(symbol: &str) -> &str {
        symbol
            .split_once(',')
            .map_or(symbol, |(_, code)| code)
            .trim()
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10i128.pow(self.precision as u32);
        let sign = if self.amount < 0 { "-" } else { "" };
        let magnitude = (self.amount as i128).abs();
        if self.precision == 0 {
            write!(f, "{sign}{magnitude} {}", self.code)
        } else {
            write!(
                f,
                "{sign}{}.{:0width$} {}",
                magnitude / scale,
                magnitude % scale,
                self.code,
                width = self.precision as usize
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_back() {
        for text in [
            "1.0000 BIT",
            "0.0001 BIT",
            "-3.5000 BIT",
            "42 EOS",
            "100000000.0000 BIT",
        ] {
            let asset = Asset::parse(text).unwrap();
            assert_eq!(asset.to_string(), text);
        }
        let a = Asset::parse("12.3456 BIT").unwrap();
        assert_eq!(
            (a.amount, a.precision, a.code.as_str()),
            (123_456, 4, "BIT")
        );
    }

    #[test]
    fn rejects_malformed_amounts_with_a_reason() {
        for text in [
            "",
            "1.0000",
            "1.0000 bit",
            "x.00 BIT",
            "1..0 BIT",
            "1.0 TOOLONGSYM",
        ] {
            let err = Asset::parse(text).unwrap_err();
            assert!(err.contains("bad asset"), "{text}: {err}");
        }
        assert!(Asset::parse("99999999999999999999.0000 BIT").is_err());
    }

    #[test]
    fn symbol_code_strips_precision() {
        assert_eq!(Asset::symbol_code("4,BIT"), "BIT");
        assert_eq!(Asset::symbol_code("BIT"), "BIT");
    }
}
