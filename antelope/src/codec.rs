//! The Antelope binary form (action data, table rows, transactions): little-endian integers,
//! `varuint32` (LEB128) lengths before strings, byte strings and vectors; names and symbols
//! as their `u64`, assets as amount then symbol.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, NOT_UTF8, SHORT, TRAILING, VARUINT_RANGE};

/// A value with a binary form: what nodeos expects as action data and in packed transactions.
pub trait Pack {
    /// Appends `self`'s encoding to `out`.
    fn pack(&self, out: &mut Vec<u8>);

    /// The encoding as a fresh buffer.
    fn packed(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.pack(&mut out);
        out
    }
}

/// A value that can be read back from its binary form (action data and table rows).
pub trait Unpack: Sized {
    /// Reads one value, failing (never panicking) on short or malformed input.
    fn unpack(reader: &mut Reader<'_>) -> Result<Self, Error>;
}

/// Reads exactly one value from `bytes`: trailing bytes are an error.
#[inline]
pub fn from_bytes<T: Unpack>(bytes: &[u8]) -> Result<T, Error> {
    let mut reader = Reader::new(bytes);
    let value = T::unpack(&mut reader)?;
    reader.finish()?;
    Ok(value)
}

/// A cursor over serialized bytes.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the first byte.
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// Takes the next `len` bytes.
    #[inline]
    pub fn take(&mut self, len: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(len).ok_or(SHORT)?;
        let slice = self.bytes.get(self.pos..end).ok_or(SHORT)?;
        self.pos = end;
        Ok(slice)
    }

    /// Takes the next `N` bytes as an array.
    #[inline]
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Bytes not read yet.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Reads an unsigned LEB128 length of at most 32 bits.
    #[inline]
    pub fn varuint32(&mut self) -> Result<u32, Error> {
        let mut value: u64 = 0;
        for shift in (0..35).step_by(7) {
            let byte = self.array::<1>()?[0];
            value |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return u32::try_from(value).map_err(|_| VARUINT_RANGE);
            }
        }
        Err(VARUINT_RANGE)
    }

    /// Fails unless every byte was consumed (action data must hold exactly one value).
    #[inline]
    pub fn finish(&self) -> Result<(), Error> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(TRAILING)
        }
    }
}

/// A LEB128 `varuint32`: the length prefix of strings, vectors and byte strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarUint32(pub u32);

impl Pack for VarUint32 {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        let mut v = self.0;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
}

impl Unpack for VarUint32 {
    #[inline]
    fn unpack(reader: &mut Reader<'_>) -> Result<Self, Error> {
        reader.varuint32().map(VarUint32)
    }
}

/// Packs a length prefix; lengths beyond `u32::MAX` cannot occur in a valid transaction.
#[inline]
pub fn pack_len(len: usize, out: &mut Vec<u8>) {
    VarUint32(u32::try_from(len).unwrap_or(u32::MAX)).pack(out);
}

/// Packs a length-prefixed sequence, each item with `item` (for codecs built on this one).
#[inline]
pub fn pack_seq<T>(items: &[T], out: &mut Vec<u8>, mut item: impl FnMut(&T, &mut Vec<u8>)) {
    pack_len(items.len(), out);
    for value in items {
        item(value, out);
    }
}

