//! A reader's copy of the `metagraph` table that, after one full paged read, fetches only the
//! rows changed since its cursor (the contract's change sequence, `docs/contract-interface.md`
//! "Reading the metagraph incrementally").
//!
//! The cursor is a change number `c`: every change up to `c` is in the copy, and final. A
//! refresh reads `get_info` (the last irreversible block's time) and `global` (the last change
//! number), then the `metagraph` rows and the departures whose number is above `c`, through
//! their `seq` secondary index, and keeps per account the entry with the highest number. A
//! node appears once per refresh however often it changed. Reads are not one snapshot, so the
//! new cursor is at most the `change_seq` read BEFORE the rows. A change number carries its
//! block slot in its high bits ([`CHANGE_SLOT_SHIFT`]), so the cursor is also held at the last
//! number of the last irreversible block's slot: a fork can give the numbers after it to
//! other changes, and the next refresh reads them again. An entry of the copy newer than the
//! cursor that such a re-read does not find was on a dropped fork: the reader then falls
//! back to a full read, as it does on its first refresh and when the chain's counter is below
//! its cursor (another deployment). A failed request changes nothing.

use std::collections::BTreeMap;

use super::time::parse_block_time_ms;
use super::{Client, DepartureRow, MetagraphRow};
use crate::error::ChainError;
use crate::types::name::Name;

/// Bits of a change number below its block slot, as the contract's `metagraph::SLOT_SHIFT`
/// (`tests/tests/metagraph_reads.rs` holds the two equal).
pub const CHANGE_SLOT_SHIFT: u32 = 16;
/// Milliseconds per block slot.
const SLOT_MS: u64 = 500;

/// One account's entry: its latest known row (None once it left) and that state's number.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    seq: u64,
    row: Option<MetagraphRow>,
}

/// The reader's copy of the metagraph and its cursor.
#[derive(Debug, Clone, Default)]
pub struct MetagraphView {
    entries: BTreeMap<Name, Entry>,
    /// Every change up to this number is in `entries`, and irreversible.
    trusted: Option<u64>,
    /// The contract's `max_self_weight` at the last refresh (`None` before the first).
    max_self_weight: Option<u32>,
}

/// What one refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    /// A full paged read (first refresh, untrusted cursor), else only changes.
    pub full: bool,
    /// `metagraph` rows received.
    pub rows_read: usize,
    /// `departed` rows received.
    pub departures_read: usize,
    /// Response bytes the client received during the refresh (all its requests).
    pub bytes: u64,
    /// Subscribed nodes in the copy afterwards.
    pub nodes: usize,
}

impl MetagraphView {
    /// An empty copy: the first refresh is a full read.
    pub fn new() -> Self {
        Self::default()
    }

    /// The subscribed nodes, by account name.
    pub fn rows(&self) -> impl Iterator<Item = &MetagraphRow> {
        self.entries.values().filter_map(|e| e.row.as_ref())
    }

    /// The contract's self-weight cap as of the last refresh, so edge sets fit it.
    pub fn max_self_weight(&self) -> Option<u32> {
        self.max_self_weight
    }

    /// The change number up to which the copy is trusted (`None`: next refresh reads all).
    pub fn cursor(&self) -> Option<u64> {
        self.trusted
    }

    /// Forgets the cursor: the next refresh is a full read.
    pub fn invalidate(&mut self) {
        self.trusted = None;
    }

    /// Brings the copy up to date with `contract`'s tables through `client`. On error the
    /// copy and its cursor are as before (nothing half-applied).
    pub async fn refresh(
        &mut self,
        client: &Client,
        contract: Name,
    ) -> Result<Refresh, ChainError> {
        let before = client.bytes_received();
        let info = client.get_info().await?;
        let lib_slot = match &info.last_irreversible_block_time {
            Some(time) => parse_block_time_ms(time)? / SLOT_MS,
            None => 0,
        };
        let Some(global) = client.global(contract).await? else {
            // No token yet: nothing is subscribed.
            self.entries.clear();
            self.invalidate();
            return Ok(self.report(true, 0, 0, client.bytes_received() - before));
        };
        self.max_self_weight = Some(global.max_self_weight);
        let cursor = self.trusted.filter(|&c| c <= global.change_seq);
        let read = match cursor {
            Some(after) => self.incremental(client, contract, after).await?,
            None => None,
        };
        let (full, rows_read, departures_read) = match read {
            Some(counts) => (false, counts.0, counts.1),
            None => {
                let rows = client.metagraph(contract).await?;
                let count = rows.len();
                self.entries = rows
                    .into_iter()
                    .map(|row| {
                        let (user, seq) = (row.user, row.seq);
                        (
                            user,
                            Entry {
                                seq,
                                row: Some(row),
                            },
                        )
                    })
                    .collect();
                (true, count, 0)
            }
        };
        self.advance(global.change_seq, lib_slot);
        let bytes = client.bytes_received() - before;
        Ok(self.report(full, rows_read, departures_read, bytes))
    }

    /// Reads the changes after `after` and applies them; `None` when an entry newer than
    /// `after` is no longer on the chain (a fork dropped it): the caller reads in full.
    async fn incremental(
        &mut self,
        client: &Client,
        contract: Name,
        after: u64,
    ) -> Result<Option<(usize, usize)>, ChainError> {
        let rows = client.metagraph_after(contract, after).await?;
        let gone = client.departed_after(contract, after).await?;
        let counts = (rows.len(), gone.len());
        Ok(self.merge(after, rows, gone).then_some(counts))
    }

