//! The worker processes of a load run: account names, TOML configs, start (waiting for
//! each ready file), SIGTERM stop with a deadline (then SIGKILL) and log locations.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::LoadOptions;

/// How long a worker may take to write its ready file.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A valid, distinct EOS account name for worker `i` (`lw` + base-5 digits spelled 1-5).
pub fn account_name(i: usize) -> String {
    let mut name = String::from("lw");
    let mut k = i;
    loop {
        name.push((b'1' + (k % 5) as u8) as char);
        k /= 5;
        if k == 0 {
            return name;
        }
    }
}

/// The config of one load-run worker: a small model on a shard of the shared corpus.
/// Writes the development key to a file next to `ready` (owner-only) for `node.key_file`.
fn write_key_file(ready: &Path) -> PathBuf {
    let path = ready.with_extension("key");
    let _ = std::fs::write(&path, localnet::DEV_PRIVATE_KEY);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    path
}

fn config(
    opts: &LoadOptions,
    i: usize,
    name: &str,
    url: &str,
    contract: &str,
    ready: &Path,
) -> String {
    format!(
        r#"
[node]
account = "{name}"
key_file = "{key_file}"
listen = "127.0.0.1:0"
seed = {seed}
log_every = 200
loss_tail = 20
ready_file = "{ready}"

[chain]
url = "{url}"
contract = "{contract}"
stake = "10.0000 BIT"
emit_interval_secs = {emit}
refresh_interval_secs = 5.0
subscribe_attempts = 40

[model]
corpus_seed = 11
corpus_tokens = 40000
shard = {i}
shards = {n}
dim = 8
peers = {peers}
negatives = 2
chunk_words = 32

[peer]
timeout_ms = 1000
backoff_initial_ms = 200
backoff_max_ms = 5000
allow_loopback = true
"#,
        key_file = write_key_file(ready).display(),
        seed = i + 1,
        ready = ready.display(),
        emit = opts.emit_interval,
        n = opts.workers,
        peers = opts.peers,
    )
}

/// The running workers, by account name.
pub struct Fleet {
    dir: PathBuf,
    children: Vec<(String, Child)>,
    bases: Vec<String>,
}

impl Fleet {
    /// Spawns one worker per name and waits until each has written its ready file.
    pub fn start(
        dir: &Path,
        opts: &LoadOptions,
        url: &str,
        contract: &str,
        names: &[String],
    ) -> Result<Fleet> {
        if !opts.worker_bin.is_file() {
            bail!(
                "worker binary {} not found: build it with `cargo build --release -p bittensor-worker`",
                opts.worker_bin.display()
            );
        }
        let mut fleet = Fleet {
            dir: dir.to_path_buf(),
            children: Vec::new(),
            bases: Vec::new(),
        };
        for (i, name) in names.iter().enumerate() {
            let ready = dir.join(format!("{name}.ready"));
            let cfg = dir.join(format!("{name}.toml"));
            fs::write(&cfg, config(opts, i, name, url, contract, &ready))?;
            let log = fs::File::create(fleet.log_path(name))?;
            let child = Command::new(&opts.worker_bin)
                .args(["run", "--config"])
                .arg(&cfg)
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1")
                .env("OMP_NUM_THREADS", "1")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .with_context(|| format!("spawning {}", opts.worker_bin.display()))?;
            fleet.children.push((name.clone(), child));
        }
        for name in names {
            let ready = dir.join(format!("{name}.ready"));
            let start = Instant::now();
            while !ready.exists() {
                if start.elapsed() > READY_TIMEOUT {
                    bail!(
                        "{name} not ready after {READY_TIMEOUT:?}; see {}",
                        fleet.log_path(name).display()
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let doc: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(&ready)?).unwrap_or_default();
            let listen = doc["listen"].as_str().unwrap_or_default();
            fleet.bases.push(format!("http://{listen}"));
            tracing::info!(worker = %name, %listen, "ready");
        }
        Ok(fleet)
    }

    /// `http://ADDR` of each worker's peer server, in start order.
    pub fn bases(&self) -> &[String] {
        &self.bases
    }

    /// Where `name`'s log is.
    pub fn log_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    /// How many workers are still running.
    pub fn alive(&mut self) -> usize {
        self.children
            .iter_mut()
            .filter_map(|(_, c)| matches!(c.try_wait(), Ok(None)).then_some(()))
            .count()
    }

    /// SIGTERMs every worker, waits up to `grace` for all, SIGKILLs the rest; returns each
    /// worker's exit description in start order.
    pub fn stop_all(&mut self, grace: Duration) -> Vec<String> {
        for (_, child) in &self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + grace;
        while self.alive() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        self.children
            .iter_mut()
            .map(|(name, child)| match child.try_wait() {
                Ok(Some(status)) if status.success() => "clean".to_string(),
                Ok(Some(status)) => format!("exit {status}"),
                _ => {
                    tracing::warn!(worker = %name, "did not stop in time, killing");
                    let _ = child.kill();
                    let _ = child.wait();
                    "killed".to_string()
                }
            })
            .collect()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_are_distinct_and_valid() {
        let names: Vec<String> = (0..200).map(account_name).collect();
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        for n in &names {
            assert!(
                n.len() <= 12
                    && n.bytes()
                        .all(|b| b.is_ascii_lowercase() || (b'1'..=b'5').contains(&b)),
                "{n}"
            );
        }
    }
}
