//! [`ChainApi`] over a real nodeos through `chain-client`: signs and pushes the
//! contract's `subscribe`/`emit`/`unsubscribe` as the node's account and keeps a copy of the
//! `metagraph` table, read in full once and then only what changed ([`MetagraphView`]).

use std::str::FromStr;

use chain_client::client::{Client, Finality, PushReceipt};
use chain_client::{
    contract, Asset, ChainError, MetagraphView, Name, PrivateKey, PublicKey, Symbol,
};
use emission::Edge;

use super::api::{ChainApi, ChainFailure, ChainFuture, PeerRow};

/// Precision of the BIT token (docs/contract-interface.md).
const BIT_PRECISION: u8 = 4;

/// The node's chain identity: endpoint, contract, account and key.
pub struct EosChain {
    client: Client,
    contract: Name,
    account: Name,
    key: PrivateKey,
    symbol: Symbol,
    /// The node's copy of the metagraph (one refresh at a time).
    view: tokio::sync::Mutex<MetagraphView>,
}

/// Per-request timeout: past it, the next endpoint is tried.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The endpoints of a comma-separated `chain.url`, each an `http(s)://` URL.
fn endpoints(list: &str) -> Result<Vec<String>, String> {
    let urls: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    if urls.is_empty() {
        return Err("chain.url names no endpoint".into());
    }
    if let Some(bad) = urls
        .iter()
        .find(|u| !u.starts_with("http://") && !u.starts_with("https://"))
    {
        return Err(format!(
            "chain.url: {bad:?} is not an http:// or https:// URL"
        ));
    }
    Ok(urls)
}

fn failure(e: ChainError) -> ChainFailure {
    ChainFailure {
        transient: e.is_transient(),
        message: e.to_string(),
        exhausted: e.exhausted(),
    }
}

impl EosChain {
    /// Connects (lazily) to `url` (one endpoint, or several of one chain separated by
    /// commas, tried in order on failure) as `account` signing with `key`.
    pub fn new(url: &str, contract: &str, account: &str, key: PrivateKey) -> Result<Self, String> {
        let contract = Name::from_str(contract).map_err(|e| format!("contract name: {e}"))?;
        let account = Name::from_str(account).map_err(|e| format!("account name: {e}"))?;
        let symbol = Symbol::new(BIT_PRECISION, "BIT").map_err(|e| format!("symbol: {e}"))?;
        let urls = endpoints(url)?;
        let client = Client::with_endpoints(&urls, REQUEST_TIMEOUT);
        Ok(EosChain {
            client,
            contract,
            account,
            key,
            symbol,
            view: tokio::sync::Mutex::new(MetagraphView::new()),
        })
    }

    async fn push(&self, action: chain_client::Action) -> Result<PushReceipt, ChainFailure> {
        self.client
            .push(vec![action], std::slice::from_ref(&self.key))
            .await
            .map_err(failure)
    }
}

impl ChainApi for EosChain {
    fn subscribe(&self, address: String, port: u16, stake: u64) -> ChainFuture<'_, ()> {
        Box::pin(async move {
            let stake = Asset::new(stake as i64, self.symbol);
            self.push(contract::subscribe(
                self.contract,
                self.account,
                &address,
                port,
                stake,
            ))
            .await
            .map(|_| ())
        })
    }

    fn unsubscribe(&self) -> ChainFuture<'_, ()> {
        Box::pin(async move {
            self.push(contract::unsubscribe(self.contract, self.account))
                .await
                .map(|_| ())
        })
    }

    fn emit(&self, edges: Vec<Edge<String>>) -> ChainFuture<'_, PushReceipt> {
        Box::pin(async move {
            let edges = edges
                .iter()
                .map(|e| Ok((Name::from_str(&e.to)?, e.weight)))
                .collect::<Result<Vec<_>, chain_client::NameError>>()
                .map_err(|e| ChainFailure::new(false, format!("edge target name: {e}")))?;
            self.push(contract::emit(self.contract, self.account, &edges))
                .await
        })
    }

    fn finality(&self, emit: PushReceipt) -> ChainFuture<'_, Finality> {
        Box::pin(async move { self.client.finality(&emit).await.map_err(failure) })
    }

    fn metagraph(&self) -> ChainFuture<'_, Vec<PeerRow>> {
        Box::pin(async move {
            let mut view = self.view.lock().await;
            let refresh = view
                .refresh(&self.client, self.contract)
                .await
                .map_err(failure)?;
            tracing::debug!(
                full = refresh.full,
                rows = refresh.rows_read,
                departures = refresh.departures_read,
                bytes = refresh.bytes,
                nodes = refresh.nodes,
                "metagraph refreshed"
            );
            Ok(view
                .rows()
                .map(|r| PeerRow {
                    user: r.user.to_string(),
                    address: r.address.clone(),
                    port: r.port,
                    stake: r.stake,
                    edges: r
                        .edges
                        .iter()
                        .map(|e| (e.to.to_string(), e.weight))
                        .collect(),
                })
                .collect())
        })
    }

    fn account_keys<'a>(&'a self, account: &'a str) -> ChainFuture<'a, Vec<PublicKey>> {
        Box::pin(async move {
            let name = Name::from_str(account)
                .map_err(|e| ChainFailure::new(false, format!("account name {account:?}: {e}")))?;
            self.client
                .permission_keys(name, "active")
                .await
                .map_err(failure)
        })
    }

    fn params(&self) -> ChainFuture<'_, Option<super::params::ChainParams>> {
        Box::pin(async move {
            let scope = self.contract.to_string();
            let global = Name::from_str("global")
                .map_err(|e| ChainFailure::new(false, format!("table name: {e}")))?;
            let rows = self
                .client
                .table_rows(self.contract, &scope, global)
                .await
                .map_err(failure)?;
            Ok(rows
                .first()
                .and_then(super::params::ChainParams::from_global))
        })
    }

    fn chain_id(&self) -> ChainFuture<'_, [u8; 32]> {
        Box::pin(async move {
            let info = self.client.get_info().await.map_err(failure)?;
            let bytes = hex::decode(&info.chain_id)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| {
                    ChainFailure::new(
                        false,
                        format!("chain id {:?} is not 32 hex bytes", info.chain_id),
                    )
                })?;
            Ok(bytes)
        })
    }

    fn max_self_weight(&self) -> ChainFuture<'_, u32> {
        Box::pin(async move {
            let view = self.view.lock().await;
            Ok(view
                .max_self_weight()
                .unwrap_or(emission::fixed::WEIGHT_ONE))
        })
    }

    fn pinned_vocab(&self) -> ChainFuture<'_, Option<(String, u32)>> {
        Box::pin(async move {
            let row = self.client.vocab(self.contract).await.map_err(failure)?;
            Ok(row.map(|r| (r.hash, r.words)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::endpoints;

    #[test]
    fn a_chain_url_lists_endpoints_in_order() {
        assert_eq!(
            endpoints(" http://127.0.0.1:8888 ,, http://127.0.0.1:8889").unwrap(),
            ["http://127.0.0.1:8888", "http://127.0.0.1:8889"]
        );
        assert!(endpoints(" , ").unwrap_err().contains("no endpoint"));
        assert!(endpoints("http://a:1,127.0.0.1:8888")
            .unwrap_err()
            .contains("not an http"));
    }
}
