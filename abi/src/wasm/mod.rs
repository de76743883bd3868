//! A minimal WebAssembly binary reader: enough of the module structure (imports, exports,
//! memory, data segments; `code` scans the instructions) to check the contract against
//! EOS VM's rules without external tools.

mod code;

use code::read_code;
pub use code::CodeStats;

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
pub(crate) struct Cursor<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn byte(&mut self) -> Result<u8, WasmError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(WasmError::Truncated(self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, WasmError> {
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

    pub(crate) fn bytes(&mut self, len: usize) -> Result<&'a [u8], WasmError> {
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

    pub(crate) fn unsupported(&self, what: &str) -> WasmError {
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
    "db_idx64_store",
    "db_idx64_update",
    "db_idx64_remove",
    "db_idx64_find_primary",
    "prints",
    "prints_l",
];

/// Most bytes of initialized data EOS VM accepts: everything must lie in the first 64 KiB.
pub const MAX_DATA_END: u64 = 65_536;

#[cfg(test)]
mod tests;
