//! Extracting the reason from nodeos' error JSON.

use serde_json::Value;

use crate::error::{ChainError, Resource};

/// nodeos exception names meaning "rebuild the transaction and try again".
const EXPIRY_ERRORS: &[&str] = &[
    "expired_tx_exception",
    "invalid_ref_block_exception",
    "tx_exp_too_far_exception",
];

/// nodeos exception names meaning "this account ran out of a metered resource".
const EXHAUSTION_ERRORS: &[(&str, Resource)] = &[
    ("tx_cpu_usage_exceeded", Resource::Cpu),
    ("leeway_deadline_exception", Resource::Cpu),
    ("tx_net_usage_exceeded", Resource::Net),
    ("ram_usage_exceeded", Resource::Ram),
];

/// Reads a nodeos error body (`{"error": {"name", "what", "details": [{"message"}]}}`) into
/// [`ChainError::Expired`] or [`ChainError::Rejected`] (with the `eosio_assert` text when
/// there is one); `None` if the body is not a chain error.
pub fn rejection_from_body(body: &str) -> Option<ChainError> {
    let json: Value = serde_json::from_str(body).ok()?;
    let error = json.get("error")?;
    let name = error["name"].as_str().unwrap_or("");
    let what = error["what"].as_str().unwrap_or("");
    let details: Vec<&str> = error["details"]
        .as_array()
        .map(|d| d.iter().filter_map(|x| x["message"].as_str()).collect())
        .unwrap_or_default();
    const MARK: &str = "assertion failure with message: ";
    if let Some(message) = details.iter().find_map(|d| d.strip_prefix(MARK)) {
        return Some(ChainError::Rejected {
            message: message.to_string(),
        });
    }
    let summary = match details.first() {
        Some(d) if !d.is_empty() => format!("{what}: {d}"),
        _ if !what.is_empty() => what.to_string(),
        _ => name.to_string(),
    };
    if let Some((_, resource)) = EXHAUSTION_ERRORS.iter().find(|(n, _)| *n == name) {
        return Some(ChainError::Exhausted {
            resource: *resource,
            message: summary,
        });
    }
    if name == "tx_duplicate" {
        return Some(ChainError::Duplicate(summary));
    }
    if EXPIRY_ERRORS.contains(&name) {
        return Some(ChainError::Expired(summary));
    }
    if name.is_empty() && what.is_empty() {
        return None;
    }
    Some(ChainError::Rejected { message: summary })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_expiry_and_other_errors() {
        let assert_body = r#"{"code":500,"message":"Internal Service Error","error":{"code":3050003,
            "name":"eosio_assert_message_exception","what":"eosio_assert_message assertion failure",
            "details":[{"message":"assertion failure with message: overdrawn balance","file":"cf_system.cpp"},
                       {"message":"pending console output: ","file":"apply_context.cpp"}]}}"#;
        match rejection_from_body(assert_body) {
            Some(ChainError::Rejected { message }) => assert_eq!(message, "overdrawn balance"),
            other => panic!("{other:?}"),
        }
        let expired = r#"{"error":{"name":"expired_tx_exception","what":"Expired Transaction","details":[]}}"#;
        assert!(matches!(
            rejection_from_body(expired),
            Some(ChainError::Expired(_))
        ));
        let auth = r#"{"error":{"name":"unsatisfied_authorization","what":"Provided keys do not satisfy",
            "details":[{"message":"missing bob@active"}]}}"#;
        match rejection_from_body(auth) {
            Some(ChainError::Rejected { message }) => {
                assert_eq!(message, "Provided keys do not satisfy: missing bob@active")
            }
            other => panic!("{other:?}"),
        }
        let ram = r#"{"error":{"name":"ram_usage_exceeded","what":"Account using more than allotted RAM usage",
            "details":[{"message":"account alice has insufficient ram; needs 2996 bytes has 0 bytes"}]}}"#;
        match rejection_from_body(ram) {
            Some(e @ ChainError::Exhausted { .. }) => {
                assert_eq!(e.exhausted(), Some(Resource::Ram));
                assert!(!e.is_transient(), "RAM does not come back by waiting");
                assert!(e.to_string().contains("insufficient ram"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        let cpu = r#"{"error":{"name":"tx_cpu_usage_exceeded","what":"Transaction exceeded the current CPU usage limit imposed on the transaction","details":[]}}"#;
        match rejection_from_body(cpu) {
            Some(e) => {
                assert_eq!(e.exhausted(), Some(Resource::Cpu));
                assert!(e.is_transient(), "CPU comes back as the window passes");
            }
            None => panic!("cpu exhaustion not recognised"),
        }
        let dup = r#"{"error":{"name":"tx_duplicate","what":"Duplicate transaction","details":[{"message":"duplicate transaction 1234"}]}}"#;
        assert!(matches!(
            rejection_from_body(dup),
            Some(ChainError::Duplicate(_))
        ));
        assert!(rejection_from_body("<html>bad gateway</html>").is_none());
        assert!(rejection_from_body(r#"{"error":{}}"#).is_none());
    }
}
