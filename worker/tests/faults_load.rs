//! A tiny load run (4 workers, 20 s) through `bittensor_ops::load`, the code behind
//! `scripts/load-run`: every worker trains, emits, stops cleanly and unsubscribes, no emit
//! failure goes unreported (the counter equals the log's `emit failed` lines), and the
//! chain balances at the end.

use bittensor_ops::load::{run, LoadOptions};

#[test]
fn four_workers_run_twenty_seconds_and_stop_cleanly() {
    let opts = LoadOptions {
        workers: 4,
        seconds: 20,
        worker_bin: env!("CARGO_BIN_EXE_bittensor-worker").into(),
        emit_interval: 2.0,
        peers: 2,
        log_dir: std::env::var_os("FAULTS_LOAD_LOGS").map(Into::into),
    };
    let report = run(&opts).expect("load run");
    print!("{}", report.table());
    assert!(report.healthy(), "{}", report.table());
    assert_eq!(report.end.nodes, 0);
    assert!(report.end.minted > 0, "emission happened");
    for f in &report.figures {
        assert!(f.steps.unwrap_or(0) > 0, "{} trained", f.name);
        assert!(f.emits_pushed.unwrap_or(0) >= 2, "{} emitted", f.name);
        // The last emit at shutdown lands even when peers leave at the same moment.
        let live = f.live_emits_pushed.expect("status read before the stop");
        assert!(
            f.emits_pushed.unwrap_or(0) > live,
            "{}: final emit missing",
            f.name
        );
        assert_eq!(
            f.emits_failed,
            Some(f.emit_failed_lines),
            "{}: counter == log lines",
            f.name
        );
    }
}
