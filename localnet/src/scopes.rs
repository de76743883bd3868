//! Listing the scopes of a table (`get_table_by_scope`), e.g. every owner holding a token
//! balance, so invariant checks can sum over all holders without knowing them in advance.

use serde_json::{json, Value};

use crate::error::LocalnetError;
use crate::http;
use crate::node::Localnet;

/// Scopes requested per `get_table_by_scope` page.
const SCOPE_PAGE: u32 = 500;

impl Localnet {
    /// Every scope in which `contract`'s `table` has rows (follows `more` across pages).
    pub fn table_scopes(&self, contract: &str, table: &str) -> Result<Vec<String>, LocalnetError> {
        table_scopes(&self.url, contract, table)
    }
}

/// Every scope in which `contract`'s `table` has rows on the node at `url`.
pub(crate) fn table_scopes(
    url: &str,
    contract: &str,
    table: &str,
) -> Result<Vec<String>, LocalnetError> {
    let mut scopes = Vec::new();
    let mut lower = String::new();
    loop {
        let request = json!({
            "code": contract, "table": table, "limit": SCOPE_PAGE, "lower_bound": lower,
        });
        let r = http::post(url, "/v1/chain/get_table_by_scope", &request.to_string())?;
        if r.status != 200 {
            return Err(LocalnetError::Decode(format!(
                "get_table_by_scope {contract}/{table}: HTTP {}: {}",
                r.status, r.body
            )));
        }
        let page: Value = serde_json::from_str(&r.body)
            .map_err(|e| LocalnetError::Decode(format!("get_table_by_scope: {e}")))?;
        if let Some(rows) = page["rows"].as_array() {
            scopes.extend(
                rows.iter()
                    .filter(|row| row["table"] == table)
                    .filter_map(|row| row["scope"].as_str().map(str::to_string)),
            );
        }
        let more = page["more"].as_str().unwrap_or("");
        if more.is_empty() {
            return Ok(scopes);
        }
        lower = more.to_string();
    }
}
