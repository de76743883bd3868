//! JSON POSTs to nodeos with errors mapped to [`ChainError`].

use serde::de::DeserializeOwned;

use std::sync::atomic::Ordering;

use super::rejection::rejection_from_body;
use super::Client;
use crate::error::ChainError;

/// Longest response body kept in an error.
const MAX_ERROR_BODY: usize = 2000;

impl Client {
    /// POSTs `body` to `path` and decodes a 2xx JSON answer; non-2xx answers become
    /// [`ChainError::Rejected`]/[`ChainError::Expired`] when nodeos explains a chain
    /// failure, else [`ChainError::Http`].
    /// Tries each endpoint once, starting with the current one, while the failure is a
    /// transport one (unreachable, timeout, 502 to 504); the first endpoint that answers
    /// becomes the current one. A pushed transaction sent twice this way keeps its id, so
    /// the chain can never apply it twice.
    pub(crate) async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, ChainError> {
        let first = self.current.load(Ordering::Relaxed);
        let count = self.urls.len();
        let mut last = None;
        for i in 0..count {
            let index = (first + i) % count;
            match self.post_once(&self.urls[index], path, body).await {
                Err(e) if is_failover(&e) => {
                    if count > 1 {
                        tracing::warn!(endpoint = %self.urls[index], "{e}; trying the next endpoint");
                    }
                    last = Some(e);
                }
                other => {
                    self.current.store(index, Ordering::Relaxed);
                    return other;
                }
            }
        }
        Err(last.unwrap_or(ChainError::Timeout))
    }

    async fn post_once<T: DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, ChainError> {
        let url = format!("{base}{path}");
        let response = self
            .http
            .post(&url)
            .json(body)
            .send()
            .await
            .map_err(|e| transport_error(base, e))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| transport_error(base, e))?;
        self.received
            .fetch_add(text.len() as u64, Ordering::Relaxed);
        if !status.is_success() {
            if let Some(err) = rejection_from_body(&text) {
                return Err(err);
            }
            let mut body = text;
            body.truncate(MAX_ERROR_BODY);
            return Err(ChainError::Http {
                status: status.as_u16(),
                body,
            });
        }
        serde_json::from_str(&text).map_err(|e| ChainError::Decode(format!("{path}: {e}")))
    }
}

/// Failures another endpoint of the same chain may not have.
fn is_failover(e: &ChainError) -> bool {
    match e {
        ChainError::Unreachable { .. } | ChainError::Timeout => true,
        ChainError::Http { status, .. } => (502..=504).contains(status),
        _ => false,
    }
}

fn transport_error(base: &str, e: reqwest::Error) -> ChainError {
    if e.is_timeout() {
        ChainError::Timeout
    } else {
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail = format!("{detail}: {s}");
            source = s.source();
        }
        ChainError::Unreachable {
            url: base.to_string(),
            detail,
        }
    }
}
