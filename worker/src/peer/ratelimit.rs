//! Token buckets per caller (a verified account per message kind, or a source address for
//! handshakes), so one caller cannot drown the node's own training; the map is bounded.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

/// Largest number of callers tracked; beyond it full buckets are forgotten first, then the
/// longest idle one.
pub const MAX_TRACKED: usize = 4096;

/// One caller's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Per-caller token buckets refilled at `rate` tokens/s up to `burst`, at most `capacity` callers.
#[derive(Debug)]
pub struct RateLimiter<K = String> {
    rate: f64,
    burst: f64,
    capacity: usize,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// Allows `rate` requests per second per caller, with bursts up to `burst`.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self::with_capacity(rate, burst, MAX_TRACKED)
    }

    /// As [`new`](Self::new), tracking at most `capacity` callers.
    pub fn with_capacity(rate: f64, burst: f64, capacity: usize) -> Self {
        RateLimiter {
            rate: rate.max(0.0),
            burst: burst.max(1.0),
            capacity: capacity.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Callers currently tracked.
    pub fn tracked(&self) -> usize {
        crate::sync::lock(&self.buckets).len()
    }

    /// Takes one token for `caller` at time `now`; false means answer 429.
    pub fn allow(&self, caller: &K, now: Instant) -> bool {
        let mut buckets = crate::sync::lock(&self.buckets);
        if buckets.len() >= self.capacity && !buckets.contains_key(caller) {
            let (burst, rate) = (self.burst, self.rate);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst
            });
            if buckets.len() >= self.capacity {
                if let Some(idle) = buckets
                    .iter()
                    .min_by_key(|(_, b)| b.last)
                    .map(|(k, _)| k.clone())
                {
                    buckets.remove(&idle);
                }
            }
        }
        let bucket = buckets.entry(caller.clone()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills_per_caller() {
        let l = RateLimiter::new(2.0, 3.0);
        let (a, b) = ("alice".to_string(), "bob".to_string());
        let t0 = Instant::now();
        assert!((0..3).all(|_| l.allow(&a, t0)));
        assert!(!l.allow(&a, t0));
        assert!(l.allow(&b, t0), "another caller has its own bucket");
        assert!(!l.allow(&a, t0 + Duration::from_millis(400)));
        assert!(l.allow(&a, t0 + Duration::from_millis(500)));
        assert!(!l.allow(&a, t0 + Duration::from_millis(500)));
        let later = t0 + Duration::from_secs(100);
        assert!((0..3).all(|_| l.allow(&a, later)));
        assert!(!l.allow(&a, later));
    }

    #[test]
    fn the_map_stays_bounded_when_every_bucket_is_busy() {
        let l = RateLimiter::with_capacity(0.001, 2.0, 8);
        let t0 = Instant::now();
        for i in 0..100u32 {
            assert!(l.allow(&i, t0));
            assert!(l.tracked() <= 8);
        }
        // A drained caller stays limited while it is tracked.
        let busy = 1000u32;
        assert!(l.allow(&busy, t0) && l.allow(&busy, t0));
        assert!(!l.allow(&busy, t0));
    }
}
