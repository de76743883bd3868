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
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("node.key is required"), "{stderr}");

    // A malformed key is a clear error too.
    let out = bin()
        .args([
            "run",
            "--account",
            "alice",
            "--key",
            "notakey",
            "--shard",
            "0/1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("private key"), "{stderr}");
}
