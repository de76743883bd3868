//! Account creation: one through cleos, many through batched signed transactions.

use chain_client::types::pack::Pack;
use chain_client::{Action, Name, PrivateKey, PublicKey, Transaction};
use serde_json::{json, Value};

use crate::error::LocalnetError;
use crate::http;
use crate::node::{get_info, Localnet};

/// `newaccount` actions per transaction: well inside the per-transaction CPU limit.
const ACCOUNTS_PER_TX: usize = 50;

/// A single-key authority (`threshold 1, [key weight 1]`).
struct KeyAuthority(PublicKey);

impl Pack for KeyAuthority {
    fn pack(&self, out: &mut Vec<u8>) {
        1u32.pack(out); // threshold
        chain_client::VarUint32(1).pack(out); // keys
        self.0.pack(out);
        1u16.pack(out); // weight
        chain_client::VarUint32(0).pack(out); // accounts
        chain_client::VarUint32(0).pack(out); // waits
    }
}

/// The arguments of `eosio::newaccount`.
struct NewAccount {
    creator: Name,
    name: Name,
    key: PublicKey,
}

impl Pack for NewAccount {
    fn pack(&self, out: &mut Vec<u8>) {
        self.creator.pack(out);
        self.name.pack(out);
        KeyAuthority(self.key).pack(out); // owner
        KeyAuthority(self.key).pack(out); // active
    }
}

fn name(text: &str) -> Result<Name, LocalnetError> {
    text.parse()
        .map_err(|e: chain_client::NameError| LocalnetError::Decode(e.to_string()))
}

impl Localnet {
    /// Creates `name` with owner and active = the development key.
    pub fn create_account(&self, name: &str) -> Result<(), LocalnetError> {
        let key = crate::DEV_PUBLIC_KEY;
        self.cleos(&["create", "account", "eosio", name, key, key])?;
        Ok(())
    }

    /// Creates many accounts (owner/active = the development key), packing
    /// [`ACCOUNTS_PER_TX`] `newaccount` actions per signed transaction.
    pub fn create_accounts(&self, names: &[String]) -> Result<(), LocalnetError> {
        let key = PrivateKey::from_wif(crate::DEV_PRIVATE_KEY)
            .map_err(|e| LocalnetError::Decode(e.to_string()))?;
        let eosio = name("eosio")?;
        let newaccount = name("newaccount")?;
        for batch in names.chunks(ACCOUNTS_PER_TX) {
            let actions = batch
                .iter()
                .map(|n| {
                    let args = NewAccount {
                        creator: eosio,
                        name: name(n)?,
                        key: key.public_key(),
                    };
                    Ok(Action::new(eosio, newaccount, eosio, &args))
                })
                .collect::<Result<Vec<_>, LocalnetError>>()?;
            self.push_signed(actions, &key)?;
        }
        Ok(())
    }

    /// Whether `name` is an existing account.
    pub fn account_exists(&self, name: &str) -> Result<bool, LocalnetError> {
        let body = json!({ "account_name": name }).to_string();
        Ok(http::post(&self.url, "/v1/chain/get_account", &body)?.status == 200)
    }

    /// Pushes `actions` as one transaction signed with the development key (which owns
    /// every account the harness creates): many actions per transaction, no cleos call.
    /// Returns the `processed` trace.
    pub fn push_actions(&self, actions: Vec<Action>) -> Result<Value, LocalnetError> {
        let key = PrivateKey::from_wif(crate::DEV_PRIVATE_KEY)
            .map_err(|e| LocalnetError::Decode(e.to_string()))?;
        self.push_signed(actions, &key)
    }

    /// Signs `actions` with `key` and pushes them as one transaction over HTTP.
    fn push_signed(&self, actions: Vec<Action>, key: &PrivateKey) -> Result<Value, LocalnetError> {
        let info = get_info(&self.url)?;
        let field = |k: &str| -> Result<[u8; 32], LocalnetError> {
            let text = info[k].as_str().unwrap_or_default();
            let bytes =
                hex::decode(text).map_err(|e| LocalnetError::Decode(format!("{k}: {e}")))?;
            bytes
                .try_into()
                .map_err(|_| LocalnetError::Decode(format!("{k} is not 32 bytes")))
        };
        let chain_id = field("chain_id")?;
        let ref_block = field("head_block_id")?;
        let head_time = info["head_block_time"].as_str().unwrap_or_default();
        let now = chain_client::client::time::parse_block_time(head_time)
            .map_err(|e| LocalnetError::Decode(e.to_string()))?;
        let trx = Transaction::new(now + 60, &ref_block, actions);
        let signature = key
            .sign(&trx.signing_digest(&chain_id))
            .map_err(|e| LocalnetError::Decode(e.to_string()))?;
        let body = json!({
            "signatures": [signature.to_string()],
            "compression": "none",
            "packed_context_free_data": "",
            "packed_trx": hex::encode(trx.packed()),
        });
        let r = http::post(&self.url, "/v1/chain/push_transaction", &body.to_string())?;
        if r.status >= 300 {
            let message = match chain_client::client::rejection_from_body(&r.body) {
                Some(chain_client::ChainError::Rejected { message }) => message,
                Some(other) => other.to_string(),
                None => format!("HTTP {}: {}", r.status, r.body),
            };
            return Err(LocalnetError::Rejected { message });
        }
        let response: Value = serde_json::from_str(&r.body)
            .map_err(|e| LocalnetError::Decode(format!("push_transaction: {e}")))?;
        Ok(response["processed"].clone())
    }
}
