//! The portable inner loops: dot products and `y += a x` over `f32` rows (written with eight
//! independent lanes so the compiler vectorises them; [`super::simd`] has the wider ones),
//! and word2vec.c's tabulated sigmoid.

/// Logits beyond +-`MAX_EXP` count as saturated (word2vec.c's constant).
pub const MAX_EXP: f32 = 6.0;
const TABLE_SIZE: usize = 1000;
const LANES: usize = 8;

/// `x · y` (the shorter length wins).
#[inline(always)]
pub fn dot(x: &[f32], y: &[f32]) -> f32 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0f32; LANES];
    let xc = x.chunks_exact(LANES);
    let yc = y.chunks_exact(LANES);
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for l in 0..LANES {
            acc[l] += a[l] * b[l];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (a, b) in xr.iter().zip(yr) {
        s += a * b;
    }
    s
}

/// `y += a * x`.
#[inline(always)]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Tabulated `σ(x)` and `log σ(x)` on `[-MAX_EXP, MAX_EXP]`, as word2vec.c and gensim use.
#[derive(Clone)]
pub struct SigmoidTable {
    sigmoid: Vec<f32>,
    log_sigmoid: Vec<f32>,
}

impl Default for SigmoidTable {
    fn default() -> Self {
        let at = |i: usize| (i as f32 / TABLE_SIZE as f32 * 2.0 - 1.0) * MAX_EXP;
        let sigmoid: Vec<f32> = (0..TABLE_SIZE)
            .map(|i| {
                let e = at(i).exp();
                e / (e + 1.0)
            })
            .collect();
        let log_sigmoid = sigmoid.iter().map(|s| s.max(1e-12).ln()).collect();
        SigmoidTable {
            sigmoid,
            log_sigmoid,
        }
    }
}

impl SigmoidTable {
    #[inline(always)]
    fn index(f: f32) -> usize {
        let i = ((f + MAX_EXP) * (TABLE_SIZE as f32 / MAX_EXP / 2.0)) as usize;
        i.min(TABLE_SIZE - 1)
    }

    /// `σ(f)` for `|f| < MAX_EXP`.
    #[inline(always)]
    pub fn sigmoid(&self, f: f32) -> f32 {
        self.sigmoid[Self::index(f)]
    }

    /// `-log σ(f)` (the loss of a logit that should be positive), saturated beyond MAX_EXP.
    #[inline(always)]
    pub fn loss(&self, f: f32) -> f32 {
        if f >= MAX_EXP {
            0.0
        } else if f <= -MAX_EXP {
            -f
        } else {
            -self.log_sigmoid[Self::index(f)]
        }
    }
}

/// The step and loss of one logit `f` with target `label` (1 or 0): `(label - σ(f), loss)`,
/// saturated beyond [`MAX_EXP`] as word2vec.c does.
#[inline(always)]
pub fn logistic(table: &SigmoidTable, f: f32, label: f32) -> (f32, f32) {
    if f > MAX_EXP {
        (label - 1.0, if label > 0.0 { 0.0 } else { f })
    } else if f < -MAX_EXP {
        (label, if label > 0.0 { -f } else { 0.0 })
    } else {
        let s = table.sigmoid(f);
        let loss = if label > 0.0 {
            table.loss(f)
        } else {
            table.loss(-f)
        };
        (label - s, loss)
    }
}
