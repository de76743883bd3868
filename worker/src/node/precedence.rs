//! Which of two matching updates is the copy. The valuer credits the first of a round's
//! matching updates and marks the later ones as copies; arrival order alone cannot tell a
//! source from its copier when this node asks after both have published (both answer at
//! once, in whatever order the network gives). What this node saw itself can:
//! an upstream that answered "nothing new" to an ask sent after another upstream's matching
//! update had already arrived here did not have it yet, so it copied (a source publishes
//! before anyone can fetch from it). Each such proof is a mark against the upstream's slot;
//! a round's updates are valued in the order (marks, arrival), so a proven copier loses every
//! later tie to the sources it copies, and from then on the valuer takes its updates for
//! copies (worth nothing, no reference for others: a copy that arrived a round before its
//! source does not make the source a replay). An honest source, which can never be proven a
//! copy of what it published first, keeps its credit.

use std::time::Instant;

/// When this node saw one upstream's answer of a round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// When the answer holding its updates arrived.
    pub arrived: Option<Instant>,
    /// When the last ask it answered with nothing new was sent (it lacked them then).
    pub lacked: Option<Instant>,
}

/// Per upstream slot, how many times it was proven to copy another upstream.
#[derive(Debug, Clone, Default)]
pub struct Precedence {
    marks: Vec<u64>,
}

impl Precedence {
    /// No marks for `slots` upstreams.
    pub fn new(slots: usize) -> Precedence {
        Precedence {
            marks: vec![0; slots],
        }
    }

    /// The slot now holds another upstream: its record starts over.
    pub fn reset(&mut self, slot: usize) {
        if let Some(m) = self.marks.get_mut(slot) {
            *m = 0;
        }
    }

    /// Times `slot` was proven a copier.
    pub fn marks(&self, slot: usize) -> u64 {
        self.marks.get(slot).copied().unwrap_or(0)
    }

    /// The positions of `slots` (in arrival order) in valuation order: fewer marks first,
    /// arrival order kept among equals.
    pub fn order(&self, slots: &[usize]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..slots.len()).collect();
        order.sort_by_key(|&at| self.marks(slots[at]));
        order
    }

    /// Records what this round proves about `copy`, found matching `original` (the one the
    /// valuer credited): returns the slot proven a copier, if any.
    pub fn record(&mut self, copy: usize, original: usize, seen: &[Seen]) -> Option<usize> {
        let at = |s: usize| seen.get(s).copied().unwrap_or_default();
        let proven =
            |c: Seen, o: Seen| matches!((o.arrived, c.lacked), (Some(a), Some(l)) if a <= l);
        let copier = if proven(at(copy), at(original)) {
            copy
        } else if proven(at(original), at(copy)) {
            original
        } else {
            return None;
        };
        if let Some(m) = self.marks.get_mut(copier) {
            *m += 1;
        }
        Some(copier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(base: Instant, ms: u64) -> Option<Instant> {
        Some(base + Duration::from_millis(ms))
    }

    #[test]
    fn a_copier_seen_lacking_after_the_source_arrived_is_marked_and_then_loses_ties() {
        let t = Instant::now();
        let mut p = Precedence::new(3);
        // Round 1: the source (slot 2) arrived at 5 ms; the copier (slot 0) said "nothing new"
        // to an ask sent at 10 ms, then answered the copy at 30 ms.
        let seen = vec![
            Seen {
                arrived: at(t, 30),
                lacked: at(t, 10),
            },
            Seen::default(),
            Seen {
                arrived: at(t, 5),
                lacked: None,
            },
        ];
        assert_eq!(p.record(0, 2, &seen), Some(0));
        assert_eq!(p.marks(0), 1);
        // Round 2: both answered at once and the copier's answer came first: it still goes
        // after the source.
        assert_eq!(p.order(&[0, 1, 2]), vec![1, 2, 0]);
        assert_eq!(p.order(&[2, 0]), vec![0, 1]);
        p.reset(0);
        assert_eq!(p.marks(0), 0);
    }

    #[test]
    fn the_credited_one_proven_a_copier_is_marked_instead() {
        let t = Instant::now();
        let mut p = Precedence::new(2);
        // The valuer credited slot 0 (it came first), but slot 0 lacked the update at 20 ms
        // while slot 1's had arrived at 15 ms.
        let seen = vec![
            Seen {
                arrived: at(t, 40),
                lacked: at(t, 20),
            },
            Seen {
                arrived: at(t, 15),
                lacked: None,
            },
        ];
        assert_eq!(p.record(1, 0, &seen), Some(0));
        assert_eq!((p.marks(0), p.marks(1)), (1, 0));
    }

    #[test]
    fn answers_that_overlap_prove_nothing_and_mark_no_one() {
        let t = Instant::now();
        let mut p = Precedence::new(2);
        // Both already had their update at the first ask: no "nothing new" after the other
        // arrived, so neither is marked (an honest source cannot be framed this way).
        let seen = vec![
            Seen {
                arrived: at(t, 3),
                lacked: None,
            },
            Seen {
                arrived: at(t, 2),
                lacked: at(t, 1),
            },
        ];
        assert_eq!(p.record(0, 1, &seen), None);
        assert_eq!(p.record(1, 0, &seen), None);
        assert_eq!((p.marks(0), p.marks(1)), (0, 0));
        // Out-of-range slots are ignored, not a panic.
        assert_eq!(p.record(7, 9, &seen), None);
        assert_eq!(p.order(&[1, 0]), vec![0, 1]);
    }
}
