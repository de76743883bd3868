//! The random parts of word2vec: its linear congruential generator, the unigram^0.75
//! negative-sampling table, and frequent-word subsampling.

/// word2vec.c's generator (`x = x * 25214903917 + 11`): cheap, and deterministic per seed.
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491)
    }

    /// The next raw value.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(25_214_903_917).wrapping_add(11);
        self.0
    }

    /// Uniform in `[0, n)` for `n < 2^32` (the high 32 bits scaled by multiplication, no
    /// division: this is drawn once per negative).
    #[inline(always)]
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in `[0, 1)`.
    #[inline(always)]
    pub fn unit(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32) / (1u64 << 24) as f32
    }
}

/// Ids drawn with probability proportional to `count^exponent` (a lookup table, as in
/// word2vec.c, sized at 100 entries per word between 10^5 and 10^8).
#[derive(Debug, Clone)]
pub struct NegativeTable {
    table: Vec<u32>,
}

impl NegativeTable {
    /// The table for per-id counts (`counts[0]`, the `<unk>` slot, is never drawn).
    pub fn new(counts: &[u64], exponent: f64) -> NegativeTable {
        let weights: Vec<f64> = counts
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                if i == 0 {
                    0.0
                } else {
                    (c as f64).powf(exponent)
                }
            })
            .collect();
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return NegativeTable { table: vec![0] };
        }
        let size = (counts.len() * 100).clamp(100_000, 100_000_000);
        let mut table = Vec::with_capacity(size);
        let mut acc = 0.0;
        for (id, w) in weights.iter().enumerate() {
            acc += w / total;
            let upto = ((acc * size as f64).round() as usize).min(size);
            while table.len() < upto {
                table.push(id as u32);
            }
        }
        let last = weights.iter().rposition(|&w| w > 0.0).unwrap_or(0) as u32;
        table.resize(size, last);
        NegativeTable { table }
    }

    /// One negative id.
    #[inline(always)]
    pub fn draw(&self, rng: &mut Lcg) -> u32 {
        self.table[rng.below(self.table.len())]
    }
}

/// word2vec's frequent-word subsampling: a word of frequency `f` is kept with probability
/// `(sqrt(f / t) + 1) * t / f` (at most 1), `t = sample`.
#[derive(Debug, Clone)]
pub struct Subsampler {
    keep: Vec<f32>,
}

impl Subsampler {
    /// Keep probabilities for per-id counts; `sample == 0` keeps everything.
    pub fn new(counts: &[u64], sample: f64) -> Subsampler {
        let total: u64 = counts.iter().skip(1).sum();
        let threshold = sample * total as f64;
        let keep = counts
            .iter()
            .map(|&c| {
                if sample <= 0.0 || c == 0 {
                    1.0
                } else {
                    let c = c as f64;
                    (((c / threshold).sqrt() + 1.0) * threshold / c).min(1.0) as f32
                }
            })
            .collect();
        Subsampler { keep }
    }

    /// Probability that `id` is kept.
    pub fn keep_probability(&self, id: u32) -> f32 {
        self.keep.get(id as usize).copied().unwrap_or(1.0)
    }

    /// Copies the in-vocabulary ids of `ids` (not `<unk>`, id 0) that survive subsampling.
    pub fn filter(&self, ids: &[i64], rng: &mut Lcg, out: &mut Vec<u32>) {
        out.clear();
        for &id in ids {
            let Ok(id) = u32::try_from(id) else { continue };
            if id == 0 || id as usize >= self.keep.len() {
                continue;
            }
            let p = self.keep[id as usize];
            if p >= 1.0 || rng.unit() < p {
                out.push(id);
            }
        }
    }
}
