//! The reference matrix model, exactly as the original notebook computes it.
//!
//! Per step: `A = S ⊙ N; T = M S; repeat K times { A += T ⊙ N; T = M T }; A /= ΣA;
//! S += A * rate`, where `N` holds the self (in-edge) weights and `M[j][i]` the weight of
//! edge `i -> j`. [`Method::Solve`] replaces the truncated series by the closed form
//! `N ⊙ (I - M)^{-1} S` (dense Gaussian elimination, small graphs only).

use alloc::vec;
use alloc::vec::Vec;

use crate::graph::Graph;

/// How the series `Σ_k M^k x` is evaluated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// The notebook's truncation: `k = 0..=terms` (the notebook uses 100).
    Series { terms: usize },
    /// The exact solve of `(I - M) y = x`.
    Solve,
}

/// The largest graph [`Method::Solve`] accepts (dense `n x n` system).
pub const MAX_SOLVE_NODES: usize = 2_000;

/// Why the closed form could not be computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SolveError {
    /// More than [`MAX_SOLVE_NODES`] nodes.
    TooLarge { nodes: usize },
    /// A zero pivot (cannot happen with self weights >= 1 %, reported rather than divided by).
    Singular,
}

/// `N ⊙ Σ_k M^k x`: what each node is eventually credited when `x` is injected as residual.
pub fn propagate(graph: &Graph, x: &[f64], method: Method) -> Result<Vec<f64>, SolveError> {
    let n = graph.len();
    let y = match method {
        Method::Series { terms } => {
            let mut sum = x.to_vec();
            let mut t = graph.forward(x);
            for _ in 0..terms {
                for (s, v) in sum.iter_mut().zip(&t) {
                    *s += v;
                }
                t = graph.forward(&t);
            }
            sum
        }
        Method::Solve => solve(graph, x)?,
    };
    Ok((0..n).map(|i| graph.self_weight(i) * y[i]).collect())
}

/// An upper bound on the L1 mass a `terms`-term series leaves out: `(1 - min N)^(terms+1) |x|_1`.
pub fn truncation_bound(graph: &Graph, x_l1: f64, terms: usize) -> f64 {
    let decay = 1.0 - graph.min_self_weight();
    let mut bound = x_l1;
    for _ in 0..=terms {
        bound *= decay;
    }
    bound
}

/// The L1-normalised attribution of stake vector `stake`.
pub fn attribution(graph: &Graph, stake: &[f64], method: Method) -> Result<Vec<f64>, SolveError> {
    let a = propagate(graph, stake, method)?;
    Ok(super::normalise(&a))
}

/// Solves `(I - M) y = x` by Gaussian elimination with partial pivoting.
fn solve(graph: &Graph, x: &[f64]) -> Result<Vec<f64>, SolveError> {
    let n = graph.len();
    if n > MAX_SOLVE_NODES {
        return Err(SolveError::TooLarge { nodes: n });
    }
    let mut a = vec![0.0f64; n * n];
    for i in 0..n {
        a[i * n + i] = 1.0;
    }
    for i in 0..n {
        for edge in &graph.edges(i)[1..] {
            a[edge.to * n + i] -= crate::fixed::weight_to_f64(edge.weight);
        }
    }
    let mut b = x.to_vec();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|p, q| a[p * n + col].abs().total_cmp(&a[q * n + col].abs()))
            .unwrap_or(col);
        if a[pivot * n + col] == 0.0 {
            return Err(SolveError::Singular);
        }
        if pivot != col {
            for k in 0..n {
                a.swap(col * n + k, pivot * n + k);
            }
            b.swap(col, pivot);
        }
        let p = a[col * n + col];
        for row in col + 1..n {
            let f = a[row * n + col] / p;
            if f != 0.0 {
                for k in col..n {
                    a[row * n + k] -= f * a[col * n + k];
                }
                b[row] -= f * b[col];
            }
        }
    }
    let mut y = vec![0.0; n];
    for row in (0..n).rev() {
        let mut s = b[row];
        for k in row + 1..n {
            s -= a[row * n + k] * y[k];
        }
        y[row] = s / a[row * n + row];
    }
    Ok(y)
}

/// The matrix model's state: stakes in units, stepped once per block.
#[derive(Debug, Clone)]
pub struct MatrixModel {
    /// Every node's stake in units.
    pub stake: Vec<f64>,
    /// The L1-normalised attribution `A` of the last step (empty before the first step):
    /// what the original notebook returns and prints as its "Matrix Attributions".
    pub last_attribution: Vec<f64>,
    method: Method,
}

impl MatrixModel {
    /// A model starting from `stake`, evaluating the series with `method`.
    pub fn new(stake: Vec<f64>, method: Method) -> Self {
        MatrixModel {
            stake,
            last_attribution: Vec::new(),
            method,
        }
    }

    /// One block: `A = attribution(S)`, `S += rate * A`; `A` is kept as [`Self::last_attribution`].
    pub fn step(&mut self, graph: &Graph, rate: f64) -> Result<(), SolveError> {
        let a = attribution(graph, &self.stake, self.method)?;
        for (s, v) in self.stake.iter_mut().zip(&a) {
            *s += v * rate;
        }
        self.last_attribution = a;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn ring() -> Graph {
        Graph::from_float(
            &[
                vec![(0, 0.5), (1, 0.5)],
                vec![(1, 0.25), (2, 0.75)],
                vec![(2, 0.9), (0, 0.1)],
            ],
            1e-9,
        )
        .unwrap()
    }

    #[test]
    fn series_converges_to_the_solve() {
        let g = ring();
        let x = [1.0, 2.0, 3.0];
        let exact = propagate(&g, &x, Method::Solve).unwrap();
        let series = propagate(&g, &x, Method::Series { terms: 400 }).unwrap();
        assert!(crate::models::l1(&exact, &series) < 1e-9);
        // Mass is conserved: everything injected is eventually credited.
        assert!((exact.iter().sum::<f64>() - 6.0).abs() < 1e-9);
        let short = propagate(&g, &x, Method::Series { terms: 5 }).unwrap();
        let gap = crate::models::l1(&exact, &short);
        assert!(gap > 0.0 && gap <= truncation_bound(&g, 6.0, 5));
    }

    #[test]
    fn step_keeps_the_attribution_it_applied() {
        let g = ring();
        let mut m = MatrixModel::new(vec![1.0, 2.0, 3.0], Method::Solve);
        assert!(m.last_attribution.is_empty());
        let before = m.stake.clone();
        let expected = attribution(&g, &before, Method::Solve).unwrap();
        m.step(&g, 10.0).unwrap();
        assert_eq!(m.last_attribution, expected);
        assert!((m.last_attribution.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for ((s, b), a) in m.stake.iter().zip(&before).zip(&expected) {
            assert!((s - b - 10.0 * a).abs() < 1e-12);
        }
    }
}
