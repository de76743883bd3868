//! Attribution: an exponential moving average of the model's per-input importance (self
//! first, then one value per upstream peer slot), turned into the fixed-point edge set
//! the contract's `emit` accepts.

use emission::edges::to_fixed;
use emission::fixed::{MIN_SELF_WEIGHT, WEIGHT_ONE};
use emission::{Edge, EdgeError};

/// Slack above the contract's minimum self weight, so that rounding the other edges to
/// parts per million can never push the self edge below the minimum.
const SELF_MARGIN_PPM: f64 = 64.0;

/// Running EMA of importance per input: index 0 is the node itself, 1..=k the peer slots.
#[derive(Debug, Clone)]
pub struct Attribution {
    ema: Vec<f64>,
    decay: f64,
    seen: bool,
}

impl Attribution {
    /// Starts with all weight on self (the contract's initial edge set) for `peers` slots.
    pub fn new(peers: usize, decay: f64) -> Self {
        let mut ema = vec![0.0; peers + 1];
        ema[0] = 1.0;
        Attribution {
            ema,
            decay: decay.clamp(0.0, 1.0),
            seen: false,
        }
    }

    /// Folds one step's importance in; bad values (negative, NaN, wrong length) are ignored.
    pub fn update(&mut self, importance: &[f64]) {
        if importance.len() != self.ema.len() || importance.iter().any(|v| !v.is_finite()) {
            return;
        }
        let total: f64 = importance.iter().map(|v| v.max(0.0)).sum();
        if total <= 0.0 {
            return;
        }
        for (e, v) in self.ema.iter_mut().zip(importance) {
            let share = v.max(0.0) / total;
            *e = if self.seen {
                self.decay * *e + (1.0 - self.decay) * share
            } else {
                share
            };
        }
        self.seen = true;
    }

    /// Forgets a slot's history when a different peer takes it over.
    pub fn reset_slot(&mut self, slot: usize) {
        if let Some(e) = self.ema.get_mut(slot + 1) {
            *e = 0.0;
        }
    }

    /// The current EMA values, self first (for status reports).
    pub fn values(&self) -> &[f64] {
        &self.ema
    }

