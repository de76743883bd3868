//! The chain's HTTP API as the viewer uses it: `get_info`, `get_table_rows` (paged) and
//! `get_table_by_scope` (to find every token holder for the conservation check).

use serde_json::{json, Value};
use tracing::debug;

use super::asset::Asset;
use super::fields::{as_u64, kind};
use super::rows::{
    parse_balance, parse_global, parse_metagraph, parse_residuals, parse_stat, ChainTables,
};
use crate::error::ViewError;
use crate::http_client::JsonClient;

/// Rows asked per page.
const PAGE: u64 = 1000;
/// Pages read per table at most: bounds one poll whatever the chain answers.
const MAX_PAGES: usize = 100;

/// One chain endpoint and the contract account whose tables are read.
#[derive(Clone)]
pub struct ChainSource {
    client: JsonClient,
    base: String,
    contract: String,
}

impl ChainSource {
    /// Reads `contract`'s tables from the nodeos at `base` (e.g. `http://127.0.0.1:8888`).
    pub fn new(client: JsonClient, base: &str, contract: &str) -> Self {
        Self {
            client,
            base: base.trim_end_matches('/').to_string(),
            contract: contract.to_string(),
        }
    }

    /// The contract account read.
    pub fn contract(&self) -> &str {
        &self.contract
    }

    /// The head block number.
    pub async fn head_block(&self) -> Result<u64, ViewError> {
        let url = format!("{}/v1/chain/get_info", self.base);
        let info = self.client.post(&url, &json!({})).await?;
        let head = info.get("head_block_num").ok_or_else(|| ViewError::Json {
            url: url.clone(),
            reason: "no `head_block_num`".into(),
        })?;
        as_u64(head, "head_block_num").map_err(|reason| ViewError::Json { url, reason })
    }

    /// All rows of `code`'s `table` in `scope`, following `more`/`next_key` pages.
    pub async fn table_rows(
        &self,
        code: &str,
        scope: &str,
        table: &str,
    ) -> Result<Vec<Value>, ViewError> {
        let url = format!("{}/v1/chain/get_table_rows", self.base);
        let mut rows = Vec::new();
        let mut lower_bound = String::new();
        for _ in 0..MAX_PAGES {
            let request = json!({"code": code, "scope": scope, "table": table, "json": true,
                                 "limit": PAGE, "lower_bound": lower_bound});
            let answer = self.client.post(&url, &request).await?;
            let page = answer
                .get("rows")
                .and_then(Value::as_array)
                .ok_or_else(|| ViewError::Json {
                    url: url.clone(),
                    reason: format!("table `{table}`: answer has no `rows` array"),
                })?;
            rows.extend(page.iter().cloned());
            let more = answer.get("more").and_then(Value::as_bool).unwrap_or(false);
            let next = next_key(&answer);
            match (more, next) {
                (true, Some(next)) if next != lower_bound => lower_bound = next,
                _ => return Ok(rows),
            }
        }
        Ok(rows)
    }

    /// The scopes holding rows of `code`'s `table` (for `accounts`: every token holder).
    pub async fn scopes(&self, code: &str, table: &str) -> Result<Vec<String>, ViewError> {
        let url = format!("{}/v1/chain/get_table_by_scope", self.base);
        let mut scopes = Vec::new();
        let mut lower_bound = String::new();
        for _ in 0..MAX_PAGES {
            let request = json!({"code": code, "table": table, "limit": PAGE,
                                 "lower_bound": lower_bound});
            let answer = self.client.post(&url, &request).await?;
            let page = answer
                .get("rows")
                .and_then(Value::as_array)
                .ok_or_else(|| ViewError::Json {
                    url: url.clone(),
                    reason: "get_table_by_scope: answer has no `rows` array".into(),
                })?;
            for row in page {
                match row.get("scope") {
                    Some(Value::String(scope)) => scopes.push(scope.clone()),
                    other => {
                        return Err(ViewError::Json {
                            url: url.clone(),
                            reason: format!(
                                "get_table_by_scope row without a string `scope` ({})",
                                other.map_or("missing", kind)
                            ),
                        })
                    }
                }
            }
            // `more` is the next lower bound as a string, empty when done.
            match answer.get("more") {
                Some(Value::String(next)) if !next.is_empty() && *next != lower_bound => {
                    lower_bound = next.clone()
                }
                _ => return Ok(scopes),
            }
        }
        Ok(scopes)
    }

    /// Reads everything one poll needs. The metagraph, residuals and global rows are required;
    /// the supply and balances (only for the conservation check) are best effort.
    pub async fn read_tables(&self) -> Result<ChainTables, ViewError> {
        let c = self.contract.as_str();
        let head_block = self.head_block().await?;
        let metagraph = parse_metagraph(&self.table_rows(c, c, "metagraph").await?)?;
        let residuals = parse_residuals(&self.table_rows(c, c, "residuals").await?)?;
        let global = parse_global(&self.table_rows(c, c, "global").await?)?;
        let code = Asset::symbol_code(&global.symbol).to_string();
        let stat = match self.table_rows(c, &code, "stat").await {
            Ok(rows) => parse_stat(&rows).map_err(|e| debug!("no supply: {e}")).ok(),
            Err(e) => {
                debug!("no supply: {e}");
                None
            }
        };
        let balances = match self.total_balance(&code).await {
            Ok(total) => Some(total),
            Err(e) => {
                debug!("no balances: {e}");
                None
            }
        };
        Ok(ChainTables {
            head_block,
            metagraph,
            residuals,
            global,
            stat,
            balances,
        })
    }

    /// Sum of every holder's balance of the token `code`.
    async fn total_balance(&self, code: &str) -> Result<u64, ViewError> {
        let c = self.contract.as_str();
        let mut total: u64 = 0;
        for owner in self.scopes(c, "accounts").await? {
            let rows = self.table_rows(c, &owner, "accounts").await?;
            total = total.saturating_add(parse_balance(&rows, code)?);
        }
        Ok(total)
    }
}

/// The `next_key` of a `get_table_rows` page (a string, or a number in some versions).
fn next_key(answer: &Value) -> Option<String> {
    match answer.get("next_key")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
