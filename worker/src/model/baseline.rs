//! The reference trainers, run as child processes on the same corpus and settings: gensim's
//! `Word2Vec` (through `scripts/w2v_baseline.py`, compiled into this binary) and Debian's
//! `fasttext skipgram -minn 0 -maxn 0` (plain skip-gram); gensim on one worker thread or more.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::w2v::W2vParams;
use super::ModelError;

/// The helper script (also in `scripts/`), passed to Python with `-c`.
const SCRIPT: &str = include_str!("../../../scripts/w2v_baseline.py");

/// One baseline run.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineRun {
    /// Raw words trained (corpus words x epochs).
    pub words: u64,
    /// Seconds of training.
    pub seconds: f64,
    /// CPU seconds of training (all threads of the trainer).
    pub cpu_seconds: f64,
    /// Where the vectors were written (word2vec text format).
    pub vectors: PathBuf,
}

impl BaselineRun {
    /// Raw words per second.
    pub fn words_per_sec(&self) -> f64 {
        self.words as f64 / self.seconds.max(1e-9)
    }

    /// Raw words per CPU second.
    pub fn words_per_cpu_sec(&self) -> f64 {
        self.words as f64 / self.cpu_seconds.max(1e-9)
    }
}

fn failed(what: &str, detail: String) -> ModelError {
    ModelError::Config(format!("{what}: {detail}"))
}

