//! What signing costs: time to sign and to verify peer requests and answers, measured in one
//! run by `bittensor-worker bench`, so the price of authenticated peers is a figure, not a guess.

use std::time::Instant;

use bittensor_protocol::auth::{ReplayGuard, RequestAuth};
use chain_client::{KeyError, PrivateKey};

use super::codec::{encode_forward, encode_tensor, Limits, WireTensor};
use super::identity::{now_ms, Identity};

/// Microseconds per operation, as measured.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthCost {
    /// Signing one `/forward` request (body hash, digest, K1 signature).
    pub sign_request_us: f64,
    /// Verifying one request: header parse, signature check against the account's key,
    /// replay memory.
    pub verify_request_us: f64,
    /// Signing one answer carrying a `[batch, dim]` tensor.
    pub sign_answer_us: f64,
    /// Verifying one such answer.
    pub verify_answer_us: f64,
}

impl AuthCost {
    /// Crypto time one upstream peer adds to one training step, both sides together: a
    /// forward (request and answer signed and verified) and a backward (request only).
    pub fn per_peer_step_us(&self) -> f64 {
        2.0 * (self.sign_request_us + self.verify_request_us)
            + self.sign_answer_us
            + self.verify_answer_us
    }
}

fn time_us(
    iterations: usize,
    mut f: impl FnMut(usize) -> Result<(), KeyError>,
) -> Result<f64, KeyError> {
    let start = Instant::now();
    for i in 0..iterations {
        f(i)?;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / iterations.max(1) as f64)
}

/// Measures [`AuthCost`] over `iterations` operations each, for requests of `batch` ids and
/// answers of `[batch, dim]` values.
pub fn auth_cost(iterations: usize, batch: usize, dim: usize) -> Result<AuthCost, KeyError> {
    let iterations = iterations.max(1);
    let caller = Identity::new("bench", PrivateKey::from_bytes(&[1; 32])?, "vocab");
    let server = Identity::new("peer", PrivateKey::from_bytes(&[2; 32])?, "vocab");
    let limits = Limits::default();
    let ids: Vec<i64> = (0..batch as i64).collect();
    let body = encode_forward(&ids, &limits).unwrap_or_default();
    let tensor = WireTensor {
        shape: vec![batch, dim],
        data: (0..batch * dim).map(|i| (i as f32 * 1e-3).sin()).collect(),
    };
    let answer = encode_tensor(&tensor, &limits).unwrap_or_default();

    let mut requests = Vec::with_capacity(iterations);
    let sign_request_us = time_us(iterations, |_| {
        requests.push(caller.sign_request("POST", "/forward", &body)?);
        Ok(())
    })?;
    let keys = [caller.public_key()];
    let mut guard = ReplayGuard::new(iterations + 1);
    let headers: Vec<_> = requests.iter().map(|r| r.headers()).collect();
    let verify_request_us = time_us(iterations, |i| {
        let h = &headers[i];
        let auth =
            RequestAuth::from_headers(|n| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str()))
                .map_err(|_| KeyError::NonCanonical)?;
        auth.verify("POST", "/forward", &body, &keys)
            .map_err(|_| KeyError::NonCanonical)?;
        guard
            .admit(&auth, now_ms())
            .map_err(|_| KeyError::NonCanonical)?;
        Ok(())
    })?;
    let digest = requests[0].digest("POST", "/forward", &body);
    let mut answers = Vec::with_capacity(iterations);
    let sign_answer_us = time_us(iterations, |_| {
        answers.push(server.sign_answer(&digest, 200, &answer)?);
        Ok(())
    })?;
    let server_key = server.public_key();
    let verify_answer_us = time_us(iterations, |i| {
        if !answers[i].made_by(&digest, 200, &answer, &[server_key]) {
            return Err(KeyError::NonCanonical);
        }
        Ok(())
    })?;
    Ok(AuthCost {
        sign_request_us,
        verify_request_us,
        sign_answer_us,
        verify_answer_us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_measured() {
        let c = auth_cost(3, 8, 4).unwrap();
        for v in [
            c.sign_request_us,
            c.verify_request_us,
            c.sign_answer_us,
            c.verify_answer_us,
        ] {
            assert!(v > 0.0 && v.is_finite(), "{c:?}");
        }
        assert!(c.per_peer_step_us() > c.sign_request_us);
    }
}
