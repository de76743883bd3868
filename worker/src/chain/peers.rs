//! Choice of upstream peers from the metagraph: up to k other subscribed users with an
//! address, kept in stable slots (a slot keeps its peer while it stays subscribed). Free
//! slots are filled by a seeded weighted draw without replacement: the weight is the
//! candidate's stake share, scaled by what this node's own attribution said of it when it
//! last held a slot (a peer found useless is drawn rarely, a valued one often), so the same
//! seed and metagraph give the same peers while different nodes spread over the network.

use std::collections::HashMap;

use super::api::PeerRow;

/// Bounds of the factor a past attribution applies to a candidate's weight.
const MERIT_RANGE: (f64, f64) = (0.1, 4.0);

/// The node's k upstream peer slots; slot i feeds the model's peer input i.
#[derive(Debug, Clone)]
pub struct PeerSlots {
    slots: Vec<Option<PeerRow>>,
    seed: u64,
    /// Weight factor per user from this node's own past attribution of it.
    merit: HashMap<String, f64>,
}

/// FNV-1a over the seed and the name: a stable, seed-dependent ranking of candidates.
fn rank(seed: u64, user: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.to_le_bytes().iter().chain(user.as_bytes()) {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64 finaliser: names differing in one letter get unrelated ranks.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl PeerSlots {
    /// `k` empty slots whose filling order is determined by `seed`.
    pub fn new(k: usize, seed: u64) -> Self {
        PeerSlots {
            slots: vec![None; k],
            seed,
            merit: HashMap::new(),
        }
    }

    /// Remembers how useful `user` was: `share` of the attribution against an equal share
    /// `equal`; it scales the user's weight in later draws.
    pub fn remember(&mut self, user: &str, share: f64, equal: f64) {
        if equal > 0.0 && share.is_finite() {
            let factor = (share / equal).clamp(MERIT_RANGE.0, MERIT_RANGE.1);
            self.merit.insert(user.to_string(), factor);
        }
    }

    /// The draw key of a candidate: larger is drawn first (Efraimidis-Spirakis, `u^(1/w)`).
    fn draw_key(&self, row: &PeerRow, total_stake: f64) -> f64 {
        let share = if total_stake > 0.0 {
            row.stake as f64 / total_stake
        } else {
            1.0
        };
        let w = share * self.merit.get(&row.user).copied().unwrap_or(1.0);
        // u in (0, 1) from the seeded hash.
        let u = ((rank(self.seed, &row.user) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        if w > 0.0 {
            u.ln() / w
        } else {
            f64::NEG_INFINITY
        }
    }

    /// The current slots (None = no peer: the model gets zeros there).
    pub fn slots(&self) -> &[Option<PeerRow>] {
        &self.slots
    }

    /// Empties slot `i` (its peer was evicted); the next refresh may fill it.
    pub fn clear(&mut self, i: usize) {
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = None;
        }
    }

    /// The user names in slot order, for building edge sets.
    pub fn names(&self) -> Vec<Option<String>> {
        self.slots
            .iter()
            .map(|s| s.as_ref().map(|p| p.user.clone()))
            .collect()
    }

    /// Updates the slots from a fresh metagraph read; returns the slots whose peer changed
    /// (their attribution history must be forgotten).
    pub fn refresh(&mut self, me: &str, rows: &[PeerRow]) -> Vec<usize> {
        self.refresh_evicting(me, rows, &[])
    }

    /// As [`refresh`](Self::refresh), and also hands each slot in `evict` (peers that keep
    /// failing) to an unused candidate when there is one; with no spare candidate the
    /// failing peer keeps its slot (it may come back).
    pub fn refresh_evicting(&mut self, me: &str, rows: &[PeerRow], evict: &[usize]) -> Vec<usize> {
        let usable = |r: &&PeerRow| r.user != me && !r.address.is_empty() && r.port != 0;
        let mut changed = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if let Some(cur) = slot {
                match rows.iter().filter(usable).find(|r| r.user == cur.user) {
                    Some(row) => *cur = row.clone(),
                    None => {
                        *slot = None;
                        changed.push(i);
                    }
                }
            }
        }
        let candidates: Vec<&PeerRow> = rows
            .iter()
            .filter(usable)
            .filter(|r| !self.slots.iter().flatten().any(|s| s.user == r.user))
            .collect();
        let total_stake: f64 = candidates.iter().map(|r| r.stake as f64).sum();
        let mut keyed: Vec<(f64, &PeerRow)> = candidates
            .into_iter()
            .map(|r| (self.draw_key(r, total_stake), r))
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.user.cmp(&b.1.user)));
        let candidates: Vec<&PeerRow> = keyed.into_iter().map(|(_, r)| r).collect();
        self.merit.retain(|u, _| rows.iter().any(|r| &r.user == u));
        let mut next = candidates.into_iter();
        for &i in evict {
            if self.slots.get(i).is_some_and(Option::is_some) {
                if let Some(row) = next.next() {
                    self.slots[i] = Some(row.clone());
                    changed.push(i);
                }
            }
        }
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.is_none() {
                if let Some(row) = next.next() {
                    *slot = Some(row.clone());
                    if !changed.contains(&i) {
                        changed.push(i);
                    }
                }
            }
        }
        changed.sort_unstable();
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(user: &str, port: u16) -> PeerRow {
        PeerRow {
            user: user.into(),
            address: "127.0.0.1".into(),
            port,
            stake: 1,
            edges: vec![],
        }
    }

    #[test]
    fn picks_up_to_k_others_deterministically() {
        let rows: Vec<_> = ["me", "a", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, u)| row(u, 1000 + i as u16))
            .collect();
        let mut s1 = PeerSlots::new(2, 7);
        let mut s2 = PeerSlots::new(2, 7);
        assert_eq!(s1.refresh("me", &rows), vec![0, 1]);
        s2.refresh("me", &rows);
        assert_eq!(s1.names(), s2.names());
        assert!(s1.names().iter().flatten().all(|n| n != "me"));
        // Some seed picks a different pair: the choice depends on the seed.
        let differs = (0..50).any(|seed| {
            let mut s = PeerSlots::new(2, seed);
            s.refresh("me", &rows);
            s.names() != s1.names()
        });
        assert!(differs);
    }

    #[test]
    fn slots_are_stable_and_refilled() {
        let mut rows = vec![row("me", 1), row("a", 2), row("b", 3)];
        let mut s = PeerSlots::new(3, 1);
        s.refresh("me", &rows);
        let before = s.names();
        assert_eq!(before.iter().flatten().count(), 2);
        rows.push(row("c", 4));
        let changed = s.refresh("me", &rows);
        assert_eq!(changed.len(), 1);
        assert_eq!(s.names()[..2], before[..2]);
        // A peer leaves: its slot is emptied, others keep their place.
        let gone = s.names()[0].clone().unwrap();
        rows.retain(|r| r.user != gone);
        let changed = s.refresh("me", &rows);
        assert_eq!(changed, vec![0]);
        assert_eq!(s.names()[0], None);
        assert_eq!(s.names()[1], before[1]);
    }

    #[test]
    fn failing_peers_are_evicted_only_for_a_spare_candidate() {
        let rows = vec![row("me", 1), row("a", 2), row("b", 3)];
        let mut s = PeerSlots::new(1, 4);
        s.refresh("me", &rows);
        let first = s.names()[0].clone().unwrap();
        assert_eq!(s.refresh_evicting("me", &rows, &[0]), vec![0]);
        let second = s.names()[0].clone().unwrap();
        assert_ne!(first, second);
        // Both others in use: nothing to swap to, the slot is kept.
        let mut s = PeerSlots::new(2, 4);
        s.refresh("me", &rows);
        let before = s.names();
        assert!(s.refresh_evicting("me", &rows, &[0, 1, 7]).is_empty());
        assert_eq!(s.names(), before);
    }

    #[test]
    fn stake_and_past_attribution_weigh_the_draw() {
        let mut rows: Vec<PeerRow> = ["a", "b", "c", "d", "e"]
            .iter()
            .enumerate()
            .map(|(i, u)| row(u, 10 + i as u16))
            .collect();
        rows[0].stake = 100;
        let picks = |rows: &[PeerRow], slots: &dyn Fn(u64) -> PeerSlots| {
            (0..200)
                .filter(|&seed| {
                    let mut s = slots(seed);
                    s.refresh("me", rows);
                    s.names()[0].as_deref() == Some("a")
                })
                .count()
        };
        let fresh = |seed| PeerSlots::new(1, seed);
        let rich = picks(&rows, &fresh);
        assert!(
            rich > 150,
            "the high-stake peer is drawn most often: {rich}/200"
        );
        // Equal stakes: the draw is spread, and a peer found useless is drawn rarely.
        rows[0].stake = 1;
        let even = picks(&rows, &fresh);
        assert!((10..=90).contains(&even), "{even}/200");
        let useless = picks(&rows, &|seed| {
            let mut s = PeerSlots::new(1, seed);
            s.remember("a", 0.0, 0.25);
            s
        });
        assert!(useless < even / 2, "{useless} vs {even}");
    }

    #[test]
    fn users_without_address_are_skipped() {
        let mut r = row("a", 5);
        r.address.clear();
        let mut s = PeerSlots::new(2, 0);
        s.refresh("me", &[r, row("b", 0)]);
        assert_eq!(s.names(), vec![None, None]);
    }
}
