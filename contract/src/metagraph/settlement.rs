//! The contract's side of `emission::settlement`: its tables as the settlement's [`Store`].
//! The arithmetic itself (accumulator, claim, push) lives once, in the `emission` crate, and
//! the in-memory `emission::ledger::Ledger` runs the same code over a map.

use emission::settlement::{self, Held, Pool, Position, SettleError, Settlement, Store};
use emission::Edge;

use crate::error::{ContractError, Result};
use crate::host::Host;
use crate::metagraph::state::{load_stats, save_global};
use crate::metagraph::{Global, Node, Residual, U128};
use crate::name::Name;
use crate::symbol::Symbol;
use crate::table;

impl From<SettleError> for ContractError {
    fn from(e: SettleError) -> Self {
        ContractError::new(e.message())
    }
}

/// The `residuals` table and the staked token's `stat` row, seen by the settlement.
struct Tables<'h, H: Host> {
    host: &'h mut H,
    symbol: Symbol,
}

impl<H: Host> Store<Name> for Tables<'_, H> {
    type Error = ContractError;

    fn residual(&mut self, id: &Name) -> Result<Option<Held>> {
        let me = self.host.receiver();
        Ok(table::find::<Residual>(&*self.host, me.0, id.0)?.map(|r| r.held()))
    }

    fn set_residual(&mut self, id: &Name, held: Held) -> Result<()> {
        let me = self.host.receiver();
        let row = Residual {
            user: *id,
            residual: held.amount,
            shares: U128(held.shares),
            pushed: held.pushed,
        };
        table::update(self.host, me.0, Name(0), &row)
    }

    /// `max_supply - supply - unsettled`: settled emission never passes the cap.
    fn mint_room(&mut self, pool: &Pool) -> Result<u64> {
        let stats = load_stats(&*self.host, self.symbol)?;
        let room = stats
            .max_supply
            .amount
            .saturating_sub(stats.supply.amount)
            .max(0) as u64;
        Ok(room.saturating_sub(pool.unsettled))
    }

    fn unmint(&mut self, amount: u64) -> Result<()> {
        let mut stats = load_stats(&*self.host, self.symbol)?;
        let amount = i64::try_from(amount).map_err(|_| SettleError::Overflow)?;
        stats.supply.amount = stats
            .supply
            .amount
            .checked_sub(amount)
            .ok_or(SettleError::Underflow)?;
        let code = self.symbol.code().0;
        table::update(self.host, code, Name(0), &stats)
    }

    fn mint(&mut self, amount: u64) -> Result<()> {
        let mut stats = load_stats(&*self.host, self.symbol)?;
        let amount = i64::try_from(amount).map_err(|_| SettleError::Overflow)?;
        stats.supply.amount = stats
            .supply
            .amount
            .checked_add(amount)
            .ok_or(SettleError::Overflow)?;
        let code = self.symbol.code().0;
        table::update(self.host, code, Name(0), &stats)
    }
}

impl Global {
    /// The numbers the settlement keeps.
    pub fn pool(&self) -> Pool {
        Pool {
            total_stake: self.total_stake,
            outstanding: self.outstanding,
            minted: self.minted,
            unsettled: self.unsettled,
            total_shares: self.total_shares.0,
            acc_block: self.acc_block,
            emission_rate: self.emission_rate,
            max_self_weight: self.max_self_weight,
            redirected: self.redirected,
            lump_per_share: self.lump_per_share.0,
            lump_shares_per_share: self.lump_shares_per_share.0,
        }
    }

    /// Writes the settlement's numbers back into the row.
    pub fn set_pool(&mut self, pool: &Pool) {
        self.total_stake = pool.total_stake;
        self.outstanding = pool.outstanding;
        self.minted = pool.minted;
        self.unsettled = pool.unsettled;
        self.total_shares = U128(pool.total_shares);
        self.acc_block = pool.acc_block;
        self.emission_rate = pool.emission_rate;
        self.redirected = pool.redirected;
        self.lump_per_share = U128(pool.lump_per_share);
        self.lump_shares_per_share = U128(pool.lump_shares_per_share);
    }
}

