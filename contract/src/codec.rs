//! EOSIO binary serialization (the format of action data and table rows): little-endian
//! integers, `varuint32` lengths, names and symbols as `u64`, assets as `i64` + symbol.

use alloc::string::String;
use alloc::vec::Vec;

use crate::asset::Asset;
use crate::error::{ContractError, Result};
use crate::name::Name;
use crate::symbol::Symbol;

/// The message of every read past the end (the CDT's datastream wording).
const SHORT: ContractError = ContractError::new("datastream attempted to read past the end");

/// A cursor over serialized bytes.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the first byte.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// Takes the next `len` bytes.
    pub fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(len).ok_or(SHORT)?;
        let slice = self.bytes.get(self.pos..end).ok_or(SHORT)?;
        self.pos = end;
        Ok(slice)
    }

    /// Takes the next `N` bytes as an array.
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads an unsigned LEB128 length of at most 32 bits.
    pub fn varuint32(&mut self) -> Result<u32> {
        let mut value: u64 = 0;
        for shift in (0..35).step_by(7) {
            let byte = self.array::<1>()?[0];
            value |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return u32::try_from(value)
                    .map_err(|_| ContractError::new("varuint32 out of range"));
            }
        }
        Err(ContractError::new("varuint32 out of range"))
    }

    /// Fails unless every byte was consumed (action data must hold exactly one value).
    pub fn finish(&self) -> Result<()> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(ContractError::new("action data has trailing bytes"))
        }
    }
}

/// Appends an unsigned LEB128 length.
pub fn write_varuint32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A value with an EOSIO binary form.
pub trait Pack: Sized {
    /// Appends the binary form.
    fn pack(&self, out: &mut Vec<u8>);
    /// Reads one value.
    fn unpack(reader: &mut Reader<'_>) -> Result<Self>;
}

/// Serializes one value.
pub fn to_bytes<T: Pack>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.pack(&mut out);
    out
}

/// Deserializes exactly one value from `bytes`.
pub fn from_bytes<T: Pack>(bytes: &[u8]) -> Result<T> {
    let mut reader = Reader::new(bytes);
    let value = T::unpack(&mut reader)?;
    reader.finish()?;
    Ok(value)
}

macro_rules! pack_int {
    ($($t:ty),*) => {$(
        impl Pack for $t {
            fn pack(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn unpack(reader: &mut Reader<'_>) -> Result<Self> {
                Ok(<$t>::from_le_bytes(reader.array()?))
            }
        }
    )*};
}
pack_int!(u8, u16, u32, u64, i64);

impl Pack for Name {
    fn pack(&self, out: &mut Vec<u8>) {
        self.0.pack(out)
    }
    fn unpack(reader: &mut Reader<'_>) -> Result<Self> {
        Ok(Name(u64::unpack(reader)?))
    }
}

impl Pack for Symbol {
    fn pack(&self, out: &mut Vec<u8>) {
        self.0.pack(out)
    }
    fn unpack(reader: &mut Reader<'_>) -> Result<Self> {
        Ok(Symbol(u64::unpack(reader)?))
    }
}

impl Pack for Asset {
    fn pack(&self, out: &mut Vec<u8>) {
        self.amount.pack(out);
        self.symbol.pack(out);
    }
    fn unpack(reader: &mut Reader<'_>) -> Result<Self> {
        Ok(Asset {
            amount: i64::unpack(reader)?,
            symbol: Symbol::unpack(reader)?,
        })
    }
}

impl Pack for String {
    fn pack(&self, out: &mut Vec<u8>) {
        write_varuint32(out, self.len() as u32);
        out.extend_from_slice(self.as_bytes());
    }
    fn unpack(reader: &mut Reader<'_>) -> Result<Self> {
        let len = reader.varuint32()? as usize;
        let bytes = reader.take(len)?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| ContractError::new("string is not valid UTF-8"))
    }
}

impl<T: Pack> Pack for Vec<T> {
    fn pack(&self, out: &mut Vec<u8>) {
        write_varuint32(out, self.len() as u32);
        for item in self {
            item.pack(out);
        }
    }
    fn unpack(reader: &mut Reader<'_>) -> Result<Self> {
        let len = reader.varuint32()? as usize;
        // Never trust the length for the allocation: each item takes at least one byte.
        let mut items = Vec::with_capacity(len.min(reader.bytes.len() - reader.pos));
        for _ in 0..len {
            items.push(T::unpack(reader)?);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn varuint32_matches_leb128() {
        for (value, bytes) in [
            (0u32, vec![0u8]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (u32::MAX, vec![0xff, 0xff, 0xff, 0xff, 0x0f]),
        ] {
            let mut out = Vec::new();
            write_varuint32(&mut out, value);
            assert_eq!(out, bytes);
            assert_eq!(Reader::new(&bytes).varuint32().unwrap(), value);
        }
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x1f])
            .varuint32()
            .is_err());
        assert!(Reader::new(&[0x80]).varuint32().is_err());
    }

    #[test]
    fn asset_and_string_layouts() {
        let asset = Asset {
            amount: 10_000,
            symbol: Symbol::new(4, "BIT"),
        };
        assert_eq!(
            to_bytes(&asset),
            vec![0x10, 0x27, 0, 0, 0, 0, 0, 0, 4, b'B', b'I', b'T', 0, 0, 0, 0]
        );
        assert_eq!(from_bytes::<Asset>(&to_bytes(&asset)).unwrap(), asset);
        let memo = String::from("hi");
        assert_eq!(to_bytes(&memo), vec![2, b'h', b'i']);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert_eq!(from_bytes::<u64>(&[1, 2, 3]).unwrap_err(), SHORT);
        assert!(from_bytes::<u16>(&[1, 2, 3]).is_err());
        assert!(from_bytes::<String>(&[5, b'a']).is_err());
        assert!(from_bytes::<String>(&[2, 0xff, 0xfe]).is_err());
        // A huge claimed length with no data must not allocate or panic.
        assert!(from_bytes::<Vec<u64>>(&[0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }
}
