//! Unit tests of the module reader on hand-assembled modules.

use super::*;

/// A hand-assembled module: one `env.require_auth` import, memory 1..2, an `apply`
/// export, and a 3-byte data segment at 1024.
fn tiny() -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    m.extend([1, 5, 1, 0x60, 1, 0x7e, 0]); // type: (i64) -> ()
    m.extend([2, 0x14, 1, 3]);
    m.extend(b"env");
    m.push(12);
    m.extend(b"require_auth");
    m.extend([0, 0]);
    m.extend([5, 4, 1, 1, 1, 2]); // memory min 1 max 2
    m.extend([7, 9, 1, 5]);
    m.extend(b"apply");
    m.extend([0, 0]);
    m.extend([11, 10, 1, 0, 0x41, 0x80, 0x08, 0x0b, 3, b'a', b'b', b'c']);
    m
}

#[test]
fn reads_a_hand_assembled_module() {
    let s = summarize(&tiny()).unwrap();
    assert_eq!(
        s.imports,
        vec![Import {
            module: "env".into(),
            name: "require_auth".into(),
            kind: 0
        }]
    );
    assert_eq!(s.exports, vec![("apply".to_string(), 0)]);
    assert_eq!(s.memory, Some((1, Some(2))));
    assert_eq!(
        s.data,
        vec![DataSegment {
            offset: 1024,
            len: 3
        }]
    );
    assert_eq!(s.data_end(), 1027);
    assert_eq!(s.sections, vec![1, 2, 5, 7, 11]);
}

#[test]
fn classifies_float_and_post_mvp_instructions() {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    m.extend([1, 4, 1, 0x60, 0, 0]); // type: () -> ()
    m.extend([3, 2, 1, 0]); // one function of type 0
                            // Body: no locals; f64.const 1.0; drop; i32.const -1; i32.extend8_s; drop;
                            // i64.const 5; i32.wrap_i64; drop; end.
    let mut body = vec![
        0, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x1a, 0x41, 0x7f, 0xc0, 0x1a,
    ];
    body.extend([0x42, 5, 0xa7, 0x1a, 0x0b]);
    m.extend([10, body.len() as u8 + 2, 1, body.len() as u8]);
    m.extend(&body);
    let stats = summarize(&m).unwrap().code;
    assert_eq!(
        stats,
        CodeStats {
            functions: 1,
            instructions: 9,
            float_ops: 1,
            post_mvp_ops: 1
        }
    );
    // A body whose last instruction runs past its declared size is refused.
    let cut = m.len() - 1;
    m[cut - body.len()] -= 1;
    assert!(summarize(&m[..cut]).is_err());
}

#[test]
fn rejects_garbage_and_truncation_with_errors() {
    assert_eq!(summarize(b"\0asm"), Err(WasmError::BadHeader));
    assert_eq!(summarize(b"\x7fELF\x01\0\0\0"), Err(WasmError::BadHeader));
    let m = tiny();
    // Cutting between sections leaves a valid (shorter) module; anywhere else is an error.
    let boundaries = [15, 37, 43, 54];
    for cut in 9..m.len() {
        let ok = summarize(&m[..cut]).is_ok();
        assert_eq!(ok, boundaries.contains(&cut), "cut at {cut}");
    }
}
