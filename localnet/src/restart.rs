//! Stopping and restarting nodeos on the same data directory and HTTP port, so fault
//! tests can take the chain away from running clients and give it back unchanged.

use crate::error::LocalnetError;
use crate::node::{start_nodeos, Localnet};

impl Localnet {
    /// Stops nodeos cleanly (SIGTERM to its process group, KILL after a grace period);
    /// keosd and the data directory stay. Calls on a stopped node do nothing.
    pub fn stop_node(&mut self) {
        self.nodeos.stop();
    }

    /// Starts nodeos again on the same data directory and HTTP port (chain state, keys and
    /// URL unchanged); returns once the head block advances.
    pub fn restart_node(&mut self) -> Result<(), LocalnetError> {
        self.nodeos.stop();
        let port = self
            .url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .ok_or_else(|| LocalnetError::Decode(format!("no port in {}", self.url)))?;
        self.nodeos = start_nodeos(&self.node_dir, port)?;
        Ok(())
    }
}
