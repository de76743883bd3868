//! The contract's parameters a worker must respect: `max_idle` (after that many blocks
//! without an emit anyone may evict the node) and a change announced in the `global` row
//! (`next_*`, in force from block `next_at`), read at start, logged, and checked against the
//! worker's own emit interval.

use std::time::Duration;

use serde_json::Value;

/// Emit intervals a worker's back-off may stretch to before it emits again.
pub const BACKOFF_EMITS: u64 = 32;

/// Block slots per second (0.5 s blocks).
const BLOCKS_PER_SEC: f64 = 2.0;

/// A parameter change the contract announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announced {
    /// The new emission rate, base units per block.
    pub emission_rate: u64,
    /// The new minimum stake.
    pub min_stake: u64,
    /// The new self-weight cap, parts per million.
    pub max_self_weight: u32,
    /// The new `max_idle`, blocks.
    pub max_idle: u64,
    /// The block slot it takes effect.
    pub at: u64,
}

/// The parameters of the `global` row the worker needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainParams {
    /// Base units issued per block.
    pub emission_rate: u64,
    /// The self-weight cap, parts per million.
    pub max_self_weight: u32,
    /// Blocks without an emit after which anyone may evict a node.
    pub max_idle: u64,
    /// A change announced and not yet in force.
    pub next: Option<Announced>,
}

fn int(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

impl ChainParams {
    /// Reads the parameters from a `global` row as nodeos prints it; `None` when a field is
    /// missing (a contract without them).
    pub fn from_global(row: &Value) -> Option<Self> {
        let at = int(&row["next_at"]).unwrap_or(0);
        let next = if at == 0 {
            None
        } else {
            Some(Announced {
                emission_rate: int(&row["next_emission_rate"])?,
                min_stake: int(&row["next_min_stake"])?,
                max_self_weight: u32::try_from(int(&row["next_max_self_weight"])?).ok()?,
                max_idle: int(&row["next_max_idle"])?,
                at,
            })
        };
        Some(ChainParams {
            emission_rate: int(&row["emission_rate"])?,
            max_self_weight: u32::try_from(int(&row["max_self_weight"])?).ok()?,
            max_idle: int(&row["max_idle"])?,
            next,
        })
    }

    /// The smallest `max_idle` the node will meet: the current one or an announced one.
    pub fn strictest_max_idle(&self) -> u64 {
        self.next
            .map_or(self.max_idle, |n| n.max_idle.min(self.max_idle))
    }
}

/// Refuses an emit interval whose back-off (`BACKOFF_EMITS` intervals) could outlast
/// `max_idle`, naming both.
pub fn check_emit_interval(emit_interval: Duration, max_idle: u64) -> Result<(), String> {
    let blocks = (emit_interval.as_secs_f64() * BLOCKS_PER_SEC).ceil() as u64;
    let worst = BACKOFF_EMITS.saturating_mul(blocks);
    if worst > max_idle {
        return Err(format!(
            "{BACKOFF_EMITS} x emit_interval ({:.1} s = {blocks} blocks) is {worst} blocks, above the chain's max_idle of {max_idle} blocks: a backed-off node could be evicted between two emits; lower chain.emit_interval_secs to at most {:.1} s",
            emit_interval.as_secs_f64(),
            max_idle as f64 / BACKOFF_EMITS as f64 / BLOCKS_PER_SEC
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_current_and_the_announced_parameters() {
        let row = json!({"emission_rate": 10000, "max_self_weight": 500000, "max_idle": "1000",
            "next_emission_rate": 20000, "next_min_stake": 5, "next_max_self_weight": 400000,
            "next_max_idle": 640, "next_at": 1234});
        let p = ChainParams::from_global(&row).unwrap();
        assert_eq!(
            (p.emission_rate, p.max_self_weight, p.max_idle),
            (10_000, 500_000, 1_000)
        );
        assert_eq!(p.next.unwrap().at, 1234);
        assert_eq!(p.strictest_max_idle(), 640);
        let none = json!({"emission_rate": 1, "max_self_weight": 1, "max_idle": 700, "next_at": 0});
        assert_eq!(ChainParams::from_global(&none).unwrap().next, None);
        assert_eq!(ChainParams::from_global(&json!({"emission_rate": 1})), None);
    }

    #[test]
    fn an_interval_whose_backoff_outlasts_max_idle_is_refused_naming_both() {
        // The default 5 s: 32 x 10 = 320 blocks, within the 640-block floor.
        assert!(check_emit_interval(Duration::from_secs(5), 640).is_ok());
        assert!(check_emit_interval(Duration::from_secs(10), 640).is_ok());
        let err = check_emit_interval(Duration::from_secs(11), 640).unwrap_err();
        assert!(err.contains("max_idle of 640 blocks"), "{err}");
        assert!(err.contains("11.0 s = 22 blocks"), "{err}");
        assert!(err.contains("704 blocks"), "{err}");
    }
}
