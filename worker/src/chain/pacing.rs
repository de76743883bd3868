//! When the next emit goes out after an attempt. A success waits the emit interval. An
//! ordinary failure retries sooner with a growing delay, never longer than the interval, so a
//! fresh attribution goes out soon. An account out of CPU or NET gets its resource back only
//! as the chain's 24 h averaging window passes, so retrying soon would spin: the delay starts
//! at the interval and doubles up to [`MAX_STARVED_INTERVALS`] intervals, and each wait is
//! logged with the resource. RAM does not come back by waiting: emits stop, with an error
//! that says so (in the log and in `/status`'s `last_emit_error`).

use std::time::Duration;

use chain_client::Resource;

use super::api::ChainFailure;
use super::backoff::Backoff;

/// Longest wait after CPU or NET exhaustion, in emit intervals.
pub const MAX_STARVED_INTERVALS: u32 = 32;
/// First retry delay after an ordinary failure (at most the interval).
const FIRST_RETRY: Duration = Duration::from_millis(250);

/// What to do after an emit attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Push the next emit after this delay.
    After(Duration),
    /// Push no more emits: the reason, for the log and `/status`.
    Stop(String),
}

/// The emit schedule's memory of recent failures.
#[derive(Debug, Clone)]
pub struct EmitPacer {
    interval: Duration,
    retry: Backoff,
    starved: Backoff,
    stopped: Option<String>,
}

impl EmitPacer {
    /// A schedule of one emit per `interval`.
    pub fn new(interval: Duration) -> Self {
        EmitPacer {
            interval,
            retry: Backoff::new(FIRST_RETRY.min(interval), interval),
            starved: Backoff::new(interval, interval * MAX_STARVED_INTERVALS),
            stopped: None,
        }
    }

    /// Why emits stopped, once they have.
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.as_deref()
    }

    /// The next step after an attempt that succeeded (`None`) or failed.
    pub fn after(&mut self, failure: Option<&ChainFailure>) -> Next {
        if let Some(reason) = &self.stopped {
            return Next::Stop(reason.clone());
        }
        let Some(failure) = failure else {
            self.retry.reset();
            self.starved.reset();
            return Next::After(self.interval);
        };
        match failure.exhausted {
            Some(Resource::Ram) => {
                let reason = format!(
                    "emits stopped: the account is out of RAM, which waiting does not bring back; buy RAM for it and restart the worker ({})",
                    failure.message
                );
                tracing::error!("{reason}");
                self.stopped = Some(reason.clone());
                Next::Stop(reason)
            }
            Some(resource) => {
                let delay = self.starved.next_delay();
                tracing::warn!(
                    %resource,
                    delay_secs = delay.as_secs_f64(),
                    "emit refused: the account's {resource} is used up; backing off (stake more {resource} or wait for it to recover)"
                );
                Next::After(delay)
            }
            None => Next::After(self.retry.next_delay()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exhausted(resource: Resource) -> ChainFailure {
        ChainFailure {
            transient: resource != Resource::Ram,
            message: format!("{resource} exhausted"),
            exhausted: Some(resource),
        }
    }

    #[test]
    fn ordinary_failures_retry_sooner_than_the_interval() {
        let i = Duration::from_secs(3);
        let mut p = EmitPacer::new(i);
        let fail = ChainFailure::new(true, "timeout");
        let got: Vec<_> = (0..5).map(|_| p.after(Some(&fail))).collect();
        let ms = |m| Next::After(Duration::from_millis(m));
        assert_eq!(got, [ms(250), ms(500), ms(1000), ms(2000), ms(3000)]);
        assert_eq!(p.after(None), Next::After(i));
        assert_eq!(
            p.after(Some(&fail)),
            ms(250),
            "a success resets the backoff"
        );
    }

    #[test]
    fn cpu_and_net_exhaustion_back_off_beyond_the_interval_up_to_a_cap() {
        let i = Duration::from_secs(2);
        let mut p = EmitPacer::new(i);
        let mut delays = Vec::new();
        for k in 0..8 {
            let r = if k % 2 == 0 {
                Resource::Cpu
            } else {
                Resource::Net
            };
            match p.after(Some(&exhausted(r))) {
                Next::After(d) => delays.push(d.as_secs()),
                Next::Stop(why) => panic!("stopped: {why}"),
            }
        }
        assert_eq!(delays, [2, 4, 8, 16, 32, 64, 64, 64]);
        assert_eq!(p.after(None), Next::After(i));
        assert_eq!(p.after(Some(&exhausted(Resource::Cpu))), Next::After(i));
    }

    #[test]
    fn ram_exhaustion_stops_emits_for_good() {
        let mut p = EmitPacer::new(Duration::from_secs(1));
        let Next::Stop(why) = p.after(Some(&exhausted(Resource::Ram))) else {
            panic!("RAM exhaustion must stop emits");
        };
        assert!(
            why.contains("out of RAM") && why.contains("RAM exhausted"),
            "{why}"
        );
        assert_eq!(
            p.after(None),
            Next::Stop(why.clone()),
            "even after a success"
        );
        assert_eq!(p.stopped(), Some(why.as_str()));
    }
}
