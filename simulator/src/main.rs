//! `simulator`: compare the matrix, recursive and residual-push emission models.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use emission::models::matrix::Method;
use simulator::{
    bench, file, plot, random, report, run, scenario::Scenario, seed_example, strategies,
};

/// Command line of the simulator.
#[derive(Debug, Parser)]
#[command(version, about = "Compare the BitTensor emission models on one graph")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// The original design's 10-node example (both runs) and the published-figure check.
    ///
    /// Prints, per run, the three models' stake fractions and L1 distances, then the matrix
    /// model's last-step attribution A beside the published line (the notebook prints A):
    /// run 1 (b self only, 1000 blocks at rate 500) reproduces the README's
    /// 0.04884 0.30159 0.01609 0.03348 0.10000 x6.
    SeedExample {
        /// Emit-order seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Write a stake-fraction plot per run (FILE-run1.png, FILE-run2.png, FILE-run2-low-rate.png).
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// A seeded random graph.
    Random {
        /// Number of nodes.
        #[arg(long, default_value_t = 100)]
        nodes: usize,
        /// Most out-edges per node (self edge not counted).
        #[arg(long, default_value_t = 8)]
        max_degree: usize,
        #[command(flatten)]
        options: RunOptions,
    },
    /// A scenario from a JSON file.
    ///
    /// Schema: {"nodes": [{"name": "a", "stake": 1.0, "edges": [{"to": "a", "weight": 0.6},
    /// {"to": "b", "weight": 0.4}]}, ...], optional "rate", "blocks", "seed",
    /// "emit_probability", "threshold", "tolerance"}. Each edge list starts with the node
    /// itself. Example: simulator/scenarios/seed-run2.json; details in `simulator::file`.
    File {
        /// The scenario file.
        path: PathBuf,
        #[command(flatten)]
        options: RunOptions,
    },
    /// Each manipulation's payoff relative to honest play, on one graph and schedule, under
    /// the contract's accrual (stake pool, edges in force) and the legacy one (comparison only).
    Strategies {
        /// Blocks simulated.
        #[arg(long, default_value_t = strategies::Setup::default().blocks)]
        blocks: u64,
        /// Base units issued per block.
        #[arg(long, default_value_t = strategies::Setup::default().rate)]
        rate: u64,
    },
    /// One emit of each distributed model on random graphs of growing size.
    Bench {
        /// Graph sizes.
        #[arg(long, value_delimiter = ',', default_values_t = [10usize, 100, 1000, 10000])]
        sizes: Vec<usize>,
        /// Most out-edges per node.
        #[arg(long, default_value_t = 8)]
        max_degree: usize,
        /// Emits timed per model and size.
        #[arg(long, default_value_t = 20_000)]
        emits: u64,
        /// Graph seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Blocks between two emits of a node: each emit distributes about `delta` units.
        #[arg(long, default_value_t = 1)]
        delta: u64,
    },
}

/// Options shared by the scenario commands (override the file's values when given).
#[derive(Debug, Args)]
struct RunOptions {
    /// Blocks to simulate.
    #[arg(long)]
    blocks: Option<u64>,
    /// Emit-order seed (also the graph seed for `random`).
    #[arg(long)]
    seed: Option<u64>,
    /// Units minted per block (default 50 * nodes).
    #[arg(long)]
    rate: Option<f64>,
    /// Probability that a node emits in a block.
    #[arg(long)]
    emit_probability: Option<f64>,
    /// Recursive model's MIN_INCREMENT in units.
    #[arg(long)]
    threshold: Option<f64>,
    /// Matrix series terms (0 = closed-form solve).
    #[arg(long)]
    terms: Option<usize>,
    /// Write a stake-fraction plot (PNG).
    #[arg(long)]
    plot: Option<PathBuf>,
}

