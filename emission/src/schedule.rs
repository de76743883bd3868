//! The seeded block schedule: which nodes emit in a block, and in which order.

use alloc::vec::Vec;

/// SplitMix64: a tiny deterministic generator, so a seed reproduces a run on any target.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `0..bound` (`bound > 0`; 0 gives 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        ((self.next_u64() as u128 * bound as u128) >> 64) as u64
    }
}

/// Every block, each node emits with probability `emit_probability`, in a seeded random order.
#[derive(Debug, Clone)]
pub struct Schedule {
    rng: SplitMix64,
    emit_probability: f64,
}

impl Schedule {
    /// A schedule drawing from `seed`; `emit_probability >= 1` makes every node emit every block.
    pub fn new(seed: u64, emit_probability: f64) -> Self {
        Schedule {
            rng: SplitMix64::new(seed),
            emit_probability,
        }
    }

    /// The emitters of the next block among `n` nodes, in emit order.
    pub fn next_block(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        if self.emit_probability < 1.0 {
            let p = self.emit_probability;
            order.retain(|_| self.rng.next_f64() < p);
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_schedule_and_every_node_once() {
        let mut a = Schedule::new(7, 1.0);
        let mut b = Schedule::new(7, 1.0);
        for _ in 0..5 {
            let block = a.next_block(20);
            assert_eq!(block, b.next_block(20));
            let mut sorted = block.clone();
            sorted.sort();
            assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        }
        assert_ne!(
            Schedule::new(8, 1.0).next_block(20),
            Schedule::new(7, 1.0).next_block(20)
        );
    }

    #[test]
    fn emit_probability_thins_the_block() {
        let mut s = Schedule::new(1, 0.5);
        let total: usize = (0..100).map(|_| s.next_block(100).len()).sum();
        assert!(total > 4_000 && total < 6_000, "{total}");
        assert!(Schedule::new(1, 0.0).next_block(10).is_empty());
    }
}
