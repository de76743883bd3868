//! The `/status` payload a worker serves and the viewer reads: one type, parsed strictly.
//!
//! Both sides live in this repository, so there is one spelling of every field: an unknown
//! field, a missing one or a value of the wrong type is an error naming it, never a guess.
//! Counters the peer server keeps are the one open set (`server`): a name-to-count map, so the
//! server can count a new kind of request without a change here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Largest `/status` body a reader should accept: a status is a few kilobytes.
pub const MAX_STATUS_BYTES: usize = 1 << 20;

/// Everything `GET /status` reports about one running worker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerStatus {
    /// The chain account the worker acts as.
    pub identity: String,
    /// The address its peer server is bound to.
    pub listen: String,
    /// Seconds since the worker started.
    pub uptime_secs: f64,
    /// Training steps done.
    pub step: u64,
    /// Training pairs seen.
    pub examples: u64,
    /// Training pairs per second over the last measuring window.
    pub examples_per_sec: f64,
    /// Steps that failed inside the model (skipped).
    pub failed_steps: u64,
    /// Loss of the first step.
    pub first_loss: Option<f64>,
    /// Mean loss on the node's held-out text when it started training (fresh or restored):
    /// the same pairs every start, so a resumed node shows what its checkpoint kept.
    pub start_held_out_loss: Option<f64>,
    /// Mean loss on the same held-out text at the latest progress log (every
    /// `node.log_every` rounds) or at the end of training: below `start_held_out_loss` while
    /// the node learns what carries to text it did not train on, above it once it overfits.
    #[serde(default)]
    pub held_out_loss: Option<f64>,
    /// Loss of the latest step.
    pub loss: Option<f64>,
    /// Losses of the latest steps, oldest first; the last one is step `step`'s.
    pub loss_tail: Vec<f64>,
    /// The node's attribution to itself (the EMA's share of its own input).
    pub self_attribution: f64,
    /// Half-life, in seconds, of the importance EMA behind the attributions.
    pub attribution_half_life_secs: f64,
    /// The upstream peer slots, in slot order.
    pub peers: Vec<PeerSlot>,
    /// Peers evicted for a while (impostor answers, out-of-range values, another vocabulary).
    pub banned_peers: Vec<BannedPeer>,
    /// Metagraph rows not used as peers at the last refresh, with the reason (address
    /// policy, own address, banned).
    pub refused_peers: Vec<RefusedPeer>,
    /// Fingerprint of the worker's vocabulary: peers must have the same one.
    pub vocab: String,
    /// How long a step currently waits for its peers, in milliseconds.
    pub peer_deadline_ms: f64,
    /// Update fetches from upstream peers that failed.
    pub peer_failures: u64,
    /// Emits the chain accepted.
    pub emits_pushed: u64,
    /// Emit attempts that failed.
    pub emits_failed: u64,
    /// Pushed emits seen in an irreversible block.
    pub emits_confirmed: u64,
    /// Pushed emits a fork or a lost block dropped.
    pub emits_dropped: u64,
    /// Emits pushed again after a drop.
    pub emits_repushed: u64,
    /// Why the last failed emit failed.
    pub last_emit_error: Option<String>,
    /// Edge set of the last accepted emit: `(account, weight in parts per million)`, self first.
    pub last_edges: Vec<(String, u32)>,
    /// The emit interval the last accepted edge set covers.
    pub last_emit_interval: Option<EmitInterval>,
    /// Its stake in base units, as last read from the chain.
    pub stake: Option<u64>,
    /// Whether the worker is shutting down.
    pub stopping: bool,
    /// Whether the worker's training schedule is done (it keeps serving until stopped).
    #[serde(default)]
    pub training_done: bool,
    /// The sparse-update exchange with its peers.
    #[serde(default)]
    pub exchange: ExchangeStatus,
    /// The peer server's request counters, by name.
    #[serde(default)]
    pub server: BTreeMap<String, u64>,
}

/// Counters of a worker's exchange of sparse updates with its upstream peers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeStatus {
    /// Exchange rounds done.
    pub rounds: u64,
    /// Peer updates applied.
    pub applied: u64,
    /// Peer updates refused (malformed, over the bound).
    pub refused: u64,
    /// Peer updates found to be copies (not applied).
    pub copied: u64,
    /// Times a peer's history had moved past what this worker had fetched.
    pub missed: u64,
    /// Row deltas of applied peer updates (either table) scaled down to the row bound.
    #[serde(default)]
    pub clipped: u64,
}

/// One upstream peer slot: who is in it, how it answers, and what it is worth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSlot {
    /// Slot index.
    pub slot: usize,
    /// The peer's account, when the slot is filled.
    pub user: Option<String>,
    /// The `host:port` dialled, when the slot is filled.
    pub address: Option<String>,
    /// Whether the peer is currently asked (not backing off).
    pub healthy: bool,
    /// Successful update fetches.
    pub successes: u64,
    /// Failed update fetches.
    pub failures: u64,
    /// Failed update fetches since the last success.
    pub consecutive_failures: u64,
    /// Rounds it was skipped while backing off.
    pub skipped: u64,
    /// Answers refused for values outside the served range.
    pub out_of_range: u64,
    /// Last failure message.
    pub last_error: Option<String>,
    /// The node's current attribution to this slot's peer.
    pub attribution: f64,
}

