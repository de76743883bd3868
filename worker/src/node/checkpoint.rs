//! Checkpoints, so a node killed mid-training resumes where it was: the word2vec model with
//! its vocabulary (through [`Word2Vec::save`], a self-contained file that `bittensor-worker
//! export --checkpoint` also reads) and the step count are written under the node's data
//! directory periodically and at shutdown, each time to a temporary file renamed into
//! place (a kill during a save leaves the previous checkpoint intact). At start a
//! checkpoint of the same vocabulary and sizes is loaded (the learning-rate schedule
//! continues from its step); any other is refused with a warning and the node starts fresh.
//!
//! A restarted node is usually still subscribed (a kill gives it no chance to leave), so
//! [`stake_to_add`] makes its start-up `subscribe` a stake-0 address update instead of a
//! second stake.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::state::{lock, Shared};
use crate::chain::ChainApi;
use crate::model::w2v::{SavedW2v, Word2Vec};

/// Metagraph reads tried before assuming the node is not subscribed yet.
const MEMBERSHIP_READS: u32 = 5;

/// Where a node's checkpoint lives: `<data_dir>/<account>.model` and `.step`.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    model: PathBuf,
    step: PathBuf,
}

impl Checkpoint {
    /// The checkpoint files of `account` under `data_dir` (created if missing).
    pub fn new(data_dir: &Path, account: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        Ok(Checkpoint {
            model: data_dir.join(format!("{account}.model")),
            step: data_dir.join(format!("{account}.step")),
        })
    }

    /// The model file of this checkpoint.
    pub fn model_path(&self) -> &Path {
        &self.model
    }

    /// Loads a saved checkpoint into `model` if its vocabulary is `words`; returns its step,
    /// or None when there is no usable checkpoint (missing, unreadable, another vocabulary
    /// or other sizes: logged, node starts fresh).
    pub fn restore(&self, model: &mut Word2Vec, words: &[String]) -> Option<u64> {
        if !self.model.exists() {
            tracing::info!(path = %self.model.display(), "no checkpoint, starting fresh");
            return None;
        }
        let loaded = SavedW2v::load(&self.model).and_then(|saved| {
            if saved.words != words {
                return Err(crate::model::ModelError::Incompatible(
                    "the checkpoint was trained on another vocabulary".into(),
                ));
            }
            model.restore(&saved)
        });
        if let Err(e) = loaded {
            tracing::warn!(path = %self.model.display(), error = %e, "checkpoint not usable, starting fresh");
            return None;
        }
        let step = std::fs::read_to_string(&self.step)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        tracing::info!(path = %self.model.display(), step, "resumed from checkpoint");
        Some(step)
    }

    /// Saves the node's model and step count (on the blocking pool); logs failures.
    pub async fn save(&self, shared: &Arc<Shared>) -> bool {
        let (me, shared) = (self.clone(), shared.clone());
        let result = tokio::task::spawn_blocking(move || me.save_now(&shared)).await;
        match result {
            Ok(Ok(step)) => {
                tracing::debug!(step, "checkpoint saved");
                true
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "checkpoint save failed");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "checkpoint task failed");
                false
            }
        }
    }

    fn save_now(&self, shared: &Shared) -> anyhow::Result<u64> {
        // Copied under the lock (between steps), written after.
        let (model, step) = {
            let model = lock(&shared.model);
            let step = lock(&shared.stats).step;
            (model.clone(), step)
        };
        model.save(&shared.words, &shared.counts, &self.model)?;
        let tmp_step = self.step.with_extension("step.tmp");
        std::fs::write(&tmp_step, step.to_string())?;
        std::fs::rename(&tmp_step, &self.step)?;
        Ok(step)
    }
}

/// Saves every `interval` until `shutdown` turns true (the final save is the runner's).
pub async fn run_checkpoints(
    shared: Arc<Shared>,
    checkpoint: Checkpoint,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        checkpoint.save(&shared).await;
    }
}

/// The stake the start-up `subscribe` should move in: 0 when `me` is already in the
/// metagraph (a restart: the call then only updates the address and port), else `stake`.
pub async fn stake_to_add(chain: &dyn ChainApi, me: &str, stake: u64) -> u64 {
    for attempt in 1..=MEMBERSHIP_READS {
        match chain.metagraph().await {
            Ok(rows) => {
                return match rows.iter().find(|r| r.user == me) {
                    Some(row) => {
                        tracing::info!(
                            stake = row.stake,
                            "already subscribed: keeping the stake, updating the address"
                        );
                        0
                    }
                    None => stake,
                };
            }
            Err(e) if !e.transient => {
                tracing::warn!(error = %e, "metagraph read refused");
                return stake;
            }
            Err(e) => {
                tracing::warn!(attempt, error = %e, "metagraph read failed");
                tokio::time::sleep(Duration::from_millis(250 * attempt as u64)).await;
            }
        }
    }
    stake
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::fake::FakeChain;
    use crate::model::w2v::W2vParams;

    fn model(seed: u64, dim: usize) -> Word2Vec {
        let p = W2vParams {
            dim,
            seed,
            ..W2vParams::default()
        };
        Word2Vec::new(&[5, 4, 3, 2], &p).expect("model")
    }

    fn words() -> Vec<String> {
        ["<unk>", "a", "b", "c"].map(String::from).to_vec()
    }

    #[test]
    fn a_saved_model_is_restored_and_others_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let cp = Checkpoint::new(&dir.path().join("data"), "me").expect("dir");
        let mut fresh = model(2, 4);
        assert_eq!(cp.restore(&mut fresh, &words()), None, "nothing saved yet");
        let saved = model(1, 4);
        saved
            .save(&words(), &[5, 4, 3, 2], &cp.model)
            .expect("save");
        std::fs::write(&cp.step, "42").expect("step");
        assert_ne!(saved.syn0, fresh.syn0);
        assert_eq!(cp.restore(&mut fresh, &words()), Some(42));
        assert_eq!(
            saved.syn0, fresh.syn0,
            "the restored model serves what the saved one served"
        );
        let mut other = model(1, 5);
        assert_eq!(
            cp.restore(&mut other, &words()),
            None,
            "other sizes start fresh"
        );
        let mut renamed = words();
        renamed[2] = "z".into();
        assert_eq!(
            cp.restore(&mut model(1, 4), &renamed),
            None,
            "another vocabulary starts fresh"
        );
        std::fs::write(&cp.model, b"an old checkpoint of another format").unwrap();
        assert_eq!(cp.restore(&mut model(1, 4), &words()), None);
    }

    #[tokio::test]
    async fn a_subscribed_node_adds_no_stake_on_restart() {
        let chain = FakeChain::new("me");
        assert_eq!(stake_to_add(&chain, "me", 7).await, 7);
        chain
            .subscribe("127.0.0.1".into(), 1, 7)
            .await
            .expect("subscribe");
        assert_eq!(stake_to_add(&chain, "me", 7).await, 0);
    }
}
