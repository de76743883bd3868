//! The h2c (HTTP/2 prior knowledge) peer server: `POST /forward`, `POST /backward` (both
//! signed, see [`gate`](super::gate)), `GET /status` (public), `POST /export` (callers on
//! this host's loopback only: it writes files on this host). Bad input is answered with a
//! 4xx and a one-line message; embeddings are signed by this node's account; the model work
//! runs on the blocking pool, never under an await.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::codec::{self, Limits};
use super::endpoint::{Endpoint, EndpointError};
use super::gate::{Caller, Gate, RefusalKind, Refused};
use super::range::{out_of_range, MAX_ABS_VALUE};
use super::served::ServedLog;

/// Request counters the server keeps (reported under `server` in `/status`).
#[derive(Debug, Default, serde::Serialize)]
pub struct ServerCounters {
    /// Forward requests answered with embeddings.
    pub forward_served: AtomicU64,
    /// Backward requests whose gradient was applied.
    pub backward_applied: AtomicU64,
    /// Requests refused with 429.
    pub rate_limited: AtomicU64,
    /// Requests refused with 401 (unsigned, bad signature, stale, replayed, unsubscribed).
    pub unauthorized: AtomicU64,
    /// Requests refused with 409 (another vocabulary).
    pub vocab_mismatch: AtomicU64,
    /// Backward requests for ids not recently served to the caller (403).
    pub not_served: AtomicU64,
    /// Backward requests with values beyond the accepted range (400).
    pub out_of_range: AtomicU64,
    /// Requests refused with another 4xx.
    pub bad_requests: AtomicU64,
    /// Requests that failed inside the node (500).
    pub internal_errors: AtomicU64,
}

/// Everything a connection handler needs, shared by all connections.
pub struct ServerContext {
    /// The node operations behind the routes.
    pub endpoint: Arc<dyn Endpoint>,
    /// Codec limits for request bodies.
    pub limits: Limits,
    /// Largest request body accepted (413 above).
    pub max_body: usize,
    /// Signature, caller and rate checks.
    pub gate: Gate,
    /// What was served to whom (gradients are accepted only for that).
    pub served: ServedLog,
    /// Counters reported by `/status`.
    pub counters: Arc<ServerCounters>,
}

type Resp = Response<Full<Bytes>>;

