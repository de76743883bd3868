//! The pinned vocabulary (`setvocab`, table `vocab`): nodes check their vocabulary file's
//! hash against it before training, so word ids agree without anyone sharing text.

use serde::{Deserialize, Serialize};

use super::Client;
use crate::error::ChainError;
use crate::types::name::Name;

/// Table `vocab`.
pub const VOCAB: Name = Name::constant("vocab");

/// The `vocab` row: the hash and size of the vocabulary file every node must load.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct VocabRow {
    /// SHA-256 of the vocabulary file, 64 lower-case hex digits.
    pub hash: String,
    /// Words in the file.
    pub words: u32,
}

impl Client {
    /// The pinned vocabulary, `None` before `setvocab`.
    pub async fn vocab(&self, contract: Name) -> Result<Option<VocabRow>, ChainError> {
        let scope = contract.to_string();
        let rows: Vec<VocabRow> = self.typed_rows(contract, &scope, VOCAB).await?;
        Ok(rows.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_reads_as_the_chain_returns_it() {
        let row: VocabRow = serde_json::from_str(r#"{"id":0,"hash":"ab","words":26500}"#).unwrap();
        assert_eq!((row.hash.as_str(), row.words), ("ab", 26_500));
        assert!(serde_json::from_str::<VocabRow>(r#"{"id":0,"words":1}"#).is_err());
    }
}
