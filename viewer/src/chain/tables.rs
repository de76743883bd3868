//! Everything one poll reads from the chain, in `chain-client`'s typed rows.

use chain_client::{GlobalRow, MetagraphRow, ResidualRow, StatRow};

/// Everything read from the chain in one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTables {
    /// Head block number when read.
    pub head_block: u64,
    /// The `metagraph` rows.
    pub metagraph: Vec<MetagraphRow>,
    /// The `residuals` rows.
    pub residuals: Vec<ResidualRow>,
    /// The `global` singleton.
    pub global: GlobalRow,
    /// The token's `stat` row, when it could be read.
    pub stat: Option<StatRow>,
    /// Sum of every account's balance of the token, when it could be read.
    pub balances: Option<u64>,
}
