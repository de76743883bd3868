//! A minimal WebAssembly binary reader: enough of the module structure (imports, exports,
//! memory, data segments) to check the contract against EOS VM's rules without external tools.

/// Why a module could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WasmError {
    /// Not a WebAssembly 1.0 binary.
    #[error("not a wasm 1.0 module (bad magic or version)")]
    BadHeader,
    /// The bytes end inside a structure.
    #[error("truncated module at byte {0}")]
    Truncated(usize),
    /// A construct this reader (and EOS VM's MVP subset) does not handle.
    #[error("unsupported construct at byte {at}: {what}")]
    Unsupported {
        /// Byte offset.
        at: usize,
        /// What was found.
        what: String,
    },
}

/// One import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Module name (`env` for EOSIO intrinsics).
    pub module: String,
    /// Field name (the intrinsic).
    pub name: String,
    /// 0 function, 1 table, 2 memory, 3 global.
    pub kind: u8,
}

/// One active data segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSegment {
    /// Constant offset in linear memory.
    pub offset: u32,
    /// Length in bytes.
    pub len: u32,
}

/// What the checks need to know about a module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleSummary {
    /// Imports in order.
    pub imports: Vec<Import>,
    /// Export names with their kind.
    pub exports: Vec<(String, u8)>,
    /// Initial and maximum memory pages of the (single) memory.
    pub memory: Option<(u32, Option<u32>)>,
    /// Data segments.
    pub data: Vec<DataSegment>,
    /// Section ids in order (custom sections included).
    pub sections: Vec<u8>,
    /// Instruction statistics of the code section.
    pub code: CodeStats,
}

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

impl ModuleSummary {
    /// End of the highest initialized data byte (EOS VM requires it within 64 KiB).
    pub fn data_end(&self) -> u64 {
        self.data
            .iter()
            .map(|d| d.offset as u64 + d.len as u64)
            .max()
            .unwrap_or(0)
    }
}

/// A cursor over the module bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Result<u8, WasmError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(WasmError::Truncated(self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, WasmError> {
        let mut value: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            value |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return u32::try_from(value).map_err(|_| self.unsupported("u32 overflow"));
            }
        }
        Err(self.unsupported("LEB128 too long"))
    }

    fn bytes(&mut self, len: usize) -> Result<&'a [u8], WasmError> {
        let end = self
            .pos
            .checked_add(len)
            .ok_or(WasmError::Truncated(self.pos))?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(WasmError::Truncated(self.pos))?;
        self.pos = end;
        Ok(slice)
    }

    fn name(&mut self) -> Result<String, WasmError> {
        let len = self.u32()? as usize;
        let raw = self.bytes(len)?;
        String::from_utf8(raw.to_vec()).map_err(|_| self.unsupported("non-UTF-8 name"))
    }

    fn limits(&mut self) -> Result<(u32, Option<u32>), WasmError> {
        match self.byte()? {
            0 => Ok((self.u32()?, None)),
            1 => Ok((self.u32()?, Some(self.u32()?))),
            _ => Err(self.unsupported("limits flag")),
        }
    }

    fn unsupported(&self, what: &str) -> WasmError {
        WasmError::Unsupported {
            at: self.pos,
            what: what.to_string(),
        }
    }
}

/// Reads a module's imports, exports, memory and data segments.
pub fn summarize(bytes: &[u8]) -> Result<ModuleSummary, WasmError> {
    if bytes.len() < 8 || bytes[..4] != *b"\0asm" || bytes[4..8] != [1, 0, 0, 0] {
        return Err(WasmError::BadHeader);
    }
    let mut c = Cursor { bytes, pos: 8 };
    let mut out = ModuleSummary::default();
    while c.pos < bytes.len() {
        let id = c.byte()?;
        let size = c.u32()? as usize;
        let body = c.bytes(size)?;
        let mut s = Cursor {
            bytes: &bytes[..c.pos],
            pos: c.pos - body.len(),
        };
        out.sections.push(id);
        match id {
            2 => read_imports(&mut s, &mut out)?,
            5 => {
                if s.u32()? != 1 {
                    return Err(s.unsupported("more than one memory"));
                }
                out.memory = Some(s.limits()?);
            }
            7 => {
                for _ in 0..s.u32()? {
                    let name = s.name()?;
                    let kind = s.byte()?;
                    s.u32()?;
                    out.exports.push((name, kind));
                }
            }
            10 => out.code = read_code(&mut s)?,
            11 => read_data(&mut s, &mut out)?,
            _ => {}
        }
    }
    Ok(out)
}

fn read_imports(s: &mut Cursor<'_>, out: &mut ModuleSummary) -> Result<(), WasmError> {
    for _ in 0..s.u32()? {
        let module = s.name()?;
        let name = s.name()?;
        let kind = s.byte()?;
        match kind {
            0 => {
                s.u32()?;
            }
            1 => {
                s.byte()?;
                s.limits()?;
            }
            2 => {
                s.limits()?;
            }
            3 => {
                s.byte()?;
                s.byte()?;
            }
            _ => return Err(s.unsupported("import kind")),
        }
        out.imports.push(Import { module, name, kind });
    }
    Ok(())
}

fn read_data(s: &mut Cursor<'_>, out: &mut ModuleSummary) -> Result<(), WasmError> {
    for _ in 0..s.u32()? {
        if s.u32()? != 0 {
            return Err(s.unsupported("passive or multi-memory data segment (post-MVP)"));
        }
        if s.byte()? != 0x41 {
            return Err(s.unsupported("data offset is not i32.const"));
        }
        // i32.const takes a signed LEB128; offsets here are small and non-negative.
        let offset = s.u32()?;
        if s.byte()? != 0x0b {
            return Err(s.unsupported("data offset expression longer than one i32.const"));
        }
        let len = s.u32()?;
        s.bytes(len as usize)?;
        out.data.push(DataSegment { offset, len });
    }
    Ok(())
}

fn read_code(s: &mut Cursor<'_>) -> Result<CodeStats, WasmError> {
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

/// The EOSIO intrinsics the contract is allowed to import (module `env`).
pub const ALLOWED_IMPORTS: &[&str] = &[
    "read_action_data",
    "action_data_size",
    "require_auth",
    "require_auth2",
    "has_auth",
    "is_account",
    "require_recipient",
    "current_receiver",
    "current_time",
    "eosio_assert",
    "eosio_assert_message",
    "db_store_i64",
    "db_find_i64",
    "db_get_i64",
    "db_update_i64",
    "db_remove_i64",
    "prints",
    "prints_l",
];

/// Most bytes of initialized data EOS VM accepts: everything must lie in the first 64 KiB.
pub const MAX_DATA_END: u64 = 65_536;

#[cfg(test)]
mod tests {
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
}
