//! The one settlement: a global reward-per-stake accumulator and the residual push along the
//! edges in force, written once and run by both the contract (over its tables) and the
//! in-memory [`Ledger`](crate::ledger::Ledger), through the small [`Store`] trait.
//!
//! # The accumulator
//!
//! `acc` is the emission one base unit of stake has been entitled to since genesis, in
//! fixed point with [`ACC_SHIFT`] = 64 fractional bits. Before anything changes
//! `total_stake` or the rate, [`advance`] moves it to the current block:
//! `issued = min(rate * (block - acc_block), room)`, `acc += issued * 2^64 / total_stake`
//! (rounded down), `unsettled += issued`. A node's accrual is then
//! `stake * (acc - acc_at) / 2^64`, where `acc_at` is the accumulator at its last
//! settlement; the fraction below one base unit is carried in the node's `dust` (in units of
//! 2^-64) to its next settlement, so settling often loses nothing. O(1) per action, no scan.
//!
//! Why 2^64: `issued * 2^64` fits `u128` for any `u64` issue, the product
//! `stake * (acc - acc_at)` is formed exactly from two 64x64-bit products (no overflow, no
//! division), and the accumulator's own rounding loses less than `total_stake / 2^64` base
//! units per advance: below 10^-9 base units while `total_stake < 1.8 * 10^10`
//! (1.8 million BIT), below a quarter unit for any stake an `asset` can hold.
//!
//! Rounding bound: `minted + unsettled == rate * blocks` (blocks during which stake existed,
//! below the supply cap) holds EXACTLY; what rounding costs stays in `unsettled` as dust that no
//! node can claim: less than 1 base unit per node (its carried `dust`, forfeited when it
//! leaves) plus `total_stake / 2^64` per advance.
//!
//! While `total_stake == 0` nothing is issued and `acc_block` still moves (no stake, no
//! emission, nothing owed later). At the cap, `room` (the contract: `max_supply - supply -
//! unsettled`) limits `issued`, so settled emission can never push supply past `max_supply`.
//!
//! `acc` only grows by wrapping addition and is only used through differences
//! (`acc - acc_at`, wrapping), which are exact while one node's entitlement since its last
//! settlement is below 2^128 / stake, i.e. always (it is at most the supply times 2^64).
//!
//! # The push along the edges in force
//!
//! [`settle`] adds the accrual to the node's residual and pushes the whole residual once
//! along the edge set the CALLER passes, which is the stored one (the set that was in force
//! while the emission accrued); `emit` stores its new set only afterwards. A second emit in
//! the same block accrues nothing (`acc` did not move) and pushes only what arrived since,
//! along the set the first emit stored: repeating or reordering emits in a block cannot move
//! an interval's emission onto other edges.

use crate::edges::Edge;
use crate::residual_push::push;

/// Fractional bits of the accumulator: `acc` is base units per unit of stake times 2^64.
pub const ACC_SHIFT: u32 = 64;

/// The global numbers the settlement reads and writes (the contract's `global` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pool {
    /// Sum of all stakes (the accumulator's divisor).
    pub total_stake: u64,
    /// Sum of all residuals: settled emission not yet credited to a stake.
    pub outstanding: u64,
    /// All emission settled into residuals (and, on chain, added to the supply).
    pub minted: u64,
    /// Emission issued by the accumulator and not yet settled by its owners (plus dust).
    pub unsettled: u64,
    /// Reward per unit of stake since genesis, 64 fractional bits, wrapping.
    pub acc: u128,
    /// Block the accumulator was last advanced to.
    pub acc_block: u64,
    /// Base units issued per block while stake exists.
    pub emission_rate: u64,
}

/// A node's accrual state: its stake and where the accumulator stood at its last settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Staked base units (grows with every kept share).
    pub stake: u64,
    /// `Pool::acc` at the node's last settlement (or subscription).
    pub acc_at: u128,
    /// Accrual below one base unit carried to the next settlement, in units of 2^-64.
    pub dust: u64,
}

/// Why a settlement could not run; on chain it aborts the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettleError {
    /// A counter would overflow `u64`.
    Overflow,
    /// The node being settled has no residual row.
    MissingResidual,
    /// A claim exceeded what the accumulator issued (a broken invariant, never expected).
    Underflow,
}

impl SettleError {
    /// The fixed message the contract aborts with.
    pub const fn message(&self) -> &'static str {
        match self {
            SettleError::Overflow => "amount overflow",
            SettleError::MissingResidual => "residual row missing",
            SettleError::Underflow => "settlement underflow",
        }
    }

    /// Every message of this type (the documented list is checked against it).
    pub const MESSAGES: [&'static str; 3] = [
        SettleError::Overflow.message(),
        SettleError::MissingResidual.message(),
        SettleError::Underflow.message(),
    ];
}

