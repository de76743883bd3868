//! Stopping and restarting nodeos on the same data directory and HTTP port, so fault
//! tests can take the chain away from running clients and give it back unchanged.

use std::time::{Duration, Instant};

use crate::error::LocalnetError;
use crate::node::{get_info, start_nodeos, Localnet};

/// Longest wait for the chain to make its pending state irreversible before a stop.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

impl Localnet {
    /// Stops nodeos cleanly (SIGTERM to its process group, KILL after a grace period);
    /// keosd and the data directory stay. Calls on a stopped node do nothing.
    pub fn stop_node(&mut self) {
        self.wait_irreversible();
        self.nodeos.stop();
    }

    /// Waits (bounded) until the block that was pending at the call is irreversible: a
    /// pushed transaction is only applied to the pending block, and nodeos drops a pending
    /// or reversible block when it stops, so without this wait a restart can lose the last
    /// transactions. A chain that does not answer is not waited for.
    fn wait_irreversible(&self) {
        let Ok(info) = get_info(&self.url) else {
            return;
        };
        let Some(head) = info["head_block_num"].as_u64() else {
            return;
        };
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        while Instant::now() < deadline {
            match get_info(&self.url) {
                Ok(info) if info["last_irreversible_block_num"].as_u64() > Some(head) => return,
                Ok(_) => std::thread::sleep(Duration::from_millis(100)),
                Err(_) => return,
            }
        }
    }

    /// Freezes nodeos (SIGSTOP; `false` thaws it): its port still accepts connections,
    /// but no request is answered, as with a chain too loaded to serve.
    pub fn freeze_node(&self, frozen: bool) {
        self.nodeos.freeze(frozen);
    }

    /// Starts nodeos again on the same data directory and HTTP port (chain state, keys and
    /// URL unchanged); returns once the head block advances.
    pub fn restart_node(&mut self) -> Result<(), LocalnetError> {
        self.wait_irreversible();
        self.nodeos.stop();
        self.nodeos = start_nodeos(&self.node_dir, &self.spec)?;
        Ok(())
    }
}