/// A peer not picked again until its ban runs out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BannedPeer {
    /// The peer's account.
    pub user: String,
    /// Why it was evicted.
    pub reason: String,
    /// Seconds until it may be picked again.
    pub secs_left: u64,
}

/// A metagraph row the worker does not dial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusedPeer {
    /// The row's account.
    pub user: String,
    /// Why it is not used.
    pub reason: String,
}

/// The stretch of training one posted edge set covers: from the previous accepted emit to this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmitInterval {
    /// Unix time, in milliseconds, when the edge set was taken.
    pub ended_unix_ms: u64,
    /// Seconds since the previous accepted emit (or since training started).
    pub secs: f64,
    /// Training steps inside the interval.
    pub steps: u64,
    /// Mean importance share per input over the interval's steps: self first, then each slot.
    pub mean_importance: Vec<f64>,
    /// The share of the posted EMA that comes from this interval: `1 - 2^(-secs / half-life)`.
    pub weight_in_posted: f64,
}

/// Why a `/status` body was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusError(pub String);

impl std::fmt::Display for StatusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad worker status: {}", self.0)
    }
}

impl std::error::Error for StatusError {}

impl WorkerStatus {
    /// Parses a `/status` body strictly: size-capped, every field present and known, and the
    /// figures a reader draws (losses, attributions) finite.
    pub fn parse(body: &[u8]) -> Result<WorkerStatus, StatusError> {
        if body.len() > MAX_STATUS_BYTES {
            return Err(StatusError(format!(
                "{} bytes, more than the {MAX_STATUS_BYTES} allowed",
                body.len()
            )));
        }
        let status: WorkerStatus =
            serde_json::from_slice(body).map_err(|e| StatusError(e.to_string()))?;
        status.check()?;
        Ok(status)
    }

    /// The checks serde cannot express: figures finite, attributions in `[0, 1]`, slots in order.
    pub fn check(&self) -> Result<(), StatusError> {
        let bad = |m: String| Err(StatusError(m));
        let finite = [
            self.uptime_secs,
            self.examples_per_sec,
            self.attribution_half_life_secs,
            self.peer_deadline_ms,
        ]
        .into_iter()
        .chain(self.loss)
        .chain(self.first_loss)
        .chain(self.start_held_out_loss)
        .chain(self.held_out_loss)
        .chain(self.loss_tail.iter().copied())
        .all(f64::is_finite);
        if !finite {
            return bad("a loss, rate or time is not a finite number".into());
        }
        if self.loss_tail.len() as u64 > self.step {
            return bad(format!(
                "{} losses in loss_tail after {} steps",
                self.loss_tail.len(),
                self.step
            ));
        }
        // Shares are computed in floating point: a last-bit excess over 1 is rounding, not a lie.
        let unit = |v: f64| v.is_finite() && (0.0..=1.0 + 1e-9).contains(&v);
        if !unit(self.self_attribution) {
            return bad(format!(
                "self_attribution {} is outside [0, 1]",
                self.self_attribution
            ));
        }
        for (i, p) in self.peers.iter().enumerate() {
            if p.slot != i {
                return bad(format!("peer slot {} listed at position {i}", p.slot));
            }
            if !unit(p.attribution) {
                return bad(format!(
                    "slot {i} attribution {} is outside [0, 1]",
                    p.attribution
                ));
            }
        }
        if let Some(w) = &self.last_emit_interval {
            let in_range = w.secs.is_finite()
                && w.secs >= 0.0
                && unit(w.weight_in_posted)
                && w.mean_importance.iter().copied().all(unit);
            if !in_range {
                return bad("last_emit_interval has an out-of-range figure".into());
            }
        }
        Ok(())
    }

    /// `(step, loss)` points of the loss tail: the last loss is at `step`.
    pub fn loss_points(&self) -> Vec<(u64, f64)> {
        let first = (self.step + 1).saturating_sub(self.loss_tail.len() as u64);
        self.loss_tail
            .iter()
            .enumerate()
            .map(|(i, l)| (first + i as u64, *l))
            .collect()
    }

