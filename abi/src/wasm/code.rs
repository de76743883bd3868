//! The instruction scan of the code section: decodes every MVP instruction and counts
//! floating-point and post-MVP ones (which EOS VM rejects).

use super::{Cursor, WasmError};

/// What the function bodies contain, by instruction class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeStats {
    /// Function bodies.
    pub functions: usize,
    /// Instructions decoded.
    pub instructions: usize,
    /// Floating-point instructions (EOS VM runs them in softfloat; consensus code avoids them).
    pub float_ops: usize,
    /// Instructions outside WebAssembly 1.0 MVP (sign extension, `0xfc` prefix, SIMD, ...),
    /// which EOS VM rejects.
    pub post_mvp_ops: usize,
}

/// Reads every function body of the code section.
pub(crate) fn read_code(s: &mut Cursor<'_>) -> Result<CodeStats, WasmError> {
    let mut stats = CodeStats::default();
    for _ in 0..s.u32()? {
        let size = s.u32()? as usize;
        let end = s.pos.checked_add(size).ok_or(WasmError::Truncated(s.pos))?;
        if end > s.bytes.len() {
            return Err(WasmError::Truncated(s.pos));
        }
        for _ in 0..s.u32()? {
            s.u32()?; // count
            s.byte()?; // value type
        }
        while s.pos < end {
            read_instruction(s, &mut stats)?;
        }
        if s.pos != end {
            return Err(s.unsupported("instruction crosses the function end"));
        }
        stats.functions += 1;
    }
    Ok(stats)
}

/// Signed LEB128 of at most `max_bytes` bytes (the value itself is not needed).
fn skip_sleb(s: &mut Cursor<'_>, max_bytes: usize) -> Result<(), WasmError> {
    for _ in 0..max_bytes {
        if s.byte()? & 0x80 == 0 {
            return Ok(());
        }
    }
    Err(s.unsupported("LEB128 too long"))
}

/// Decodes one instruction (MVP encoding) and classifies it.
fn read_instruction(s: &mut Cursor<'_>, stats: &mut CodeStats) -> Result<(), WasmError> {
    let op = s.byte()?;
    stats.instructions += 1;
    match op {
        0x02..=0x04 => {
            let block_type = s.byte()?;
            if !matches!(block_type, 0x40 | 0x7f | 0x7e | 0x7d | 0x7c) {
                stats.post_mvp_ops += 1; // multi-value block types
            }
        }
        0x0c | 0x0d | 0x10 | 0x20..=0x24 => {
            s.u32()?;
        }
        0x0e => {
            for _ in 0..s.u32()? {
                s.u32()?;
            }
            s.u32()?;
        }
        0x11 => {
            s.u32()?;
            s.byte()?;
        }
        0x28..=0x3e => {
            if matches!(op, 0x2a | 0x2b | 0x38 | 0x39) {
                stats.float_ops += 1;
            }
            s.u32()?;
            s.u32()?;
        }
        0x3f | 0x40 => {
            s.byte()?;
        }
        0x41 => skip_sleb(s, 5)?,
        0x42 => skip_sleb(s, 10)?,
        0x43 => {
            stats.float_ops += 1;
            s.bytes(4)?;
        }
        0x44 => {
            stats.float_ops += 1;
            s.bytes(8)?;
        }
        0x00 | 0x01 | 0x05 | 0x0b | 0x0f | 0x1a | 0x1b | 0x45..=0x5a | 0x67..=0x8a | 0xa7 => {}
        0x5b..=0x66 | 0x8b..=0xa6 | 0xa8..=0xbf => {
            // Float comparisons, arithmetic, conversions and reinterpretations, except the
            // integer-only wrap/extend (0xa7, 0xac, 0xad) counted below.
            if !matches!(op, 0xac | 0xad) {
                stats.float_ops += 1;
            }
        }
        0xc0..=0xc4 => stats.post_mvp_ops += 1,
        0xfc => {
            stats.post_mvp_ops += 1;
            let sub = s.u32()?;
            // Saturating truncations (0..=7) have no immediates; bulk memory ops do.
            match sub {
                0..=7 => {}
                8 | 10 | 12 | 14 => {
                    s.u32()?;
                    s.u32()?;
                }
                _ => {
                    s.u32()?;
                }
            }
        }
        _ => return Err(s.unsupported(&format!("opcode 0x{op:02x}"))),
    }
    Ok(())
}
