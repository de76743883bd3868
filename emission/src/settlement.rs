//! The one settlement: time-weighted, compounding accrual through a global stake-share pool,
//! and the residual push along the edges in force, written once and run by both the contract
//! (over its tables) and the in-memory [`Ledger`](crate::ledger::Ledger), through the small
//! [`Store`] trait.
//!
//! # The accumulator: a share pool
//!
//! The pool's value is `V = total_stake + outstanding + unsettled`: every stake, every
//! pending residual and the emission issued and not yet settled. Each node's stake and its
//! residual hold `shares` of it; the global row holds `total_shares`. Before anything changes `total_stake`, the shares or the rate, [`advance`]
//! issues `min(rate * (block - acc_block), room)` into `unsettled` (O(1), no scan). That raises
//! the value of every share at once, so a node's position is worth
//! `shares * V / total_shares` at any time and what it is owed is that value minus its settled
//! stake. This is the reward-per-stake accumulator in multiplicative form (the price of a
//! share, `V / total_shares`, is the accumulator): emission accrues to each node in proportion
//! to its stake INCLUDING what it has accrued and not yet settled, exactly as if every node
//! compounded every block, as the matrix model does. Hence settling often or rarely, in one
//! account or many, earns the same, up to rounding (and, for a node whose forwards come back
//! to it around a cycle, a second-order term: [`crate::compounding`]).
//!
//! When a node joins or tops up, its shares are priced at the other holders' price,
//! `shares' = new_stake * others_shares / others_value` ([`reprice`]), which leaves every other
//! position's value unchanged. When it settles, its shares are split, not re-priced: each
//! forward, the new stake and the residual's carry are bought at the pool's one price
//! `total_shares / V` from the node's own shares. The first position of an empty pool gets
//! `stake << SHARE_SHIFT` shares.
//!
//! # The self-weight cap and where its excess goes
//!
//! At every settlement the node keeps at most `min(stored self weight, max_self_weight)` of
//! what it pushes, whatever set is stored (a self-only set from `subscribe`, a set stored
//! before the cap was lowered). The kept part above the cap, the matching share of the
//! withheld compounding, and every forward to a target that is no longer subscribed are
//! sent to the OTHER holders in proportion to their value ([`redirect`], O(1)): the amount
//! leaves the node's stake and the supply, joins `unsettled`, and the node is re-priced at
//! the other holders' price, which already includes it, so the node gets none of it back.
//! That is what makes a node that never emits no better off than one that posts an honest
//! set: sending the excess back to a pool the node shares in, or burning it, would leave it
//! more than its share (`docs/emission.md`).
//!
//! A receiver's next settlement tells what redirects brought it from growth of its stake
//! ([`lump`]: two pool accumulators, a snapshot of each per position) and settles that part
//! like a forward that arrived in its residual, so the compounding rule withholds (and
//! forwards back along the receiver's edges, possibly to the source) nothing extra on it.
//!
//! Why 2^32 shares per base unit: a re-price rounds down by less than one share, i.e. by less
//! than `price / 2^32` base units, where the price starts at 1 and grows only with the
//! network's compounded emission (it returns to 1 when the metagraph empties). Products
//! (`shares * V`, up to 2^160) are formed in 192 bits by [`mul_div`], so nothing overflows.
//!
//! Rounding bound: `minted + unsettled == rate * blocks` (blocks during which a position existed,
//! below the supply cap) holds EXACTLY. A node's claim is rounded down by less than one base
//! unit per settlement; what rounding leaves stays in `unsettled` and is worth more to every
//! share (nothing is lost, nothing stranded), and `unsettled - sum(owed)` is below one base
//! unit per position.
//!
//! While no position exists nothing is issued and `acc_block` still moves (no stake, no
//! emission, nothing owed later). At the cap, `room` (the contract: `max_supply - supply -
//! unsettled`) limits the issue, so settled emission never pushes supply past `max_supply`.
//!
//! # The push along the edges in force
//!
//! [`settle`] adds the claim to the node's residual and pushes the whole residual once along
//! the edge set the CALLER passes, which is the stored one (the set that was in force while
//! the emission accrued); `emit` stores its new set only afterwards. A second emit in the
//! same block issues nothing (no block passed), claims at most the sub-unit rounding dust other
//! re-prices left, and pushes only what arrived since, along the set the first emit stored:
//! repeating or reordering emits in a block cannot move an interval's emission onto other
//! edges.

use crate::compounding::{forwarded_compounding, kept_compounding_claim};
use crate::edges::Edge;
use crate::fixed::{mul_weight, WEIGHT_ONE};
use crate::residual_push::{cumulative, remainder};

/// Shares per base unit of stake when a pool starts (a share's price is then 2^-32).
pub const SHARE_SHIFT: u32 = 32;

