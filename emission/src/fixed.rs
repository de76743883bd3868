//! Fixed-point units: consensus state never holds a float.

/// One whole edge weight: weights are parts per million so a sum check is exact.
pub const WEIGHT_ONE: u32 = 1_000_000;

/// Smallest self weight allowed: guarantees every push keeps at least 1 % of the residual,
/// so pending residual shrinks geometrically and no zero-self-weight cycle can hold mass forever.
pub const MIN_SELF_WEIGHT: u32 = 10_000;

/// Most entries (self included) in one edge set: bounds the work of one emit.
pub const MAX_EDGES: usize = 64;

/// `amount * weight / WEIGHT_ONE`, rounded down, without overflow for any `u64` amount.
pub fn mul_weight(amount: u64, weight: u32) -> u64 {
    ((amount as u128 * weight as u128) / WEIGHT_ONE as u128) as u64
}

/// Converts a float weight in `[0, 1]` to parts per million (round to nearest).
pub fn weight_from_f64(w: f64) -> u32 {
    let scaled = w * WEIGHT_ONE as f64 + 0.5;
    if scaled <= 0.0 {
        0
    } else if scaled >= WEIGHT_ONE as f64 {
        WEIGHT_ONE
    } else {
        scaled as u32
    }
}

/// Converts parts per million back to a float, for reports.
pub fn weight_to_f64(w: u32) -> f64 {
    w as f64 / WEIGHT_ONE as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_weight_floors_and_never_overflows() {
        assert_eq!(mul_weight(10, 500_000), 5);
        assert_eq!(mul_weight(3, 500_000), 1);
        assert_eq!(mul_weight(u64::MAX, WEIGHT_ONE), u64::MAX);
        assert_eq!(mul_weight(u64::MAX, 0), 0);
    }

    #[test]
    fn float_conversion_round_trips_on_the_grid() {
        for w in [0u32, 1, 10_000, 333_333, 999_999, WEIGHT_ONE] {
            assert_eq!(weight_from_f64(weight_to_f64(w)), w);
        }
        assert_eq!(weight_from_f64(-1.0), 0);
        assert_eq!(weight_from_f64(2.0), WEIGHT_ONE);
    }
}
