//! Loading a scenario from a JSON file, with typed errors for every kind of bad input.
//!
//! Schema (unknown fields are rejected):
//! ```json
//! {
//!   "nodes": [
//!     { "name": "a", "stake": 1.0,
//!       "edges": [ { "to": "a", "weight": 0.6 }, { "to": "b", "weight": 0.4 } ] },
//!     { "name": "b", "stake": 1.0, "edges": [ { "to": "b", "weight": 1.0 } ] }
//!   ],
//!   "rate": 100.0,            // optional: units minted per block, default 50 * nodes
//!   "blocks": 100,            // optional, default 100
//!   "seed": 0,                // optional: emit order seed, default 0
//!   "emit_probability": 1.0,  // optional: in [0, 1], default 1
//!   "threshold": 1e-5,        // optional: recursive model's MIN_INCREMENT, default 1e-5
//!   "tolerance": 0.001        // optional: allowed |sum of weights - 1|, default 0.001
//! }
//! ```
//! Each node's `edges` must start with the node itself (its self weight), hold at most
//! `MAX_EDGES` entries, name only nodes of the file, have finite non-negative weights summing
//! to 1 within `tolerance`, and a self weight of at least 1 %. (JSON cannot spell NaN or
//! infinity, so non-finite weights can only come through the library API.)

use std::collections::HashMap;
use std::path::Path;

use emission::graph::Graph;
use emission::EdgeError;
use serde::Deserialize;
use thiserror::Error;

use crate::scenario::Scenario;

/// One edge as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSpec {
    /// Target node name.
    pub to: String,
    /// Share of the node's emission routed to `to`.
    pub weight: f64,
}

/// One node as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique name.
    pub name: String,
    /// Initial stake in units.
    pub stake: f64,
    /// Edge set, self first.
    pub edges: Vec<EdgeSpec>,
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// The nodes, in index order.
    pub nodes: Vec<NodeSpec>,
    /// Units minted per block.
    pub rate: Option<f64>,
    /// Blocks to simulate.
    pub blocks: Option<u64>,
    /// Emit order seed.
    pub seed: Option<u64>,
    /// Probability that a node emits in a block.
    pub emit_probability: Option<f64>,
    /// Recursive model threshold.
    pub threshold: Option<f64>,
    /// Allowed deviation of a weight sum from 1.
    pub tolerance: Option<f64>,
}

/// Why a scenario file was rejected.
#[derive(Debug, Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not valid JSON for the schema.
    #[error("invalid scenario JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The file has no node.
    #[error("scenario has no nodes")]
    NoNodes,
    /// Two nodes share a name.
    #[error("duplicate node name {0:?}")]
    DuplicateName(String),
    /// An edge names a node the file does not define.
    #[error("node {node:?}: edge {index} targets unknown node {target:?}")]
    UnknownNode {
        /// The node whose edge set is bad.
        node: String,
        /// Position in its edge set.
        index: usize,
        /// The unknown name.
        target: String,
    },
    /// A malformed edge set.
    #[error("node {node:?}: {error}")]
    Edge {
        /// The node whose edge set is bad.
        node: String,
        /// What is wrong with it.
        error: EdgeError,
    },
    /// A negative or non-finite stake.
    #[error("node {0:?}: stake must be finite and >= 0")]
    BadStake(String),
    /// A global parameter out of range.
    #[error("parameter {name}: {reason}")]
    BadParameter {
        /// Which parameter.
        name: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, FileError> {
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text)
}

/// Parses and validates scenario JSON text.
pub fn parse(text: &str) -> Result<Scenario, FileError> {
    let spec: ScenarioSpec = serde_json::from_str(text)?;
    build(spec)
}

/// Validates a parsed spec and builds the scenario.
pub fn build(spec: ScenarioSpec) -> Result<Scenario, FileError> {
    if spec.nodes.is_empty() {
        return Err(FileError::NoNodes);
    }
    let mut index = HashMap::new();
    for (i, node) in spec.nodes.iter().enumerate() {
        if index.insert(node.name.clone(), i).is_some() {
            return Err(FileError::DuplicateName(node.name.clone()));
        }
        if !node.stake.is_finite() || node.stake < 0.0 {
            return Err(FileError::BadStake(node.name.clone()));
        }
    }
    let tolerance = spec.tolerance.unwrap_or(1e-3);
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(FileError::BadParameter {
            name: "tolerance",
            reason: "must be finite and >= 0",
        });
    }
    let mut lists = Vec::with_capacity(spec.nodes.len());
    for node in &spec.nodes {
        let mut list = Vec::with_capacity(node.edges.len());
        for (i, edge) in node.edges.iter().enumerate() {
            let target = *index.get(&edge.to).ok_or_else(|| FileError::UnknownNode {
                node: node.name.clone(),
                index: i,
                target: edge.to.clone(),
            })?;
            list.push((target, edge.weight));
        }
        lists.push(list);
    }
    let graph = Graph::from_float(&lists, tolerance).map_err(|e| FileError::Edge {
        node: spec.nodes[e.node].name.clone(),
        error: e.error,
    })?;
    let names = spec.nodes.iter().map(|n| n.name.clone()).collect();
    let stake = spec.nodes.iter().map(|n| n.stake).collect();
    let mut scenario = Scenario::new(names, graph, stake);
    if let Some(rate) = spec.rate {
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(FileError::BadParameter {
                name: "rate",
                reason: "must be finite and >= 0",
            });
        }
        scenario.rate = rate;
    }
    if let Some(p) = spec.emit_probability {
        if !(0.0..=1.0).contains(&p) {
            return Err(FileError::BadParameter {
                name: "emit_probability",
                reason: "must be in [0, 1]",
            });
        }
        scenario.emit_probability = p;
    }
    if let Some(t) = spec.threshold {
        if !(t.is_finite() && t > 0.0) {
            return Err(FileError::BadParameter {
                name: "threshold",
                reason: "must be finite and > 0",
            });
        }
        scenario.threshold = t;
    }
    scenario.blocks = spec.blocks.unwrap_or(scenario.blocks);
    scenario.seed = spec.seed.unwrap_or(0);
    Ok(scenario)
}