/// The global numbers the settlement reads and writes (the contract's `global` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// Sum of all settled stakes.
    pub total_stake: u64,
    /// Sum of all residuals: settled emission not yet credited to a stake.
    pub outstanding: u64,
    /// All emission settled into residuals (and, on chain, added to the supply).
    pub minted: u64,
    /// Emission issued and not yet settled by its owners: `minted + unsettled` is all issued.
    pub unsettled: u64,
    /// Sum of all positions' shares of `total_stake + unsettled`.
    pub total_shares: u128,
    /// Block the pool was last advanced to.
    pub acc_block: u64,
    /// Base units issued per block while a position exists.
    pub emission_rate: u64,
    /// The largest share of what a node settles that it may keep, parts per million: applied
    /// at every settlement to whatever edge set is stored ([`settle`]).
    pub max_self_weight: u32,
    /// Base units sent to the other holders so far (cap excess and forwards to targets that
    /// left): readers see how much the cap and departed targets moved.
    pub redirected: u64,
    /// Redirected base units per share of the holders that received them, summed over every
    /// redirect, Q32.96 and wrapping: a position's `shares * (this - its snapshot)` is the
    /// principal of the redirects it received since it last settled ([`lump`]).
    pub lump_per_share: u128,
    /// Shares the redirects bought per share of their receivers (`x / (O + x)` for `x` sent to
    /// holders worth `O`), summed, Q64.64 and wrapping: a position's
    /// `shares * (this - its snapshot)` priced now is what those redirects are worth today,
    /// their growth since they arrived included ([`lump`]).
    pub lump_shares_per_share: u128,
}

impl Default for Pool {
    /// An empty pool issuing nothing, with no cap on the self weight.
    fn default() -> Self {
        Pool {
            total_stake: 0,
            outstanding: 0,
            minted: 0,
            unsettled: 0,
            total_shares: 0,
            acc_block: 0,
            emission_rate: 0,
            max_self_weight: WEIGHT_ONE,
            redirected: 0,
            lump_per_share: 0,
            lump_shares_per_share: 0,
        }
    }
}

/// A node's accrual state: its settled stake and its shares of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Settled staked base units (grows with every kept share).
    pub stake: u64,
    /// Shares of the pool's value (stake plus unsettled emission).
    pub shares: u128,
    /// `Pool::lump_per_share` when the position last settled or was priced.
    pub lump_at: u128,
    /// `Pool::lump_shares_per_share` when the position last settled or was priced.
    pub lump_shares_at: u128,
}

/// A node's residual: emission received or claimed and not yet pushed, and the pool shares it
/// holds, so that a residual waiting for its owner's next settlement earns like stake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Held {
    /// Base units pending (part of the pool's `outstanding`).
    pub amount: u64,
    /// Shares of the pool bought with them when they arrived.
    pub shares: u128,
    /// Amount pushed along the stored edge set since it took force: the pushes round
    /// cumulatively (`residual_push::cumulative`), so the part of `amount` not yet handed out
    /// is `residual_push::remainder(pushed)`.
    pub pushed: u64,
}

/// Why a settlement could not run; on chain it aborts the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettleError {
    /// A counter would overflow `u64`.
    Overflow,
    /// The node being settled has no residual row.
    MissingResidual,
    /// A counter would go below zero (a broken invariant, never expected).
    Underflow,
    /// A first stake too small to buy one share of the pool at its price: it would earn
    /// nothing, so the join is refused.
    NoShares,
}

impl SettleError {
    /// The fixed message the contract aborts with.
    pub const fn message(&self) -> &'static str {
        match self {
            SettleError::Overflow => "amount overflow",
            SettleError::MissingResidual => "residual row missing",
            SettleError::Underflow => "settlement underflow",
            SettleError::NoShares => "stake too small to buy a pool share at its price",
        }
    }

    /// Every message of this type (the documented list is checked against it).
    pub const MESSAGES: [&'static str; 4] = [
        SettleError::Overflow.message(),
        SettleError::MissingResidual.message(),
        SettleError::Underflow.message(),
        SettleError::NoShares.message(),
    ];
}

/// Where residuals live and how new emission becomes supply: the contract's tables or the
/// ledger's map. The settlement touches nothing else.
pub trait Store<Id> {
    /// The store's error, which every settlement error converts into.
    type Error: From<SettleError>;
    /// The node's residual, `None` when it is not subscribed.
    fn residual(&mut self, id: &Id) -> Result<Option<Held>, Self::Error>;
    /// Overwrites the residual of a subscribed node.
    fn set_residual(&mut self, id: &Id, residual: Held) -> Result<(), Self::Error>;
    /// The most the pool may issue now (supply cap minus what is already owed).
    fn mint_room(&mut self, pool: &Pool) -> Result<u64, Self::Error>;
    /// Records `amount` of settled emission as new supply.
    fn mint(&mut self, amount: u64) -> Result<(), Self::Error>;
    /// Takes `amount` back out of the supply: settled emission returned to the pool's
    /// unsettled emission for the other holders ([`redirect`]).
    fn unmint(&mut self, amount: u64) -> Result<(), Self::Error>;
}

