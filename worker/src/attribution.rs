//! Attribution: an exponential moving average over time (a half-life in seconds, not a
//! number of steps) of the model's per-input importance (self first, then one value per
//! upstream peer slot), turned into the fixed-point edge set the contract's `emit` accepts.
//! It also keeps the emit interval under way, so that `/status` can say what the last posted
//! edge set covers: how long, how many steps, the interval's own mean importance, and how
//! much of the posted EMA came from it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bittensor_protocol::status::EmitInterval;
use emission::edges::to_fixed;
use emission::fixed::{MIN_SELF_WEIGHT, WEIGHT_ONE};
use emission::{Edge, EdgeError};

/// Slack above the contract's minimum self weight, so that rounding the other edges to
/// parts per million can never push the self edge below the minimum.
const SELF_MARGIN_PPM: f64 = 64.0;

/// The steps folded in since the last accepted emit.
#[derive(Debug, Clone)]
struct Interval {
    started: Instant,
    steps: u64,
    share_sums: Vec<f64>,
    /// What the EMA kept of its value from before the interval: the product of `1 - alpha`.
    carry: f64,
}

/// Running EMA of importance per input: index 0 is the node itself, 1..=k the peer slots.
#[derive(Debug, Clone)]
pub struct Attribution {
    ema: Vec<f64>,
    half_life_secs: f64,
    last_update: Option<Instant>,
    interval: Interval,
    last_interval: Option<EmitInterval>,
}

/// The share of an EMA with half-life `half_life` that an update `dt` later carries:
/// `1 - 2^(-dt / half_life)`; a half-life of zero keeps only the latest update.
pub fn weight_of(dt: Duration, half_life_secs: f64) -> f64 {
    if half_life_secs <= 0.0 {
        return 1.0;
    }
    1.0 - (-dt.as_secs_f64() / half_life_secs).exp2()
}

impl Attribution {
    /// Starts with all weight on self (the contract's initial edge set) for `peers` slots;
    /// importance half-life `half_life_secs` (0 = the latest step only; negative or
    /// non-finite values count as 0).
    pub fn new(peers: usize, half_life_secs: f64) -> Self {
        Self::new_at(peers, half_life_secs, Instant::now())
    }

    /// [`Attribution::new`] with the first emit interval starting at `now`.
    pub fn new_at(peers: usize, half_life_secs: f64, now: Instant) -> Self {
        let mut ema = vec![0.0; peers + 1];
        ema[0] = 1.0;
        Attribution {
            ema,
            half_life_secs: if half_life_secs.is_finite() {
                half_life_secs.max(0.0)
            } else {
                0.0
            },
            last_update: None,
            interval: Interval {
                started: now,
                steps: 0,
                share_sums: vec![0.0; peers + 1],
                carry: 1.0,
            },
            last_interval: None,
        }
    }

    /// The EMA's half-life in seconds.
    pub fn half_life_secs(&self) -> f64 {
        self.half_life_secs
    }

    /// Folds one step's importance in now; see [`Attribution::update_at`].
    pub fn update(&mut self, importance: &[f64]) {
        self.update_at(importance, Instant::now());
    }

    /// Folds one step's importance in at time `now`: its shares move the EMA by the weight the
    /// time since the previous step carries, so a burst of fast steps counts no more than one
    /// slow step over the same seconds. Bad values (non-finite, wrong length, all zero) are
    /// ignored; negative ones count as zero.
    pub fn update_at(&mut self, importance: &[f64], now: Instant) {
        if importance.len() != self.ema.len() || importance.iter().any(|v| !v.is_finite()) {
            return;
        }
        let total: f64 = importance.iter().map(|v| v.max(0.0)).sum();
        if total <= 0.0 {
            return;
        }
        let alpha = match self.last_update {
            Some(last) => weight_of(now.saturating_duration_since(last), self.half_life_secs),
            None => 1.0,
        };
        for (i, v) in importance.iter().enumerate() {
            let share = v.max(0.0) / total;
            self.ema[i] = ((1.0 - alpha) * self.ema[i] + alpha * share).clamp(0.0, 1.0);
            self.interval.share_sums[i] += share;
        }
        self.interval.steps += 1;
        self.interval.carry *= 1.0 - alpha;
        self.last_update = Some(now);
    }

    /// Forgets a slot's history when a different peer takes it over.
    pub fn reset_slot(&mut self, slot: usize) {
        if let Some(e) = self.ema.get_mut(slot + 1) {
            *e = 0.0;
            self.interval.share_sums[slot + 1] = 0.0;
        }
    }

    /// The current EMA values, self first (for status reports).
    pub fn values(&self) -> &[f64] {
        &self.ema
    }

