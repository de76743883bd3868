//! `setvocab`: the network's vocabulary pinned by its hash, so nodes agree on word ids
//! without sharing text. The contract account (who boots the network) sets it; every worker
//! and the viewer read the one `vocab` row and refuse a vocabulary file of another hash.

use alloc::string::String;

use crate::error::{check, Result};
use crate::host::Host;
use crate::table;

/// Primary key of the single `vocab` row.
pub const VOCAB_PK: u64 = 0;
/// Length of a hex SHA-256.
pub const HASH_HEX_LEN: usize = 64;

abi_struct! {
    /// `setvocab`: the contract account pins the vocabulary file every node must load.
    pub struct SetVocab as "setvocab" {
        /// SHA-256 of the vocabulary file, 64 lower-case hex digits.
        pub hash: String,
        /// Words in the file (the model's table size is this plus `<unk>`).
        pub words: u32,
    }
}

abi_struct! {
    /// Row of `vocab`: the pinned vocabulary (one row).
    pub struct VocabRow as "vocab_row" {
        /// Always 0 (primary key).
        pub id: u64,
        /// SHA-256 of the vocabulary file, hex.
        pub hash: String,
        /// Words in the file.
        pub words: u32,
    }
}
row!(VocabRow, "vocab", |r| r.id);

/// `setvocab` (see the module docs); a later call replaces the pinned vocabulary.
pub fn setvocab(host: &mut impl Host, args: SetVocab) -> Result<()> {
    let me = host.receiver();
    host.require_auth(me)?;
    check(
        args.hash.len() == HASH_HEX_LEN
            && args
                .hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "hash must be 64 lower-case hex digits",
    )?;
    check(args.words > 0, "words must be at least 1")?;
    let row = VocabRow {
        id: VOCAB_PK,
        hash: args.hash,
        words: args.words,
    };
    if table::find::<VocabRow>(host, me.0, VOCAB_PK)?.is_some() {
        table::update(host, me.0, me, &row)
    } else {
        table::store(host, me.0, me, &row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::mock::MockChain;
    use crate::name::Name;
    use crate::test_support::run;

    fn pin(hash: &str, words: u32) -> SetVocab {
        SetVocab {
            hash: hash.into(),
            words,
        }
    }

    #[test]
    fn only_the_contract_pins_a_well_formed_vocabulary() {
        let mut chain = MockChain::new("bittensor", &["alice"], 1);
        let good = "ab".repeat(32);
        assert_eq!(
            run(&mut chain, "alice", "setvocab", pin(&good, 10)).unwrap_err(),
            "missing authority of bittensor"
        );
        for (bad, words) in [
            ("AB".repeat(32), 10),
            ("ab".repeat(31), 10),
            (good.clone(), 0),
        ] {
            assert!(run(&mut chain, "bittensor", "setvocab", pin(&bad, words)).is_err());
        }
        let me = Name::new("bittensor").0;
        assert!(table::find::<VocabRow>(&chain, me, VOCAB_PK)
            .unwrap()
            .is_none());
        run(&mut chain, "bittensor", "setvocab", pin(&good, 10)).unwrap();
        let other = "cd".repeat(32);
        run(&mut chain, "bittensor", "setvocab", pin(&other, 12)).unwrap();
        let row = table::find::<VocabRow>(&chain, me, VOCAB_PK)
            .unwrap()
            .unwrap();
        assert_eq!((row.hash.as_str(), row.words), (other.as_str(), 12));
    }
}