/// What one settlement did, for reports, tests and work counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settlement {
    /// Emission the node claimed from the pool (newly minted).
    pub accrued: u64,
    /// The residual pushed (accrued plus what was pending).
    pub pushed: u64,
    /// The part credited to the node's stake.
    pub kept: u64,
    /// The part added to neighbours' residuals.
    pub forwarded: u64,
    /// The rounding remainder left in the node's residual for its next push (under one unit
    /// per edge).
    pub carried: u64,
    /// The part of `accrued` that was compounding on what the node forwards, sent to its
    /// forward targets by weight instead of through its own push.
    pub compounding: u64,
    /// The part sent to the other holders instead of the node: the self weight above
    /// `max_self_weight` and the forwards to targets no longer subscribed ([`redirect`]).
    pub redirected: u64,
    /// What a `fresh` position was owed and left to the other holders (see [`settle`]).
    pub forfeited: u64,
    /// Edges visited (the edge set's length): the work of this settlement.
    pub edge_visits: usize,
}

/// `floor(a * b / c)` with a 192-bit product; `None` when `c == 0` or the quotient needs more
/// than 128 bits.
pub fn mul_div(a: u128, b: u64, c: u128) -> Option<u128> {
    if c == 0 {
        return None;
    }
    let p0 = (a as u64 as u128) * b as u128;
    let p1 = (a >> 64) * b as u128;
    let lo = p0.wrapping_add(p1 << 64);
    let hi = (p1 >> 64) + (lo < p0) as u128;
    if hi >= c {
        return None;
    }
    // Long division of (hi, lo) by c, one bit of `lo` at a time; `r < c` throughout.
    let mut r = hi;
    let mut q = 0u128;
    for i in (0..128).rev() {
        let carry = r >> 127;
        r = (r << 1) | ((lo >> i) & 1);
        q <<= 1;
        if carry == 1 || r >= c {
            r = r.wrapping_sub(c);
            q |= 1;
        }
    }
    Some(q)
}

/// The pool's value: settled stake, pending residuals and unsettled emission.
pub fn value_of_pool(pool: &Pool) -> u64 {
    pool.total_stake
        .saturating_add(pool.outstanding)
        .saturating_add(pool.unsettled)
}

/// Shares worth `amount` at the price `value / shares` (a fresh pool's price when either is
/// zero), rounded down.
fn shares_at(amount: u64, shares: u128, value: u64) -> Result<u128, SettleError> {
    if shares == 0 || value == 0 {
        Ok((amount as u128) << SHARE_SHIFT)
    } else {
        mul_div(shares, amount, value as u128).ok_or(SettleError::Overflow)
    }
}

/// Issues the emission of the blocks up to `block` (a block in the past does nothing);
/// returns what it issued.
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
    if pool.total_shares == 0 || pool.emission_rate == 0 {
        return Ok(0);
    }
    let room = store.mint_room(pool)?;
    let issued = pool.emission_rate.saturating_mul(blocks).min(room);
    pool.unsettled = pool
        .unsettled
        .checked_add(issued)
        .ok_or(SettleError::Overflow)?;
    Ok(issued)
}

/// What `shares` of the pool are worth now, rounded down.
fn value_of(pool: &Pool, shares: u128) -> Result<u64, SettleError> {
    if pool.total_shares == 0 || shares == 0 {
        return Ok(0);
    }
    let value =
        mul_div(shares, value_of_pool(pool), pool.total_shares).ok_or(SettleError::Overflow)?;
    u64::try_from(value).map_err(|_| SettleError::Overflow)
}

/// What `position` and its residual `held` are owed now: their value minus the settled stake
/// and the pending amount (never more than `unsettled`).
pub fn owed(pool: &Pool, position: &Position, held: &Held) -> Result<u64, SettleError> {
    let shares = position
        .shares
        .checked_add(held.shares)
        .ok_or(SettleError::Overflow)?;
    Ok(value_of(pool, shares)?
        .saturating_sub(position.stake)
        .saturating_sub(held.amount)
        .min(pool.unsettled))
}