impl RunOptions {
    /// Applies the given options to a scenario, rejecting out-of-range values.
    fn apply(&self, s: &mut Scenario) -> Result<(), String> {
        if let Some(b) = self.blocks {
            s.blocks = b;
        }
        if let Some(seed) = self.seed {
            s.seed = seed;
        }
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate >= 0.0) {
                return Err("--rate must be finite and >= 0".into());
            }
            s.rate = rate;
        }
        if let Some(p) = self.emit_probability {
            if !(0.0..=1.0).contains(&p) {
                return Err("--emit-probability must be in [0, 1]".into());
            }
            s.emit_probability = p;
        }
        if let Some(t) = self.threshold {
            if !(t.is_finite() && t > 0.0) {
                return Err("--threshold must be finite and > 0".into());
            }
            s.threshold = t;
        }
        if let Some(terms) = self.terms {
            s.method = if terms == 0 {
                Method::Solve
            } else {
                Method::Series { terms }
            };
        }
        Ok(())
    }
}

/// Runs one scenario, prints its report and draws the plot if asked.
fn simulate(title: &str, s: &Scenario, plot_path: Option<&PathBuf>) -> Result<(), String> {
    tracing::info!(
        nodes = s.graph.len(),
        edges = s.graph.edge_count(),
        blocks = s.blocks,
        "run"
    );
    let outcome = run::run(s, 10).map_err(|e| e.to_string())?;
    print!("{}", report::render(title, &s.names, &outcome));
    if let Some(path) = plot_path {
        plot::draw(path, title, &s.names, &outcome).map_err(|e| e.to_string())?;
        println!("plot written to {}", path.display());
    }
    Ok(())
}

fn execute(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::SeedExample {
            seed,
            plot: plot_path,
        } => {
            let (outcomes, text) = seed_example::run_all(seed).map_err(|e| e.to_string())?;
            print!("{text}");
            if let Some(base) = plot_path {
                for (i, (s, outcome)) in outcomes.iter().enumerate() {
                    let stem = base.with_extension("");
                    let label = ["run1", "run2", "run2-low-rate"]
                        .get(i)
                        .copied()
                        .unwrap_or("run");
                    let path = PathBuf::from(format!("{}-{label}.png", stem.display()));
                    plot::draw(&path, &format!("seed example {label}"), &s.names, outcome)
                        .map_err(|e| e.to_string())?;
                    println!("plot written to {}", path.display());
                }
            }
            Ok(())
        }
        Command::Random {
            nodes,
            max_degree,
            options,
        } => {
            let graph_seed = options.seed.unwrap_or(0);
            let (graph, stake) = random::RandomGraph {
                nodes,
                max_degree,
                seed: graph_seed,
            }
            .build()
            .map_err(|e| e.to_string())?;
            let names = (0..nodes).map(|i| format!("n{i}")).collect();
            let mut s = Scenario::new(names, graph, stake);
            options.apply(&mut s)?;
            let title = format!(
                "random graph: {nodes} nodes, max degree {max_degree}, seed {graph_seed}, {} blocks",
                s.blocks
            );
            simulate(&title, &s, options.plot.as_ref())
        }
        Command::Strategies { blocks, rate } => {
            if blocks == 0 {
                return Err("--blocks must be at least 1".into());
            }
            let setup = strategies::Setup {
                blocks,
                rate,
                ..strategies::Setup::default()
            };
            print!("{}", strategies::table(&setup));
            Ok(())
        }
        Command::File { path, options } => {
            let mut s = file::load(&path).map_err(|e| e.to_string())?;
            options.apply(&mut s)?;
            let title = format!("{}: {} blocks", path.display(), s.blocks);
            simulate(&title, &s, options.plot.as_ref())
        }
        Command::Bench {
            sizes,
            max_degree,
            emits,
            seed,
            delta,
        } => {
            let mut rows = Vec::new();
            for n in sizes {
                if n == 0 {
                    return Err("--sizes must be positive".into());
                }
                tracing::info!(nodes = n, emits, "bench");
                rows.push(
                    bench::measure(n, max_degree, seed, emits.max(1), delta.max(1))
                        .map_err(|e| e.to_string())?,
                );
            }
            print!("{}", bench::render(&rows));
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    bittensor_logging::init();
    match execute(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
