//! Table reads: raw rows with paging, and the contract's typed tables.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::paging;
use super::rows::{AccountRow, DepartureRow, GlobalRow, MetagraphRow, ResidualRow, StatRow};
use super::Client;
use crate::contract::names;
use crate::error::ChainError;
use crate::types::name::Name;

/// Rows per `get_table_rows` request.
const PAGE: u32 = 500;
/// The token symbol code of the contract.
const TOKEN_CODE: &str = "BIT";

impl Client {
    /// Every row of `code`'s `table` in `scope` (a name or a symbol code), following `more`.
    pub async fn table_rows(
        &self,
        code: Name,
        scope: &str,
        table: Name,
    ) -> Result<Vec<Value>, ChainError> {
        let (code, table) = (code.to_string(), table.to_string());
        self.paged(String::new(), |lower| {
            paging::rows_request(&code, scope, &table, PAGE, lower)
        })
        .await
    }

    /// Every row of `code`'s `table` in `code`'s scope whose change number (the `seq`
    /// secondary index) is above `after`, in change order, following `more`.
    pub async fn table_rows_after(
        &self,
        code: Name,
        table: Name,
        after: u64,
    ) -> Result<Vec<Value>, ChainError> {
        let (code, table) = (code.to_string(), table.to_string());
        let first = after.saturating_add(1).to_string();
        self.paged(first, |lower| {
            paging::index_rows_request(&code, &code, &table, PAGE, lower)
        })
        .await
    }

    /// Follows `get_table_rows` pages from `lower` on; `request` builds each page's body.
    async fn paged(
        &self,
        mut lower: String,
        request: impl Fn(&str) -> Value,
    ) -> Result<Vec<Value>, ChainError> {
        let mut rows = Vec::new();
        loop {
            let request = request(&lower);
            let answer: Value = self.post_json(paging::TABLE_ROWS_PATH, &request).await?;
            let page = paging::rows_page(&answer, &lower)?;
            rows.extend(page.items);
            match page.next {
                Some(next) => lower = next,
                None => return Ok(rows),
            }
        }
    }

    pub(super) async fn typed_rows<T: DeserializeOwned>(
        &self,
        code: Name,
        scope: &str,
        table: Name,
    ) -> Result<Vec<T>, ChainError> {
        typed(table, self.table_rows(code, scope, table).await?)
    }

    /// The nodes whose row changed after change number `after`, in change order.
    pub async fn metagraph_after(
        &self,
        contract: Name,
        after: u64,
    ) -> Result<Vec<MetagraphRow>, ChainError> {
        let table = names::METAGRAPH;
        typed(table, self.table_rows_after(contract, table, after).await?)
    }

    /// The departures after change number `after`, in change order.
    pub async fn departed_after(
        &self,
        contract: Name,
        after: u64,
    ) -> Result<Vec<DepartureRow>, ChainError> {
        let table = names::DEPARTED;
        typed(table, self.table_rows_after(contract, table, after).await?)
    }

    /// All subscribed nodes.
    pub async fn metagraph(&self, contract: Name) -> Result<Vec<MetagraphRow>, ChainError> {
        let scope = contract.to_string();
        self.typed_rows(contract, &scope, names::METAGRAPH).await
    }

    /// All pending residuals.
    pub async fn residuals(&self, contract: Name) -> Result<Vec<ResidualRow>, ChainError> {
        let scope = contract.to_string();
        self.typed_rows(contract, &scope, names::RESIDUALS).await
    }

    /// The `global` singleton, `None` before the token is created.
    pub async fn global(&self, contract: Name) -> Result<Option<GlobalRow>, ChainError> {
        let scope = contract.to_string();
        let rows: Vec<GlobalRow> = self.typed_rows(contract, &scope, names::GLOBAL).await?;
        Ok(rows.into_iter().next())
    }

    /// The `BIT` token statistics, `None` before `create`.
    pub async fn stat(&self, contract: Name) -> Result<Option<StatRow>, ChainError> {
        self.token_stat(contract, TOKEN_CODE).await
    }

    /// The statistics of the token `code` held by `contract`, `None` before its `create`.
    pub async fn token_stat(
        &self,
        contract: Name,
        code: &str,
    ) -> Result<Option<StatRow>, ChainError> {
        let rows: Vec<StatRow> = self.typed_rows(contract, code, names::STAT).await?;
        Ok(rows.into_iter().next())
    }

    /// `owner`'s `BIT` balance in base units (0 without a balance row).
    pub async fn balance(&self, contract: Name, owner: Name) -> Result<u64, ChainError> {
        self.token_balance(contract, owner, TOKEN_CODE).await
    }

    /// `owner`'s balance of the token `code` held by `contract`, in base units.
    pub async fn token_balance(
        &self,
        contract: Name,
        owner: Name,
        code: &str,
    ) -> Result<u64, ChainError> {
        let rows: Vec<AccountRow> = self
            .typed_rows(contract, &owner.to_string(), names::ACCOUNTS)
            .await?;
        let amount = rows
            .iter()
            .find(|r| r.balance.symbol.code() == code)
            .map_or(0, |r| r.balance.amount);
        u64::try_from(amount).map_err(|_| ChainError::Decode(format!("negative balance {amount}")))
    }
}

/// Decodes JSON rows of `table` as `T`, naming the first row that does not fit.
fn typed<T: DeserializeOwned>(table: Name, rows: Vec<Value>) -> Result<Vec<T>, ChainError> {
    rows.into_iter()
        .enumerate()
        .map(|(index, row)| {
            serde_json::from_value(row)
                .map_err(|e| ChainError::Decode(format!("table `{table}` row {index}: {e}")))
        })
        .collect()
}