/// Sets `position`'s stake to `new_stake` and re-prices its shares at the other holders'
/// price, leaving their value unchanged; keeps `total_stake` and `total_shares` in step.
/// `position` must be settled (owed nothing, residual empty) or new.
pub fn reprice(
    pool: &mut Pool,
    position: &mut Position,
    new_stake: u64,
) -> Result<(), SettleError> {
    let other_shares = pool
        .total_shares
        .checked_sub(position.shares)
        .ok_or(SettleError::Underflow)?;
    let other_value = value_of_pool(pool)
        .checked_sub(position.stake)
        .ok_or(SettleError::Underflow)?;
    let shares = shares_at(new_stake, other_shares, other_value)?;
    pool.total_shares = other_shares
        .checked_add(shares)
        .ok_or(SettleError::Overflow)?;
    pool.total_stake = (pool.total_stake - position.stake)
        .checked_add(new_stake)
        .ok_or(SettleError::Overflow)?;
    position.stake = new_stake;
    position.shares = shares;
    position.lump_at = pool.lump_per_share;
    position.lump_shares_at = pool.lump_shares_per_share;
    Ok(())
}

/// `floor(a * b / 2^shift)` for `64 <= shift < 128` with a 256-bit product (within 2 of
/// exact); `None` when it needs more than 128 bits.
fn mul_shift(a: u128, b: u128, shift: u32) -> Option<u128> {
    let lo = mul_div(a, b as u64, 1u128 << shift)?;
    let hi = mul_div(a, (b >> 64) as u64, 1u128 << (shift - 64))?;
    lo.checked_add(hi)
}

/// The redirects `position` received since it last settled or was priced: their principal
/// (what each added to its value when it arrived) and what they are worth now (principal plus
/// the growth since), from the pool's two redirect accumulators and the position's snapshots
/// of them. O(1). Only the stake's shares count: those are constant between the position's own
/// settlements, so the figures are exact up to rounding (redirects reaching the residual's
/// shares show as the residual's growth). A figure that would not fit reads 0, which treats
/// the lump as growth of the stake (the rule before the accumulators).
pub fn lump(pool: &Pool, position: &Position) -> (u64, u64) {
    let per_share = pool.lump_per_share.wrapping_sub(position.lump_at);
    let shares_per_share = pool
        .lump_shares_per_share
        .wrapping_sub(position.lump_shares_at);
    if position.shares == 0 || (per_share == 0 && shares_per_share == 0) {
        return (0, 0);
    }
    let principal = mul_shift(position.shares, per_share, 96)
        .and_then(|p| u64::try_from(p).ok())
        .unwrap_or(0);
    let value = mul_shift(position.shares, shares_per_share, 64)
        .and_then(|shares| value_of(pool, shares).ok())
        .unwrap_or(0);
    (principal, value)
}

/// Closes a settled position and its residual (the rounding carry of its last push): both
/// leave the pool at the other holders' price; returns the base units they held.
pub fn close(pool: &mut Pool, position: &Position, held: &Held) -> Result<u64, SettleError> {
    let shares = position
        .shares
        .checked_add(held.shares)
        .ok_or(SettleError::Overflow)?;
    pool.total_shares = pool
        .total_shares
        .checked_sub(shares)
        .ok_or(SettleError::Underflow)?;
    pool.total_stake = pool
        .total_stake
        .checked_sub(position.stake)
        .ok_or(SettleError::Underflow)?;
    pool.outstanding = pool
        .outstanding
        .checked_sub(held.amount)
        .ok_or(SettleError::Underflow)?;
    checked(position.stake.checked_add(held.amount))
}

/// Opens a position of `stake` at `block` (the pool advanced first): stake that arrives now
/// earns nothing for the past and takes nothing from it.
pub fn join<Id, S: Store<Id>>(
    store: &mut S,
    pool: &mut Pool,
    stake: u64,
    block: u64,
) -> Result<Position, S::Error> {
    // On a copy of the pool, kept only if the join succeeds: a refused join changes nothing.
    let mut next = *pool;
    advance(store, &mut next, block)?;
    if stake > 0 && shares_at(stake, next.total_shares, value_of_pool(&next))? == 0 {
        return Err(SettleError::NoShares.into());
    }
    let mut position = Position::default();
    reprice(&mut next, &mut position, stake)?;
    *pool = next;
    Ok(position)
}

