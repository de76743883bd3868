//! One non-genesis producer node: started, stopped and restarted on its own data directory.

use std::path::PathBuf;

use crate::error::LocalnetError;
use crate::node::{start_nodeos, NodeSpec};
use crate::process::ProcessGroup;

/// A producer's nodeos; `process` is `None` while stopped.
pub(crate) struct ProducerNode {
    dir: PathBuf,
    spec: NodeSpec,
    process: Option<ProcessGroup>,
}

impl ProducerNode {
    /// Starts the node; returns once its API answers (it syncs at the network's pace).
    pub(crate) fn start(dir: PathBuf, spec: NodeSpec) -> Result<ProducerNode, LocalnetError> {
        let process = start_nodeos(&dir, &spec)?;
        Ok(ProducerNode {
            dir,
            spec,
            process: Some(process),
        })
    }

    /// The node's HTTP API URL.
    pub(crate) fn url(&self) -> String {
        self.spec.url()
    }

    /// Stops the node abruptly for the network (its peers see the connection drop).
    pub(crate) fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop();
        }
    }

    /// Stops the node, with the SIGKILL at `deadline` (a grace shared with other nodes).
    pub(crate) fn stop_by(&mut self, deadline: std::time::Instant) {
        if let Some(mut p) = self.process.take() {
            p.stop_by(deadline);
        }
    }

    /// Asks the node to stop (SIGTERM to its group) without waiting for it.
    pub(crate) fn terminate(&self) {
        if let Some(p) = &self.process {
            p.terminate();
        }
    }

    /// Starts the node again on the same directory and ports.
    pub(crate) fn restart(&mut self) -> Result<(), LocalnetError> {
        self.stop();
        self.process = Some(start_nodeos(&self.dir, &self.spec)?);
        Ok(())
    }
}
