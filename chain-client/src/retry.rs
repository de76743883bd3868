//! Retrying transient chain failures with exponential backoff.

use std::future::Future;
use std::time::Duration;

use crate::error::ChainError;

/// How often and how patiently to retry a transient failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the first retry.
    pub initial: Duration,
    /// Cap on the delay between retries.
    pub max: Duration,
    /// Total attempts, including the first (1 = no retry).
    pub attempts: u32,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(5),
            attempts: 5,
        }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (0-based): `initial * 2^retry`, capped.
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// Runs `f` until it succeeds, fails with a non-transient error, or `policy.attempts` are
/// used up; logs each retry. Returns the last error.
pub async fn with_backoff<T, F, Fut>(
    what: &str,
    policy: &Backoff,
    mut f: F,
) -> Result<T, ChainError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ChainError>>,
{
    let attempts = policy.attempts.max(1);
    let mut attempt = 0;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() && attempt + 1 < attempts => {
                let delay = policy.delay(attempt);
                tracing::warn!(
                    "{what}: attempt {}/{attempts} failed ({e}); retrying in {delay:?}",
                    attempt + 1
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn quick(attempts: u32) -> Backoff {
        Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(4),
            attempts,
        }
    }

    #[test]
    fn delays_double_and_cap() {
        let b = quick(5);
        assert_eq!(b.delay(0), Duration::from_millis(1));
        assert_eq!(b.delay(1), Duration::from_millis(2));
        assert_eq!(b.delay(5), Duration::from_millis(4));
        assert_eq!(b.delay(40), Duration::from_millis(4));
    }

    #[tokio::test]
    async fn retries_transient_until_attempts_exhausted() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = with_backoff("t", &quick(3), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ChainError::Timeout)
        })
        .await;
        assert!(matches!(r, Err(ChainError::Timeout)));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn does_not_retry_rejections_and_returns_success() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = with_backoff("t", &quick(5), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ChainError::Rejected {
                message: "no".into(),
            })
        })
        .await;
        assert!(matches!(r, Err(ChainError::Rejected { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let calls = AtomicU32::new(0);
        let r = with_backoff("t", &quick(5), || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(ChainError::Timeout)
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
