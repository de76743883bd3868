//! Driving the chain through `cleos`, and reading tables over HTTP.

use std::path::Path;
use std::sync::atomic::Ordering;

use chain_client::client::paging;
use serde_json::Value;

use crate::error::LocalnetError;
use crate::http;
use crate::node::Localnet;
use crate::tools;

/// Rows requested per `get_table_rows` page.
pub(crate) const TABLE_PAGE: u32 = 500;

impl Localnet {
    /// Runs `cleos -u <url> --wallet-url <keosd socket> <args>` and returns its stdout;
    /// a failure carries cleos' stderr (a chain assertion becomes [`LocalnetError::Rejected`]).
    pub fn cleos(&self, args: &[&str]) -> Result<String, LocalnetError> {
        let mut cmd = tools::command("cleos")?;
        cmd.args([
            "--no-auto-keosd",
            "-u",
            &self.url,
            "--wallet-url",
            &self.wallet_url,
        ]);
        cmd.args(args);
        let out = cmd
            .output()
            .map_err(|e| LocalnetError::io("running cleos", e))?;
        let stdout =
            tools::strip_wrapper_preamble(&String::from_utf8_lossy(&out.stdout)).to_string();
        if out.status.success() {
            return Ok(stdout);
        }
        // With `-j` cleos prints the failed trace as JSON on stdout; otherwise text on stderr.
        if let Some(message) = serde_json::from_str::<Value>(&stdout)
            .ok()
            .and_then(|trace| except_message(&trace["processed"]["except"]))
        {
            return Err(LocalnetError::Rejected { message });
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(classify_failure(args, format!("{stderr}{stdout}")))
    }

    /// `cleos set contract`: deploys code and ABI on `account`.
    pub fn deploy_contract(
        &self,
        account: &str,
        wasm: &Path,
        abi: &Path,
    ) -> Result<(), LocalnetError> {
        for file in [wasm, abi] {
            if !file.is_file() {
                return Err(LocalnetError::MissingFile {
                    path: file.to_path_buf(),
                    hint: "build the contract / write the ABI first".into(),
                });
            }
        }
        let dir = wasm.parent().unwrap_or(Path::new("."));
        let (dir, wasm, abi) = (
            dir.display().to_string(),
            wasm.display().to_string(),
            abi.display().to_string(),
        );
        self.cleos(&["set", "contract", account, &dir, &wasm, &abi])?;
        Ok(())
    }

    /// Deploys the wheel's reference contract `name` (e.g. `eosio.token`) on `account`.
    pub fn deploy_reference(&self, account: &str, name: &str) -> Result<(), LocalnetError> {
        let dir = crate::paths::reference_contract(name);
        self.deploy_contract(
            account,
            &dir.join(format!("{name}.wasm")),
            &dir.join(format!("{name}.abi")),
        )
    }

    /// Pushes one action (arguments as JSON, packed by cleos through the contract's ABI)
    /// authorized by `actor@active`; returns the transaction trace JSON.
    pub fn push_action(
        &self,
        contract: &str,
        action: &str,
        args_json: &str,
        actor: &str,
    ) -> Result<Value, LocalnetError> {
        // A distinct expiration per call keeps identical actions pushed within one block
        // from being refused as duplicate transactions.
        let n = self.unique.fetch_add(1, Ordering::Relaxed);
        let expiration = (30 + n % 3000).to_string();
        let permission = format!("{actor}@active");
        let out = self.cleos(&[
            "push",
            "action",
            contract,
            action,
            args_json,
            "-p",
            &permission,
            "-j",
            "-x",
            &expiration,
        ])?;
        serde_json::from_str(&out)
            .map_err(|e| LocalnetError::Decode(format!("push_action trace: {e}: {out}")))
    }

    /// Every row of `contract`'s `table` in `scope` (follows `more` across pages).
    pub fn table(
        &self,
        contract: &str,
        scope: &str,
        table: &str,
    ) -> Result<Vec<Value>, LocalnetError> {
        self.table_paged(contract, scope, table, TABLE_PAGE)
    }

    /// [`Localnet::table`] with an explicit page size (lets tests exercise paging).
    pub fn table_paged(
        &self,
        contract: &str,
        scope: &str,
        table: &str,
        page_size: u32,
    ) -> Result<Vec<Value>, LocalnetError> {
        table_rows(&self.url, contract, scope, table, page_size)
    }
}

/// Every row of `contract`'s `table` in `scope` as the node at `url` holds it, read in
/// pages of `page_size` (follows `more`).
pub(crate) fn table_rows(
    url: &str,
    contract: &str,
    scope: &str,
    table: &str,
    page_size: u32,
) -> Result<Vec<Value>, LocalnetError> {
    let mut rows = Vec::new();
    let mut lower = String::new();
    loop {
        let request = paging::rows_request(contract, scope, table, page_size, &lower);
        let r = http::post(url, paging::TABLE_ROWS_PATH, &request.to_string())?;
        let what = format!("get_table_rows {contract}/{scope}/{table}");
        if r.status != 200 {
            return Err(LocalnetError::Decode(format!(
                "{what}: HTTP {}: {}",
                r.status, r.body
            )));
        }
        let page = serde_json::from_str(&r.body)
            .map_err(|e| e.to_string())
            .and_then(|answer| paging::rows_page(&answer, &lower).map_err(|e| e.to_string()))
            .map_err(|e| LocalnetError::Decode(format!("{what}: {e}")))?;
        rows.extend(page.items);
        match page.next {
            Some(next) => lower = next,
            None => return Ok(rows),
        }
    }
}

/// Turns a cleos failure into [`LocalnetError::Rejected`] when the chain refused the
/// transaction (`Error 3xxxxxx:`), keeping the assertion message when there is one.
fn classify_failure(args: &[&str], stderr: String) -> LocalnetError {
    if let Some(message) = assertion_message(&stderr) {
        return LocalnetError::Rejected { message };
    }
    let chain_error = stderr
        .lines()
        .find(|l| l.starts_with("Error 3") && l.contains(':'));
    if let Some(first) = chain_error {
        let details: Vec<&str> = stderr
            .lines()
            .skip_while(|l| !l.starts_with("Error Details:"))
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .collect();
        let mut message = first.to_string();
        if !details.is_empty() {
            message = format!("{message}: {}", details.join(" "));
        }
        return LocalnetError::Rejected { message };
    }
    LocalnetError::Cleos {
        args: args.join(" "),
        stderr,
    }
}

/// The message of a trace's `except` object: the `eosio_assert` text when there is one,
/// else the exception message with its first rendered detail.
fn except_message(except: &Value) -> Option<String> {
    let stack = except.get("stack")?.as_array()?;
    let rendered: Vec<String> = stack
        .iter()
        .map(|item| render_format(item["format"].as_str().unwrap_or(""), &item["data"]))
        .collect();
    let assertion = rendered
        .iter()
        .find_map(|r| r.strip_prefix("assertion failure with message: "));
    if let Some(text) = assertion {
        return Some(text.to_string());
    }
    let head = except["message"].as_str().unwrap_or("transaction failed");
    Some(match rendered.first() {
        Some(detail) if !detail.is_empty() => format!("{head}: {detail}"),
        _ => head.to_string(),
    })
}

/// Fills fc's `${name}` placeholders from `data`.
fn render_format(format: &str, data: &Value) -> String {
    let mut out = String::new();
    let mut rest = format;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        match &data[&after[..end]] {
            Value::String(s) => out.push_str(s),
            Value::Null => out.push_str(&rest[start..start + 3 + end]),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The text after `assertion failure with message:` in cleos/nodeos error output (plain or
/// JSON), skipping unformatted templates such as `${s}`.
fn assertion_message(text: &str) -> Option<String> {
    const MARK: &str = "assertion failure with message:";
    text.match_indices(MARK).find_map(|(i, _)| {
        let rest = &text[i + MARK.len()..];
        let end = rest.find(['\n', '"']).unwrap_or(rest.len());
        let message = rest[..end].trim();
        (!message.contains("${")).then(|| message.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_assertion_messages() {
        let stderr = "Error 3050003: eosio_assert_message assertion failure\nError Details:\n\
                      assertion failure with message: overdrawn balance\npending console output: \n";
        match classify_failure(&[], stderr.into()) {
            LocalnetError::Rejected { message } => assert_eq!(message, "overdrawn balance"),
            other => panic!("{other:?}"),
        }
        let auth =
            "Error 3090003: Provided keys do not satisfy\nError Details:\nmissing alice@active\n";
        match classify_failure(&[], auth.into()) {
            LocalnetError::Rejected { message } => {
                assert!(message.contains("3090003") && message.contains("missing alice@active"))
            }
            other => panic!("{other:?}"),
        }
        let json = r#"{"format":"assertion failure with message: ${s}","data":{"s":"x"},
            "message":"assertion failure with message: edge target not subscribed"}"#;
        assert_eq!(
            assertion_message(json).unwrap(),
            "edge target not subscribed"
        );
        let except = serde_json::json!({"message": "eosio_assert_message assertion failure",
            "stack": [{"format": "assertion failure with message: ${s}", "data": {"s": "overdrawn balance"}},
                      {"format": "pending console output: ${console}", "data": {"console": ""}}]});
        assert_eq!(except_message(&except).unwrap(), "overdrawn balance");
        let auth = serde_json::json!({"message": "missing authority",
            "stack": [{"format": "missing authority of ${account}", "data": {"account": "bob"}}]});
        assert_eq!(
            except_message(&auth).unwrap(),
            "missing authority: missing authority of bob"
        );
        assert!(matches!(
            classify_failure(&["x"], "Failed to connect".into()),
            LocalnetError::Cleos { .. }
        ));
    }
}