/// Settles node `id` at `block`: advances the pool, claims what the node is owed into its
/// residual (the compounding of what it forwards goes to the targets, [`crate::compounding`]),
/// and pushes the residual once along `edges` (the set in force, self first): the kept part
/// joins `position.stake` (at most `max_self_weight` of it: the excess is redirected), each
/// forward goes to its target's residual, a forward to a target that is no longer subscribed
/// is redirected to the other holders ([`redirect`]), and the rounding remainder waits for the
/// next push unless `flush` (the set ends: a new one follows, or the node leaves). The caller
/// stores `position` (and any new edge set) afterwards.
///
/// `fresh`: the position was opened or settled earlier in this same block. Then all it is
/// owed arrived within the block, from other nodes' redirects (no block passed): it forfeits
/// that to the other holders instead of claiming it, so joining right before someone's
/// settlement and leaving right after (one transaction) takes no part of its redirect.
#[allow(clippy::too_many_arguments)]
pub fn settle<Id, S: Store<Id>>(
    store: &mut S,
    pool: &mut Pool,
    id: &Id,
    position: &mut Position,
    edges: &[Edge<Id>],
    block: u64,
    flush: bool,
    fresh: bool,
) -> Result<Settlement, S::Error> {
    advance(store, pool, block)?;
    let held = store.residual(id)?.ok_or(SettleError::MissingResidual)?;
    let owed_now = owed(pool, position, &held)?;
    let (accrued, forfeited) = if fresh { (0, owed_now) } else { (owed_now, 0) };
    pool.unsettled -= accrued;
    pool.minted = checked(pool.minted.checked_add(accrued))?;
    pool.outstanding = checked(pool.outstanding.checked_add(accrued))?;
    if accrued > 0 {
        store.mint(accrued)?;
    }
    let pushed = checked(held.amount.checked_add(accrued))?;
    // The cap is the network's, not the row's: whatever set is stored, the node keeps at most
    // `max_self_weight` of what it settles; the stored self weight above it is excess.
    let stored_self = edges.first().map_or(WEIGHT_ONE, |edge| edge.weight);
    let self_weight = stored_self.min(pool.max_self_weight);
    let excess_weight = stored_self - self_weight;
    // Growth on the stake is the node's claim, of which only the kept part compounds; growth
    // on the residual is growth on money already owed along the edges: the node keeps only
    // its self-weight share of it, the rest is its targets' (`crate::compounding`).
    let residual_growth = value_of(pool, held.shares)?
        .saturating_sub(held.amount)
        .min(accrued);
    // Redirects received since the last settlement are money that arrived, not growth of the
    // stake: their principal is pushed like a forward that arrived in the residual, their
    // growth since they arrived is split like a residual's ([`lump`]), and only the rest of
    // the claim goes through the compounding rule. Without this, a lump inflates the claim's
    // convex withheld part and the excess is forwarded, partly back to the lump's source.
    let (principal, lump_value) = lump(pool, position);
    let lump_value = lump_value.min(accrued - residual_growth);
    let principal = principal.min(lump_value);
    let stake_growth = accrued - residual_growth - lump_value;
    let fair = kept_compounding_claim(position.stake, stake_growth, self_weight)
        + mul_weight(residual_growth + (lump_value - principal), self_weight)
        + principal;
    let compounding = accrued - fair;
    // Every part rounds down cumulatively over the pushes under this edge set, so settling
    // often hands out exactly what settling once does; what is not handed out (under one
    // unit per edge) waits in the residual. When the set ends (`flush`) the wait ends too,
    // with forwards rounded up.
    let waiting = remainder(held.pushed, edges).min(held.amount);
    let before = held.pushed;
    let after = checked(before.checked_add(held.amount - waiting + fair))?;
    let mut split = cumulative(before, after, edges);
    let mut carry = remainder(after, edges);
    if flush {
        let last = crate::residual_push::flush(carry, edges);
        split.keep += last.keep;
        for (total, more) in split.forwards.iter_mut().zip(last.forwards) {
            *total += more;
        }
        carry = 0;
    }
    // The kept part above the cap goes to the other holders (rounded in their favour).
    let mut redirected = 0u64;
    if excess_weight > 0 {
        let allowed = mul_div(split.keep as u128, self_weight as u64, stored_self as u128)
            .ok_or(SettleError::Overflow)? as u64;
        redirected += split.keep - allowed;
        split.keep = allowed;
    }
    // The compounding withheld is shared by the forward targets and, for the excess weight,
    // by the other holders, in proportion to their weights.
    let forward_weight = WEIGHT_ONE.saturating_sub(stored_self) as u64;
    let to_others = mul_div(
        compounding as u128,
        excess_weight as u64,
        (forward_weight + excess_weight as u64).max(1) as u128,
    )
    .ok_or(SettleError::Overflow)? as u64;
    redirected += to_others;
    let extra = forwarded_compounding(compounding - to_others, edges);
    for (total, more) in split.forwards.iter_mut().zip(extra.forwards) {
        *total += more;
    }
    if let Some(first) = split.forwards.first_mut() {
        *first += extra.keep;
    } else {
        split.keep += extra.keep;
    }
    // The node's shares are split, not re-priced: each target's forward, the new stake and
    // what stays in the residual are priced at the pool's one price, and the residual keeps
    // whatever the floors leave (its sub-unit claims too), so no one else's value moves.
    let (pool_shares, pool_value) = (pool.total_shares, value_of_pool(pool));
    let price = |amount: u64| shares_at(amount, pool_shares, pool_value);
    let mut left = position
        .shares
        .checked_add(held.shares)
        .ok_or(SettleError::Overflow)?;
    // A position bought at the others' price can be worth a fraction of a share less than
    // its stake at the pool's price; the last holding then takes what is left.
    let mut give = |shares: u128| -> Result<u128, SettleError> {
        let shares = shares.min(left);
        left -= shares;
        Ok(shares)
    };
    let kept = split.keep;
    let mut forwarded = 0u64;
    for (edge, &amount) in edges.iter().skip(1).zip(split.forwards.iter()) {
        if amount == 0 {
            continue;
        }
        match store.residual(&edge.to)? {
            Some(target) => {
                let bought = give(price(amount)?)?;
                let target = Held {
                    amount: checked(target.amount.checked_add(amount))?,
                    shares: target
                        .shares
                        .checked_add(bought)
                        .ok_or(SettleError::Overflow)?,
                    ..target
                };
                store.set_residual(&edge.to, target)?;
                forwarded += amount;
            }
            // A target that left (or was evicted) never hands its part back to the sender.
            None => redirected += amount,
        }
    }
    // The node first takes what it keeps and what is redirected into its stake at the pool's
    // price, then `redirect` moves the redirected part to the others.
    let credited = checked(kept.checked_add(redirected))?;
    let new_stake = checked(position.stake.checked_add(credited))?;
    let stake_shares = give(price(new_stake)?)?;
    let mut carried = Held {
        amount: carry,
        shares: left,
        pushed: if flush { 0 } else { after },
    };
    pool.total_stake = checked(pool.total_stake.checked_add(credited))?;
    pool.outstanding = pool
        .outstanding
        .checked_sub(credited)
        .ok_or(SettleError::Underflow)?;
    position.stake = new_stake;
    position.shares = stake_shares;
    let redirected = redirect(pool, position, &mut carried, redirected, forfeited)?;
    position.lump_at = pool.lump_per_share;
    position.lump_shares_at = pool.lump_shares_per_share;
    store.set_residual(id, carried)?;
    if redirected > 0 {
        store.unmint(redirected)?;
    }
    Ok(Settlement {
        accrued,
        pushed,
        kept,
        forwarded,
        carried: carry,
        compounding,
        redirected,
        forfeited,
        edge_visits: edges.len(),
    })
}