fn text(status: StatusCode, msg: impl Into<String>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(msg.into() + "\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

impl ServerContext {
    /// A context over `endpoint` with an empty served log and zero counters.
    pub fn new(endpoint: Arc<dyn Endpoint>, limits: Limits, max_body: usize, gate: Gate) -> Self {
        ServerContext {
            endpoint,
            limits,
            max_body,
            gate,
            served: ServedLog::default(),
            counters: Default::default(),
        }
    }

    fn bad(&self, status: StatusCode, msg: impl Into<String>) -> Resp {
        self.counters.bad_requests.fetch_add(1, Ordering::Relaxed);
        text(status, msg)
    }

    fn refused(&self, r: Refused) -> Resp {
        let counter = match r.kind {
            RefusalKind::Unauthorized => &self.counters.unauthorized,
            RefusalKind::Vocabulary => &self.counters.vocab_mismatch,
            RefusalKind::RateLimited => &self.counters.rate_limited,
            RefusalKind::Busy => &self.counters.bad_requests,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(status = %r.status, reason = %r.message, "peer request refused");
        text(r.status, r.message)
    }

    fn endpoint_error(&self, e: EndpointError) -> Resp {
        match e {
            EndpointError::BadInput(m) => self.bad(StatusCode::BAD_REQUEST, m),
            EndpointError::Unavailable(m) => self.bad(StatusCode::SERVICE_UNAVAILABLE, m),
            EndpointError::Internal(m) => {
                self.counters
                    .internal_errors
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %m, "peer request failed inside the node");
                text(StatusCode::INTERNAL_SERVER_ERROR, m)
            }
        }
    }

    /// A 200 answer signed by this node for the request `caller` sent.
    fn signed(&self, caller: &Caller, content_type: &'static str, body: Vec<u8>) -> Resp {
        let auth = match self.gate.identity().sign_answer(&caller.digest, 200, &body) {
            Ok(a) => a,
            Err(e) => return self.endpoint_error(EndpointError::Internal(format!("sign: {e}"))),
        };
        let mut r = Response::new(Full::new(Bytes::from(body)));
        let h = r.headers_mut();
        h.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(content_type),
        );
        for (name, value) in auth.headers() {
            if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
        r
    }

    async fn body(&self, body: Incoming) -> Result<Bytes, Resp> {
        match Limited::new(body, self.max_body).collect().await {
            Ok(c) => Ok(c.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(self.bad(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body larger than {} bytes", self.max_body),
            )),
            Err(e) => Err(self.bad(StatusCode::BAD_REQUEST, format!("cannot read body: {e}"))),
        }
    }

    /// Reads the body and verifies the request; `Err` is the answer to send.
    async fn admitted(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: Incoming,
    ) -> Result<(Caller, Bytes), Resp> {
        let body = self.body(body).await?;
        let endpoint = self.endpoint.clone();
        match self
            .gate
            .admit("POST", path, headers, &body, |a| endpoint.is_subscribed(a))
            .await
        {
            Ok(caller) => Ok((caller, body)),
            Err(r) => Err(self.refused(r)),
        }
    }

    async fn forward(self: Arc<Self>, headers: HeaderMap, body: Incoming) -> Resp {
        let (caller, body) = match self.admitted("/forward", &headers, body).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let ids = match codec::decode_forward(&body, &self.limits) {
            Ok(ids) => ids,
            Err(e) => return self.bad(StatusCode::BAD_REQUEST, format!("forward: {e}")),
        };
        let endpoint = self.endpoint.clone();
        let served_ids = ids.clone();
        let result = tokio::task::spawn_blocking(move || endpoint.forward(&served_ids)).await;
        match result {
            Ok(Ok(t)) => match codec::encode_tensor(&t, &self.limits) {
                Ok(bytes) => {
                    self.served.record(&caller.account, &ids, Instant::now());
                    self.counters.forward_served.fetch_add(1, Ordering::Relaxed);
                    self.signed(&caller, "application/octet-stream", bytes)
                }
                Err(e) => self.endpoint_error(EndpointError::Internal(format!("encode: {e}"))),
            },
            Ok(Err(e)) => self.endpoint_error(e),
            Err(e) => self.endpoint_error(EndpointError::Internal(format!("task: {e}"))),
        }
    }

    async fn backward(self: Arc<Self>, headers: HeaderMap, body: Incoming) -> Resp {
        let (caller, body) = match self.admitted("/backward", &headers, body).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let req = match codec::decode_backward(&body, &self.limits) {
            Ok(r) => r,
            Err(e) => return self.bad(StatusCode::BAD_REQUEST, format!("backward: {e}")),
        };
        if let Some((index, value)) = out_of_range(&req.grad.data) {
            self.counters.out_of_range.fetch_add(1, Ordering::Relaxed);
            return text(
                StatusCode::BAD_REQUEST,
                format!("backward: gradient element {index} = {value:e} is outside ±{MAX_ABS_VALUE}; rejected"),
            );
        }
        if !self.served.take(&caller.account, &req.ids, Instant::now()) {
            self.counters.not_served.fetch_add(1, Ordering::Relaxed);
            return text(
                StatusCode::FORBIDDEN,
                format!(
                    "backward: these ids were not recently served to {} (a gradient must answer one forward)",
                    caller.account
                ),
            );
        }
        let endpoint = self.endpoint.clone();
        let result =
            tokio::task::spawn_blocking(move || endpoint.backward(&req.ids, &req.grad)).await;
        match result {
            Ok(Ok(())) => {
                self.counters
                    .backward_applied
                    .fetch_add(1, Ordering::Relaxed);
                // The acknowledgement carries no data a downstream pays for: unsigned.
                text(StatusCode::OK, "applied")
            }
            Ok(Err(e)) => self.endpoint_error(e),
            Err(e) => self.endpoint_error(EndpointError::Internal(format!("task: {e}"))),
        }
    }

    fn status(&self) -> Resp {
        let mut doc = self.endpoint.status();
        // The counters are an open name-to-count map, so a new one needs no protocol change.
        if let Ok(serde_json::Value::Object(counters)) =
            serde_json::to_value(self.counters.as_ref())
        {
            doc.server = counters
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.as_u64()?)))
                .collect();
        }
        let body = match serde_json::to_vec(&doc) {
            Ok(body) => body,
            Err(e) => return self.endpoint_error(EndpointError::Internal(format!("status: {e}"))),
        };
        let mut r = Response::new(Full::new(Bytes::from(body)));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        r
    }

    /// Writes the node's embeddings on request of a process on this host; anyone else gets
    /// 403 (the files land on this host's disk, and training pauses while they are written).
    async fn export(self: Arc<Self>, remote: SocketAddr) -> Resp {
        if !remote.ip().to_canonical().is_loopback() {
            return text(
                StatusCode::FORBIDDEN,
                "export: only callers on this host's loopback may ask for an export",
            );
        }
        let endpoint = self.endpoint.clone();
        match tokio::task::spawn_blocking(move || endpoint.export()).await {
            Ok(Ok(files)) => {
                let doc = serde_json::json!({ "files": files });
                let mut r = Response::new(Full::new(Bytes::from(doc.to_string())));
                r.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("application/json"),
                );
                r
            }
            Ok(Err(e)) => self.endpoint_error(e),
            Err(e) => self.endpoint_error(EndpointError::Internal(format!("task: {e}"))),
        }
    }

    /// Routes one request from `remote`.
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>, remote: SocketAddr) -> Resp {
        let (parts, body) = req.into_parts();
        match (&parts.method, parts.uri.path()) {
            (&Method::POST, "/forward") => self.forward(parts.headers, body).await,
            (&Method::POST, "/backward") => self.backward(parts.headers, body).await,
            (&Method::GET, "/status") => self.status(),
            (&Method::POST, "/export") => self.export(remote).await,
            (_, "/forward" | "/backward" | "/status" | "/export") => {
                self.bad(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            }
            (_, path) => self.bad(StatusCode::NOT_FOUND, format!("no route {path}")),
        }
    }
}

/// Accepts h2c connections on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    ctx: Arc<ServerContext>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote): (_, SocketAddr) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let ctx = ctx.clone();
                        async move { Ok::<_, Infallible>(ctx.handle(req, remote).await) }
                    });
                    if let Err(e) = http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await
                    {
                        tracing::debug!(%remote, error = %e, "peer connection ended");
                    }
                });
            }
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
    }
}
