//! A worker's `/status` JSON, read leniently: the worker's format may grow, so unknown fields
//! are ignored, missing ones stay empty, and several plausible spellings are accepted.

use serde::Serialize;
use serde_json::{Map, Value};

/// How much a worker values one peer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    /// The peer's account.
    pub peer: String,
    /// The attribution (a weight or score; shown as given).
    pub value: f64,
}

/// What the viewer understood of one worker's status.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkerStatus {
    /// The account the worker says it runs as.
    pub identity: Option<String>,
    /// Training steps done.
    pub step: Option<u64>,
    /// Latest loss.
    pub loss: Option<f64>,
    /// Loss history reported by the worker, as `(step, loss)` points.
    pub loss_history: Vec<(f64, f64)>,
    /// Attributions per peer.
    pub attributions: Vec<Attribution>,
    /// Emits that the chain accepted.
    pub emits_pushed: Option<u64>,
    /// Emits that failed.
    pub emits_failed: Option<u64>,
}

/// Reads a status; only a non-object answer is an error.
pub fn parse_status(value: &Value) -> Result<WorkerStatus, String> {
    let obj = value
        .as_object()
        .ok_or_else(|| "worker status is not a JSON object".to_string())?;
    let identity = first(obj, &["identity", "name", "account", "user"]).and_then(name_of);
    let step = first(obj, &["step", "steps", "batches"]).and_then(number_u64);
    let history = match (
        first(obj, &["loss_history", "losses"]),
        obj.get("loss_tail"),
    ) {
        (Some(v), _) => loss_points(v),
        (None, Some(tail)) => on_steps(loss_points(tail), step),
        (None, None) => obj.get("loss").map(loss_points).unwrap_or_default(),
    };
    let loss = first(obj, &["loss", "last_loss"])
        .and_then(Value::as_f64)
        .filter(|l| l.is_finite())
        .or_else(|| history.last().map(|p| p.1));
    let attributions = peer_attributions(obj, identity.as_deref())
        .or_else(|| first(obj, &["attributions", "attribution"]).map(attributions_of))
        .unwrap_or_default();
    let emits = first(obj, &["emits", "emit"]).and_then(Value::as_object);
    let count = |nested: &str, flat: &[&str]| {
        emits
            .and_then(|e| e.get(nested))
            .or_else(|| first(obj, flat))
            .and_then(number_u64)
    };
    Ok(WorkerStatus {
        identity,
        step,
        loss,
        loss_history: history,
        attributions,
        emits_pushed: count("pushed", &["emits_pushed", "pushed"]),
        emits_failed: count("failed", &["emits_failed", "failed"]),
    })
}

/// The first of several spellings present in `obj`.
fn first<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .find_map(|k| obj.get(*k).filter(|v| !v.is_null()))
}

/// A name given as a string or as an object with a name-like field.
fn name_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => first(o, &["name", "account", "user", "identity"]).and_then(name_of),
        _ => None,
    }
}

/// A non-negative integer given as a number or a string.
fn number_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A finite float given as a number or a string.
fn number_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

/// Loss points from `[l0, l1, ..]`, `[[step, loss], ..]` or `[{step, loss}, ..]`.
fn loss_points(value: &Value) -> Vec<(f64, f64)> {
    let Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            Value::Array(pair) if pair.len() >= 2 => {
                Some((number_f64(&pair[0])?, number_f64(&pair[1])?))
            }
            Value::Object(o) => {
                let x = first(o, &["step", "x", "t", "time"])
                    .and_then(number_f64)
                    .unwrap_or(i as f64);
                Some((x, first(o, &["loss", "value", "y"]).and_then(number_f64)?))
            }
            other => Some((i as f64, number_f64(other)?)),
        })
        .collect()
}

/// A bare tail of the latest losses ends at the current step: places it on the step axis.
fn on_steps(points: Vec<(f64, f64)>, step: Option<u64>) -> Vec<(f64, f64)> {
    let Some(step) = step else {
        return points;
    };
    let first = step as f64 + 1.0 - points.len() as f64;
    points
        .into_iter()
        .enumerate()
        .map(|(i, (_, loss))| (first + i as f64, loss))
        .collect()
}

/// Attributions from the worker's per-peer slots (`peers: [{user, attribution}]`) plus its
/// `self_attribution`; `None` when it reports no such slots.
fn peer_attributions(obj: &Map<String, Value>, identity: Option<&str>) -> Option<Vec<Attribution>> {
    let Value::Array(peers) = obj.get("peers")? else {
        return None;
    };
    let mut out = Vec::with_capacity(peers.len() + 1);
    if let (Some(me), Some(value)) = (identity, obj.get("self_attribution").and_then(number_f64)) {
        out.push(Attribution {
            peer: me.to_string(),
            value,
        });
    }
    out.extend(peers.iter().filter_map(|p| {
        let p = p.as_object()?;
        Some(Attribution {
            peer: first(p, &PEER_KEYS).and_then(name_of)?,
            value: first(p, &VALUE_KEYS).and_then(number_f64)?,
        })
    }));
    (!out.is_empty()).then_some(out)
}

