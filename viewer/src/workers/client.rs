//! The client for workers' `GET /status`: HTTP/2 with prior knowledge (h2c), as the workers'
//! peer server speaks it, dialling only addresses the [`AddressPolicy`] allows, with a timeout
//! and a body cap so that one bad worker can neither stall nor flood the poller.

use std::net::SocketAddr;
use std::time::Duration;

use bittensor_protocol::policy::AddressPolicy;
use bittensor_protocol::status::{WorkerStatus, MAX_STATUS_BYTES};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use crate::error::ViewError;

/// Shared h2c client plus the policy that gates every dial; cheap to clone.
#[derive(Clone)]
pub struct StatusClient {
    inner: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    policy: AddressPolicy,
}

/// The status URL of a worker at `addr` (IPv6 literals bracketed).
pub fn status_url(addr: SocketAddr) -> String {
    format!("http://{addr}/status")
}

impl StatusClient {
    /// A client whose every request gives up after `timeout` and that dials what `policy` allows.
    pub fn new(timeout: Duration, policy: AddressPolicy) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let inner = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build(connector);
        Self {
            inner,
            timeout,
            policy,
        }
    }

    /// The gate before any dial: a chain row's `address` and `port` as a socket address, or
    /// why it must not be dialled.
    pub fn resolve(&self, address: &str, port: u16) -> Result<SocketAddr, ViewError> {
        self.policy
            .resolve(address, port)
            .map_err(|refusal| ViewError::Refused {
                address: format!("{address}:{port}"),
                reason: refusal.to_string(),
            })
    }

    /// `GET /status` of the worker at `addr`, parsed strictly as the protocol's type.
    pub async fn status(&self, addr: SocketAddr) -> Result<WorkerStatus, ViewError> {
        let url = status_url(addr);
        let transport = |reason: String| ViewError::Transport {
            url: url.clone(),
            reason,
        };
        let request = Request::builder()
            .method(Method::GET)
            .uri(&url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| transport(e.to_string()))?;
        let exchange = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| transport(error_chain(&e)))?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_STATUS_BYTES)
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
                url,
                status: status.as_u16(),
                body: text.chars().take(300).collect(),
            });
        }
        WorkerStatus::parse(&bytes).map_err(|e| ViewError::Json {
            url,
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
