//! The range of values that may cross the wire: what a node serves is a `tanh` output (within
//! ±1) and the gradients of a mean loss are small, so anything beyond [`MAX_ABS_VALUE`] is an
//! attack or a bug. Such tensors are rejected, never clamped: clamping would still let a
//! peer push every value to the bound. Rejections are counted; a peer that keeps sending
//! them is evicted.

/// Largest magnitude accepted in a served embedding or a sparse update.
pub const MAX_ABS_VALUE: f32 = 64.0;

/// Out-of-range answers after which an upstream peer is evicted.
pub const EVICT_AFTER_OUT_OF_RANGE: u64 = 3;

/// The first element beyond [`MAX_ABS_VALUE`] (index, value), if any.
pub fn out_of_range(data: &[f32]) -> Option<(usize, f32)> {
    data.iter()
        .position(|v| v.abs() > MAX_ABS_VALUE)
        .map(|i| (i, data[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_values_are_found_and_the_bound_itself_passes() {
        assert_eq!(
            out_of_range(&[0.5, -1.0, MAX_ABS_VALUE, -MAX_ABS_VALUE]),
            None
        );
        assert_eq!(out_of_range(&[0.0, 1e30, 2.0]), Some((1, 1e30)));
        assert_eq!(out_of_range(&[-1e30]), Some((0, -1e30)));
    }
}
