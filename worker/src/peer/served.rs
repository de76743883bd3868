//! Which word-id lists this node recently served to which caller: a gradient is accepted only
//! for embeddings the caller actually received, once, so nobody can push gradients for words
//! of their choosing into the model.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bittensor_protocol::auth::body_hash;

/// Forward answers remembered per caller (the trainer has at most a few in flight).
pub const PER_CALLER: usize = 64;
/// Callers remembered; the longest idle is forgotten beyond.
pub const MAX_CALLERS: usize = 4096;
/// How long a served list may be answered with a gradient.
pub const SERVED_TTL: Duration = Duration::from_secs(30);

type IdsHash = [u8; 32];

fn ids_hash(ids: &[i64]) -> IdsHash {
    let bytes: Vec<u8> = ids.iter().flat_map(|i| i.to_le_bytes()).collect();
    body_hash(&bytes)
}

/// Recent (caller, ids) pairs, bounded per caller and in callers.
#[derive(Default)]
pub struct ServedLog {
    map: Mutex<HashMap<String, VecDeque<(IdsHash, Instant)>>>,
}

impl ServedLog {
    /// Remembers that `ids` were served to `caller` at `now`.
    pub fn record(&self, caller: &str, ids: &[i64], now: Instant) {
        let mut map = crate::node::state::lock(&self.map);
        if map.len() >= MAX_CALLERS && !map.contains_key(caller) {
            if let Some(idle) = map
                .iter()
                .min_by_key(|(_, q)| q.back().map(|(_, t)| *t))
                .map(|(k, _)| k.clone())
            {
                map.remove(&idle);
            }
        }
        let q = map.entry(caller.to_string()).or_default();
        if q.len() >= PER_CALLER {
            q.pop_front();
        }
        q.push_back((ids_hash(ids), now));
    }

    /// Consumes the record of `ids` served to `caller` within [`SERVED_TTL`]; false if none.
    pub fn take(&self, caller: &str, ids: &[i64], now: Instant) -> bool {
        let mut map = crate::node::state::lock(&self.map);
        let Some(q) = map.get_mut(caller) else {
            return false;
        };
        q.retain(|(_, t)| now.saturating_duration_since(*t) < SERVED_TTL);
        let h = ids_hash(ids);
        match q.iter().position(|(x, _)| *x == h) {
            Some(i) => {
                q.remove(i);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gradient_matches_one_recent_answer_to_the_same_caller() {
        let log = ServedLog::default();
        let t = Instant::now();
        log.record("bob", &[1, 2, 3], t);
        assert!(!log.take("eve", &[1, 2, 3], t), "another caller");
        assert!(!log.take("bob", &[1, 2], t), "other ids");
        assert!(log.take("bob", &[1, 2, 3], t));
        assert!(!log.take("bob", &[1, 2, 3], t), "only once");
        log.record("bob", &[4], t);
        assert!(!log.take("bob", &[4], t + SERVED_TTL), "too late");
    }

    #[test]
    fn memory_is_bounded_per_caller() {
        let log = ServedLog::default();
        let t = Instant::now();
        for i in 0..(PER_CALLER as i64 + 10) {
            log.record("bob", &[i], t);
        }
        assert!(!log.take("bob", &[0], t), "the oldest was dropped");
        assert!(log.take("bob", &[PER_CALLER as i64 + 9], t));
    }
}