/// Moves `amount` of a settled node's stake to the other holders, in proportion to what they
/// hold in the pool, and none of it to the node; returns what it moved. The amount leaves the
/// node's stake (and the supply: the caller un-mints it) and joins the pool's unsettled
/// emission, so every other position's value grows by its share of it; the node's stake and
/// its residual (`held`, the rounding carry) are re-priced at the other holders' price, which
/// already includes the amount. O(1).
///
/// Why the node gets nothing back: with `O` the others' value and `N` their shares, the node
/// then holds `(stake - amount) * N / (O + amount)` shares at the price `(O + amount) / N`:
/// its position is worth exactly its new stake (rounded down) and the others' `O + amount`.
/// With no other holder (`N == 0`) there is no one to send it to: nothing moves (the node
/// keeps it) and 0 is returned. `forfeited`: what the node is owed and has not claimed (it is
/// in `O`); when non-zero the node is re-priced even with `amount == 0`, which hands it to the
/// other holders.
///
/// Each receiver's part is recorded, O(1), in the pool's two lump accumulators: per share of
/// the receivers, the principal `(amount + forfeited) / N` and the shares it buys at their new
/// price `(amount + forfeited) / (O + amount)`; a receiver's next settlement reads them
/// ([`lump`]) and treats its part as money that arrived, not as growth of its stake.
pub fn redirect(
    pool: &mut Pool,
    position: &mut Position,
    held: &mut Held,
    amount: u64,
    forfeited: u64,
) -> Result<u64, SettleError> {
    if amount == 0 && forfeited == 0 {
        return Ok(0);
    }
    let own = position
        .shares
        .checked_add(held.shares)
        .ok_or(SettleError::Overflow)?;
    let other_shares = pool
        .total_shares
        .checked_sub(own)
        .ok_or(SettleError::Underflow)?;
    let other_value = value_of_pool(pool)
        .saturating_sub(position.stake)
        .saturating_sub(held.amount);
    if other_shares == 0 || other_value == 0 {
        return Ok(0);
    }
    let stake = position
        .stake
        .checked_sub(amount)
        .ok_or(SettleError::Underflow)?;
    let value = checked(other_value.checked_add(amount))?;
    let gain = amount.saturating_add(forfeited);
    pool.lump_per_share = pool
        .lump_per_share
        .wrapping_add(mul_div(1 << 96, gain, other_shares).unwrap_or(0));
    pool.lump_shares_per_share = pool
        .lump_shares_per_share
        .wrapping_add(mul_div(1 << 64, gain, value as u128).unwrap_or(0));
    position.shares = shares_at(stake, other_shares, value)?;
    held.shares = shares_at(held.amount, other_shares, value)?;
    pool.total_shares = other_shares
        .checked_add(position.shares)
        .and_then(|t| t.checked_add(held.shares))
        .ok_or(SettleError::Overflow)?;
    position.stake = stake;
    pool.total_stake = pool
        .total_stake
        .checked_sub(amount)
        .ok_or(SettleError::Underflow)?;
    pool.unsettled = checked(pool.unsettled.checked_add(amount))?;
    pool.minted = pool
        .minted
        .checked_sub(amount)
        .ok_or(SettleError::Underflow)?;
    pool.redirected = checked(pool.redirected.checked_add(amount))?;
    Ok(amount)
}

