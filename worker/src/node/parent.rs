//! A node started by another program (the experiment, the strategy harness) stops when that
//! program is gone, even when it was killed by a signal no process can catch (SIGKILL):
//! the starter names itself in [`PARENT_ENV`], and the node stops as it would on SIGTERM
//! once its parent is another process (the orphan was adopted).

use std::process::Command;
use std::time::Duration;

/// Environment variable holding the pid whose end stops the node.
pub const PARENT_ENV: &str = "BITTENSOR_STOP_WITH_PARENT";

/// How often the node looks at its parent.
const EVERY: Duration = Duration::from_millis(250);

/// Makes the node that `cmd` starts stop when this process is gone.
pub fn stop_with_this_process(cmd: &mut Command) -> &mut Command {
    cmd.env(PARENT_ENV, std::process::id().to_string())
}

/// The pid a value of [`PARENT_ENV`] names (a value that is not a pid is logged and ignored).
fn parse_parent(value: &str) -> Option<u32> {
    match value.trim().parse::<u32>() {
        Ok(pid) if pid > 1 => Some(pid),
        _ => {
            tracing::warn!(%value, "{PARENT_ENV} is not a process id; the node does not watch its parent");
            None
        }
    }
}

/// Resolves once the process named by [`PARENT_ENV`] is no longer this one's parent (it
/// ended, and the node was adopted); never when none is named.
pub async fn gone() {
    let named = std::env::var(PARENT_ENV).ok();
    gone_from(named.as_deref().and_then(parse_parent)).await
}

async fn gone_from(parent: Option<u32>) {
    let Some(pid) = parent else {
        return std::future::pending().await;
    };
    while std::os::unix::process::parent_id() == pid {
        tokio::time::sleep(EVERY).await;
    }
    tracing::warn!(
        parent = pid,
        "the process that started this node is gone; stopping"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The watch goes on while the named process is the parent, ends at once when another
    /// is named, and never ends when none is.
    #[tokio::test]
    async fn the_watch_ends_only_when_the_named_parent_is_not_the_parent() {
        let parent = std::os::unix::process::parent_id();
        let wait = Duration::from_millis(600);
        let alive = tokio::time::timeout(wait, gone_from(Some(parent))).await;
        assert!(alive.is_err(), "the parent is alive: the watch goes on");
        let other = tokio::time::timeout(wait, gone_from(Some(parent + 1))).await;
        assert!(other.is_ok(), "another pid is named: the watch ends");
        let none = tokio::time::timeout(wait, gone_from(None)).await;
        assert!(none.is_err(), "nothing named: the watch never ends");
    }

    #[test]
    fn only_a_process_id_is_taken() {
        assert_eq!(parse_parent(" 4242\n"), Some(4242));
        for bad in ["", "abc", "-3", "0", "1", "99999999999"] {
            assert_eq!(parse_parent(bad), None, "{bad:?}");
        }
    }
}
