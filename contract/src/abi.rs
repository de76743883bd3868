//! The contract's interface as data: every action's and table's struct with its field names and
//! ABI types, derived from the same declarations as the codec. The `bittensor-abi` crate
//! compares this with `abi/bittensor.abi`, so the hand-written ABI file is proven in sync.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::asset::Asset;
use crate::name::Name;
use crate::symbol::Symbol;
use crate::{metagraph, token, vocab};

/// A Rust type's name in ABI type syntax (`uint64`, `name`, `edge[]`, ...).
pub trait AbiType {
    /// The ABI type name.
    fn abi_type() -> String;
}

macro_rules! abi_type {
    ($($t:ty => $s:literal),* $(,)?) => {$(
        impl AbiType for $t {
            fn abi_type() -> String {
                String::from($s)
            }
        }
    )*};
}
abi_type!(
    u8 => "uint8", u16 => "uint16", u32 => "uint32", u64 => "uint64", i64 => "int64",
    Name => "name", Symbol => "symbol", Asset => "asset", String => "string",
    metagraph::U128 => "uint128",
);

impl<T: AbiType> AbiType for Vec<T> {
    fn abi_type() -> String {
        format!("{}[]", T::abi_type())
    }
}

/// One field of an ABI struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbiField {
    /// Field name as in the ABI.
    pub name: &'static str,
    /// Field type in ABI syntax.
    pub ty: String,
}

/// A struct as the ABI describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructDesc {
    /// ABI struct name.
    pub name: &'static str,
    /// Fields in serialization order.
    pub fields: Vec<AbiField>,
}

/// A serializable struct that appears in the ABI.
pub trait AbiStruct {
    /// Its name in the ABI.
    const NAME: &'static str;
    /// Its fields in serialization order.
    fn fields() -> Vec<AbiField>;
    /// Name and fields together.
    fn describe() -> StructDesc {
        StructDesc {
            name: Self::NAME,
            fields: Self::fields(),
        }
    }
}

impl AbiType for emission::Edge<Name> {
    fn abi_type() -> String {
        String::from(<Self as AbiStruct>::NAME)
    }
}

impl AbiStruct for emission::Edge<Name> {
    const NAME: &'static str = "edge";
    fn fields() -> Vec<AbiField> {
        vec![
            AbiField {
                name: "to",
                ty: Name::abi_type(),
            },
            AbiField {
                name: "weight",
                ty: u32::abi_type(),
            },
        ]
    }
}

/// Every struct of the ABI: action arguments, table rows and the `edge` element.
pub fn structs() -> Vec<StructDesc> {
    vec![
        token::Create::describe(),
        token::Issue::describe(),
        token::Retire::describe(),
        token::Transfer::describe(),
        token::Open::describe(),
        token::Close::describe(),
        token::Account::describe(),
        token::CurrencyStats::describe(),
        metagraph::Subscribe::describe(),
        metagraph::Unsubscribe::describe(),
        metagraph::Emit::describe(),
        metagraph::SetParams::describe(),
        metagraph::Settle::describe(),
        metagraph::Evict::describe(),
        emission::Edge::<Name>::describe(),
        metagraph::Node::describe(),
        metagraph::Residual::describe(),
        metagraph::Global::describe(),
        metagraph::Departure::describe(),
        vocab::SetVocab::describe(),
        vocab::VocabRow::describe(),
    ]
}

/// Every action: (action name, argument struct name); the dispatcher handles exactly these.
pub fn actions() -> Vec<(&'static str, &'static str)> {
    vec![
        ("create", token::Create::NAME),
        ("issue", token::Issue::NAME),
        ("retire", token::Retire::NAME),
        ("transfer", token::Transfer::NAME),
        ("open", token::Open::NAME),
        ("close", token::Close::NAME),
        ("subscribe", metagraph::Subscribe::NAME),
        ("unsubscribe", metagraph::Unsubscribe::NAME),
        ("emit", metagraph::Emit::NAME),
        ("setparams", metagraph::SetParams::NAME),
        ("settle", metagraph::Settle::NAME),
        ("evict", metagraph::Evict::NAME),
        ("setvocab", vocab::SetVocab::NAME),
    ]
}

/// Every table: (table name, row struct name); all are `i64`-keyed (`metagraph` and `departed`
/// also keep a `u64` secondary index on `seq`, which the ABI does not describe).
pub fn tables() -> Vec<(&'static str, &'static str)> {
    use crate::table::Row;
    vec![
        (token::Account::TABLE_NAME, token::Account::NAME),
        (token::CurrencyStats::TABLE_NAME, token::CurrencyStats::NAME),
        (metagraph::Node::TABLE_NAME, metagraph::Node::NAME),
        (metagraph::Residual::TABLE_NAME, metagraph::Residual::NAME),
        (metagraph::Global::TABLE_NAME, metagraph::Global::NAME),
        (metagraph::Departure::TABLE_NAME, metagraph::Departure::NAME),
        (vocab::VocabRow::TABLE_NAME, vocab::VocabRow::NAME),
    ]
}
