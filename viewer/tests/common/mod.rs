//! Shared pieces of the viewer's page test: the viewer process, headless Chromium, and the
//! expected model figures. (The worker processes come from `worker/tests/support`.)

#![allow(dead_code)]

pub mod browser;
pub mod expected;
pub mod viewer;

use std::path::PathBuf;

/// Where test artefacts (screenshots) go: `$CARGO_TARGET_DIR/artefacts`, else `target/artefacts`.
pub fn artefact_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("artefacts");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}