/// Where residuals live and how new emission becomes supply: the contract's tables or the
/// ledger's map. The settlement touches nothing else.
pub trait Store<Id> {
    /// The store's error, which every settlement error converts into.
    type Error: From<SettleError>;
    /// The node's residual, `None` when it is not subscribed.
    fn residual(&mut self, id: &Id) -> Result<Option<u64>, Self::Error>;
    /// Overwrites the residual of a subscribed node.
    fn set_residual(&mut self, id: &Id, residual: u64) -> Result<(), Self::Error>;
    /// The most the accumulator may issue now (supply cap minus what is already owed).
    fn mint_room(&mut self, pool: &Pool) -> Result<u64, Self::Error>;
    /// Records `amount` of settled emission as new supply.
    fn mint(&mut self, amount: u64) -> Result<(), Self::Error>;
}

/// What one settlement did, for reports, tests and work counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settlement {
    /// Emission the node claimed from the accumulator (newly minted).
    pub accrued: u64,
    /// The residual pushed (accrued plus what was pending).
    pub pushed: u64,
    /// The part credited to the node's stake.
    pub kept: u64,
    /// The part added to neighbours' residuals.
    pub forwarded: u64,
    /// Edges visited (the edge set's length): the work of this settlement.
    pub edge_visits: usize,
}

/// Moves the accumulator to `block` (a block in the past does nothing); returns what it issued.
pub fn advance<Id, S: Store<Id>>(
    store: &mut S,
    pool: &mut Pool,
    block: u64,
) -> Result<u64, S::Error> {
    if block <= pool.acc_block {
        return Ok(0);
    }
    let blocks = block - pool.acc_block;
    pool.acc_block = block;
    if pool.total_stake == 0 || pool.emission_rate == 0 {
        return Ok(0);
    }
    let room = store.mint_room(pool)?;
    let issued = pool.emission_rate.saturating_mul(blocks).min(room);
    if issued == 0 {
        return Ok(0);
    }
    let step = ((issued as u128) << ACC_SHIFT) / pool.total_stake as u128;
    pool.acc = pool.acc.wrapping_add(step);
    pool.unsettled = pool
        .unsettled
        .checked_add(issued)
        .ok_or(SettleError::Overflow)?;
    Ok(issued)
}

/// A new position of `stake` opened at the accumulator's current value (call [`advance`]
/// first): stake that arrives now earns nothing for the past and takes nothing from it.
pub fn open(pool: &Pool, stake: u64) -> Position {
    Position {
        stake,
        acc_at: pool.acc,
        dust: 0,
    }
}

/// What `position` is owed at the accumulator's current value, as (base units, carried dust).
pub fn owed(pool: &Pool, position: &Position) -> Result<(u64, u64), SettleError> {
    let delta = pool.acc.wrapping_sub(position.acc_at);
    let stake = position.stake as u128;
    let low = stake * (delta as u64 as u128) + position.dust as u128;
    let high = stake * (delta >> ACC_SHIFT);
    let whole = high
        .checked_add(low >> ACC_SHIFT)
        .ok_or(SettleError::Overflow)?;
    let whole = u64::try_from(whole).map_err(|_| SettleError::Overflow)?;
    Ok((whole, low as u64))
}

/// Claims what `position` is owed: moves it from `unsettled` and resets the position's mark.
fn claim(pool: &mut Pool, position: &mut Position) -> Result<u64, SettleError> {
    let (whole, dust) = owed(pool, position)?;
    pool.unsettled = pool
        .unsettled
        .checked_sub(whole)
        .ok_or(SettleError::Underflow)?;
    position.acc_at = pool.acc;
    position.dust = dust;
    Ok(whole)
}

