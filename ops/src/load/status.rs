//! Reading a worker's `GET /status` (h2c, HTTP/2 with prior knowledge, as the worker's
//! peer server speaks it) so the load run can report the live counters before stopping.

use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// How long one `/status` request may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Fetches `/status` of every `http://ADDR` base (None where it does not answer).
pub fn statuses(bases: &[String]) -> Vec<Option<Value>> {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::warn!(error = %e, "no runtime for /status reads");
            return vec![None; bases.len()];
        }
    };
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    bases
        .iter()
        .map(|base| {
            let read = async {
                let uri = format!("{base}/status").parse().context("status URI")?;
                let resp = client.get(uri).await.context("GET /status")?;
                let body = resp.into_body().collect().await?.to_bytes();
                serde_json::from_slice::<Value>(&body).context("status JSON")
            };
            match rt.block_on(async { tokio::time::timeout(TIMEOUT, read).await }) {
                Ok(Ok(doc)) => Some(doc),
                Ok(Err(e)) => {
                    tracing::warn!(%base, error = %e, "status read failed");
                    None
                }
                Err(_) => {
                    tracing::warn!(%base, "status read timed out");
                    None
                }
            }
        })
        .collect()
}

/// Reads the answer type of [`statuses`] for one counter.
pub fn counter(doc: &Option<Value>, key: &str) -> Option<u64> {
    doc.as_ref()?.get(key)?.as_u64()
}