/// The Python of the project venv (`.venv/bin/python` under the working directory or
/// `BITTENSOR_ROOT`), else `python3`.
pub fn default_python() -> PathBuf {
    let roots = [
        std::env::var_os("BITTENSOR_ROOT").map(PathBuf::from),
        Some(PathBuf::from(".")),
    ];
    roots
        .into_iter()
        .flatten()
        .map(|r| r.join(".venv/bin/python"))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// Runs a reference trainer to its end, its output captured, in a process group that is
/// stopped with the experiment's nodes when the owner is signalled.
fn reference_run(name: &str, cmd: Command) -> std::io::Result<std::process::Output> {
    localnet::output_in_own_group(name, cmd).map_err(std::io::Error::other)
}

/// Runs the helper script with `args`; returns its last stdout line parsed as JSON.
pub fn run_script(python: &Path, args: &[String]) -> Result<serde_json::Value, ModelError> {
    let mut cmd = Command::new(python);
    cmd.arg("-c")
        .arg(SCRIPT)
        .args(args)
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE");
    let out = reference_run("python", cmd)
        .map_err(|e| failed("starting python", format!("{}: {e}", python.display())))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(failed(
            "gensim helper failed (scripts/setup installs gensim)",
            tail.into_iter().rev().collect::<Vec<_>>().join(" | "),
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).map_err(|e| failed("gensim helper output", format!("{e}: {line:?}")))
}

/// gensim's own `Word2Vec` defaults with `sg=1` (its documented values, written out here so
/// that a change of this project's defaults leaves the `gensim_own` row gensim's).
pub fn gensim_defaults(seed: u64) -> W2vParams {
    W2vParams {
        dim: 100,
        window: 5,
        negatives: 5,
        min_count: 5,
        sample: 1e-3,
        alpha: 0.025,
        min_alpha: 0.0001,
        epochs: 5,
        ns_exponent: 0.75,
        seed,
    }
}

/// Trains gensim's skip-gram on `corpus` (one sentence a line) with `p`, vectors to `out`,
/// with one worker thread.
pub fn gensim(
    python: &Path,
    corpus: &Path,
    p: &W2vParams,
    out: &Path,
) -> Result<BaselineRun, ModelError> {
    gensim_workers(python, corpus, p, out, 1)
}

/// As [`gensim`], with `workers` worker threads.
pub fn gensim_workers(
    python: &Path,
    corpus: &Path,
    p: &W2vParams,
    out: &Path,
    workers: usize,
) -> Result<BaselineRun, ModelError> {
    let args: Vec<String> = vec![
        "gensim".into(),
        corpus.display().to_string(),
        out.display().to_string(),
        p.dim.to_string(),
        p.window.to_string(),
        p.negatives.to_string(),
        p.min_count.to_string(),
        p.sample.to_string(),
        p.alpha.to_string(),
        p.min_alpha.to_string(),
        p.epochs.to_string(),
        p.seed.to_string(),
        workers.max(1).to_string(),
    ];
    let v = run_script(python, &args)?;
    let (Some(words), Some(seconds), Some(cpu_seconds)) = (
        v["words"].as_u64(),
        v["seconds"].as_f64(),
        v["cpu_seconds"].as_f64(),
    ) else {
        return Err(failed("gensim helper output", v.to_string()));
    };
    Ok(BaselineRun {
        words,
        seconds,
        cpu_seconds,
        vectors: out.to_path_buf(),
    })
}

/// Whether the `fasttext` program is installed.
pub fn fasttext_available() -> bool {
    Command::new("fasttext").arg("help").output().is_ok()
}

/// Trains `fasttext skipgram` without subwords on `corpus` with `p` (one thread); vectors to
/// `out_prefix.vec`. `words` is the corpus's token count times epochs; the time is the whole
/// command's (it reads the vocabulary first, as gensim's `build_vocab`, which is not timed
/// there: fastText's figure is a lower bound).
pub fn fasttext(
    corpus: &Path,
    p: &W2vParams,
    words: u64,
    out_prefix: &Path,
) -> Result<BaselineRun, ModelError> {
    let args: Vec<String> = [
        "skipgram".to_string(),
        "-input".into(),
        corpus.display().to_string(),
        "-output".into(),
        out_prefix.display().to_string(),
        "-dim".into(),
        p.dim.to_string(),
        "-ws".into(),
        p.window.to_string(),
        "-neg".into(),
        p.negatives.to_string(),
        "-epoch".into(),
        p.epochs.to_string(),
        "-minCount".into(),
        p.min_count.to_string(),
        "-t".into(),
        p.sample.to_string(),
        "-lr".into(),
        p.alpha.to_string(),
        "-minn".into(),
        "0".into(),
        "-maxn".into(),
        "0".into(),
        "-thread".into(),
        "1".into(),
        "-seed".into(),
        p.seed.to_string(),
        "-verbose".into(),
        "0".into(),
    ]
    .to_vec();
    let start = Instant::now();
    // bash's `times` prints the children's CPU time on its second line.
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(r#"fasttext "$@" >&2 && times"#)
        .arg("fasttext")
        .args(&args);
    let out = reference_run("fasttext", cmd).map_err(|e| {
        failed(
            "starting fasttext (apt-get install fasttext)",
            e.to_string(),
        )
    })?;
    let seconds = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(failed(
            "fasttext failed",
            String::from_utf8_lossy(&out.stderr)
                .chars()
                .take(400)
                .collect(),
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let cpu_seconds = stdout
        .lines()
        .nth(1)
        .map(|l| l.split_whitespace().map(parse_times).sum())
        .unwrap_or(seconds);
    Ok(BaselineRun {
        words,
        seconds,
        cpu_seconds,
        vectors: out_prefix.with_extension("vec"),
    })
}

/// Trains `fasttext skipgram` with its own defaults (subwords of 3 to 6 characters, rate
/// 0.05, sampling 1e-4, dim 100, window 5, 5 negatives, 5 epochs, min count 5) on one thread;
/// vectors to `out_prefix.vec`.
pub fn fasttext_own(corpus: &Path, seed: u64, out_prefix: &Path) -> Result<PathBuf, ModelError> {
    let mut cmd = Command::new("fasttext");
    cmd.arg("skipgram")
        .arg("-input")
        .arg(corpus)
        .arg("-output")
        .arg(out_prefix)
        .args(["-thread", "1", "-verbose", "0", "-seed"])
        .arg(seed.to_string());
    let out = reference_run("fasttext", cmd).map_err(|e| {
        failed(
            "starting fasttext (apt-get install fasttext)",
            e.to_string(),
        )
    })?;
    if !out.status.success() {
        return Err(failed(
            "fasttext failed",
            String::from_utf8_lossy(&out.stderr)
                .chars()
                .take(400)
                .collect(),
        ));
    }
    Ok(out_prefix.with_extension("vec"))
}

/// Seconds of one `times` field such as `0m1.234s`.
fn parse_times(field: &str) -> f64 {
    let field = field.trim_end_matches('s');
    let (m, s) = field.split_once('m').unwrap_or(("0", field));
    m.parse::<f64>().unwrap_or(0.0) * 60.0 + s.parse::<f64>().unwrap_or(0.0)
}
