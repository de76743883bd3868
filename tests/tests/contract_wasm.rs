//! The built contract WASM, inspected without a chain: only allowed `env` function imports,
//! an `apply` export, initialized data inside EOS VM's first 64 KiB, MVP-only instructions
//! and data segments.
//! Prints the size and import list (the figures the report quotes).

use bittensor_abi::wasm::{summarize, ALLOWED_IMPORTS, MAX_DATA_END};

#[test]
fn contract_wasm_imports_only_allowed_intrinsics_and_fits_eos_vm_limits() {
    let path = localnet::contract_wasm().expect("build the contract for wasm32v1-none");
    let bytes = std::fs::read(&path).expect("read the wasm");
    let module = summarize(&bytes).expect("the contract is a readable wasm 1.0 module");
    let names: Vec<&str> = module.imports.iter().map(|i| i.name.as_str()).collect();
    eprintln!(
        "contract wasm: {} bytes, imports: {}",
        bytes.len(),
        names.join(", ")
    );
    eprintln!(
        "memory: {:?} pages, data end: {} bytes, exports: {:?}",
        module.memory,
        module.data_end(),
        module.exports
    );
    for import in &module.imports {
        assert_eq!(
            import.module, "env",
            "import {} from a non-env module",
            import.name
        );
        assert_eq!(import.kind, 0, "import {} is not a function", import.name);
        assert!(
            ALLOWED_IMPORTS.contains(&import.name.as_str()),
            "import {} is not an allowed EOSIO intrinsic",
            import.name
        );
    }
    for needed in [
        "read_action_data",
        "eosio_assert_message",
        "db_find_i64",
        "require_auth",
    ] {
        assert!(names.contains(&needed), "the contract must import {needed}");
    }
    assert!(
        module
            .exports
            .iter()
            .any(|(n, kind)| n == "apply" && *kind == 0),
        "the contract must export the function apply"
    );
    assert!(
        module.data_end() <= MAX_DATA_END,
        "initialized data ends at {} > 64 KiB",
        module.data_end()
    );
    eprintln!("code: {:?}", module.code);
    assert!(module.code.functions > 0, "the code section was read");
    assert_eq!(
        module.code.post_mvp_ops, 0,
        "post-MVP instructions (EOS VM rejects them)"
    );
    assert_eq!(
        module.code.float_ops, 0,
        "float instructions in the contract (consensus state is integer only)"
    );
    let (initial_pages, _) = module.memory.expect("the contract defines its memory");
    assert!(initial_pages as u64 * 65_536 <= 33 * 1024 * 1024);
}
