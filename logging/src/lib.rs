//! The tracing set-up every binary of the workspace shares, so their logs look alike and
//! their output files stay free of colour codes.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: the `RUST_LOG` filter (`info` when unset or invalid),
/// written to stderr, with ANSI colours only when stderr is a terminal.
pub fn init() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
