//! One poll's chain reads, all through `chain-client`: head block, the contract's tables, and
//! (best effort, for the conservation check) the token supply and every holder's balance.

use chain_client::{ChainError, Client, Name};
use tracing::debug;

use super::tables::ChainTables;
use crate::error::ViewError;

/// One chain endpoint and the contract account whose tables are read.
#[derive(Clone)]
pub struct ChainSource {
    client: Client,
    contract: Name,
}

impl ChainSource {
    /// Reads `contract`'s tables through `client`.
    pub fn new(client: Client, contract: Name) -> Self {
        Self { client, contract }
    }

    /// The contract account read.
    pub fn contract(&self) -> String {
        self.contract.to_string()
    }

    /// Reads everything one poll needs. The metagraph, residuals and global rows are required;
    /// the supply and balances (only for the conservation check) are best effort.
    pub async fn read_tables(&self) -> Result<ChainTables, ViewError> {
        let (client, c) = (&self.client, self.contract);
        let head_block = client.get_info().await.map_err(chain("get_info"))?;
        let metagraph = client.metagraph(c).await.map_err(chain("metagraph"))?;
        let residuals = client.residuals(c).await.map_err(chain("residuals"))?;
        let global = client
            .global(c)
            .await
            .map_err(chain("global"))?
            .ok_or_else(|| ViewError::MissingTable {
                table: "global".into(),
                reason: "no row (has the token been created?)".into(),
            })?;
        let code = global.symbol.code().to_string();
        let stat = client
            .token_stat(c, &code)
            .await
            .map_err(|e| debug!("no supply: {e}"))
            .ok()
            .flatten();
        let balances = client
            .total_balance(c, &code)
            .await
            .map_err(|e| debug!("no balances: {e}"))
            .ok();
        Ok(ChainTables {
            head_block: u64::from(head_block.head_block_num),
            metagraph,
            residuals,
            global,
            stat,
            balances,
        })
    }
}

/// Names the read that failed in the error the page shows.
fn chain(what: &'static str) -> impl Fn(ChainError) -> ViewError {
    move |source| ViewError::Chain { what, source }
}
