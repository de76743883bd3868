//! A small JSON-over-HTTP client for the workers' `/status` (plain `http://` only: workers are
//! local services), with a timeout and a body-size cap so one bad worker cannot stall or flood
//! the poller. The chain is read through `chain-client`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::error::ViewError;

/// Largest answer body accepted: worker statuses are far smaller.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Shared HTTP client; cheap to clone (connection pool inside).
#[derive(Clone)]
pub struct JsonClient {
    inner: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl JsonClient {
    /// Builds a client whose every request gives up after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let inner = Client::builder(TokioExecutor::new()).build_http();
        Self { inner, timeout }
    }

    /// `GET url`, parsed as JSON.
    pub async fn get(&self, url: &str) -> Result<Value, ViewError> {
        let transport = |reason: String| ViewError::Transport {
            url: url.to_string(),
            reason,
        };
        let request = Request::builder()
            .method(Method::GET)
            .uri(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| transport(e.to_string()))?;
        let exchange = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| transport(error_chain(&e)))?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| transport(e.to_string()))?
                .to_bytes();
            Ok::<_, ViewError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| transport(format!("no answer within {:?}", self.timeout)))??;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            return Err(ViewError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                body: text.chars().take(300).collect(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ViewError::Json {
            url: url.to_string(),
            reason: e.to_string(),
        })
    }
}

/// Joins an error with its sources: hyper's top-level message alone ("client error") says little.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
