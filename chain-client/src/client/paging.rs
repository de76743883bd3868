//! The paging protocol of nodeos' table APIs (`get_table_rows`, `get_table_by_scope`) apart
//! from any transport, so the async [`Client`](super::Client) and blocking callers (the
//! localnet harness) follow `more`/`next_key` the same way and stop on a repeated key.

use serde_json::{json, Value};

use crate::error::ChainError;

/// `get_table_rows`' path.
pub const TABLE_ROWS_PATH: &str = "/v1/chain/get_table_rows";
/// `get_table_by_scope`'s path.
pub const TABLE_SCOPES_PATH: &str = "/v1/chain/get_table_by_scope";

/// One answered page: its items and where the next page starts (`None` when done).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// The next page's `lower_bound`, when there is one.
    pub next: Option<String>,
}

/// The request body of one `get_table_rows` page (rows as JSON).
pub fn rows_request(code: &str, scope: &str, table: &str, limit: u32, lower_bound: &str) -> Value {
    json!({
        "code": code, "scope": scope, "table": table, "json": true,
        "limit": limit, "lower_bound": lower_bound,
    })
}

/// The request body of one `get_table_rows` page read in the order of the table's first
/// `u64` secondary index (`index_position: 2`), from key `lower_bound` on.
pub fn index_rows_request(
    code: &str,
    scope: &str,
    table: &str,
    limit: u32,
    lower_bound: &str,
) -> Value {
    json!({
        "code": code, "scope": scope, "table": table, "json": true,
        "limit": limit, "lower_bound": lower_bound,
        "index_position": "2", "key_type": "i64",
    })
}

/// Reads one `get_table_rows` answer asked from `lower_bound`: its rows and the next bound
/// (`more` with a new `next_key`, given as a string or, by some versions, a number).
pub fn rows_page(answer: &Value, lower_bound: &str) -> Result<Page<Value>, ChainError> {
    let items = items(answer, "get_table_rows")?.to_vec();
    let next = match &answer["next_key"] {
        Value::String(key) => Some(key.clone()),
        Value::Number(key) => Some(key.to_string()),
        _ => None,
    };
    let more = answer["more"].as_bool() == Some(true);
    Ok(Page {
        items,
        next: next.filter(|key| more && is_new(key, lower_bound)),
    })
}

/// The request body of one `get_table_by_scope` page.
pub fn scopes_request(code: &str, table: &str, limit: u32, lower_bound: &str) -> Value {
    json!({"code": code, "table": table, "limit": limit, "lower_bound": lower_bound})
}

/// Reads one `get_table_by_scope` answer asked from `lower_bound`: the scopes holding `table`
/// and the next bound (`more` is the next scope, empty when done).
pub fn scopes_page(
    answer: &Value,
    table: &str,
    lower_bound: &str,
) -> Result<Page<String>, ChainError> {
    let mut scopes = Vec::new();
    for row in items(answer, "get_table_by_scope")? {
        if row.get("table").is_some_and(|named| named != table) {
            continue;
        }
        let scope = row["scope"].as_str().ok_or_else(|| {
            ChainError::Decode(format!(
                "get_table_by_scope row without a string `scope`: {row}"
            ))
        })?;
        scopes.push(scope.to_string());
    }
    let next = answer["more"].as_str().map(str::to_string);
    Ok(Page {
        items: scopes,
        next: next.filter(|key| is_new(key, lower_bound)),
    })
}

/// The `rows` array every table answer carries.
fn items<'a>(answer: &'a Value, api: &str) -> Result<&'a [Value], ChainError> {
    answer["rows"]
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| ChainError::Decode(format!("{api}: answer has no `rows` array")))
}

/// Whether `key` moves past `lower_bound` (an empty or repeated key would loop forever).
fn is_new(key: &str, lower_bound: &str) -> bool {
    !key.is_empty() && key != lower_bound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_pages_follow_next_key_until_done_or_stuck() {
        let page = rows_page(&json!({"rows": [1, 2], "more": true, "next_key": "7"}), "").unwrap();
        assert_eq!((page.items.len(), page.next.as_deref()), (2, Some("7")));
        let numeric = rows_page(&json!({"rows": [], "more": true, "next_key": 9}), "7").unwrap();
        assert_eq!(numeric.next.as_deref(), Some("9"));
        let stuck = rows_page(&json!({"rows": [], "more": true, "next_key": "7"}), "7").unwrap();
        assert_eq!(stuck.next, None);
        let done = rows_page(&json!({"rows": [3], "more": false, "next_key": "8"}), "7").unwrap();
        assert_eq!(done.next, None);
        let err = rows_page(&json!({"error": "x"}), "")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `rows`"), "{err}");
    }

    #[test]
    fn scope_pages_keep_the_table_asked_and_follow_more() {
        let answer = json!({"rows": [
            {"code": "bittensor", "scope": "alice", "table": "accounts"},
            {"code": "bittensor", "scope": "BIT", "table": "stat"},
            {"code": "bittensor", "scope": "bob", "table": "accounts"}], "more": "carol"});
        let page = scopes_page(&answer, "accounts", "").unwrap();
        assert_eq!(page.items, ["alice", "bob"]);
        assert_eq!(page.next.as_deref(), Some("carol"));
        let done = scopes_page(&json!({"rows": [], "more": ""}), "accounts", "carol").unwrap();
        assert_eq!(done.next, None);
        let bad = json!({"rows": [{"scope": 5, "table": "accounts"}]});
        assert!(scopes_page(&bad, "accounts", "").is_err());
    }
}