/// Settles node `id` at `block`: advances the accumulator, claims the node's accrual into its
/// residual, and pushes the whole residual once along `edges` (the set in force, self first):
/// the kept part goes to `position.stake`, each forward to its target's residual, and a
/// forward to a target that is no longer subscribed stays with the node. The caller stores
/// `position` (and any new edge set) afterwards.
pub fn settle<Id, S: Store<Id>>(
    store: &mut S,
    pool: &mut Pool,
    id: &Id,
    position: &mut Position,
    edges: &[Edge<Id>],
    block: u64,
) -> Result<Settlement, S::Error> {
    advance(store, pool, block)?;
    let accrued = claim(pool, position)?;
    let own = store.residual(id)?.ok_or(SettleError::MissingResidual)?;
    pool.minted = checked(pool.minted.checked_add(accrued))?;
    pool.outstanding = checked(pool.outstanding.checked_add(accrued))?;
    if accrued > 0 {
        store.mint(accrued)?;
    }
    let pushed = checked(own.checked_add(accrued))?;
    let split = push(pushed, edges);
    let mut kept = split.keep;
    let mut forwarded = 0u64;
    for (edge, &amount) in edges.iter().skip(1).zip(split.forwards.iter()) {
        if amount == 0 {
            continue;
        }
        match store.residual(&edge.to)? {
            Some(residual) => {
                store.set_residual(&edge.to, checked(residual.checked_add(amount))?)?;
                forwarded += amount;
            }
            None => kept += amount,
        }
    }
    store.set_residual(id, 0)?;
    position.stake = checked(position.stake.checked_add(kept))?;
    pool.total_stake = checked(pool.total_stake.checked_add(kept))?;
    pool.outstanding = pool
        .outstanding
        .checked_sub(kept)
        .ok_or(SettleError::Underflow)?;
    Ok(Settlement {
        accrued,
        pushed,
        kept,
        forwarded,
        edge_visits: edges.len(),
    })
}

fn checked(value: Option<u64>) -> Result<u64, SettleError> {
    value.ok_or(SettleError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::WEIGHT_ONE;
    use alloc::collections::BTreeMap;

    /// A store over a map, with an optional cap on what may be issued.
    struct Map {
        residuals: BTreeMap<u8, u64>,
        room: u64,
        minted: u64,
    }

    impl Store<u8> for Map {
        type Error = SettleError;
        fn residual(&mut self, id: &u8) -> Result<Option<u64>, SettleError> {
            Ok(self.residuals.get(id).copied())
        }
        fn set_residual(&mut self, id: &u8, residual: u64) -> Result<(), SettleError> {
            self.residuals.insert(*id, residual);
            Ok(())
        }
        fn mint_room(&mut self, pool: &Pool) -> Result<u64, SettleError> {
            Ok(self.room.saturating_sub(self.minted + pool.unsettled))
        }
        fn mint(&mut self, amount: u64) -> Result<(), SettleError> {
            self.minted += amount;
            Ok(())
        }
    }

    fn pool(rate: u64) -> Pool {
        Pool {
            emission_rate: rate,
            ..Pool::default()
        }
    }

    #[test]
    fn no_stake_issues_nothing_but_moves_the_clock() {
        let mut store = Map {
            residuals: BTreeMap::new(),
            room: u64::MAX,
            minted: 0,
        };
        let mut p = pool(10_000);
        assert_eq!(advance(&mut store, &mut p, 50), Ok(0));
        assert_eq!((p.acc, p.acc_block, p.unsettled), (0, 50, 0));
        assert_eq!(advance(&mut store, &mut p, 20), Ok(0));
        assert_eq!(p.acc_block, 50, "the clock never rewinds");
    }

    #[test]
    fn a_sole_staker_gets_every_unit_and_frequent_settling_loses_nothing() {
        let self_only = [Edge {
            to: 1u8,
            weight: WEIGHT_ONE,
        }];
        for every in [1u64, 7, 100] {
            let mut store = Map {
                residuals: BTreeMap::from([(1, 0)]),
                room: u64::MAX,
                minted: 0,
            };
            let mut p = pool(3);
            let mut pos = open(&p, 7);
            p.total_stake = 7;
            let mut block = 0;
            while block < 100 {
                block += every.min(100 - block);
                settle(&mut store, &mut p, &1, &mut pos, &self_only, block).unwrap();
            }
            // 300 issued; what is not yet a whole unit waits in dust, never lost.
            assert_eq!(p.minted + p.unsettled, 300);
            assert!(p.unsettled <= 1, "every {every}: {}", p.unsettled);
            assert_eq!(pos.stake, 7 + p.minted);
        }
    }

    #[test]
    fn the_cap_limits_issue_and_owed_never_overflows() {
        let mut store = Map {
            residuals: BTreeMap::from([(1, 0)]),
            room: 25,
            minted: 0,
        };
        let mut p = pool(10);
        p.total_stake = 5;
        let mut pos = open(&p, 5);
        let edges = [Edge {
            to: 1u8,
            weight: WEIGHT_ONE,
        }];
        let s = settle(&mut store, &mut p, &1, &mut pos, &edges, 10).unwrap();
        assert_eq!(s.accrued, 25);
        let s = settle(&mut store, &mut p, &1, &mut pos, &edges, 20).unwrap();
        assert_eq!(s.accrued, 0);
        let huge = Position {
            stake: u64::MAX,
            acc_at: 0,
            dust: u64::MAX,
        };
        let far = Pool {
            acc: u128::MAX,
            ..Pool::default()
        };
        assert_eq!(owed(&far, &huge), Err(SettleError::Overflow));
    }
}