    /// The attribution of every account the worker scores: itself first, then each filled slot.
    pub fn attributions(&self) -> Vec<(String, f64)> {
        std::iter::once((self.identity.clone(), self.self_attribution))
            .chain(
                self.peers
                    .iter()
                    .filter_map(|p| Some((p.user.clone()?, p.attribution))),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A status as a worker with two slots (one empty) serves it.
    pub fn sample() -> WorkerStatus {
        WorkerStatus {
            identity: "alice".into(),
            listen: "127.0.0.1:7001".into(),
            uptime_secs: 12.5,
            step: 12,
            examples: 1200,
            examples_per_sec: 96.0,
            failed_steps: 0,
            first_loss: Some(5.5),
            start_held_out_loss: Some(5.6),
            held_out_loss: Some(4.2),
            loss: Some(4.0),
            loss_tail: vec![5.0, 4.5, 4.0],
            self_attribution: 0.5,
            attribution_half_life_secs: 2.0,
            peers: vec![
                PeerSlot {
                    slot: 0,
                    user: Some("bob".into()),
                    address: Some("127.0.0.1:7002".into()),
                    healthy: true,
                    successes: 12,
                    failures: 0,
                    consecutive_failures: 0,
                    skipped: 0,
                    out_of_range: 0,
                    last_error: None,
                    attribution: 0.5,
                },
                PeerSlot {
                    slot: 1,
                    user: None,
                    address: None,
                    healthy: true,
                    successes: 0,
                    failures: 0,
                    consecutive_failures: 0,
                    skipped: 0,
                    out_of_range: 0,
                    last_error: None,
                    attribution: 0.0,
                },
            ],
            banned_peers: vec![BannedPeer {
                user: "mallory".into(),
                reason: "answer signed by alice, not by mallory".into(),
                secs_left: 60,
            }],
            refused_peers: vec![RefusedPeer {
                user: "carol".into(),
                reason: "10.0.0.1 is a private-range address".into(),
            }],
            vocab: "00112233445566778899aabbccddeeff".into(),
            peer_deadline_ms: 25.0,
            peer_failures: 0,
            emits_pushed: 2,
            emits_failed: 0,
            emits_confirmed: 1,
            emits_dropped: 0,
            emits_repushed: 0,
            last_emit_error: None,
            last_edges: vec![("alice".into(), 500_000), ("bob".into(), 500_000)],
            last_emit_interval: Some(EmitInterval {
                ended_unix_ms: 1_700_000_000_000,
                secs: 1.0,
                steps: 6,
                mean_importance: vec![0.5, 0.5, 0.0],
                weight_in_posted: 0.29,
            }),
            stake: Some(100_000),
            stopping: false,
            training_done: false,
            exchange: ExchangeStatus::default(),
            server: BTreeMap::from([("forward_served".to_string(), 3)]),
        }
    }

    fn with(edit: impl FnOnce(&mut serde_json::Value)) -> Result<WorkerStatus, StatusError> {
        let mut doc = serde_json::to_value(sample()).unwrap();
        edit(&mut doc);
        WorkerStatus::parse(doc.to_string().as_bytes())
    }

    #[test]
    fn round_trips() {
        let text = serde_json::to_vec(&sample()).unwrap();
        assert_eq!(WorkerStatus::parse(&text).unwrap(), sample());
    }

    #[test]
    fn unknown_missing_and_mistyped_fields_are_refused_by_name() {
        let e = with(|d| d["attributions"] = serde_json::json!([0.5, 0.5])).unwrap_err();
        assert!(e.0.contains("unknown field `attributions`"), "{e}");
        let e = with(|d| {
            d.as_object_mut().unwrap().remove("step");
        })
        .unwrap_err();
        assert!(e.0.contains("missing field `step`"), "{e}");
        let e = with(|d| d["step"] = "12".into()).unwrap_err();
        assert!(e.0.contains("invalid type"), "{e}");
        let e = with(|d| d["peers"][0]["weight"] = 0.5.into()).unwrap_err();
        assert!(e.0.contains("unknown field `weight`"), "{e}");
        assert!(WorkerStatus::parse(b"[1, 2]").is_err());
        assert!(WorkerStatus::parse(b"").is_err());
    }

    #[test]
    fn out_of_range_figures_are_refused() {
        // serde_json writes NaN as null: a non-finite loss in the tail cannot pass as a number.
        assert!(with(|d| d["loss_tail"][1] = serde_json::Value::Null).is_err());
        let e = with(|d| d["self_attribution"] = 1e30.into()).unwrap_err();
        assert!(e.0.contains("outside [0, 1]"), "{e}");
        assert!(with(|d| d["peers"][1]["attribution"] = (-0.1).into()).is_err());
        assert!(with(|d| d["peers"][1]["slot"] = 7.into()).is_err());
        assert!(with(|d| d["last_emit_interval"]["weight_in_posted"] = 2.into()).is_err());
        let huge = vec![b' '; MAX_STATUS_BYTES + 1];
        assert!(WorkerStatus::parse(&huge).unwrap_err().0.contains("bytes"));
    }

    #[test]
    fn server_counters_are_an_open_set_of_counts() {
        let s = with(|d| d["server"]["unauthorized"] = 4.into()).unwrap();
        assert_eq!(s.server["unauthorized"], 4);
        assert!(with(|d| d["server"]["unauthorized"] = "four".into()).is_err());
        let s = with(|d| {
            d.as_object_mut().unwrap().remove("server");
        })
        .unwrap();
        assert!(s.server.is_empty());
    }

    #[test]
    fn loss_points_end_at_the_step_and_attributions_name_filled_slots() {
        let s = sample();
        assert_eq!(s.loss_points(), vec![(10, 5.0), (11, 4.5), (12, 4.0)]);
        assert_eq!(
            s.attributions(),
            vec![("alice".to_string(), 0.5), ("bob".to_string(), 0.5)]
        );
        assert!(with(|d| d["step"] = 2.into())
            .unwrap_err()
            .0
            .contains("loss_tail"));
    }
}
