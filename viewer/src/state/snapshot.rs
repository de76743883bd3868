//! The JSON the page draws from; field names are the page's contract (`assets/app.js`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::conservation::Conservation;
use crate::chain::GlobalRow;
use crate::workers::WorkerReport;

/// How much a worker values one account (itself or an upstream peer).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    /// The account attributed.
    pub peer: String,
    /// The worker's current attribution, in `[0, 1]`.
    pub value: f64,
}

/// The emit interval a worker's last accepted edge set covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalView {
    /// Seconds covered.
    pub secs: f64,
    /// Training steps inside it.
    pub steps: u64,
    /// Share of the posted attribution that comes from this interval.
    pub weight_in_posted: f64,
}

/// One subscribed node as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeView {
    /// Account name.
    pub name: String,
    /// Worker host.
    pub address: String,
    /// Worker port.
    pub port: u16,
    /// Stake in base units.
    pub stake: u64,
    /// On-chain stake fraction `stake / total stake`.
    pub fraction: f64,
    /// The matrix model's share of emission for this node, when it could be computed.
    pub predicted: Option<f64>,
    /// Its share of the stake and residual credited over the history window, when any was.
    pub credited: Option<f64>,
    /// The attribution other nodes give it, each weighted by its stake fraction: what its
    /// peers say it is worth, shown beside what the chain credited it.
    pub received: f64,
    /// Pending residual in base units.
    pub residual: u64,
    /// Block of the last emit.
    pub last_emit: u64,
    /// Self weight as a fraction of one.
    pub self_weight: f64,
    /// Whether its worker answered `/status`.
    pub up: bool,
}

/// One attribution edge of the on-chain graph (self edges are shown on the node instead).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeView {
    /// The emitting node.
    pub from: String,
    /// The attributed node.
    pub to: String,
    /// Weight as a fraction of one.
    pub weight: f64,
}

/// Stake fractions of every node at one block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Head block when read.
    pub block: u64,
    /// Node name to stake fraction.
    pub fractions: BTreeMap<String, f64>,
}

/// One worker as shown: its report plus the loss series drawn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerView {
    /// Account name.
    pub name: String,
    /// The status URL asked.
    pub url: String,
    /// Whether it answered.
    pub up: bool,
    /// Why it is down.
    pub error: Option<String>,
    /// The identity it reports.
    pub identity: Option<String>,
    /// Training steps.
    pub step: Option<u64>,
    /// Latest loss.
    pub loss: Option<f64>,
    /// Training pairs per second.
    pub examples_per_sec: Option<f64>,
    /// `(step, loss)` points recorded across polls.
    pub loss_series: Vec<(f64, f64)>,
    /// Attributions: the worker itself first, then each upstream peer.
    pub attributions: Vec<Attribution>,
    /// Emits accepted by the chain.
    pub emits_pushed: Option<u64>,
    /// Emits that failed.
    pub emits_failed: Option<u64>,
    /// The interval the last accepted emit covered.
    pub last_emit_interval: Option<IntervalView>,
}

impl WorkerView {
    /// Combines a fresh report with the loss series to draw.
    pub fn new(report: WorkerReport, loss_series: Vec<(f64, f64)>) -> Self {
        let s = report.status.as_ref();
        Self {
            identity: s.map(|s| s.identity.clone()),
            step: s.map(|s| s.step),
            loss: s.and_then(|s| s.loss),
            examples_per_sec: s.map(|s| s.examples_per_sec),
            loss_series,
            attributions: s.map_or_else(Vec::new, |s| {
                s.attributions()
                    .into_iter()
                    .map(|(peer, value)| Attribution { peer, value })
                    .collect()
            }),
            emits_pushed: s.map(|s| s.emits_pushed),
            emits_failed: s.map(|s| s.emits_failed),
            last_emit_interval: s.and_then(|s| s.last_emit_interval.as_ref()).map(|w| {
                IntervalView {
                    secs: w.secs,
                    steps: w.steps,
                    weight_in_posted: w.weight_in_posted,
                }
            }),
            name: report.name,
            url: report.url,
            up: report.up,
            error: report.error,
        }
    }
}

/// Everything `/api/state` returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// Contract account viewed.
    pub contract: String,
    /// Chain endpoint read.
    pub chain_url: String,
    /// Polls done so far (successful or not).
    pub polls: u64,
    /// Unix time of the last successful poll, in milliseconds.
    pub updated_unix_ms: Option<u64>,
    /// Head block of the last successful poll.
    pub head_block: Option<u64>,
    /// Why the last poll failed, when it did (the rest is then the previous poll's data).
    pub error: Option<String>,
    /// Why the prediction is missing, when it is.
    pub prediction_error: Option<String>,
    /// The `global` row.
    pub global: Option<GlobalRow>,
    /// Subscribed nodes, by name.
    pub nodes: Vec<NodeView>,
    /// Attribution edges between distinct nodes.
    pub edges: Vec<EdgeView>,
    /// Stake fractions over blocks (bounded).
    pub history: Vec<HistoryPoint>,
    /// Workers, by name.
    pub workers: Vec<WorkerView>,
    /// Token conservation check, when supply and balances could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conservation: Option<Conservation>,
}
