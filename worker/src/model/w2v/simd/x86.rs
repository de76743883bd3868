//! x86-64 kernels: AVX2 with FMA, and AVX-512F. Each is reachable only through a token that
//! [`Avx2Fma::detect`] / [`Avx512::detect`] hand out after `is_x86_feature_detected!`.

use std::arch::x86_64::*;

use super::{Job, Kernel};

/// Proof that the processor has AVX2 and FMA (only [`Avx2Fma::detect`] makes one).
#[derive(Debug, Clone, Copy)]
pub struct Avx2Fma(());

impl Avx2Fma {
    /// The token, where the processor has both features.
    pub fn detect() -> Option<Avx2Fma> {
        (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")).then_some(Avx2Fma(()))
    }
}

/// Proof that the processor has AVX-512F, AVX2 and FMA (only [`Avx512::detect`] makes one).
#[derive(Debug, Clone, Copy)]
pub struct Avx512(());

impl Avx512 {
    /// The token, where the processor has the features.
    pub fn detect() -> Option<Avx512> {
        (is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma"))
        .then_some(Avx512(()))
    }
}

impl Kernel for Avx2Fma {
    #[inline(always)]
    fn dot(self, x: &[f32], y: &[f32]) -> f32 {
        // SAFETY: an Avx2Fma exists only where detect() found AVX2 and FMA.
        unsafe { dot_avx2(x, y) }
    }

    #[inline(always)]
    fn axpy(self, a: f32, x: &[f32], y: &mut [f32]) {
        // SAFETY: an Avx2Fma exists only where detect() found AVX2 and FMA.
        unsafe { axpy_avx2(a, x, y) }
    }
}

impl Kernel for Avx512 {
    #[inline(always)]
    fn dot(self, x: &[f32], y: &[f32]) -> f32 {
        // SAFETY: an Avx512 exists only where detect() found AVX-512F, AVX2 and FMA.
        unsafe { dot_avx512(x, y) }
    }

    #[inline(always)]
    fn axpy(self, a: f32, x: &[f32], y: &mut [f32]) {
        // SAFETY: an Avx512 exists only where detect() found AVX-512F, AVX2 and FMA.
        unsafe { axpy_avx512(a, x, y) }
    }
}

/// `job` compiled for AVX2 and FMA.
pub(super) fn run_avx2<J: Job>(k: Avx2Fma, job: J) -> J::Out {
    // SAFETY: the token `k` exists only where the processor has AVX2 and FMA.
    unsafe { job_avx2(k, job) }
}

/// `job` compiled for AVX-512F.
pub(super) fn run_avx512<J: Job>(k: Avx512, job: J) -> J::Out {
    // SAFETY: the token `k` exists only where the processor has AVX-512F, AVX2 and FMA.
    unsafe { job_avx512(k, job) }
}

#[target_feature(enable = "avx2,fma")]
fn job_avx2<J: Job>(k: Avx2Fma, job: J) -> J::Out {
    job.run(k)
}

#[target_feature(enable = "avx512f,avx2,fma")]
fn job_avx512<J: Job>(k: Avx512, job: J) -> J::Out {
    job.run(k)
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn dot_avx2(x: &[f32], y: &[f32]) -> f32 {
    let n = x.len().min(y.len());
    let (xp, yp) = (x.as_ptr(), y.as_ptr());
    let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 <= n, the length of both slices.
        unsafe {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp.add(i)), _mm256_loadu_ps(yp.add(i)), a0);
            a1 = _mm256_fmadd_ps(
                _mm256_loadu_ps(xp.add(i + 8)),
                _mm256_loadu_ps(yp.add(i + 8)),
                a1,
            );
        }
        i += 16;
    }
    if i + 8 <= n {
        // SAFETY: i + 8 <= n, the length of both slices.
        unsafe {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp.add(i)), _mm256_loadu_ps(yp.add(i)), a0);
        }
        i += 8;
    }
    let a = _mm256_add_ps(a0, a1);
    let s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps::<1>(a));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
    let mut sum = _mm_cvtss_f32(s);
    for j in i..n {
        sum += x[j] * y[j];
    }
    sum
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn axpy_avx2(a: f32, x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
    let av = _mm256_set1_ps(a);
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n, the length of both slices; `y` is borrowed mutably, `x` cannot
        // alias it.
        unsafe {
            let r = _mm256_fmadd_ps(av, _mm256_loadu_ps(xp.add(i)), _mm256_loadu_ps(yp.add(i)));
            _mm256_storeu_ps(yp.add(i), r);
        }
        i += 8;
    }
    for j in i..n {
        y[j] += a * x[j];
    }
}

/// The mask of the first `r` (< 16) lanes.
#[inline(always)]
fn tail_mask(r: usize) -> __mmask16 {
    ((1u32 << r) - 1) as __mmask16
}

#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn dot_avx512(x: &[f32], y: &[f32]) -> f32 {
    let n = x.len().min(y.len());
    let (xp, yp) = (x.as_ptr(), y.as_ptr());
    let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 <= n, the length of both slices.
        unsafe {
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xp.add(i)), _mm512_loadu_ps(yp.add(i)), a0);
            a1 = _mm512_fmadd_ps(
                _mm512_loadu_ps(xp.add(i + 16)),
                _mm512_loadu_ps(yp.add(i + 16)),
                a1,
            );
        }
        i += 32;
    }
    if i + 16 <= n {
        // SAFETY: i + 16 <= n, the length of both slices.
        unsafe {
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xp.add(i)), _mm512_loadu_ps(yp.add(i)), a0);
        }
        i += 16;
    }
    if i < n {
        let m = tail_mask(n - i);
        // SAFETY: the mask enables only lanes i..n, inside both slices; masked-off lanes are
        // not read.
        unsafe {
            a1 = _mm512_fmadd_ps(
                _mm512_maskz_loadu_ps(m, xp.add(i)),
                _mm512_maskz_loadu_ps(m, yp.add(i)),
                a1,
            );
        }
    }
    _mm512_reduce_add_ps(_mm512_add_ps(a0, a1))
}

#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
fn axpy_avx512(a: f32, x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
    let av = _mm512_set1_ps(a);
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 <= n, the length of both slices; `y` is borrowed mutably, `x` cannot
        // alias it.
        unsafe {
            let r = _mm512_fmadd_ps(av, _mm512_loadu_ps(xp.add(i)), _mm512_loadu_ps(yp.add(i)));
            _mm512_storeu_ps(yp.add(i), r);
        }
        i += 16;
    }
    if i < n {
        let m = tail_mask(n - i);
        // SAFETY: the mask enables only lanes i..n, inside both slices; masked-off lanes are
        // neither read nor written.
        unsafe {
            let r = _mm512_fmadd_ps(
                av,
                _mm512_maskz_loadu_ps(m, xp.add(i)),
                _mm512_maskz_loadu_ps(m, yp.add(i)),
            );
            _mm512_mask_storeu_ps(yp.add(i), m, r);
        }
    }
}
