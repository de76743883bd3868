//! The node's message kinds on the session: `UPDATES` (the sparse updates the node published
//! after a sequence number, how nodes learn across shards), `FORWARD` (embeddings of word ids), `BACKWARD`
//! (the gradient for what one forward of the same session returned, named by its request
//! id, so a gradient can neither be replayed nor sent to another server) and `EXPORT`
//! (write the embeddings to disk; only the node's own account may ask).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::codec::Limits;
use super::endpoint::{Endpoint, EndpointError};
use super::range::{out_of_range, MAX_ABS_VALUE};
use super::server::ServerCounters;
use super::session::handlers::{Handlers, Refusal};
use super::session::message::{BACKWARD, EXPORT, FORWARD, UPDATES};
use super::session::Status;
use super::{wire, wire_updates};

/// Forwards a session remembers for their backward (a step has one forward in flight and
/// one prefetched per upstream, so a few suffice).
pub const SERVED_PER_SESSION: usize = 8;

/// Per-account rates of the kinds.
#[derive(Debug, Clone, Copy)]
pub struct KindLimits {
    /// Forward requests per second per account.
    pub forward_rate: f64,
    /// Burst of forwards.
    pub forward_burst: f64,
    /// Backward requests per second per account.
    pub backward_rate: f64,
    /// Burst of backwards.
    pub backward_burst: f64,
    /// Updates requests per second per account (a downstream polls while it waits for a
    /// round).
    pub updates_rate: f64,
    /// Burst of updates requests.
    pub updates_burst: f64,
}

/// The ids of a session's recent forwards, by request id (bounded).
#[derive(Default)]
pub struct ServedForwards(VecDeque<(u32, Vec<i64>)>);

impl ServedForwards {
    fn record(&mut self, id: u32, ids: Vec<i64>) {
        if self.0.len() >= SERVED_PER_SESSION {
            self.0.pop_front();
        }
        self.0.push_back((id, ids));
    }

    fn take(&mut self, id: u32) -> Option<Vec<i64>> {
        let at = self.0.iter().position(|(i, _)| *i == id)?;
        self.0.remove(at).map(|(_, ids)| ids)
    }
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
        Arc::new(move |call, body| {
            let req = wire::decode_forward(body, &limits).map_err(|e| {
                c.bad_requests.fetch_add(1, Ordering::Relaxed);
                (Status::BadRequest, format!("forward: {e}"))
            })?;
            let t = ep.forward(&req.ids).map_err(|e| endpoint_refusal(e, &c))?;
            let out = wire::encode_matrix(&t, req.dtype, &limits).map_err(|e| {
                endpoint_refusal(EndpointError::Internal(format!("encode: {e}")), &c)
            })?;
            call.memory.get::<ServedForwards>().record(call.id, req.ids);
            c.forward_served.fetch_add(1, Ordering::Relaxed);
            Ok(out)
        }),
    );
    let (ep, c) = (endpoint.clone(), counters.clone());
    h.register(
        BACKWARD,
        rates.backward_rate,
        rates.backward_burst,
        Arc::new(move |call, body| {
            let req = wire::decode_backward(body, &limits).map_err(|e| {
                c.bad_requests.fetch_add(1, Ordering::Relaxed);
                (Status::BadRequest, format!("backward: {e}"))
            })?;
            if let Some((index, value)) = out_of_range(&req.grad.data) {
                c.out_of_range.fetch_add(1, Ordering::Relaxed);
                return Err((
                    Status::OutOfRange,
                    format!("backward: gradient element {index} = {value:e} is outside ±{MAX_ABS_VALUE}; rejected"),
                ));
            }
            let Some(ids) = call.memory.get::<ServedForwards>().take(req.forward) else {
                c.not_served.fetch_add(1, Ordering::Relaxed);
                return Err((
                    Status::NotServed,
                    format!(
                        "backward: request {} of this session is not a forward awaiting its gradient (a gradient answers one forward, once)",
                        req.forward
                    ),
                ));
            };
            if req.grad.shape[0] != ids.len() {
                c.bad_requests.fetch_add(1, Ordering::Relaxed);
                return Err((
                    Status::BadRequest,
                    format!(
                        "backward: {} gradient rows for a forward of {} ids",
                        req.grad.shape[0],
                        ids.len()
                    ),
                ));
            }
            ep.backward(&ids, &req.grad)
                .map_err(|e| endpoint_refusal(e, &c))?;
            c.backward_applied.fetch_add(1, Ordering::Relaxed);
            Ok(Vec::new())
        }),
    );
    let (ep, c) = (endpoint.clone(), counters.clone());
    h.register(
        UPDATES,
        rates.updates_rate,
        rates.updates_burst,
        Arc::new(move |_call, body| {
            let req = wire_updates::decode_request(body).map_err(|e| {
                c.bad_requests.fetch_add(1, Ordering::Relaxed);
                (Status::BadRequest, format!("updates: {e}"))
            })?;
            let answer = ep
                .updates(req.after, req.dtype, limits.max_bytes)
                .map_err(|e| endpoint_refusal(e, &c))?;
            let out = wire_updates::encode_answer(&answer, req.dtype, &limits).map_err(|e| {
                endpoint_refusal(EndpointError::Internal(format!("encode: {e}")), &c)
            })?;
            c.updates_served.fetch_add(1, Ordering::Relaxed);
            Ok(out)
        }),
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
