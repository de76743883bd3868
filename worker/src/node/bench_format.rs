//! How the `bench` command prints what it measured: the tables for people, and the one JSON
//! line (`--json`) for scripts, each figure from the same run.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::bench::{LiveReport, VsGensim};
use crate::model::w2v::W2vParams;
use crate::peer::cost::AuthCost;

/// The `--vs-gensim` speed table and, when scored, the quality table.
pub fn vs_gensim_table(r: &VsGensim, corpus: &str, p: &W2vParams) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "word2vec skip-gram on {corpus} ({} tokens, vocabulary {}; dim {}, window {}, {} negatives, min_count {}, sample {}, {} epochs); kernels {}; load average {:.2} before, {:.2} after:",
        r.tokens, r.vocab, p.dim, p.window, p.negatives, p.min_count, p.sample, p.epochs, r.isa, r.load.0, r.load.1
    );
    let (gensim_wall, gensim_cpu) = figures(r, "gensim_1w");
    let (plain_wall, plain_cpu) = figures(r, "plain_1t");
    let _ = writeln!(
        out,
        "  {:<64} {:>10} {:>12} {:>9} {:>9} {:>9} {:>9}",
        "trainer", "words/s", "words/cpu-s", "x gensim", "(cpu)", "x plain", "(cpu)"
    );
    for row in &r.rows {
        let _ = writeln!(
            out,
            "  {:<64} {:>10.0} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            row.name,
            row.words_per_sec,
            row.words_per_cpu_sec,
            row.words_per_sec / gensim_wall.max(1e-9),
            row.words_per_cpu_sec / gensim_cpu.max(1e-9),
            row.words_per_sec / plain_wall.max(1e-9),
            row.words_per_cpu_sec / plain_cpu.max(1e-9)
        );
    }
    out.push_str(
        "  (words/s: wall clock; words/cpu-s: CPU time of the trainer's process, all threads, or\n   of our plain core's training threads;\n",
    );
    out.push_str("   x gensim: against gensim with 1 worker; the live peers run in this process on threads of\n");
    out.push_str(
        "   their own: 'the node's process' leaves them out, the last row counts them too)\n",
    );
    if !r.quality.is_empty() {
        let _ = writeln!(
            out,
            "quality of the vectors (95 % bootstrap intervals over the evaluation items, {} resamples):",
            crate::model::vectors::RESAMPLES
        );
        let _ = writeln!(
            out,
            "  {:<20} {:>26} {:>26} {:>26}",
            "trainer", "WordSim-353 Spearman", "SimLex-999 Spearman", "Google analogy"
        );
        for q in &r.quality {
            let s = &q.scores;
            let _ = writeln!(
                out,
                "  {:<20} {:>26} {:>26} {:>26}",
                q.key,
                s.wordsim.to_string(),
                s.simlex.to_string(),
                s.analogy.to_string()
            );
        }
    }
    out
}

/// (wall, cpu) words per second of the row `key` (0 if it did not run).
fn figures(r: &VsGensim, key: &str) -> (f64, f64) {
    r.rows
        .iter()
        .find(|row| row.key == key)
        .map_or((0.0, 0.0), |row| (row.words_per_sec, row.words_per_cpu_sec))
}

/// The JSON summary of a `--vs-gensim` run: every row's words/s (`key`) and words per CPU
/// second (`key_cpu`), the goals' ratios, the kernels and the load average.
pub fn vs_gensim_json(r: &VsGensim) -> Value {
    let mut m = Map::new();
    for row in &r.rows {
        m.insert(row.key.clone(), json!(row.words_per_sec.round()));
        m.insert(
            format!("{}_cpu", row.key),
            json!(row.words_per_cpu_sec.round()),
        );
    }
    let round3 = |x: f64| json!((x * 1000.0).round() / 1000.0);
    let ratio = |a: f64, b: f64| if b > 0.0 { round3(a / b) } else { Value::Null };
    let (plain_1t, plain_1t_cpu) = figures(r, "plain_1t");
    let (plain_2t, _) = figures(r, "plain_2t");
    let (gensim_1w, _) = figures(r, "gensim_1w");
    let (gensim_2w, _) = figures(r, "gensim_2w");
    let (_, live_cpu) = figures(r, "live_node_whole_process");
    m.insert("live_vs_plain".into(), ratio(live_cpu, plain_1t_cpu));
    // Against the plain core in the live node's company: what is left is the exchange's.
    let (_, beside_cpu) = figures(r, "plain_1t_beside_peers");
    m.insert(
        "live_vs_plain_beside_peers".into(),
        ratio(live_cpu, beside_cpu),
    );
    // The live node's training alone against the plain core: what `live_vs_plain` would be
    // with an exchange that cost nothing (the machine is shared with the node's peers).
    let (_, training_cpu) = figures(r, "live_node_training");
    m.insert(
        "live_training_vs_plain".into(),
        ratio(training_cpu, plain_1t_cpu),
    );
    // The share of the node's CPU that is the exchange (own update, valuing, applying,
    // serving, fetching).
    m.insert(
        "live_exchange_share".into(),
        if training_cpu > 0.0 && live_cpu > 0.0 {
            round3(1.0 - live_cpu / training_cpu)
        } else {
            Value::Null
        },
    );
    m.insert("threads_2_vs_1".into(), ratio(plain_2t, plain_1t));
    // Words per CPU second on two threads against one: what two free cores would give
    // (twice this), whatever the machine's load during the run.
    let (_, plain_2t_cpu) = figures(r, "plain_2t");
    m.insert(
        "threads_2_cpu_efficiency".into(),
        ratio(plain_2t_cpu, plain_1t_cpu),
    );
    m.insert("plain_1t_vs_gensim_1w".into(), ratio(plain_1t, gensim_1w));
    m.insert("plain_2t_vs_gensim_2w".into(), ratio(plain_2t, gensim_2w));
    for q in &r.quality {
        m.insert(format!("{}_quality", q.key), json!(q.scores));
    }
    m.insert("isa".into(), json!(r.isa));
    m.insert("load_before".into(), json!(r.load.0));
    m.insert("load_after".into(), json!(r.load.1));
    Value::Object(m)
}