    /// The interval the last accepted emit covered, once there was one.
    pub fn last_interval(&self) -> Option<&EmitInterval> {
        self.last_interval.as_ref()
    }

    /// Records that the edge set built from `posted` (a clone taken at `taken`) was accepted:
    /// the steps it covered close the interval, and later steps start the next one. A failed
    /// emit calls nothing, so its steps stay in the interval of the next successful one.
    pub fn emitted(&mut self, posted: &Attribution, taken: Instant) {
        let p = &posted.interval;
        let secs = taken.saturating_duration_since(p.started).as_secs_f64();
        let steps = p.steps.min(self.interval.steps);
        let mean_importance = p
            .share_sums
            .iter()
            .map(|s| {
                if p.steps == 0 {
                    0.0
                } else {
                    (s / p.steps as f64).clamp(0.0, 1.0)
                }
            })
            .collect();
        for (mine, theirs) in self.interval.share_sums.iter_mut().zip(&p.share_sums) {
            *mine = (*mine - theirs).max(0.0);
        }
        self.interval.steps -= steps;
        self.interval.started = taken;
        // The steps folded in after `taken` (one chain round trip) start the next interval.
        self.interval.carry = if p.carry > 0.0 {
            (self.interval.carry / p.carry).min(1.0)
        } else {
            1.0
        };
        self.last_interval = Some(EmitInterval {
            ended_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            secs,
            steps: p.steps,
            mean_importance,
            weight_in_posted: (1.0 - p.carry).clamp(0.0, 1.0),
        });
    }

    /// Builds the edge set for `emit`: self first, then each slot's peer that `is_subscribed`
    /// accepts; dropped slots' weight returns to the mix by renormalisation, the self weight
    /// is clamped between the contract minimum and the network's `max_self` (parts per
    /// million; the excess goes to the peers by their weights, equally if none has any), and
    /// the sum is exactly `WEIGHT_ONE`. With a cap below one and no peer to give the rest to,
    /// `EdgeError::SelfWeightTooLarge`.
    pub fn edges<Id: Clone + PartialEq>(
        &self,
        me: &Id,
        slots: &[Option<Id>],
        max_self: u32,
        is_subscribed: impl FnMut(&Id) -> bool,
    ) -> Result<Vec<Edge<Id>>, EdgeError> {
        self.edges_discounted(me, slots, max_self, is_subscribed, |_| 1.0)
    }

