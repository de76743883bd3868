//! JSON POSTs to nodeos with errors mapped to [`ChainError`].

use serde::de::DeserializeOwned;

use super::rejection::rejection_from_body;
use super::Client;
use crate::error::ChainError;

/// Longest response body kept in an error.
const MAX_ERROR_BODY: usize = 2000;

impl Client {
    /// POSTs `body` to `path` and decodes a 2xx JSON answer; non-2xx answers become
    /// [`ChainError::Rejected`]/[`ChainError::Expired`] when nodeos explains a chain
    /// failure, else [`ChainError::Http`].
    pub(crate) async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, ChainError> {
        let url = format!("{}{path}", self.url);
        let response = self
            .http
            .post(&url)
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| self.transport_error(e))?;
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

    fn transport_error(&self, e: reqwest::Error) -> ChainError {
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
                url: self.url.clone(),
                detail,
            }
        }
    }
}
