//! An in-memory chain for host unit tests: tables, accounts, authorizations, a clock, and
//! transaction rollback (a failed action leaves no trace, as on chain).

use alloc::collections::BTreeMap;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::vec::Vec;

use crate::error::{ContractError, Result};
use crate::host::{Host, RowId};
use crate::name::Name;

/// One row with the account billed for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    /// Serialized row.
    pub data: Vec<u8>,
    /// RAM payer.
    pub payer: Name,
}

/// The whole mock chain state.
#[derive(Debug, Clone, Default)]
pub struct MockChain {
    /// The contract account.
    pub receiver: Name,
    /// Existing accounts.
    pub accounts: BTreeSet<Name>,
    /// Accounts that signed the current action.
    pub auths: BTreeSet<Name>,
    /// Accounts notified by the current action.
    pub recipients: Vec<Name>,
    /// Clock in microseconds.
    pub now_us: u64,
    /// Rows by address.
    pub rows: BTreeMap<RowId, StoredRow>,
    /// First `u64` secondary index entries by the address of their row: (key, payer).
    pub idx64: BTreeMap<RowId, (u64, Name)>,
}

impl MockChain {
    /// A chain holding the contract account and `accounts`, at block `block`.
    pub fn new(receiver: &str, accounts: &[&str], block: u64) -> Self {
        let mut chain = MockChain {
            receiver: Name::new(receiver),
            now_us: block * 500_000,
            ..Default::default()
        };
        chain.accounts.insert(chain.receiver);
        chain.accounts.extend(accounts.iter().map(|a| Name::new(a)));
        chain
    }

    /// Runs one action signed by `signer`; on failure restores the state, as a failed transaction.
    pub fn run(&mut self, signer: &str, action: &str, data: &[u8]) -> Result<()> {
        let saved = self.clone();
        self.auths = [Name::new(signer)].into_iter().collect();
        self.recipients.clear();
        let receiver = self.receiver;
        let result = crate::dispatch::dispatch(self, receiver, receiver, Name::new(action), data);
        if result.is_err() {
            *self = saved;
        }
        result
    }

    /// The primary keys of `table`'s rows in `scope` in the order of their secondary index
    /// key from `lower` on (what `get_table_rows` with `index_position: 2` returns), with keys.
    pub fn by_idx64(&self, scope: u64, table: Name, lower: u64) -> Vec<(u64, u64)> {
        let mut found: Vec<(u64, u64)> = self
            .idx64
            .iter()
            .filter(|(row, (key, _))| row.scope == scope && row.table == table && *key >= lower)
            .map(|(row, (key, _))| (*key, row.pk))
            .collect();
        found.sort_unstable();
        found
    }
}

impl Host for MockChain {
    fn receiver(&self) -> Name {
        self.receiver
    }
    fn require_auth(&mut self, account: Name) -> Result<()> {
        if self.auths.contains(&account) {
            Ok(())
        } else {
            Err(ContractError::owned(format!(
                "missing authority of {account}"
            )))
        }
    }
    fn has_auth(&self, account: Name) -> bool {
        self.auths.contains(&account)
    }
    fn is_account(&self, account: Name) -> bool {
        self.accounts.contains(&account)
    }
    fn require_recipient(&mut self, account: Name) {
        if !self.recipients.contains(&account) {
            self.recipients.push(account);
        }
    }
    fn current_time_us(&self) -> u64 {
        self.now_us
    }
    fn db_get(&self, row: RowId) -> Option<Vec<u8>> {
        self.rows.get(&row).map(|r| r.data.clone())
    }
    fn db_store(&mut self, row: RowId, payer: Name, data: &[u8]) -> Result<()> {
        let stored = StoredRow {
            data: data.to_vec(),
            payer,
        };
        match self.rows.insert(row, stored) {
            None => Ok(()),
            Some(_) => Err(ContractError::new("mock: row already exists")),
        }
    }
    fn db_update(&mut self, row: RowId, payer: Name, data: &[u8]) -> Result<()> {
        let stored = self
            .rows
            .get_mut(&row)
            .ok_or(ContractError::new("mock: updated row does not exist"))?;
        stored.data = data.to_vec();
        if payer != Name(0) {
            stored.payer = payer;
        }
        Ok(())
    }
    fn db_remove(&mut self, row: RowId) -> Result<()> {
        if self.idx64.contains_key(&row) {
            // On chain the index entry would dangle: the contract must erase it first.
            return Err(ContractError::new(
                "mock: row removed before its index entry",
            ));
        }
        self.rows
            .remove(&row)
            .map(|_| ())
            .ok_or(ContractError::new("mock: removed row does not exist"))
    }
    fn idx64_store(&mut self, row: RowId, payer: Name, key: u64) -> Result<()> {
        if !self.rows.contains_key(&row) {
            return Err(ContractError::new("mock: index entry without its row"));
        }
        match self.idx64.insert(row, (key, payer)) {
            None => Ok(()),
            Some(_) => Err(ContractError::new("mock: index entry already exists")),
        }
    }
    fn idx64_update(&mut self, row: RowId, payer: Name, key: u64) -> Result<()> {
        let entry = self.idx64.get_mut(&row).ok_or(ContractError::new(
            "mock: updated index entry does not exist",
        ))?;
        entry.0 = key;
        if payer != Name(0) {
            entry.1 = payer;
        }
        Ok(())
    }
    fn idx64_remove(&mut self, row: RowId) -> Result<()> {
        self.idx64
            .remove(&row)
            .map(|_| ())
            .ok_or(ContractError::new(
                "mock: removed index entry does not exist",
            ))
    }
}
