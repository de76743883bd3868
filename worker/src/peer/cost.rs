//! What the peer channel costs, measured in one run by `bittensor-worker bench`: a session's
//! handshake (both sides: two ephemeral DHs, one K1 signature and one verification each
//! way), paid once per connection, and the sealing of one exchange round's messages (the
//! update fetch and its answer), paid every round, both sides together.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chain_client::PrivateKey;

use super::codec::Limits;
use super::identity::Identity;
use super::keys::{KeyCache, StaticKeys};
use super::session::handshake::{initiate, respond, Hello, Verdict};
use super::session::record::WireBytes;
use super::session::SessionError;
use super::wire::Dtype;
use super::wire_updates::{self, UpdatesAnswer, UpdatesRequest};
use crate::model::w2v::SparseUpdate;

/// Microseconds, as measured.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthCost {
    /// One session handshake, both sides (once per connection).
    pub handshake_us: f64,
    /// Sealing and opening one round's update fetch and its answer (one update of `batch`
    /// rows of both tables, f32), both sides.
    pub seal_step_us: f64,
    /// Bytes one round puts on the wire for one peer (both directions, framing included).
    pub step_bytes: u64,
}

impl AuthCost {
    /// Channel time one upstream peer adds to one exchange round (the handshake is paid once
    /// per connection, so it is left out).
    pub fn per_peer_step_us(&self) -> f64 {
        self.seal_step_us
    }
}

/// Measures [`AuthCost`] over `iterations` handshakes and rounds, for updates of `batch`
/// rows of width `dim`.
pub fn auth_cost(iterations: usize, batch: usize, dim: usize) -> Result<AuthCost, SessionError> {
    let iterations = iterations.max(1);
    let caller = Arc::new(Identity::new(
        "bench",
        PrivateKey::from_bytes(&[1; 32])?,
        "vocab",
    ));
    let server = Arc::new(Identity::new(
        "peer",
        PrivateKey::from_bytes(&[2; 32])?,
        "vocab",
    ));
    let table: HashMap<String, Vec<_>> = [&caller, &server]
        .iter()
        .map(|id| (id.account.clone(), vec![id.public_key()]))
        .collect();
    let keys = Arc::new(KeyCache::new(Arc::new(StaticKeys(table))));
    let limits = Limits::default();
    let values: Vec<f32> = (0..batch * dim).map(|i| (i as f32 * 1e-3).sin()).collect();
    let update = SparseUpdate {
        round: 1,
        dim,
        rows: (0..batch as u32).collect(),
        input: values.clone(),
        context: values,
    };
    let request = wire_updates::encode_request(UpdatesRequest {
        dtype: Dtype::F32,
        after: 0,
        wait_ms: 0,
    });
    let answer = wire_updates::encode_answer(
        &UpdatesAnswer {
            latest: 1,
            gap: false,
            updates: vec![update],
        },
        Dtype::F32,
        &Limits {
            max_bytes: usize::MAX,
            max_elements: usize::MAX,
            ..limits
        },
    )?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let admit = |_: &Hello| -> Result<(), (Verdict, String)> { Ok(()) };
        let mut handshake_s = 0.0;
        let mut seal_s = 0.0;
        let bytes = Arc::new(WireBytes::default());
        for _ in 0..iterations {
            let (a, b) = tokio::io::duplex(1 << 22);
            let started = Instant::now();
            let (client, served) = tokio::join!(
                initiate(a, &caller, "peer", &keys, 1 << 24, bytes.clone()),
                respond(b, &server, &keys, &admit, 1 << 24, Arc::default()),
            );
            handshake_s += started.elapsed().as_secs_f64();
            let (mut client, (mut served, _)) = (client?, served?);
            bytes.sent.store(0, std::sync::atomic::Ordering::Relaxed);
            bytes
                .received
                .store(0, std::sync::atomic::Ordering::Relaxed);
            let started = Instant::now();
            client.send(&request).await?;
            served.recv().await?;
            served.send(&answer).await?;
            client.recv().await?;
            seal_s += started.elapsed().as_secs_f64();
        }
        let n = iterations as f64;
        let step_bytes = bytes.sent.load(std::sync::atomic::Ordering::Relaxed)
            + bytes.received.load(std::sync::atomic::Ordering::Relaxed);
        Ok(AuthCost {
            handshake_us: handshake_s * 1e6 / n,
            seal_step_us: seal_s * 1e6 / n,
            step_bytes,
        })
    })
}

impl From<super::codec::CodecError> for SessionError {
    fn from(e: super::codec::CodecError) -> Self {
        SessionError::Protocol(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handshake_and_a_step_are_measured() {
        let c = auth_cost(2, 8, 4).unwrap();
        assert!(c.handshake_us > 0.0 && c.handshake_us.is_finite(), "{c:?}");
        assert!(c.seal_step_us > 0.0 && c.seal_step_us.is_finite(), "{c:?}");
        // 8 two-byte row ids, two 8x4 f32 matrices, envelopes and record framing.
        assert!(c.step_bytes > 2 * 8 + 2 * 4 * 32, "{c:?}");
        assert_eq!(c.per_peer_step_us(), c.seal_step_us);
    }
}
