//! The snapshot served at `/api/state`: its shape ([`snapshot`]), how one poll's tables and
//! worker reports become one ([`build`]), the bounded history ([`history`]) and the token
//! conservation check ([`conservation`]).

pub mod build;
pub mod conservation;
pub mod history;
pub mod snapshot;

pub use build::build_snapshot;
pub use history::History;
pub use snapshot::{EdgeView, NodeView, Snapshot, WorkerView};
