//! The ABI file as typed data (the subset of `eosio::abi/1.1` the contract uses).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the ABI file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AbiError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid ABI JSON document.
    #[error("parsing {path}: {source}")]
    Json {
        /// Which file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
}

/// A whole ABI document.
#[derive(Debug, Clone, Deserialize)]
pub struct Abi {
    /// `eosio::abi/1.x`.
    pub version: String,
    /// Type aliases.
    #[serde(default)]
    pub types: Vec<TypeDef>,
    /// Structs (action arguments, rows, elements).
    pub structs: Vec<StructDef>,
    /// Actions and their argument struct.
    pub actions: Vec<ActionDef>,
    /// Tables and their row struct.
    pub tables: Vec<TableDef>,
}

/// `types[]`: an alias.
#[derive(Debug, Clone, Deserialize)]
pub struct TypeDef {
    /// New name.
    pub new_type_name: String,
    /// Aliased type.
    #[serde(rename = "type")]
    pub ty: String,
}

/// `structs[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct StructDef {
    /// Struct name.
    pub name: String,
    /// Base struct ("" for none).
    #[serde(default)]
    pub base: String,
    /// Fields in serialization order.
    pub fields: Vec<FieldDef>,
}

/// One struct field.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldDef {
    /// Field name.
    pub name: String,
    /// Field type.
    #[serde(rename = "type")]
    pub ty: String,
}

/// `actions[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionDef {
    /// Action name.
    pub name: String,
    /// Argument struct.
    #[serde(rename = "type")]
    pub ty: String,
}

/// `tables[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct TableDef {
    /// Table name.
    pub name: String,
    /// Row struct.
    #[serde(rename = "type")]
    pub ty: String,
    /// Primary index type (`i64`).
    pub index_type: String,
}

impl Abi {
    /// The struct named `name`.
    pub fn find_struct(&self, name: &str) -> Option<&StructDef> {
        self.structs.iter().find(|s| s.name == name)
    }
}

/// `abi/bittensor.abi`, next to this crate's manifest.
pub fn abi_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bittensor.abi")
}

/// Reads and parses an ABI file.
pub fn load_abi(path: &Path) -> Result<Abi, AbiError> {
    let text = std::fs::read_to_string(path).map_err(|source| AbiError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| AbiError::Json {
        path: path.to_path_buf(),
        source,
    })
}
