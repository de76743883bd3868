//! EOSIO binary serialization (the format of action data and transactions).

use super::name::Name;

/// Appends the EOSIO binary encoding of a value: what nodeos expects as action data and in
/// packed transactions.
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

/// A LEB128 `varuint32`: the length prefix of strings, vectors and byte arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarUint32(pub u32);

impl Pack for VarUint32 {
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

/// Packs a length prefix; lengths beyond `u32::MAX` cannot occur in a valid transaction.
fn pack_len(len: usize, out: &mut Vec<u8>) {
    VarUint32(u32::try_from(len).unwrap_or(u32::MAX)).pack(out);
}

macro_rules! pack_le {
    ($($t:ty),*) => {$(
        impl Pack for $t {
            fn pack(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
pack_le!(u8, u16, u32, u64, i64);

impl Pack for bool {
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl Pack for str {
    fn pack(&self, out: &mut Vec<u8>) {
        pack_len(self.len(), out);
        out.extend_from_slice(self.as_bytes());
    }
}

impl Pack for String {
    fn pack(&self, out: &mut Vec<u8>) {
        self.as_str().pack(out);
    }
}

impl<T: Pack> Pack for [T] {
    fn pack(&self, out: &mut Vec<u8>) {
        pack_len(self.len(), out);
        for item in self {
            item.pack(out);
        }
    }
}

impl<T: Pack> Pack for Vec<T> {
    fn pack(&self, out: &mut Vec<u8>) {
        self.as_slice().pack(out);
    }
}

impl<A: Pack, B: Pack> Pack for (A, B) {
    fn pack(&self, out: &mut Vec<u8>) {
        self.0.pack(out);
        self.1.pack(out);
    }
}

impl Pack for Name {
    fn pack(&self, out: &mut Vec<u8>) {
        self.as_u64().pack(out);
    }
}

/// A `bytes` field: length-prefixed raw bytes (unlike `Vec<u8>`, which is the same on the
/// wire, this makes intent explicit at call sites).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Pack for Bytes {
    fn pack(&self, out: &mut Vec<u8>) {
        pack_len(self.0.len(), out);
        out.extend_from_slice(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varuint32_vectors() {
        assert_eq!(VarUint32(0).packed(), [0x00]);
        assert_eq!(VarUint32(127).packed(), [0x7f]);
        assert_eq!(VarUint32(128).packed(), [0x80, 0x01]);
        assert_eq!(VarUint32(300).packed(), [0xac, 0x02]);
        assert_eq!(VarUint32(u32::MAX).packed(), [0xff, 0xff, 0xff, 0xff, 0x0f]);
    }

    #[test]
    fn strings_and_vectors() {
        assert_eq!("hi".packed(), [2, b'h', b'i']);
        assert_eq!(vec![1u16, 2u16].packed(), [2, 1, 0, 2, 0]);
        assert_eq!(0x0102_0304u32.packed(), [4, 3, 2, 1]);
        let long = "x".repeat(200);
        let p = long.packed();
        assert_eq!(&p[..2], &[0xc8, 0x01]);
        assert_eq!(p.len(), 202);
    }
}
