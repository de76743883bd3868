//! The h2c (HTTP/2 prior knowledge) peer server: `POST /forward`, `POST /backward`
//! (rate limited per remote IP), `GET /status`. Bad input is answered with a 4xx and a
//! one-line message; the model work runs on the blocking pool, never under an await.

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
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::codec::{self, Limits};
use super::endpoint::{Endpoint, EndpointError};
use super::ratelimit::RateLimiter;

/// Request counters the server keeps (reported under `server` in `/status`).
#[derive(Debug, Default, serde::Serialize)]
pub struct ServerCounters {
    /// Forward requests answered with embeddings.
    pub forward_served: AtomicU64,
    /// Backward requests whose gradient was applied.
    pub backward_applied: AtomicU64,
    /// Backward requests refused with 429.
    pub rate_limited: AtomicU64,
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
    /// Per-remote `/backward` limiter.
    pub limiter: RateLimiter,
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

fn binary(bytes: Vec<u8>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(bytes)));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/octet-stream"),
    );
    r
}

impl ServerContext {
    fn bad(&self, status: StatusCode, msg: impl Into<String>) -> Resp {
        self.counters.bad_requests.fetch_add(1, Ordering::Relaxed);
        text(status, msg)
    }

    fn endpoint_error(&self, e: EndpointError) -> Resp {
        match e {
            EndpointError::BadInput(m) => self.bad(StatusCode::BAD_REQUEST, m),
            EndpointError::Internal(m) => {
                self.counters
                    .internal_errors
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %m, "peer request failed inside the node");
                text(StatusCode::INTERNAL_SERVER_ERROR, m)
            }
        }
    }

    async fn body(&self, req: Request<Incoming>) -> Result<Bytes, Resp> {
        match Limited::new(req.into_body(), self.max_body).collect().await {
            Ok(c) => Ok(c.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(self.bad(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body larger than {} bytes", self.max_body),
            )),
            Err(e) => Err(self.bad(StatusCode::BAD_REQUEST, format!("cannot read body: {e}"))),
        }
    }

    async fn forward(self: Arc<Self>, req: Request<Incoming>) -> Resp {
        let body = match self.body(req).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        let ids = match codec::decode_forward(&body, &self.limits) {
            Ok(ids) => ids,
            Err(e) => return self.bad(StatusCode::BAD_REQUEST, format!("forward: {e}")),
        };
        let endpoint = self.endpoint.clone();
        let result = tokio::task::spawn_blocking(move || endpoint.forward(&ids)).await;
        match result {
            Ok(Ok(t)) => match codec::encode_tensor(&t, &self.limits) {
                Ok(bytes) => {
                    self.counters.forward_served.fetch_add(1, Ordering::Relaxed);
                    binary(bytes)
                }
                Err(e) => self.endpoint_error(EndpointError::Internal(format!("encode: {e}"))),
            },
            Ok(Err(e)) => self.endpoint_error(e),
            Err(e) => self.endpoint_error(EndpointError::Internal(format!("task: {e}"))),
        }
    }

    async fn backward(self: Arc<Self>, remote: SocketAddr, req: Request<Incoming>) -> Resp {
        if !self.limiter.allow(remote.ip(), Instant::now()) {
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            return text(
                StatusCode::TOO_MANY_REQUESTS,
                "backward rate limit exceeded",
            );
        }
        let body = match self.body(req).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        let req = match codec::decode_backward(&body, &self.limits) {
            Ok(r) => r,
            Err(e) => return self.bad(StatusCode::BAD_REQUEST, format!("backward: {e}")),
        };
        let endpoint = self.endpoint.clone();
        let result =
            tokio::task::spawn_blocking(move || endpoint.backward(&req.ids, &req.grad)).await;
        match result {
            Ok(Ok(())) => {
                self.counters
                    .backward_applied
                    .fetch_add(1, Ordering::Relaxed);
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

    /// Routes one request.
    pub async fn handle(self: Arc<Self>, remote: SocketAddr, req: Request<Incoming>) -> Resp {
        match (req.method(), req.uri().path()) {
            (&Method::POST, "/forward") => self.forward(req).await,
            (&Method::POST, "/backward") => self.backward(remote, req).await,
            (&Method::GET, "/status") => self.status(),
            (_, "/forward" | "/backward" | "/status") => {
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
                let (stream, remote) = match accepted {
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
                        async move { Ok::<_, Infallible>(ctx.handle(remote, req).await) }
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
