//! The matrix model against the original notebook's published figures on its example graph.
//!
//! The notebook (`Emission testing.ipynb`, `matrix_approximation`) runs `blocks = 10000` steps of
//! `A = S*N; T = M@S; 100 x {A += T*N; T = M@T}; A /= |A|_1; S += 50*A` on the graph where `b`
//! holds only its self edge, in float32, and prints the LAST step's attribution `A`:
//! `0.03756 0.32451 0.01229 0.02564 0.10000 x6`. That printed line is the external reference.

use emission::models::matrix::{attribution, MatrixModel, Method};
use emission::models::normalise;
use emission::seed::{self, Variant};

/// The notebook's published "Matrix Attributions" line (float32, 10 000 steps, rate 50).
const NOTEBOOK_MATRIX_ATTRIBUTIONS: [f64; 10] = [
    0.03756, 0.32451, 0.01229, 0.02564, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
];

/// The README's published run-1 line, which the brief attributes to 1000 steps at rate 500.
const README_RUN1: &str =
    "0.04884 0.30159 0.01609 0.03348 0.10000 0.10000 0.10000 0.10000 0.10000 0.10000";

fn run(variant: Variant, method: Method, steps: u64, rate: f64) -> (Vec<f64>, Vec<f64>) {
    let graph = seed::graph(variant).unwrap();
    let mut model = MatrixModel::new(seed::initial_stake(), method);
    for _ in 0..steps - 1 {
        model.step(&graph, rate).unwrap();
    }
    // The attribution of the last step, as the notebook returns it, then that step's update.
    let last = attribution(&graph, &model.stake, method).unwrap();
    model.step(&graph, rate).unwrap();
    (last, normalise(&model.stake))
}

fn line(x: &[f64]) -> String {
    x.iter()
        .map(|f| format!("{f:.5}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn reproduces_the_notebooks_published_matrix_attributions() {
    let (last, _) = run(
        Variant::BSelfOnly,
        Method::Series { terms: 100 },
        10_000,
        50.0,
    );
    // The notebook computed in float32: allow its last-digit rounding (1.5e-5), no more.
    for (i, (got, want)) in last.iter().zip(NOTEBOOK_MATRIX_ATTRIBUTIONS).enumerate() {
        assert!(
            (got - want).abs() <= 1.5e-5,
            "node {i}: {got:.6} vs published {want:.5}; line {}",
            line(&last)
        );
    }
}

#[test]
fn closed_form_and_series_agree_on_the_seed_runs() {
    for variant in [Variant::BSelfOnly, Variant::BLinksA] {
        let (_, series) = run(variant, Method::Series { terms: 100 }, 1_000, 500.0);
        let (_, solve) = run(variant, Method::Solve, 1_000, 500.0);
        assert_eq!(line(&series), line(&solve));
    }
}

#[test]
#[ignore = "the README's run-1 figures are not reproduced by the notebook's algorithm at \
            1000 steps / rate 500 (gives 0.05594 0.28677 0.01870 0.03860); kept to document it"]
fn readme_run1_line() {
    let (_, fractions) = run(
        Variant::BSelfOnly,
        Method::Series { terms: 100 },
        1_000,
        500.0,
    );
    assert_eq!(line(&fractions), README_RUN1);
}
