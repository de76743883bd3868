//! `get_account` reads: the keys that can sign for an account's permission, so that peers
//! can check a signature against what the chain says, not what the signer claims.

use serde::Deserialize;

use super::Client;
use crate::crypto::PublicKey;
use crate::error::ChainError;
use crate::types::name::Name;

/// The parts of one `permissions` entry of `/v1/chain/get_account` that name keys.
#[derive(Debug, Deserialize)]
struct Permission {
    perm_name: String,
    required_auth: Authority,
}

#[derive(Debug, Deserialize)]
struct Authority {
    threshold: u32,
    keys: Vec<KeyWeight>,
}

#[derive(Debug, Deserialize)]
struct KeyWeight {
    key: String,
    weight: u32,
}

#[derive(Debug, Deserialize)]
struct AccountDoc {
    permissions: Vec<Permission>,
}

/// The keys that alone satisfy `permission` in a `get_account` answer (weight at least the
/// threshold); keys that need a co-signer do not count, since a peer request has one signature.
pub fn permission_keys(
    doc: &serde_json::Value,
    permission: &str,
) -> Result<Vec<PublicKey>, ChainError> {
    let doc: AccountDoc = serde_json::from_value(doc.clone())
        .map_err(|e| ChainError::Decode(format!("get_account: {e}")))?;
    let perm = doc
        .permissions
        .iter()
        .find(|p| p.perm_name == permission)
        .ok_or_else(|| ChainError::Decode(format!("account has no `{permission}` permission")))?;
    perm.required_auth
        .keys
        .iter()
        .filter(|k| k.weight >= perm.required_auth.threshold)
        .map(|k| {
            k.key
                .parse::<PublicKey>()
                .map_err(|e| ChainError::Decode(format!("permission key: {e}")))
        })
        .collect()
}

impl Client {
    /// The keys that can sign alone for `account@permission` (e.g. `active`).
    pub async fn permission_keys(
        &self,
        account: Name,
        permission: &str,
    ) -> Result<Vec<PublicKey>, ChainError> {
        let doc: serde_json::Value = self
            .post_json(
                "/v1/chain/get_account",
                &serde_json::json!({ "account_name": account.to_string() }),
            )
            .await?;
        permission_keys(&doc, permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV_PUB: &str = "EOS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV";

    fn doc(active_keys: serde_json::Value, threshold: u32) -> serde_json::Value {
        serde_json::json!({
            "account_name": "alice",
            "permissions": [
                {"perm_name": "owner", "parent": "", "required_auth":
                    {"threshold": 1, "keys": [{"key": DEV_PUB, "weight": 1}], "accounts": [], "waits": []}},
                {"perm_name": "active", "parent": "owner", "required_auth":
                    {"threshold": threshold, "keys": active_keys, "accounts": [], "waits": []}}
            ]
        })
    }

    #[test]
    fn reads_the_active_keys_in_either_text_form() {
        let k1 = DEV_PUB.parse::<PublicKey>().unwrap().to_k1_string();
        let keys = permission_keys(
            &doc(serde_json::json!([{"key": k1, "weight": 1}]), 1),
            "active",
        )
        .unwrap();
        assert_eq!(keys, vec![DEV_PUB.parse::<PublicKey>().unwrap()]);
    }

    #[test]
    fn keys_below_the_threshold_do_not_count() {
        let keys = permission_keys(
            &doc(serde_json::json!([{"key": DEV_PUB, "weight": 1}]), 2),
            "active",
        )
        .unwrap();
        assert!(keys.is_empty());
    }

    #[test]
    fn missing_permission_or_garbage_is_an_error() {
        let d = doc(serde_json::json!([]), 1);
        assert!(permission_keys(&d, "nope").is_err());
        let bad = doc(serde_json::json!([{"key": "EOSgarbage", "weight": 1}]), 1);
        assert!(permission_keys(&bad, "active").is_err());
        assert!(permission_keys(&serde_json::json!({"x": 1}), "active").is_err());
    }
}