/// The node-loop bench's table: one row per run, against the run without peers.
pub fn live_table(rows: &[(String, LiveReport)]) -> String {
    let mut out = String::new();
    let Some((_, alone)) = rows.first() else {
        return out;
    };
    let _ = writeln!(
        out,
        "  {:<44} {:>10} {:>12} {:>11} {:>9} {:>9}",
        "peers", "words/s", "words/cpu-s", "pairs/s", "x alone", "(cpu)"
    );
    for (name, r) in rows {
        let _ = writeln!(
            out,
            "  {:<44} {:>10.0} {:>12.0} {:>11.0} {:>9.2} {:>9.2}  ({} peer failures, {} update fetches answered to downstreams, {} peer updates applied)",
            name,
            r.words_per_sec(),
            r.words_per_cpu_sec(),
            r.pairs_per_sec(),
            r.words_per_sec() / alone.words_per_sec().max(1e-9),
            r.words_per_cpu_sec() / alone.words_per_cpu_sec().max(1e-9),
            r.peer_failures,
            r.downstream_rounds,
            r.updates_applied
        );
    }
    out
}

/// Signing and verification of peer traffic: time per operation and the share of a step.
pub fn auth_cost_lines(
    c: &AuthCost,
    ids: usize,
    dim: usize,
    peers: usize,
    step_us: Option<f64>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  peer channel (Noise NN + K1 binding, {ids} ids per request, [{ids}, {dim}] answers):"
    );
    let _ = writeln!(
        out,
        "    handshake {:.0} us (both sides, once per connection); one step's messages sealed and opened {:.1} us, {} bytes",
        c.handshake_us, c.seal_step_us, c.step_bytes
    );
    if let Some(step_us) = step_us.filter(|_| peers > 0) {
        let _ = writeln!(
            out,
            "    with {peers} peers: {:.0} us of channel crypto per {:.0} us step of the live loop ({:.1}% of its time, summed over both sides)",
            c.per_peer_step_us() * peers as f64,
            step_us,
            100.0 * c.per_peer_step_us() * peers as f64 / step_us.max(1e-9)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::bench::SpeedRow;

    fn run() -> VsGensim {
        let row = |key: &str, wall: f64, cpu: f64| SpeedRow {
            key: key.into(),
            name: key.into(),
            words_per_sec: wall,
            words_per_cpu_sec: cpu,
        };
        VsGensim {
            rows: vec![
                row("gensim_1w", 100.0, 100.0),
                row("gensim_2w", 180.0, 95.0),
                row("plain_1t", 200.0, 210.0),
                row("plain_2t", 340.0, 180.0),
                row("plain_1t_beside_peers", 190.0, 175.0),
                row("live_node_whole_process", 150.0, 105.0),
                row("live_node_training", 150.0, 140.0),
            ],
            quality: vec![],
            isa: "portable",
            load: (1.0, 2.0),
            tokens: 10,
            vocab: 5,
        }
    }

    #[test]
    fn the_json_line_holds_the_figures_and_the_goals_ratios() {
        let j = vs_gensim_json(&run());
        for key in [
            "plain_1t",
            "plain_2t",
            "gensim_1w",
            "gensim_2w",
            "plain_1t_cpu",
            "live_node_whole_process_cpu",
        ] {
            assert!(j[key].is_number(), "{key} in {j}");
        }
        assert_eq!(j["live_vs_plain"], json!(0.5));
        assert_eq!(j["live_vs_plain_beside_peers"], json!(0.6));
        assert_eq!(j["live_training_vs_plain"], json!(0.667));
        assert_eq!(j["live_exchange_share"], json!(0.25));
        assert_eq!(j["threads_2_vs_1"], json!(1.7));
        assert_eq!(j["threads_2_cpu_efficiency"], json!(0.857));
        assert_eq!(j["plain_1t_vs_gensim_1w"], json!(2.0));
        assert_eq!(j["load_after"], json!(2.0));
        let line = j.to_string();
        assert!(!line.contains('\n'));
    }

    #[test]
    fn the_table_has_a_row_per_trainer_against_gensim_and_plain() {
        let t = vs_gensim_table(&run(), "wiki.txt", &W2vParams::default());
        assert_eq!(
            t.lines()
                .filter(|l| l.trim_start().starts_with("plain_"))
                .count(),
            3
        );
        let plain = t
            .lines()
            .find(|l| l.trim_start().starts_with("plain_1t"))
            .unwrap();
        let cols: Vec<&str> = plain.split_whitespace().collect();
        assert_eq!(cols[3], "2.00", "x gensim: {plain}");
        assert_eq!(cols[5], "1.00", "x plain: {plain}");
    }
}