fn checked(value: Option<u64>) -> Result<u64, SettleError> {
    value.ok_or(SettleError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;

    /// A store over a map, with an optional cap on what may be issued.
    struct Map {
        residuals: BTreeMap<u8, Held>,
        room: u64,
        minted: u64,
    }

    impl Store<u8> for Map {
        type Error = SettleError;
        fn residual(&mut self, id: &u8) -> Result<Option<Held>, SettleError> {
            Ok(self.residuals.get(id).copied())
        }
        fn set_residual(&mut self, id: &u8, residual: Held) -> Result<(), SettleError> {
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
        fn unmint(&mut self, amount: u64) -> Result<(), SettleError> {
            self.minted -= amount;
            Ok(())
        }
    }

    fn map(ids: &[u8], room: u64) -> Map {
        Map {
            residuals: ids.iter().map(|i| (*i, Held::default())).collect(),
            room,
            minted: 0,
        }
    }

    fn pool(rate: u64) -> Pool {
        Pool {
            emission_rate: rate,
            ..Pool::default()
        }
    }

    fn self_only(id: u8) -> [Edge<u8>; 1] {
        [Edge {
            to: id,
            weight: WEIGHT_ONE,
        }]
    }

    #[test]
    fn mul_div_is_exact_beyond_128_bits() {
        assert_eq!(
            mul_div(u128::MAX, u64::MAX, u128::MAX),
            Some(u64::MAX as u128)
        );
        assert_eq!(mul_div(1 << 100, 1 << 40, 1 << 20), Some(1 << 120));
        assert_eq!(mul_div(7, 3, 2), Some(10));
        assert_eq!(mul_div(u128::MAX, 2, 1), None);
        assert_eq!(mul_div(1, 1, 0), None);
        for (a, b, c) in [
            (12_345u128, 678u64, 91u128),
            (1 << 90, 3, 7),
            (u64::MAX as u128, 5, 3),
        ] {
            assert_eq!(mul_div(a, b, c), Some(a * b as u128 / c));
        }
    }

    #[test]
    fn no_position_issues_nothing_but_moves_the_clock() {
        let mut store = map(&[], u64::MAX);
        let mut p = pool(10_000);
        assert_eq!(advance(&mut store, &mut p, 50), Ok(0));
        assert_eq!((p.unsettled, p.acc_block), (0, 50));
        assert_eq!(advance(&mut store, &mut p, 20), Ok(0));
        assert_eq!(p.acc_block, 50, "the clock never rewinds");
    }

    #[test]
    fn a_sole_staker_gets_every_unit_however_often_it_settles() {
        for every in [1u64, 7, 100] {
            let mut store = map(&[1], u64::MAX);
            let mut p = pool(3);
            let mut pos = join(&mut store, &mut p, 7, 0).unwrap();
            let mut block = 0;
            while block < 100 {
                block += every.min(100 - block);
                settle(
                    &mut store,
                    &mut p,
                    &1,
                    &mut pos,
                    &self_only(1),
                    block,
                    false,
                    false,
                )
                .unwrap();
            }
            assert_eq!(p.minted + p.unsettled, 300);
            assert!(p.unsettled <= 1, "every {every}: {}", p.unsettled);
            assert_eq!(pos.stake, 7 + p.minted);
        }
    }

    #[test]
    fn unsettled_emission_compounds_so_frequency_does_not_matter() {
        // Two equal stakes; one settles every block, the other once: equal to a unit.
        let mut store = map(&[1, 2], u64::MAX);
        let mut p = pool(10_000);
        let mut a = join(&mut store, &mut p, 400_000, 0).unwrap();
        let mut b = join(&mut store, &mut p, 400_000, 0).unwrap();
        for block in 1..=120 {
            settle(
                &mut store,
                &mut p,
                &1,
                &mut a,
                &self_only(1),
                block,
                false,
                false,
            )
            .unwrap();
        }
        settle(
            &mut store,
            &mut p,
            &2,
            &mut b,
            &self_only(2),
            120,
            false,
            false,
        )
        .unwrap();
        assert_eq!(p.minted + p.unsettled, 1_200_000);
        let (ga, gb) = (a.stake - 400_000, b.stake - 400_000);
        assert!(ga.abs_diff(gb) <= 120, "{ga} vs {gb}");
    }

    proptest::proptest! {
        /// A position bought at the others' price and settled at once (a crank in the block
        /// it joined) never fails and keeps its stake, whatever the pool's price.
        #[test]
        fn a_fresh_position_settles_at_once(
            stakes in proptest::collection::vec(1u64..1_000_000_000, 1..5),
            rate in 1u64..1_000_000,
            blocks in 1u64..50,
            joiner in 1u64..1_000_000_000,
        ) {
            let ids: alloc::vec::Vec<u8> = (0..=stakes.len() as u8).collect();
            let mut store = map(&ids, u64::MAX);
            let mut p = pool(rate);
            let mut positions: alloc::vec::Vec<Position> = stakes
                .iter()
                .map(|s| join(&mut store, &mut p, *s, 0).unwrap())
                .collect();
            settle(&mut store, &mut p, &0, &mut positions[0], &self_only(0), blocks, false, false)
                .unwrap();
            let last = stakes.len() as u8;
            let mut fresh = join(&mut store, &mut p, joiner, blocks).unwrap();
            let s = settle(&mut store, &mut p, &last, &mut fresh, &self_only(last), blocks, false, false);
            proptest::prop_assert!(s.is_ok(), "{:?}", s);
            proptest::prop_assert_eq!(fresh.stake, joiner);
        }
    }

    #[test]
    fn a_redirect_is_read_back_as_a_lump_by_its_receiver_only() {
        let mut store = map(&[1, 2, 3], u64::MAX);
        let mut p = Pool {
            max_self_weight: 500_000,
            ..pool(10_000)
        };
        let mut a = join(&mut store, &mut p, 1_000_000, 0).unwrap();
        let b = join(&mut store, &mut p, 3_000_000, 0).unwrap();
        let mut c = join(&mut store, &mut p, 1_000_000, 0).unwrap();
        // Node 3 (self-only stored, cap 50 %) sends half of its claim to nodes 1 and 2.
        let s = settle(
            &mut store,
            &mut p,
            &3,
            &mut c,
            &self_only(3),
            40,
            false,
            false,
        )
        .unwrap();
        assert!(s.redirected > 0);
        assert_eq!(lump(&p, &c), (0, 0), "the source receives none of it");
        let (pa, va) = lump(&p, &a);
        let (pb, vb) = lump(&p, &b);
        // Pro rata to value (1 : 3), principal and value equal (no growth since), within
        // rounding.
        assert!(
            (pa + pb).abs_diff(s.redirected) <= 2,
            "{pa} + {pb} vs {}",
            s.redirected
        );
        assert!(pb.abs_diff(3 * pa) <= 4, "{pa} vs {pb}");
        assert!(va.abs_diff(pa) <= 1 && vb.abs_diff(pb) <= 1, "{va} {vb}");
        // Blocks later the lump has grown with the pool; a settlement resets the snapshot.
        advance(&mut store, &mut p, 80).unwrap();
        let (pa2, va2) = lump(&p, &a);
        assert_eq!(pa2, pa);
        assert!(va2 > va, "{va2} vs {va}");
        settle(
            &mut store,
            &mut p,
            &1,
            &mut a,
            &self_only(1),
            80,
            false,
            false,
        )
        .unwrap();
        assert_eq!(lump(&p, &a), (0, 0));
    }

    #[test]
    fn the_cap_limits_issue() {
        let mut store = map(&[1], 25);
        let mut p = pool(10);
        let mut pos = join(&mut store, &mut p, 5, 0).unwrap();
        let s = settle(
            &mut store,
            &mut p,
            &1,
            &mut pos,
            &self_only(1),
            10,
            false,
            false,
        )
        .unwrap();
        assert_eq!(s.accrued + p.unsettled, 25);
        let s = settle(
            &mut store,
            &mut p,
            &1,
            &mut pos,
            &self_only(1),
            20,
            false,
            false,
        )
        .unwrap();
        assert!(s.accrued <= 1);
        assert_eq!(p.minted + p.unsettled, 25);
    }
}