    /// Applies the rows and departures read after `after`, keeping per account the highest
    /// number; false (and nothing applied) when an entry newer than `after` was not read
    /// again, i.e. it is no longer on the chain.
    fn merge(&mut self, after: u64, rows: Vec<MetagraphRow>, gone: Vec<DepartureRow>) -> bool {
        let mut latest: BTreeMap<Name, Entry> = BTreeMap::new();
        let changes = rows
            .into_iter()
            .map(|row| (row.user, row.seq, Some(row)))
            .chain(gone.into_iter().map(|d| (d.user, d.seq, None)));
        for (user, seq, row) in changes {
            if latest.get(&user).is_none_or(|e| seq > e.seq) {
                latest.insert(user, Entry { seq, row });
            }
        }
        let unconfirmed = self
            .entries
            .iter()
            .any(|(user, e)| e.seq > after && !latest.contains_key(user));
        if unconfirmed {
            return false;
        }
        self.entries.extend(latest);
        true
    }

    /// After a read that applied every change up to `change_seq` (read before the rows):
    /// the cursor becomes the last of those made in an irreversible block (slot at most
    /// `lib_slot`), and departures at or below it are forgotten (they cannot be undone).
    fn advance(&mut self, change_seq: u64, lib_slot: u64) {
        let irreversible = lib_slot
            .saturating_add(1)
            .saturating_mul(1 << CHANGE_SLOT_SHIFT)
            .saturating_sub(1);
        let trusted = change_seq.min(irreversible);
        self.trusted = Some(trusted);
        self.entries
            .retain(|_, e| e.row.is_some() || e.seq > trusted);
    }

    fn report(&self, full: bool, rows_read: usize, departures_read: usize, bytes: u64) -> Refresh {
        Refresh {
            full,
            rows_read,
            departures_read,
            bytes,
            nodes: self.rows().count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(user: &str, seq: u64, stake: u64) -> MetagraphRow {
        MetagraphRow {
            user: Name::constant(user),
            address: "192.0.2.1".into(),
            port: 1,
            stake,
            last_emit: 0,
            edges: vec![],
            seq,
        }
    }

    fn gone(user: &str, seq: u64) -> DepartureRow {
        DepartureRow {
            user: Name::constant(user),
            seq,
        }
    }

    fn stakes(view: &MetagraphView) -> Vec<(String, u64)> {
        view.rows().map(|r| (r.user.to_string(), r.stake)).collect()
    }

    #[test]
    fn the_newest_number_wins_within_a_read_and_departures_remove() {
        let mut view = MetagraphView::new();
        assert!(view.merge(0, vec![row("alice", 1, 5), row("bob", 2, 5)], vec![]));
        // alice read twice (her row moved while pages were read), bob left, carol came.
        let rows = vec![row("alice", 4, 6), row("carol", 5, 1), row("alice", 7, 8)];
        assert!(view.merge(2, rows, vec![gone("bob", 6)]));
        assert_eq!(stakes(&view), [("alice".into(), 8), ("carol".into(), 1)]);
        // A departure older than a later subscription does not remove it.
        assert!(view.merge(7, vec![row("bob", 9, 3)], vec![gone("bob", 8)]));
        assert_eq!(stakes(&view).len(), 3);
    }

    #[test]
    fn an_entry_a_re_read_does_not_find_was_on_a_fork() {
        let mut view = MetagraphView::new();
        assert!(view.merge(0, vec![row("alice", 1, 5), row("bob", 2, 5)], vec![]));
        view.trusted = Some(2);
        // Read from head: bob emitted (seq 3)...
        assert!(view.merge(2, vec![row("bob", 3, 9)], vec![]));
        // ...but that block was forked out: the re-read from the trusted cursor lacks it.
        let before = stakes(&view);
        assert!(!view.merge(2, vec![], vec![]));
        assert_eq!(stakes(&view), before, "nothing half-applied");
        // Departures are entries too: one dropped by a fork is noticed the same way.
        let mut view = MetagraphView::new();
        assert!(view.merge(0, vec![row("alice", 1, 5)], vec![]));
        assert!(view.merge(1, vec![], vec![gone("alice", 3)]));
        assert_eq!(stakes(&view).len(), 0);
        assert!(!view.merge(1, vec![], vec![]));
    }

    #[test]
    fn the_cursor_stops_at_the_last_irreversible_slot() {
        let slot = |s: u64, k: u64| (s << CHANGE_SLOT_SHIFT) + k;
        let mut view = MetagraphView::new();
        let bob = Entry {
            seq: slot(12, 0),
            row: None,
        };
        view.entries.insert(Name::constant("bob"), bob);
        // Changes up to slot 14 read; blocks up to slot 11 irreversible.
        view.advance(slot(14, 3), 11);
        assert_eq!(view.cursor(), Some(slot(12, 0) - 1));
        assert_eq!(view.entries.len(), 1, "a reversible departure is kept");
        view.advance(slot(14, 3), 12);
        assert_eq!(view.cursor(), Some(slot(13, 0) - 1));
        assert!(
            view.entries.is_empty(),
            "an irreversible departure is forgotten"
        );
        // An idle chain: everything read is older than the last irreversible block.
        view.advance(slot(14, 3), 90);
        assert_eq!(view.cursor(), Some(slot(14, 3)));
        view.invalidate();
        assert_eq!(view.cursor(), None);
    }
}
