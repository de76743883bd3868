//! A node's stake-proportional emission: `rate * delta_blocks * stake / total_stake`.

/// Emission a node has accrued over `delta_blocks` at `rate` base units per block, in
/// proportion to its share of the total stake; rounded down, saturating at `u64::MAX`.
pub fn accrue(rate: u64, delta_blocks: u64, stake: u64, total_stake: u64) -> u64 {
    if total_stake == 0 || stake == 0 {
        return 0;
    }
    let stake = stake.min(total_stake) as u128;
    let minted = (rate as u128).saturating_mul(delta_blocks as u128);
    // minted * stake may exceed u128 only if minted > 2^64; split to stay exact.
    let share = match minted.checked_mul(stake) {
        Some(product) => product / total_stake as u128,
        None => (minted / total_stake as u128) * stake,
    };
    u64::try_from(share).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportional_to_stake_share_and_blocks() {
        assert_eq!(accrue(10_000, 1, 1, 4), 2_500);
        assert_eq!(accrue(10_000, 3, 1, 4), 7_500);
        assert_eq!(accrue(10_000, 1, 4, 4), 10_000);
        assert_eq!(accrue(10, 1, 1, 3), 3);
    }

    #[test]
    fn zero_stake_or_time_accrues_nothing() {
        assert_eq!(accrue(10_000, 0, 1, 4), 0);
        assert_eq!(accrue(10_000, 5, 0, 4), 0);
        assert_eq!(accrue(10_000, 5, 0, 0), 0);
    }

    #[test]
    fn huge_inputs_saturate_instead_of_panicking() {
        assert_eq!(accrue(u64::MAX, u64::MAX, 1, 1), u64::MAX);
        assert_eq!(accrue(u64::MAX, 2, u64::MAX, u64::MAX), u64::MAX);
    }
}