/// Reads a length-prefixed sequence, each item with `item`; the claimed length never sizes
/// the allocation beyond the bytes left (each item takes at least one byte).
#[inline]
pub fn unpack_seq<T, E: From<Error>>(
    reader: &mut Reader<'_>,
    mut item: impl FnMut(&mut Reader<'_>) -> Result<T, E>,
) -> Result<Vec<T>, E> {
    let len = reader.varuint32()? as usize;
    let mut items = Vec::with_capacity(len.min(reader.remaining()));
    for _ in 0..len {
        items.push(item(reader)?);
    }
    Ok(items)
}

macro_rules! little_endian {
    ($($t:ty),*) => {$(
        impl Pack for $t {
            #[inline]
            fn pack(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
        impl Unpack for $t {
            #[inline]
            fn unpack(reader: &mut Reader<'_>) -> Result<Self, Error> {
                Ok(<$t>::from_le_bytes(reader.array()?))
            }
        }
    )*};
}
little_endian!(u8, u16, u32, u64, i64);

/// Newtypes whose binary form is their `u64`: names and symbols.
macro_rules! u64_newtype {
    ($($t:ty),*) => {$(
        impl Pack for $t {
            #[inline]
            fn pack(&self, out: &mut Vec<u8>) {
                self.0.pack(out);
            }
        }
        impl Unpack for $t {
            #[inline]
            fn unpack(reader: &mut Reader<'_>) -> Result<Self, Error> {
                u64::unpack(reader).map(Self)
            }
        }
    )*};
}
u64_newtype!(crate::name::Name, crate::symbol::Symbol);

impl Pack for bool {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl Pack for str {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        pack_len(self.len(), out);
        out.extend_from_slice(self.as_bytes());
    }
}

impl Pack for String {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        self.as_str().pack(out);
    }
}

impl Unpack for String {
    #[inline]
    fn unpack(reader: &mut Reader<'_>) -> Result<Self, Error> {
        let len = reader.varuint32()? as usize;
        let bytes = reader.take(len)?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| NOT_UTF8)
    }
}

impl<T: Pack> Pack for [T] {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        pack_seq(self, out, T::pack);
    }
}

impl<T: Pack> Pack for Vec<T> {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        self.as_slice().pack(out);
    }
}

impl<T: Unpack> Unpack for Vec<T> {
    #[inline]
    fn unpack(reader: &mut Reader<'_>) -> Result<Self, Error> {
        unpack_seq(reader, T::unpack)
    }
}

impl<A: Pack, B: Pack> Pack for (A, B) {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        self.0.pack(out);
        self.1.pack(out);
    }
}

/// A `bytes` field: length-prefixed raw bytes (the same on the wire as `Vec<u8>`; the type
/// makes the intent explicit at call sites).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Pack for Bytes {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        pack_len(self.0.len(), out);
        out.extend_from_slice(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
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
            assert_eq!(VarUint32(value).packed(), bytes);
            assert_eq!(from_bytes(&bytes), Ok(VarUint32(value)));
        }
        // Above u32::MAX, and a sixth byte.
        let too_big = [0xff, 0xff, 0xff, 0xff, 0x1f];
        assert_eq!(Reader::new(&too_big).varuint32(), Err(VARUINT_RANGE));
        let too_long = [0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(Reader::new(&too_long).varuint32(), Err(VARUINT_RANGE));
        assert_eq!(Reader::new(&[0x80]).varuint32(), Err(SHORT));
    }

    #[test]
    fn strings_and_vectors() {
        assert_eq!("hi".packed(), [2, b'h', b'i']);
        assert_eq!("hi".to_string().packed(), [2, b'h', b'i']);
        assert_eq!(vec![1u16, 2u16].packed(), [2, 1, 0, 2, 0]);
        assert_eq!(0x0102_0304u32.packed(), [4, 3, 2, 1]);
        assert_eq!((true, 7u8).packed(), [1, 7]);
        assert_eq!(Bytes(vec![9, 8]).packed(), [2, 9, 8]);
        let long = "x".repeat(200);
        let p = long.packed();
        assert_eq!(&p[..2], &[0xc8, 0x01]);
        assert_eq!(p.len(), 202);
        assert_eq!(from_bytes::<String>(&p), Ok(long));
        assert_eq!(from_bytes::<Vec<u16>>(&[2, 1, 0, 2, 0]), Ok(vec![1, 2]));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert_eq!(from_bytes::<u64>(&[1, 2, 3]), Err(SHORT));
        assert_eq!(from_bytes::<u16>(&[1, 2, 3]), Err(TRAILING));
        assert_eq!(from_bytes::<String>(&[5, b'a']), Err(SHORT));
        assert_eq!(from_bytes::<String>(&[2, 0xff, 0xfe]), Err(NOT_UTF8));
        // A huge claimed length with no data must not allocate or panic.
        assert_eq!(
            from_bytes::<Vec<u64>>(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Err(SHORT)
        );
        let mut reader = Reader::new(&[1, 2]);
        assert_eq!(reader.take(usize::MAX), Err(SHORT));
        assert_eq!(reader.remaining(), 2);
    }
}
