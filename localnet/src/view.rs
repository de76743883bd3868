//! One node's view of the contract tables: every node of a multi-producer chain holds its
//! own copy of the state, so invariant checks read each node's copy over its own API.

use serde_json::Value;

use crate::cleos::{table_rows, TABLE_PAGE};
use crate::error::LocalnetError;
use crate::node::Localnet;
use crate::scopes::table_scopes;

/// Reads contract tables from one node (a [`Localnet`] or any node's [`NodeView`]).
pub trait TableReader {
    /// Every row of `contract`'s `table` in `scope`.
    fn table(&self, contract: &str, scope: &str, table: &str) -> Result<Vec<Value>, LocalnetError>;
    /// Every scope in which `contract`'s `table` has rows.
    fn table_scopes(&self, contract: &str, table: &str) -> Result<Vec<String>, LocalnetError>;
}

/// The tables as the node at `url` holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// The node's HTTP API base URL.
    pub url: String,
}

impl TableReader for NodeView {
    fn table(&self, contract: &str, scope: &str, table: &str) -> Result<Vec<Value>, LocalnetError> {
        table_rows(&self.url, contract, scope, table, TABLE_PAGE)
    }

    fn table_scopes(&self, contract: &str, table: &str) -> Result<Vec<String>, LocalnetError> {
        table_scopes(&self.url, contract, table)
    }
}

impl TableReader for Localnet {
    fn table(&self, contract: &str, scope: &str, table: &str) -> Result<Vec<Value>, LocalnetError> {
        Localnet::table(self, contract, scope, table)
    }

    fn table_scopes(&self, contract: &str, table: &str) -> Result<Vec<String>, LocalnetError> {
        Localnet::table_scopes(self, contract, table)
    }
}
