//! The node's listener: one port, two protocols told apart by the first bytes. A
//! connection that opens with `BTS1` is a peer session ([`session`](super::session):
//! updates, forward, export and whatever kinds are registered); one that opens with the
//! HTTP/2 preface is h2c for the public `GET /status` the viewer reads. Model work runs on
//! the blocking pool, never under an await.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::codec::Limits;
use super::endpoint::{Endpoint, EndpointError};
use super::identity::Identity;
use super::keys::KeyCache;
use super::kinds::{node_handlers, KindLimits};
use super::session::admission::{Admission, AdmissionLimits};
use super::session::handlers::Handlers;
use super::session::handshake::MAGIC;
use super::session::server::{SessionCounters, SessionServer};

/// Longest a connection may wait before its first four bytes tell its protocol.
const SNIFF_TIMEOUT: Duration = Duration::from_secs(5);

/// Request counters the server keeps (reported under `server` in `/status`).
#[derive(Debug, Default, serde::Serialize)]
pub struct ServerCounters {
    /// Forward requests answered with embeddings.
    pub forward_served: AtomicU64,
    /// Updates requests answered with the node's published sparse updates.
    pub updates_served: AtomicU64,
    /// Requests that did not decode or were unusable.
    pub bad_requests: AtomicU64,
    /// Requests that failed inside the node.
    pub internal_errors: AtomicU64,
}

/// Everything a connection handler needs, shared by all connections.
pub struct ServerContext {
    /// The node operations behind the kinds.
    pub endpoint: Arc<dyn Endpoint>,
    /// The session side.
    pub sessions: Arc<SessionServer>,
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

/// What a server is built from.
pub struct ServerSettings {
    /// Codec limits for request bodies (`max_bytes` is also the largest message).
    pub limits: Limits,
    /// Per-account rates of the kinds.
    pub rates: KindLimits,
    /// The cheap checks before key work.
    pub admission: AdmissionLimits,
}

impl ServerContext {
    /// A server for `endpoint` as `identity`, checking callers' keys through `keys`, with
    /// the node's kinds.
    pub fn new(
        endpoint: Arc<dyn Endpoint>,
        identity: Arc<Identity>,
        keys: Arc<KeyCache>,
        settings: ServerSettings,
    ) -> Self {
        let counters = Arc::new(ServerCounters::default());
        let handlers = node_handlers(
            endpoint.clone(),
            settings.limits,
            settings.rates,
            counters.clone(),
            identity.account.clone(),
        );
        Self::with_handlers(endpoint, identity, keys, settings, handlers, counters)
    }

    /// The same with the kinds of `handlers` (tests and new kinds).
    pub fn with_handlers(
        endpoint: Arc<dyn Endpoint>,
        identity: Arc<Identity>,
        keys: Arc<KeyCache>,
        settings: ServerSettings,
        handlers: Handlers,
        counters: Arc<ServerCounters>,
    ) -> Self {
        let ep = endpoint.clone();
        let sessions = Arc::new(SessionServer {
            identity,
            keys,
            admission: Arc::new(Admission::new(settings.admission)),
            handlers: Arc::new(handlers),
            subscribed: Arc::new(move |a: &str| ep.is_subscribed(a)),
            max_message: settings.limits.max_bytes,
            counters: Arc::new(SessionCounters::default()),
        });
        ServerContext {
            endpoint,
            sessions,
            counters,
        }
    }

    fn status(&self) -> Resp {
        let mut doc = self.endpoint.status();
        // The counters are an open name-to-count map, so a new one needs no protocol change.
        for value in [
            serde_json::to_value(self.counters.as_ref()),
            serde_json::to_value(self.sessions.counters.as_ref()),
        ] {
            if let Ok(serde_json::Value::Object(counters)) = value {
                doc.server.extend(
                    counters
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, v.as_u64()?))),
                );
            }
        }
        let body = match serde_json::to_vec(&doc) {
            Ok(body) => body,
            Err(e) => {
                let e = EndpointError::Internal(format!("status: {e}"));
                return text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
            }
        };
        let mut r = Response::new(Full::new(Bytes::from(body)));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        r
    }

    /// Routes one h2c request (only the public `/status` lives there).
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Resp {
        match (req.method(), req.uri().path()) {
            (&Method::GET, "/status") => self.status(),
            (_, "/status") => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
            (_, "/forward" | "/backward" | "/export") => text(
                StatusCode::GONE,
                "peer requests travel on the session channel (see docs/peers.md), not on HTTP",
            ),
            (_, path) => text(StatusCode::NOT_FOUND, format!("no route {path}")),
        }
    }

    /// Serves one accepted connection: a session or h2c, by its first bytes.
    async fn connection(self: Arc<Self>, stream: TcpStream, remote: SocketAddr) {
        let mut first = [0u8; 4];
        let sniffed = tokio::time::timeout(SNIFF_TIMEOUT, async {
            loop {
                match stream.peek(&mut first).await {
                    Ok(n) if n >= first.len() => return true,
                    Ok(0) | Err(_) => return false,
                    Ok(_) => tokio::time::sleep(Duration::from_millis(2)).await,
                }
            }
        })
        .await;
        if sniffed != Ok(true) {
            return;
        }
        if &first == MAGIC {
            return self.sessions.clone().run(stream, remote).await;
        }
        let ctx = self.clone();
        let svc = service_fn(move |req| {
            let ctx = ctx.clone();
            async move { Ok::<_, Infallible>(ctx.handle(req).await) }
        });
        if let Err(e) = http2::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(stream), svc)
            .await
        {
            tracing::debug!(%remote, error = %e, "peer connection ended");
        }
    }
}

/// Accepts connections on `listener` until `shutdown` turns true.
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
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(ctx.clone().connection(stream, remote));
            }
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
    }
}