/// Field names a peer's attribution value may go by.
const VALUE_KEYS: [&str; 5] = ["attribution", "value", "weight", "score", "fisher"];
/// Field names a peer's account may go by.
const PEER_KEYS: [&str; 6] = ["peer", "user", "name", "to", "account", "id"];

/// Attributions from `{peer: value}`, `{peer: {value..}}` or `[{peer, value}, ..]`.
fn attributions_of(value: &Value) -> Vec<Attribution> {
    let scalar = |v: &Value| match v {
        Value::Object(o) => first(o, &VALUE_KEYS).and_then(number_f64),
        other => number_f64(other),
    };
    match value {
        Value::Object(map) => map
            .iter()
            .filter_map(|(peer, v)| {
                Some(Attribution {
                    peer: peer.clone(),
                    value: scalar(v)?,
                })
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|item| match item {
                Value::Array(pair) if pair.len() >= 2 => Some(Attribution {
                    peer: name_of(&pair[0])?,
                    value: number_f64(&pair[1])?,
                }),
                Value::Object(o) => Some(Attribution {
                    peer: first(o, &PEER_KEYS).and_then(name_of)?,
                    value: scalar(item)?,
                }),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_full_status() {
        let s = parse_status(&json!({
            "identity": "alice", "step": 120, "loss": 4.5,
            "loss_history": [[0, 6.0], [60, 5.0], [120, 4.5]],
            "attributions": {"bob": 0.25, "carol": 0.05},
            "emits": {"pushed": 3, "failed": 1},
            "something_new": {"x": 1}
        }))
        .unwrap();
        assert_eq!(s.identity.as_deref(), Some("alice"));
        assert_eq!(s.step, Some(120));
        assert_eq!(s.loss, Some(4.5));
        assert_eq!(s.loss_history.len(), 3);
        assert_eq!(s.loss_history[1], (60.0, 5.0));
        assert_eq!(s.attributions.len(), 2);
        assert_eq!((s.emits_pushed, s.emits_failed), (Some(3), Some(1)));
    }

    #[test]
    fn accepts_other_plausible_shapes() {
        let s = parse_status(&json!({
            "identity": {"account": "bob"}, "step": "7",
            "losses": [3.0, 2.0, {"step": 9, "value": 1.5}, "nan?"],
            "attributions": [{"peer": "alice", "weight": 0.7}, ["carol", 0.3], {"peer": "x"}],
            "emits_pushed": 2
        }))
        .unwrap();
        assert_eq!(s.identity.as_deref(), Some("bob"));
        assert_eq!(s.step, Some(7));
        assert_eq!(s.loss_history, vec![(0.0, 3.0), (1.0, 2.0), (9.0, 1.5)]);
        assert_eq!(s.loss, Some(1.5));
        assert_eq!(
            s.attributions,
            vec![
                Attribution {
                    peer: "alice".into(),
                    value: 0.7
                },
                Attribution {
                    peer: "carol".into(),
                    value: 0.3
                }
            ]
        );
        assert_eq!((s.emits_pushed, s.emits_failed), (Some(2), None));
    }

    #[test]
    fn reads_the_worker_crates_status_shape() {
        // As `bittensor-worker` serves it: a bare loss tail, per-slot peers, flat counters.
        let s = parse_status(&json!({
            "identity": "alice", "step": 12, "loss": 4.0, "loss_tail": [5.0, 4.5, 4.0],
            "self_attribution": 0.5, "attributions": [0.5, 0.3, 0.2],
            "peers": [{"slot": 0, "user": "bob", "attribution": 0.3, "healthy": true},
                      {"slot": 1, "user": null, "attribution": 0.0},
                      {"slot": 2, "user": "carol", "attribution": 0.2}],
            "emits_pushed": 5, "emits_failed": 0
        }))
        .unwrap();
        assert_eq!(s.loss_history, vec![(10.0, 5.0), (11.0, 4.5), (12.0, 4.0)]);
        let peers: Vec<(&str, f64)> = s
            .attributions
            .iter()
            .map(|a| (a.peer.as_str(), a.value))
            .collect();
        assert_eq!(peers, vec![("alice", 0.5), ("bob", 0.3), ("carol", 0.2)]);
        assert_eq!((s.emits_pushed, s.emits_failed), (Some(5), Some(0)));
    }

    #[test]
    fn empty_or_odd_statuses_do_not_fail() {
        assert_eq!(parse_status(&json!({})).unwrap(), WorkerStatus::default());
        let s = parse_status(&json!({"step": -3, "loss": "high", "attributions": 5})).unwrap();
        assert_eq!(s, WorkerStatus::default());
        assert!(parse_status(&json!([1, 2]))
            .unwrap_err()
            .contains("not a JSON object"));
    }
}
