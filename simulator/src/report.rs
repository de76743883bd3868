//! Text report of a run: fractions per model, distances, work per emit.

use std::fmt::Write;

use crate::run::{Outcome, MODELS};

/// Most nodes listed individually in a report (the distances always cover every node).
pub const MAX_LISTED: usize = 20;

/// Formats fractions with 5 decimals, space separated.
pub fn line(fractions: &[f64]) -> String {
    fractions
        .iter()
        .map(|f| format!("{f:.5}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The full report of one run.
pub fn render(title: &str, names: &[String], outcome: &Outcome) -> String {
    let mut out = String::new();
    let listed = names.len().min(MAX_LISTED);
    let _ = writeln!(out, "== {title} ==");
    let _ = writeln!(out, "stake fractions S / sum(S) per model:");
    let _ = writeln!(
        out,
        "{:<10} {}",
        "node",
        names[..listed]
            .iter()
            .map(|n| format!("{n:>7}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (m, name) in MODELS.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:<10} {}",
            name,
            line(&outcome.fractions[m][..listed])
        );
    }
    if names.len() > listed {
        let _ = writeln!(out, "({} more nodes not listed)", names.len() - listed);
    }
    let _ = writeln!(
        out,
        "L1 distance: matrix-recursive {:.5}  matrix-residual {:.5}  recursive-residual {:.5}",
        outcome.distance(0, 1),
        outcome.distance(0, 2),
        outcome.distance(1, 2)
    );
    let emits = outcome.emits.max(1) as f64;
    let r = outcome.recursive_work;
    let p = outcome.residual_work;
    let _ = writeln!(
        out,
        "work per emit ({} emits): recursive {:.1} queue pushes, {:.1} edge visits (max queue {}); residual {:.1} edge visits, 0 queue pushes",
        outcome.emits,
        r.queue_pushes as f64 / emits,
        r.edge_visits as f64 / emits,
        r.max_queue,
        p.edge_visits as f64 / emits,
    );
    let _ = writeln!(
        out,
        "residual pending on the ledger: {:.5} units; recursive dropped below threshold: {:.5} units",
        outcome.outstanding, outcome.dropped
    );
    if !outcome.matrix_attribution.is_empty() {
        let _ = writeln!(
            out,
            "matrix attribution A of the last block (the notebook's printed line):"
        );
        let _ = writeln!(
            out,
            "{:<10} {}",
            "matrix A",
            line(&outcome.matrix_attribution[..listed])
        );
    }
    out
}
