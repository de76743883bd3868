//! Scopes of a table (`get_table_by_scope`): for `accounts`, every token holder, so
//! invariant checks can sum balances over all holders without knowing them in advance.

use serde_json::Value;

use super::paging;
use super::Client;
use crate::contract::names;
use crate::error::ChainError;
use crate::types::name::Name;

/// Scopes asked per `get_table_by_scope` page.
const SCOPE_PAGE: u32 = 500;

impl Client {
    /// Every scope in which `code`'s `table` has rows, following `more` across pages.
    pub async fn table_scopes(&self, code: Name, table: Name) -> Result<Vec<String>, ChainError> {
        let (code, table) = (code.to_string(), table.to_string());
        let mut scopes = Vec::new();
        let mut lower = String::new();
        loop {
            let request = paging::scopes_request(&code, &table, SCOPE_PAGE, &lower);
            let answer: Value = self.post_json(paging::TABLE_SCOPES_PATH, &request).await?;
            let page = paging::scopes_page(&answer, &table, &lower)?;
            scopes.extend(page.items);
            match page.next {
                Some(next) => lower = next,
                None => return Ok(scopes),
            }
        }
    }

    /// Sum of every holder's balance of the token `code` held by `contract`, in base units.
    pub async fn total_balance(&self, contract: Name, code: &str) -> Result<u64, ChainError> {
        let mut total: u64 = 0;
        for scope in self.table_scopes(contract, names::ACCOUNTS).await? {
            let owner: Name = scope
                .parse()
                .map_err(|e| ChainError::Decode(format!("accounts scope `{scope}`: {e}")))?;
            let balance = self.token_balance(contract, owner, code).await?;
            total = total.saturating_add(balance);
        }
        Ok(total)
    }
}
