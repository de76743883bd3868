//! The vector kernels of the training loops (`x · y`, `y += a x`), one per instruction set,
//! picked once at run time by what the processor reports: AVX-512F, AVX2 with FMA, or the
//! portable loops of [`super::math`] (the compiler's baseline: SSE2 on x86-64, NEON on
//! aarch64). A loop generic over [`Kernel`] is compiled once per set through [`dispatch`].

#[cfg(target_arch = "x86_64")]
mod x86;

use super::math;

/// The two operations every inner loop is made of.
pub trait Kernel: Copy + Send + Sync {
    /// `x · y` over the shorter length.
    fn dot(self, x: &[f32], y: &[f32]) -> f32;
    /// `y += a * x` over the shorter length.
    fn axpy(self, a: f32, x: &[f32], y: &mut [f32]);
}

/// The portable kernels: plain Rust the compiler vectorises for the target's baseline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Portable;

impl Kernel for Portable {
    #[inline(always)]
    fn dot(self, x: &[f32], y: &[f32]) -> f32 {
        math::dot(x, y)
    }

    #[inline(always)]
    fn axpy(self, a: f32, x: &[f32], y: &mut [f32]) {
        math::axpy(a, x, y)
    }
}

/// An instruction set the kernels can use; the x86 variants hold a token that exists only
/// where the processor has the features.
#[derive(Debug, Clone, Copy)]
pub enum Isa {
    /// The portable loops.
    Portable,
    /// AVX2 and FMA (256-bit fused multiply-add).
    #[cfg(target_arch = "x86_64")]
    Avx2(x86::Avx2Fma),
    /// AVX-512F (512-bit fused multiply-add, masked tails).
    #[cfg(target_arch = "x86_64")]
    Avx512(x86::Avx512),
}

impl Isa {
    /// The widest set this processor has (checked once per call: cheap, cached by std).
    pub fn best() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(k) = x86::Avx512::detect() {
                return Isa::Avx512(k);
            }
            if let Some(k) = x86::Avx2Fma::detect() {
                return Isa::Avx2(k);
            }
        }
        Isa::Portable
    }

    /// Every set this processor has, the portable one first (tests and benches compare them).
    pub fn available() -> Vec<Isa> {
        let mut all = vec![Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(k) = x86::Avx2Fma::detect() {
                all.push(Isa::Avx2(k));
            }
            if let Some(k) = x86::Avx512::detect() {
                all.push(Isa::Avx512(k));
            }
        }
        all
    }

    /// Its name, for logs and bench output.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(_) => "avx2+fma",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512(_) => "avx512f",
        }
    }
}

/// A computation generic over the kernels (the training loops implement it).
pub trait Job {
    /// What it returns.
    type Out;
    /// Runs with kernel `k`; inlined into a function compiled for `k`'s instruction set.
    fn run<K: Kernel>(self, k: K) -> Self::Out;
}

/// Runs `job` with the kernels of `isa`, the whole job compiled for that instruction set.
pub fn dispatch<J: Job>(isa: Isa, job: J) -> J::Out {
    match isa {
        Isa::Portable => job.run(Portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2(k) => x86::run_avx2(k, job),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512(k) => x86::run_avx512(k, job),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    /// Every kernel this processor has agrees with the portable one, at every length around
    /// the vector widths (tails included) and on unequal lengths.
    #[test]
    fn every_kernel_agrees_with_the_portable_loops() {
        for isa in Isa::available() {
            struct Check(usize);
            impl Job for Check {
                type Out = (f32, Vec<f32>);
                fn run<K: Kernel>(self, k: K) -> (f32, Vec<f32>) {
                    let (x, y) = (data(self.0, 7), data(self.0 + 3, 11));
                    let mut z = data(self.0, 5);
                    k.axpy(0.37, &x, &mut z);
                    (k.dot(&x, &y), z)
                }
            }
            for n in 0..70 {
                let (d, z) = dispatch(isa, Check(n));
                let (pd, pz) = dispatch(Isa::Portable, Check(n));
                assert!(
                    (d - pd).abs() <= 1e-4 * (1.0 + pd.abs()),
                    "{} dot at {n}: {d} vs {pd}",
                    isa.name()
                );
                assert_eq!(z.len(), pz.len());
                for (a, b) in z.iter().zip(&pz) {
                    assert!((a - b).abs() <= 1e-5, "{} axpy at {n}", isa.name());
                }
            }
        }
    }

    #[test]
    fn the_best_set_is_among_the_available_ones() {
        let best = Isa::best().name();
        assert!(Isa::available().iter().any(|i| i.name() == best));
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            assert_ne!(best, "portable");
        }
    }
}