    /// Builds the edge set for `emit`: self first, then each slot's peer that `is_subscribed`
    /// accepts; dropped slots' weight returns to the mix by renormalisation, the self weight
    /// is clamped to at least the contract minimum, and the sum is exactly `WEIGHT_ONE`.
    pub fn edges<Id: Clone + PartialEq>(
        &self,
        me: &Id,
        slots: &[Option<Id>],
        mut is_subscribed: impl FnMut(&Id) -> bool,
    ) -> Result<Vec<Edge<Id>>, EdgeError> {
        let mut pairs: Vec<(Id, f64)> = vec![(me.clone(), self.ema[0].max(0.0))];
        for (slot, peer) in slots.iter().enumerate() {
            let Some(peer) = peer else { continue };
            let w = self.ema.get(slot + 1).copied().unwrap_or(0.0);
            if peer == me || pairs.iter().any(|(p, _)| p == peer) || !is_subscribed(peer) {
                continue;
            }
            pairs.push((peer.clone(), w.max(0.0)));
        }
        let sum: f64 = pairs.iter().map(|(_, w)| w).sum();
        if !sum.is_finite() || sum <= 0.0 {
            return to_fixed(me, &[(me.clone(), 1.0)], 0.0, |_| true);
        }
        for (_, w) in pairs.iter_mut() {
            *w /= sum;
        }
        let min_self = (MIN_SELF_WEIGHT as f64 + SELF_MARGIN_PPM) / WEIGHT_ONE as f64;
        if pairs[0].1 < min_self {
            let others = 1.0 - pairs[0].1;
            let scale = if others > 0.0 {
                (1.0 - min_self) / others
            } else {
                0.0
            };
            for (_, w) in pairs.iter_mut().skip(1) {
                *w *= scale;
            }
            pairs[0].1 = min_self;
        }
        // Edges that would round to zero carry nothing: leave them out.
        let unit = 0.5 / WEIGHT_ONE as f64;
        let first = pairs.remove(0);
        pairs.retain(|(_, w)| *w >= unit);
        pairs.insert(0, first);
        let sum: f64 = pairs.iter().map(|(_, w)| w).sum();
        to_fixed(me, &pairs, 1e-6 + (1.0 - sum).abs(), |id| is_subscribed(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(names: &[&str]) -> Vec<Option<String>> {
        names
            .iter()
            .map(|n| (!n.is_empty()).then(|| n.to_string()))
            .collect()
    }

    fn total(edges: &[Edge<String>]) -> u64 {
        edges.iter().map(|e| e.weight as u64).sum()
    }

    #[test]
    fn fresh_attribution_is_all_self() {
        let a = Attribution::new(2, 0.9);
        let e = a
            .edges(&"me".to_string(), &slots(&["a", "b"]), |_| true)
            .unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].weight, WEIGHT_ONE);
    }

    #[test]
    fn ema_moves_towards_importance() {
        let mut a = Attribution::new(2, 0.5);
        a.update(&[1.0, 1.0, 2.0]);
        assert_eq!(a.values(), &[0.25, 0.25, 0.5]);
        a.update(&[1.0, 0.0, 0.0]);
        assert_eq!(a.values(), &[0.625, 0.125, 0.25]);
        a.update(&[f64::NAN, 1.0, 1.0]);
        a.update(&[1.0, 1.0]);
        assert_eq!(a.values(), &[0.625, 0.125, 0.25]);
    }

    #[test]
    fn edges_sum_exactly_and_follow_the_ema() {
        let mut a = Attribution::new(3, 0.0);
        a.update(&[0.3, 0.1, 0.2, 0.4]);
        let me = "me".to_string();
        let e = a.edges(&me, &slots(&["a", "b", "c"]), |_| true).unwrap();
        assert_eq!(total(&e), WEIGHT_ONE as u64);
        assert_eq!(e[0].to, "me");
        let w: Vec<u32> = e.iter().map(|e| e.weight).collect();
        assert_eq!(w, vec![300_000, 100_000, 200_000, 400_000]);
    }

    #[test]
    fn unsubscribed_and_empty_slots_are_dropped() {
        let mut a = Attribution::new(3, 0.0);
        a.update(&[0.25, 0.25, 0.25, 0.25]);
        let me = "me".to_string();
        let e = a
            .edges(&me, &slots(&["a", "", "gone"]), |id| id != "gone")
            .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].to, "a");
        assert_eq!(total(&e), WEIGHT_ONE as u64);
        assert_eq!(e[0].weight, 500_000);
    }

    #[test]
    fn self_weight_is_clamped_to_the_minimum() {
        let mut a = Attribution::new(2, 0.0);
        a.update(&[0.0, 1.0, 3.0]);
        let me = "me".to_string();
        let e = a.edges(&me, &slots(&["a", "b"]), |_| true).unwrap();
        assert!(e[0].weight >= MIN_SELF_WEIGHT);
        assert_eq!(total(&e), WEIGHT_ONE as u64);
        // The peers keep their relative order of importance.
        assert!(e[2].weight > 2 * e[1].weight);
        emission::edges::validate_fixed(&me, &e, |_| true).unwrap();
    }

    #[test]
    fn many_tiny_edges_still_validate() {
        let k = 63;
        let mut a = Attribution::new(k, 0.0);
        let mut imp = vec![1.0; k + 1];
        imp[0] = 0.0;
        a.update(&imp);
        let names: Vec<Option<String>> = (0..k).map(|i| Some(format!("p{i}"))).collect();
        let me = "me".to_string();
        let e = a.edges(&me, &names, |_| true).unwrap();
        assert_eq!(e.len(), k + 1);
        emission::edges::validate_fixed(&me, &e, |_| true).unwrap();
    }

    #[test]
    fn reset_slot_forgets_history() {
        let mut a = Attribution::new(2, 0.0);
        a.update(&[0.2, 0.4, 0.4]);
        a.reset_slot(0);
        assert_eq!(a.values(), &[0.2, 0.0, 0.4]);
        a.reset_slot(5);
        assert_eq!(a.values().len(), 3);
    }
}
