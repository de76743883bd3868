//! The `bittensor-worker` binary's command line: corpus generation round-trips through
//! the corpus loader, and bad configurations fail with a clear message and exit code.

use std::process::Command;

use bittensor_worker::corpus::Corpus;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bittensor-worker"))
}

#[test]
fn gen_corpus_writes_a_loadable_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus.txt");
    let status = bin()
        .args(["gen-corpus", "--seed", "9", "--tokens", "5000"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let loaded = Corpus::load(&out, usize::MAX).unwrap();
    let generated = Corpus::generate(9, 5000);
    assert_eq!(loaded.ids.len(), generated.ids.len());
    assert_eq!(loaded.vocab.len(), generated.vocab.len());
}

/// `--threads` outside 1..=256 is refused by name, before any work; `export --out` on two
/// threads and on one both write vectors, and one thread writes the same file twice.
#[test]
fn threads_are_checked_and_one_thread_repeats() {
    for cmd in [
        &["run", "--threads", "0"][..],
        &["export", "--out", "x.txt", "--threads", "0"],
    ] {
        let out = bin().args(cmd).output().unwrap();
        assert!(!out.status.success(), "{cmd:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--threads"), "{cmd:?}: {stderr}");
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.txt");
    Corpus::generate(3, 20_000).write_text(&corpus).unwrap();
    let export = |threads: &str, name: &str| {
        let file = dir.path().join(name);
        let out = bin()
            .args(["export", "--corpus"])
            .arg(&corpus)
            .args([
                "--dim",
                "16",
                "--epochs",
                "1",
                "--min-count",
                "1",
                "--threads",
                threads,
                "--out",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(&file).unwrap()
    };
    let (a, b, c) = (
        export("1", "a.txt"),
        export("1", "b.txt"),
        export("2", "c.txt"),
    );
    assert_eq!(a, b, "one thread: the same vectors");
    assert!(!c.is_empty());
}

#[test]
fn run_refuses_bad_configs_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[node]\naccount = \"alice\"\nbogus = 1\n").unwrap();
    let out = bin().args(["run", "--config"]).arg(&cfg).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bogus"), "{stderr}");

    // Missing key: refused before touching the network.
    let out = bin()
        .args([
            "run",
            "--account",
            "alice",
            "--chain-url",
            "http://127.0.0.1:1",
        ])
        .env_remove("BITTENSOR_WORKER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a key is required"), "{stderr}");

    // The key is never accepted on the command line.
    let out = bin()
        .args(["run", "--account", "alice", "--key", "5K..."])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--key"), "{stderr}");

    // A malformed key file is a clear error too, naming the file.
    let key = dir.path().join("bad.key");
    std::fs::write(&key, "notakey").unwrap();
    let out = bin()
        .args(["run", "--account", "alice", "--key-file"])
        .arg(&key)
        .args(["--shard", "0/1"])
        .env_remove("BITTENSOR_WORKER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.key"), "{stderr}");
    // ... and so is a malformed key in the environment.
    let out = bin()
        .args(["run", "--account", "alice", "--shard", "0/1"])
        .env("BITTENSOR_WORKER_KEY", "notakey")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("BITTENSOR_WORKER_KEY"), "{stderr}");
}

#[test]
fn export_writes_a_nodes_embeddings_from_its_checkpoint() {
    use bittensor_worker::model::vectors::load_word2vec_text;
    use bittensor_worker::model::w2v::{W2vParams, Word2Vec};

    let dir = tempfile::tempdir().unwrap();
    let counts = [4u64, 9, 8, 7, 6];
    let words: Vec<String> = ["<unk>", "one", "two", "three", "four"]
        .map(String::from)
        .to_vec();
    let p = W2vParams {
        dim: 5,
        ..W2vParams::default()
    };
    let mut model = Word2Vec::new(&counts, &p).unwrap();
    model
        .syn0
        .iter_mut()
        .enumerate()
        .for_each(|(i, x)| *x = (i % 5) as f32 * 0.1);
    let checkpoint = dir.path().join("alice.model");
    model.save(&words, &counts, &checkpoint).unwrap();
    let out_dir = dir.path().join("out");
    let out = bin()
        .args(["export", "--checkpoint"])
        .arg(&checkpoint)
        .arg("--out-dir")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let served = load_word2vec_text(&out_dir.join("alice.served.txt")).unwrap();
    let input = load_word2vec_text(&out_dir.join("alice.input.txt")).unwrap();
    assert_eq!(served.words(), &words[1..]);
    let want = model.syn0[3 * 5..4 * 5].to_vec();
    for (a, b) in served.row(2).iter().zip(&want) {
        assert!((a - b).abs() < 1e-6, "served {a} vs {b}");
    }
    for (a, b) in input.row(2).iter().zip(&model.syn0[3 * 5..4 * 5]) {
        assert!((a - b).abs() < 1e-6, "input {a} vs {b}");
    }
    assert!(out_dir.join("alice.served.fifu").is_file());
    assert!(out_dir.join("alice.input.fifu").is_file());

    // Not a checkpoint: a clear error naming the file.
    std::fs::write(dir.path().join("junk.model"), "junk").unwrap();
    let out = bin()
        .args(["export", "--checkpoint"])
        .arg(dir.path().join("junk.model"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("junk.model") && stderr.contains("bad magic"),
        "{stderr}"
    );
}

/// Live processes whose parent is `pid` and whose command line contains `what`.
fn children_of(pid: u32, what: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let child: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
            let state = fields.next()?;
            let ppid: u32 = fields.next()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let named = String::from_utf8_lossy(&cmdline).contains(what);
            (ppid == pid && named && state != "Z").then_some(child)
        })
        .collect()
}

/// SIGTERM to `bench --vs-gensim` while gensim trains (in a process group of its own) stops
/// gensim too, and the bench exits as SIGTERM would. Needs `scripts/setup` (.venv, wiki.txt).
#[test]
fn sigterm_during_the_gensim_reference_run_stops_it_too() {
    use std::os::unix::process::CommandExt;
    use std::time::{Duration, Instant};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    let corpus = root.join(".data/wiki.txt");
    assert!(python.exists() && corpus.exists(), "run scripts/setup");
    let mut bench = bin()
        .args(["bench", "--vs-gensim", "--corpus"])
        .arg(&corpus)
        .arg("--python")
        .arg(&python)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let gensim = loop {
        if let Some(&p) = children_of(bench.id(), "python").first() {
            break p;
        }
        assert!(bench.try_wait().unwrap().is_none(), "the bench ended first");
        assert!(Instant::now() < deadline, "gensim never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(500));
    assert!(Command::new("kill")
        .args(["-TERM", &bench.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = bench.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15), "{status}");
    let gone = Instant::now() + Duration::from_secs(15);
    while std::path::Path::new(&format!("/proc/{gensim}/stat")).exists()
        && std::fs::read_to_string(format!("/proc/{gensim}/stat")).is_ok_and(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
    {
        assert!(Instant::now() < gone, "gensim ({gensim}) still running");
        std::thread::sleep(Duration::from_millis(100));
    }
}
