//! Token quantities: a signed amount in base units and its symbol, as `eosio::asset`.

use crate::error::{check, Result};
use crate::symbol::Symbol;

/// Largest amount an asset may hold: `2^62 - 1`, as `eosio::asset::max_amount`.
pub const MAX_AMOUNT: i64 = (1 << 62) - 1;

/// An amount of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Asset {
    /// Amount in base units (`1.0000 BIT` is 10 000).
    pub amount: i64,
    /// Which token, with its precision.
    pub symbol: Symbol,
}

impl Asset {
    /// `eosio::asset::is_valid`: amount within `[-MAX_AMOUNT, MAX_AMOUNT]` and a valid symbol.
    pub fn is_valid(&self) -> bool {
        (-MAX_AMOUNT..=MAX_AMOUNT).contains(&self.amount) && self.symbol.is_valid()
    }

    /// `asset += asset` with the CDT's checks (same symbol, stays within range).
    pub fn checked_add(self, other: Asset) -> Result<Asset> {
        check(
            self.symbol == other.symbol,
            "attempt to add asset with different symbol",
        )?;
        let amount = self.amount + other.amount; // both within 2^62: cannot overflow i64
        check(-MAX_AMOUNT <= amount, "addition underflow")?;
        check(amount <= MAX_AMOUNT, "addition overflow")?;
        Ok(Asset { amount, ..self })
    }

    /// `asset -= asset` with the CDT's checks.
    pub fn checked_sub(self, other: Asset) -> Result<Asset> {
        check(
            self.symbol == other.symbol,
            "attempt to subtract asset with different symbol",
        )?;
        let amount = self.amount - other.amount;
        check(-MAX_AMOUNT <= amount, "subtraction underflow")?;
        check(amount <= MAX_AMOUNT, "subtraction overflow")?;
        Ok(Asset { amount, ..self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIT: Symbol = Symbol::new(4, "BIT");

    #[test]
    fn range_and_symbol_decide_validity() {
        assert!(Asset {
            amount: MAX_AMOUNT,
            symbol: BIT
        }
        .is_valid());
        assert!(!Asset {
            amount: MAX_AMOUNT + 1,
            symbol: BIT
        }
        .is_valid());
        assert!(!Asset {
            amount: 1,
            symbol: Symbol::new(4, "bit")
        }
        .is_valid());
    }

    #[test]
    fn arithmetic_checks_symbol_and_range() {
        let a = Asset {
            amount: 5,
            symbol: BIT,
        };
        assert_eq!(a.checked_add(a).unwrap().amount, 10);
        assert_eq!(a.checked_sub(a).unwrap().amount, 0);
        let other = Asset {
            amount: 5,
            symbol: Symbol::new(3, "BIT"),
        };
        assert!(a.checked_add(other).is_err());
        let max = Asset {
            amount: MAX_AMOUNT,
            symbol: BIT,
        };
        assert_eq!(max.checked_add(a).unwrap_err().message, "addition overflow");
    }
}
