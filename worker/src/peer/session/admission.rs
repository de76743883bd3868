//! The checks a server makes before any key work, so forged handshakes cost a token-bucket
//! lookup and nothing else: handshakes per source address (an IPv6 caller counts by its /64,
//! which is what one host usually gets), handshakes in flight, and verified sessions per
//! account. All state is bounded; a flood from one address spends only that address's
//! budget, never an honest peer's.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::peer::ratelimit::RateLimiter;
use crate::sync::lock;

/// Limits of the admission checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdmissionLimits {
    /// Handshakes per second per source address.
    pub handshake_rate: f64,
    /// Burst of handshakes per source address.
    pub handshake_burst: f64,
    /// Handshakes in progress at once (all addresses).
    pub handshakes_in_flight: usize,
    /// Verified sessions one account may hold open at once.
    pub sessions_per_account: usize,
}

impl Default for AdmissionLimits {
    fn default() -> Self {
        AdmissionLimits {
            handshake_rate: 5.0,
            handshake_burst: 20.0,
            handshakes_in_flight: 64,
            sessions_per_account: 4,
        }
    }
}

/// The address a handshake budget is charged to.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut o = v6.octets();
            o[8..].fill(0);
            IpAddr::V6(o.into())
        }
        v4 => v4,
    }
}

/// Admission state shared by all connections.
pub struct Admission {
    limits: AdmissionLimits,
    per_address: RateLimiter<IpAddr>,
    in_flight: Arc<AtomicUsize>,
    sessions: Mutex<HashMap<String, usize>>,
}

/// A handshake slot; dropping it frees the slot.
pub struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A verified session counted against its account; dropping it frees the slot.
pub struct SessionSlot {
    admission: Arc<Admission>,
    account: String,
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut s = lock(&self.admission.sessions);
        if let Some(n) = s.get_mut(&self.account) {
            *n -= 1;
            if *n == 0 {
                s.remove(&self.account);
            }
        }
    }
}

impl Admission {
    /// Admission under `limits`.
    pub fn new(limits: AdmissionLimits) -> Self {
        Admission {
            limits,
            per_address: RateLimiter::new(limits.handshake_rate, limits.handshake_burst),
            in_flight: Arc::new(AtomicUsize::new(0)),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a handshake from `ip` at `now`, or says why not (before reading a byte of it).
    pub fn handshake(&self, ip: IpAddr, now: Instant) -> Result<InFlight, String> {
        if !self.per_address.allow(&address_key(ip), now) {
            return Err(format!(
                "too many handshakes from {ip} (at most {}/s); retry later",
                self.limits.handshake_rate
            ));
        }
        let before = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let slot = InFlight(self.in_flight.clone());
        if before >= self.limits.handshakes_in_flight {
            return Err("too many handshakes in progress; retry later".into());
        }
        Ok(slot)
    }

    /// Whether `account` may open one more session (checked before the signature work).
    pub fn has_room(&self, account: &str) -> bool {
        lock(&self.sessions).get(account).copied().unwrap_or(0) < self.limits.sessions_per_account
    }

    /// Counts a verified session of `account`, if it still has room.
    pub fn open(self: &Arc<Self>, account: &str) -> Option<SessionSlot> {
        let mut s = lock(&self.sessions);
        let n = s.entry(account.to_string()).or_insert(0);
        if *n >= self.limits.sessions_per_account {
            return None;
        }
        *n += 1;
        Some(SessionSlot {
            admission: self.clone(),
            account: account.to_string(),
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> AdmissionLimits {
        self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_spends_only_its_own_budget() {
        let a = Admission::new(AdmissionLimits {
            handshake_rate: 0.0,
            handshake_burst: 3.0,
            ..AdmissionLimits::default()
        });
        let now = Instant::now();
        let flood: IpAddr = "127.0.0.2".parse().unwrap();
        let honest: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            drop(a.handshake(flood, now).unwrap());
        }
        assert!(a.handshake(flood, now).is_err());
        assert!(a.handshake(honest, now).is_ok());
        // One IPv6 host is one /64.
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::ffff".parse().unwrap();
        assert_eq!(address_key(v6a), address_key(v6b));
    }

    #[test]
    fn sessions_per_account_are_capped_and_freed() {
        let a = Arc::new(Admission::new(AdmissionLimits {
            sessions_per_account: 2,
            ..AdmissionLimits::default()
        }));
        let s1 = a.open("bob").unwrap();
        let _s2 = a.open("bob").unwrap();
        assert!(!a.has_room("bob") && a.open("bob").is_none());
        assert!(a.has_room("carol"));
        drop(s1);
        assert!(a.has_room("bob"));
    }

    #[test]
    fn handshakes_in_flight_are_capped() {
        let a = Admission::new(AdmissionLimits {
            handshakes_in_flight: 1,
            ..AdmissionLimits::default()
        });
        let now = Instant::now();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let held = a.handshake(ip, now).unwrap();
        assert!(a.handshake(ip, now).is_err());
        drop(held);
        assert!(a.handshake(ip, now).is_ok());
    }
}
