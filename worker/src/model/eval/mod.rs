//! Measuring the model: embedding quality against the synthetic corpus's latent classes, the
//! "with peers beats without peers" experiment, and training throughput.

mod experiment;
mod neighbours;
mod throughput;

pub use experiment::{chance_score, quality_experiment, ExperimentConfig, ExperimentReport};
pub use neighbours::{neighbour_score, try_neighbour_score};
pub use throughput::{throughput, throughput_plain, throughput_report, ThroughputReport};