    /// [`Attribution::edges`] with each peer's attribution first scaled by `discount` (in
    /// `[0, 1]`; what a discount takes is shared by the rest, self included, before the cap;
    /// a node that values no peer gives what the cap sends out in proportion to discounts).
    pub fn edges_discounted<Id: Clone + PartialEq>(
        &self,
        me: &Id,
        slots: &[Option<Id>],
        max_self: u32,
        mut is_subscribed: impl FnMut(&Id) -> bool,
        mut discount: impl FnMut(&Id) -> f64,
    ) -> Result<Vec<Edge<Id>>, EdgeError> {
        let mut pairs: Vec<(Id, f64)> = vec![(me.clone(), self.ema[0].max(0.0))];
        // Each peer's discount, also for the share given without any attribution.
        let mut factors: Vec<f64> = Vec::new();
        for (slot, peer) in slots.iter().enumerate() {
            let Some(peer) = peer else { continue };
            let w = self.ema.get(slot + 1).copied().unwrap_or(0.0);
            if peer == me || pairs.iter().any(|(p, _)| p == peer) || !is_subscribed(peer) {
                continue;
            }
            let f = discount(peer);
            let f = if f.is_finite() {
                f.clamp(0.0, 1.0)
            } else {
                1.0
            };
            pairs.push((peer.clone(), w.max(0.0) * f));
            factors.push(f);
        }
        let sum: f64 = pairs.iter().map(|(_, w)| w).sum();
        let max_self = max_self.clamp(MIN_SELF_WEIGHT, WEIGHT_ONE);
        if !sum.is_finite() || sum <= 0.0 {
            pairs[0].1 = 1.0;
            for (_, w) in pairs.iter_mut().skip(1) {
                *w = 0.0;
            }
        } else {
            for (_, w) in pairs.iter_mut() {
                *w /= sum;
            }
        }
        if max_self < WEIGHT_ONE {
            let max = (max_self as f64 - SELF_MARGIN_PPM) / WEIGHT_ONE as f64;
            if pairs[0].1 > max {
                if pairs.len() == 1 {
                    return Err(EdgeError::SelfWeightTooLarge {
                        weight: WEIGHT_ONE,
                        max: max_self,
                    });
                }
                let others: f64 = pairs.iter().skip(1).map(|(_, w)| w).sum();
                // No peer valued: the rest by discount (equally if every peer is discounted).
                let total_factor: f64 = factors.iter().sum();
                let n = (pairs.len() - 1) as f64;
                for ((_, w), f) in pairs.iter_mut().skip(1).zip(&factors) {
                    *w = if others > 0.0 {
                        *w * (1.0 - max) / others
                    } else if total_factor > 0.0 {
                        (1.0 - max) * f / total_factor
                    } else {
                        (1.0 - max) / n
                    };
                }
                pairs[0].1 = max;
            }
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
            .edges(&"me".to_string(), &slots(&["a", "b"]), WEIGHT_ONE, |_| true)
            .unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].weight, WEIGHT_ONE);
    }

    #[test]
    fn ema_moves_towards_importance() {
        let t0 = Instant::now();
        let mut a = Attribution::new_at(2, 1.0, t0);
        a.update_at(&[1.0, 1.0, 2.0], t0);
        assert_eq!(a.values(), &[0.25, 0.25, 0.5]);
        // One half-life later the EMA has moved half way.
        a.update_at(&[1.0, 0.0, 0.0], t0 + Duration::from_secs(1));
        assert_eq!(a.values(), &[0.625, 0.125, 0.25]);
        a.update_at(&[f64::NAN, 1.0, 1.0], t0 + Duration::from_secs(2));
        a.update_at(&[1.0, 1.0], t0 + Duration::from_secs(2));
        a.update_at(&[0.0, -1.0, 0.0], t0 + Duration::from_secs(2));
        assert_eq!(a.values(), &[0.625, 0.125, 0.25]);
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn the_ema_is_over_seconds_not_steps() {
        let t0 = Instant::now();
        let ms = |m: u64| t0 + Duration::from_millis(m);
        let (mut slow, mut fast) = (
            Attribution::new_at(1, 2.0, t0),
            Attribution::new_at(1, 2.0, t0),
        );
        slow.update_at(&[0.0, 1.0], t0);
        fast.update_at(&[0.0, 1.0], t0);
        // One step after a second, or ten steps over the same second: the same EMA.
        slow.update_at(&[1.0, 0.0], ms(1000));
        for i in 1..=10 {
            fast.update_at(&[1.0, 0.0], ms(100 * i));
        }
        assert!(
            close(slow.values(), fast.values()),
            "{:?} vs {:?}",
            slow.values(),
            fast.values()
        );
        let kept = 1.0 - weight_of(Duration::from_secs(1), 2.0);
        assert!(close(slow.values(), &[1.0 - kept, kept]));
        // A zero half-life keeps only the latest step.
        let mut now = Attribution::new_at(1, 0.0, t0);
        now.update_at(&[0.0, 1.0], t0);
        now.update_at(&[3.0, 1.0], ms(1));
        assert_eq!(now.values(), &[0.75, 0.25]);
    }

    #[test]
    fn an_emit_reports_the_interval_it_covers_and_a_failed_one_extends_it() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut a = Attribution::new_at(1, 1.0, t0);
        assert!(a.last_interval().is_none());
        a.update_at(&[1.0, 1.0], at(500));
        a.update_at(&[1.0, 3.0], at(1000));
        let posted = a.clone();
        a.emitted(&posted, at(1000));
        let w = a.last_interval().unwrap().clone();
        assert_eq!((w.steps, w.secs), (2, 1.0));
        assert!(close(&w.mean_importance, &[0.375, 0.625]));
        assert_eq!(
            w.weight_in_posted, 1.0,
            "the first step replaces the initial all-self"
        );

        // Two steps, a failed emit (nothing recorded), two more steps, an accepted emit.
        for ms in [1500, 2000] {
            a.update_at(&[1.0, 0.0], at(ms));
        }
        let _failed = a.clone();
        for ms in [2500, 3000] {
            a.update_at(&[1.0, 0.0], at(ms));
        }
        let posted = a.clone();
        a.emitted(&posted, at(3000));
        let w = a.last_interval().unwrap().clone();
        assert_eq!((w.steps, w.secs), (4, 2.0));
        assert!(close(&w.mean_importance, &[1.0, 0.0]));
        assert!((w.weight_in_posted - 0.75).abs() < 1e-12, "{w:?}");

        // A step that lands while the emit is on its way belongs to the next interval.
        a.update_at(&[0.0, 1.0], at(3500));
        let posted = a.clone();
        a.update_at(&[0.0, 1.0], at(4500));
        a.emitted(&posted, at(4000));
        assert_eq!(a.last_interval().unwrap().steps, 1);
        let posted = a.clone();
        a.emitted(&posted, at(5000));
        let w = a.last_interval().unwrap();
        assert_eq!((w.steps, w.secs), (1, 1.0));
        assert!(close(&w.mean_importance, &[0.0, 1.0]));
        assert!((w.weight_in_posted - weight_of(Duration::from_secs(1), 1.0)).abs() < 1e-12);
    }

    #[test]
    fn edges_sum_exactly_and_follow_the_ema() {
        let mut a = Attribution::new(3, 0.0);
        a.update(&[0.3, 0.1, 0.2, 0.4]);
        let me = "me".to_string();
        let e = a
            .edges(&me, &slots(&["a", "b", "c"]), WEIGHT_ONE, |_| true)
            .unwrap();
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
            .edges(&me, &slots(&["a", "", "gone"]), WEIGHT_ONE, |id| {
                id != "gone"
            })
            .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].to, "a");
        assert_eq!(total(&e), WEIGHT_ONE as u64);
        assert_eq!(e[0].weight, 500_000);
    }

    #[test]
    fn a_discounted_peer_loses_its_credit_to_the_others_and_self_stays_capped() {
        let mut a = Attribution::new(3, 0.0);
        a.update(&[0.1, 0.3, 0.3, 0.3]);
        let me = "me".to_string();
        let names = slots(&["a", "ring", "b"]);
        let half = |id: &String| if id == "ring" { 0.0 } else { 1.0 };
        let e = a
            .edges_discounted(&me, &names, 100_000, |_| true, half)
            .unwrap();
        assert!(e.iter().all(|x| x.to != "ring"), "{e:?}");
        assert_eq!(total(&e), WEIGHT_ONE as u64);
        assert!(e[0].weight <= 100_000, "{e:?}");
        let weight = |to: &str| e.iter().find(|x| x.to == to).map_or(0, |x| x.weight);
        assert!(weight("a") > 400_000 && weight("a") == weight("b"), "{e:?}");
        // A node that values no peer (a fresh one, or one that never trains) gives the rest
        // by discount, so a discounted peer gets nothing of it either.
        let fresh = Attribution::new(3, 0.0);
        let e = fresh
            .edges_discounted(&me, &names, 100_000, |_| true, half)
            .unwrap();
        assert!(e.iter().all(|x| x.to != "ring"), "{e:?}");
        assert_eq!(total(&e), WEIGHT_ONE as u64);
        // A discount that is not a number counts as none.
        let nan = a
            .edges_discounted(&me, &names, 100_000, |_| true, |_| f64::NAN)
            .unwrap();
        assert_eq!(nan, a.edges(&me, &names, 100_000, |_| true).unwrap());
    }

    #[test]
    fn self_weight_is_capped_at_the_networks_maximum() {
        let t0 = Instant::now();
        let mut a = Attribution::new_at(2, 1.0, t0);
        a.update_at(&[0.9, 0.08, 0.02], t0);
        let me = "me".to_string();
        let e = a
            .edges(&me, &slots(&["a", "b"]), 600_000, |_| true)
            .unwrap();
        assert!(e[0].weight <= 600_000, "{}", e[0].weight);
        assert_eq!(total(&e), WEIGHT_ONE as u64);
        // The excess follows the peers' weights (4 : 1).
        let ratio = e[1].weight as f64 / e[2].weight as f64;
        assert!((ratio - 4.0).abs() < 0.01, "{ratio}");
        // Nothing learned yet: the rest is shared equally.
        let fresh = Attribution::new(2, 0.9);
        let e = fresh
            .edges(&me, &slots(&["a", "b"]), 600_000, |_| true)
            .unwrap();
        assert!(e[0].weight <= 600_000);
        assert!(e[1].weight.abs_diff(e[2].weight) <= 1);
        // No peer to give it to: refused, not posted.
        assert!(matches!(
            fresh.edges(&me, &slots(&["", ""]), 600_000, |_| true),
            Err(EdgeError::SelfWeightTooLarge { .. })
        ));
        // No cap: unchanged.
        let e = a
            .edges(&me, &slots(&["a", "b"]), WEIGHT_ONE, |_| true)
            .unwrap();
        assert!(e[0].weight > 800_000);
    }

    #[test]
    fn self_weight_is_clamped_to_the_minimum() {
        let mut a = Attribution::new(2, 0.0);
        a.update(&[0.0, 1.0, 3.0]);
        let me = "me".to_string();
        let e = a
            .edges(&me, &slots(&["a", "b"]), WEIGHT_ONE, |_| true)
            .unwrap();
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
        let e = a.edges(&me, &names, WEIGHT_ONE, |_| true).unwrap();
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
