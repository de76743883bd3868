//! Points where a strategy other than the honest one can be plugged into the node's loop,
//! for the strategy catalogue's harness (noise, lazy, copier, selfish nodes). Library only:
//! no command line flag or config key of the production binary reaches them; `run` always
//! passes [`Hooks::default`], the honest node.

use crate::model::w2v::SparseUpdate;

/// Rewrites what the node publishes: (own delta, updates received this round) -> published.
pub type PublishHook = Box<dyn Fn(&SparseUpdate, &[SparseUpdate]) -> SparseUpdate + Send + Sync>;
/// Rewrites the edge set before it is posted.
pub type EdgesHook =
    Box<dyn Fn(Vec<emission::Edge<String>>) -> Vec<emission::Edge<String>> + Send + Sync>;

/// How a node departs from the honest loop (see the module docs).
pub struct Hooks {
    /// Rewrites what this node publishes for a round: (own delta, updates received this round) -> published.
    pub publish: Option<PublishHook>,
    /// false: the node never trains (serves its initialisation; its own delta is empty).
    pub train: bool,
    /// Rewrites the edge set before it is posted.
    pub edges: Option<EdgesHook>,
}

impl Default for Hooks {
    /// The honest node: trains, publishes its own delta, posts the edges it computes.
    fn default() -> Self {
        Hooks {
            publish: None,
            train: true,
            edges: None,
        }
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("publish", &self.publish.is_some())
            .field("train", &self.train)
            .field("edges", &self.edges.is_some())
            .finish()
    }
}
