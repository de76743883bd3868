//! Upstream peers as the training loop sees them: one entry per slot with its health.
//! A slow, dead or garbage-answering peer is skipped for that round, counted, and not
//! asked again until its backoff has passed.

use std::time::{Duration, Instant};

use super::client::PeerError;
use bittensor_protocol::policy::{AddressPolicy, Refusal};

use crate::chain::{Backoff, PeerRow};

/// Health and counters of one upstream peer.
#[derive(Debug, Clone)]
pub struct PeerHealth {
    retry_at: Option<Instant>,
    backoff: Backoff,
    /// Successful forward calls.
    pub successes: u64,
    /// Failed forward calls (timeouts, errors, garbage).
    pub failures: u64,
    /// Steps this peer was skipped because it was marked unhealthy.
    pub skipped: u64,
    /// Failed forward calls since the last success.
    pub consecutive_failures: u64,
    /// Answers rejected for values beyond the accepted range.
    pub out_of_range: u64,
    /// Last failure message.
    pub last_error: Option<String>,
}

impl PeerHealth {
    /// A healthy peer whose retry delays follow `backoff`.
    pub fn new(backoff: Backoff) -> Self {
        PeerHealth {
            retry_at: None,
            backoff,
            successes: 0,
            failures: 0,
            skipped: 0,
            consecutive_failures: 0,
            out_of_range: 0,
            last_error: None,
        }
    }

    /// Whether the peer may be called at `now`.
    pub fn usable(&self, now: Instant) -> bool {
        self.retry_at.is_none_or(|t| now >= t)
    }

    /// Whether the peer is currently marked unhealthy.
    pub fn healthy(&self) -> bool {
        self.retry_at.is_none()
    }

    /// Records a success: healthy again, backoff reset.
    pub fn record_success(&mut self) {
        self.successes += 1;
        self.consecutive_failures = 0;
        self.retry_at = None;
        self.backoff.reset();
    }

    /// Records a failure: unhealthy until the next backoff delay has passed.
    pub fn record_failure(&mut self, now: Instant, error: &PeerError) -> Duration {
        self.failures += 1;
        self.consecutive_failures += 1;
        if matches!(error, PeerError::OutOfRange { .. }) {
            self.out_of_range += 1;
        }
        self.last_error = Some(error.to_string());
        let delay = self.backoff.next_delay();
        self.retry_at = Some(now + delay);
        delay
    }
}

/// One slot: the peer in it (if any) and its health.
#[derive(Debug, Clone)]
pub struct Slot {
    /// The metagraph row of the peer.
    pub peer: PeerRow,
    /// Its health.
    pub health: PeerHealth,
}

impl Slot {
    /// Base URL of the peer's server, if `policy` allows dialling its address.
    pub fn base_url(&self, policy: &AddressPolicy) -> Result<String, Refusal> {
        let addr = policy.resolve(&self.peer.address, self.peer.port)?;
        Ok(format!("http://{addr}"))
    }
}

/// Where one slot's request goes this step.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL of the peer's server.
    pub base: String,
    /// The account the answer must be signed by.
    pub account: String,
    /// False while the peer backs off (skipped this round).
    pub usable: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_and_success_resets() {
        let ms = Duration::from_millis;
        let mut h = PeerHealth::new(Backoff::new(ms(100), ms(400)));
        let t0 = Instant::now();
        assert!(h.usable(t0) && h.healthy());
        let err = PeerError::Timeout(ms(5));
        assert_eq!(h.record_failure(t0, &err), ms(100));
        assert!(!h.usable(t0 + ms(99)));
        assert!(h.usable(t0 + ms(100)));
        assert_eq!(h.record_failure(t0, &err), ms(200));
        assert_eq!(h.failures, 2);
        assert_eq!(h.consecutive_failures, 2);
        h.record_success();
        assert_eq!(h.consecutive_failures, 0);
        assert!(h.healthy());
        assert_eq!(h.record_failure(t0, &err), ms(100));
    }
}
