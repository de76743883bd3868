//! The node's message kinds on the session: `UPDATES` (the sparse updates the node published
//! after a sequence number, how nodes learn across shards), `FORWARD` (embeddings of word
//! ids: what a consumer reads from a node) and `EXPORT`
//! (write the embeddings to disk; only the node's own account may ask).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::codec::Limits;
use super::endpoint::{Endpoint, EndpointError};
use super::server::ServerCounters;
use super::session::handlers::{Handlers, Hold, Refusal};
use super::session::message::{EXPORT, FORWARD, UPDATES};
use super::session::Status;
use super::{wire, wire_updates};

/// Longest this node holds an update fetch for a newer round, whatever the caller asks.
pub const MAX_UPDATES_HOLD: Duration = Duration::from_secs(2);

/// Per-account rates of the kinds.
#[derive(Debug, Clone, Copy)]
pub struct KindLimits {
    /// Forward requests per second per account.
    pub forward_rate: f64,
    /// Burst of forwards.
    pub forward_burst: f64,
    /// Updates requests per second per account (a downstream polls while it waits for a
    /// round).
    pub updates_rate: f64,
    /// Burst of updates requests.
    pub updates_burst: f64,
}

fn endpoint_refusal(e: EndpointError, counters: &ServerCounters) -> Refusal {
    match e {
        EndpointError::BadInput(m) => {
            counters.bad_requests.fetch_add(1, Ordering::Relaxed);
            (Status::BadRequest, m)
        }
        EndpointError::Unavailable(m) => (Status::Unavailable, m),
        EndpointError::Internal(m) => {
            counters.internal_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %m, "peer request failed inside the node");
            (Status::Internal, m)
        }
    }
}

/// An update fetch from a caller that has the latest round waits (up to what it asked, at
/// most [`MAX_UPDATES_HOLD`]) until a newer one is published; any other is answered at once
/// (a caller whose cursor is ahead of this node, which restarted, learns it at once).
fn updates_hold(endpoint: Arc<dyn Endpoint>) -> Hold {
    Arc::new(move |body| {
        let req = wire_updates::decode_request(body).ok()?;
        if req.wait_ms == 0 {
            return None;
        }
        let mut latest = endpoint.published_round()?;
        if *latest.borrow() != req.after {
            return None;
        }
        let most = Duration::from_millis(req.wait_ms.into()).min(MAX_UPDATES_HOLD);
        Some(Box::pin(async move {
            let _ = tokio::time::timeout(most, latest.wait_for(|&l| l != req.after)).await;
        }))
    })
}

/// The handlers of a node serving `endpoint` as `me`.
pub fn node_handlers(
    endpoint: Arc<dyn Endpoint>,
    limits: Limits,
    rates: KindLimits,
    counters: Arc<ServerCounters>,
    me: String,
) -> Handlers {
    let mut h = Handlers::new();
    let (ep, c) = (endpoint.clone(), counters.clone());
    h.register(
        FORWARD,
        rates.forward_rate,
        rates.forward_burst,
        Arc::new(move |_call, body| {
            let req = wire::decode_forward(body, &limits).map_err(|e| {
                c.bad_requests.fetch_add(1, Ordering::Relaxed);
                (Status::BadRequest, format!("forward: {e}"))
            })?;
            let t = ep.forward(&req.ids).map_err(|e| endpoint_refusal(e, &c))?;
            let out = wire::encode_matrix(&t, req.dtype, &limits).map_err(|e| {
                endpoint_refusal(EndpointError::Internal(format!("encode: {e}")), &c)
            })?;
            c.forward_served.fetch_add(1, Ordering::Relaxed);
            Ok(out)
        }),
    );
    let (ep, c) = (endpoint.clone(), counters.clone());
    h.register_held(
        UPDATES,
        rates.updates_rate,
        rates.updates_burst,
        Arc::new(move |_call, body| {
            let req = wire_updates::decode_request(body).map_err(|e| {
                c.bad_requests.fetch_add(1, Ordering::Relaxed);
                (Status::BadRequest, format!("updates: {e}"))
            })?;
            let out = ep
                .updates(req.after, req.dtype, &limits)
                .map_err(|e| endpoint_refusal(e, &c))?;
            c.updates_served.fetch_add(1, Ordering::Relaxed);
            Ok(out)
        }),
        updates_hold(endpoint.clone()),
    );
    let (ep, c) = (endpoint, counters);
    h.register(
        EXPORT,
        1.0,
        2.0,
        Arc::new(move |call, _body| {
            if call.account != me {
                return Err((
                    Status::Forbidden,
                    format!("export: only {me} (this node's own key) may ask for an export"),
                ));
            }
            let files = ep.export().map_err(|e| endpoint_refusal(e, &c))?;
            serde_json::to_vec(&files).map_err(|e| (Status::Internal, format!("export: {e}")))
        }),
    );
    h
}