impl Node {
    /// The node's accrual state.
    pub fn position(&self) -> Position {
        Position {
            stake: self.stake,
            shares: self.shares.0,
            lump_at: self.lump_at.0,
            lump_shares_at: self.lump_shares_at.0,
        }
    }

    /// Writes an accrual state back into the row.
    pub fn set_position(&mut self, position: &Position) {
        self.stake = position.stake;
        self.shares = U128(position.shares);
        self.lump_at = U128(position.lump_at);
        self.lump_shares_at = U128(position.lump_shares_at);
    }
}

impl Residual {
    /// The settlement's view of the row.
    pub fn held(&self) -> Held {
        Held {
            amount: self.residual,
            shares: self.shares.0,
            pushed: self.pushed,
        }
    }
}

/// Takes a settled node and its residual (the rounding carry of its last push) out of the
/// pool (`emission::settlement::close`); returns what they held. The caller saves `global`.
pub fn close(host: &impl Host, global: &mut Global, node: &Node) -> Result<u64> {
    let me = host.receiver();
    let held = table::find::<Residual>(host, me.0, node.user.0)?
        .map(|r| r.held())
        .ok_or(SettleError::MissingResidual)?;
    let mut pool = global.pool();
    let back = settlement::close(&mut pool, &node.position(), &held)?;
    global.set_pool(&pool);
    Ok(back)
}

/// Issues the emission up to `block` and saves `global` (before the rate changes).
pub fn advance(host: &mut impl Host, global: &mut Global, block: u64) -> Result<()> {
    let mut pool = global.pool();
    let mut tables = Tables {
        host: &mut *host,
        symbol: global.symbol,
    };
    settlement::advance(&mut tables, &mut pool, block)?;
    global.set_pool(&pool);
    save_global(host, global)
}

/// Opens a position of `stake` at `block` (`emission::settlement::join`); the caller saves
/// `global` and stores the node.
pub fn join(host: &mut impl Host, global: &mut Global, stake: u64, block: u64) -> Result<Position> {
    let mut pool = global.pool();
    let mut tables = Tables {
        host: &mut *host,
        symbol: global.symbol,
    };
    let position = settlement::join(&mut tables, &mut pool, stake, block)?;
    global.set_pool(&pool);
    Ok(position)
}

/// Sets a settled node's stake to `new_stake` at the pool's price
/// (`emission::settlement::reprice`); the caller saves `global` and the node.
pub fn restake(global: &mut Global, node: &mut Node, new_stake: u64) -> Result<()> {
    let mut pool = global.pool();
    let mut position = node.position();
    settlement::reprice(&mut pool, &mut position, new_stake)?;
    node.set_position(&position);
    global.set_pool(&pool);
    Ok(())
}

/// Settles `node` at `block` along `edges` (the stored set, ended when `flush`) with
/// `emission::settlement::settle` and writes `global`, `stat` and the touched `residuals` rows.
/// The caller writes `node`; `fresh` (the row was written earlier in this block: the node
/// joined or settled already) forfeits what it is owed to the other holders.
pub fn settle(
    host: &mut impl Host,
    global: &mut Global,
    node: &mut Node,
    edges: &[Edge<Name>],
    block: u64,
    flush: bool,
    fresh: bool,
) -> Result<Settlement> {
    let mut pool = global.pool();
    let mut position = node.position();
    let mut tables = Tables {
        host: &mut *host,
        symbol: global.symbol,
    };
    let report = settlement::settle(
        &mut tables,
        &mut pool,
        &node.user,
        &mut position,
        edges,
        block,
        flush,
        fresh,
    )?;
    node.set_position(&position);
    global.set_pool(&pool);
    save_global(host, global)?;
    Ok(report)
}
