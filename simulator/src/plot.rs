//! PNG plot of stake fraction over blocks, one panel per model.
//!
//! Text uses plotters' pure-Rust `ab_glyph` renderer with a TrueType font found at run time
//! (`$SIMULATOR_FONT`, else DejaVu Sans from Debian's `fonts-dejavu-core`); without a font
//! the plot is drawn without text rather than failing.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use thiserror::Error;

use crate::run::{Outcome, MODELS};

/// Fonts tried, in order, when `$SIMULATOR_FONT` is not set.
const FONT_CANDIDATES: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// Why a plot could not be written.
#[derive(Debug, Error)]
#[error("cannot draw plot {path}: {message}")]
pub struct PlotError {
    /// The output path.
    pub path: String,
    /// The backend's message.
    pub message: String,
}

/// Registers a font once per process; returns whether text can be drawn.
fn font_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let env = std::env::var("SIMULATOR_FONT").ok();
        let candidates = env.iter().map(String::as_str).chain(FONT_CANDIDATES);
        for path in candidates {
            if let Ok(bytes) = std::fs::read(path) {
                // Fonts must outlive every chart: leak one font per process.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    tracing::debug!(path, "plot font");
                    return true;
                }
            }
        }
        tracing::warn!("no TrueType font found: plot drawn without text");
        false
    })
}

/// Draws `outcome.history` to a PNG at `path`.
pub fn draw(
    path: &Path,
    title: &str,
    names: &[String],
    outcome: &Outcome,
) -> Result<(), PlotError> {
    let fail = |e: &dyn std::fmt::Display| PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let text = font_available();
    let root = BitMapBackend::new(path, (1500, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let root = if text {
        root.titled(title, ("sans-serif", 22))
            .map_err(|e| fail(&e))?
    } else {
        root
    };
    let panels = root.split_evenly((1, MODELS.len()));
    let last_block = outcome.history.last().map(|s| s.block).unwrap_or(1).max(1);
    let y_max = outcome
        .history
        .iter()
        .flat_map(|s| s.fractions.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b))
        .max(1e-9)
        * 1.05;
    for (m, panel) in panels.iter().enumerate() {
        let mut builder = ChartBuilder::on(panel);
        builder.margin(10);
        if text {
            builder
                .caption(MODELS[m], ("sans-serif", 18))
                .x_label_area_size(30)
                .y_label_area_size(45);
        }
        let mut chart = builder
            .build_cartesian_2d(0u64..last_block, 0.0..y_max)
            .map_err(|e| fail(&e))?;
        let mut mesh = chart.configure_mesh();
        if text {
            mesh.x_desc("block").y_desc("stake fraction");
        } else {
            mesh.disable_x_mesh().disable_y_mesh();
        }
        if text {
            mesh.draw().map_err(|e| fail(&e))?;
        }
        let plotted = outcome
            .history
            .first()
            .map(|s| s.fractions[m].len())
            .unwrap_or(0);
        for (node, name) in names.iter().enumerate().take(plotted) {
            let color = Palette99::pick(node).to_rgba();
            let series = chart
                .draw_series(LineSeries::new(
                    outcome
                        .history
                        .iter()
                        .map(|s| (s.block, s.fractions[m][node])),
                    color.stroke_width(2),
                ))
                .map_err(|e| fail(&e))?;
            if text && m == 0 {
                series
                    .label(name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], color));
            }
        }
        if text && m == 0 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| fail(&e))?;
        }
    }
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}
