//! The contract's binary codec (action data and table rows): the `antelope` crate's encoding,
//! read and written through one trait whose errors are [`ContractError`]s, so an action's
//! decoding fails with the CDT's message like every other check.

use alloc::string::String;
use alloc::vec::Vec;

use crate::asset::Asset;
use crate::error::{ContractError, Result};
use crate::name::Name;
use crate::symbol::Symbol;

pub use antelope::codec::Reader;

impl From<antelope::Error> for ContractError {
    fn from(e: antelope::Error) -> Self {
        ContractError::new(e.message)
    }
}

/// A value with an EOSIO binary form that the contract reads and writes.
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

/// Implements [`Pack`] by the `antelope` encoding of each type.
macro_rules! antelope_form {
    ($($t:ty),*) => {$(
        impl Pack for $t {
            fn pack(&self, out: &mut Vec<u8>) {
                antelope::Pack::pack(self, out)
            }
            fn unpack(reader: &mut Reader<'_>) -> Result<Self> {
                Ok(<$t as antelope::Unpack>::unpack(reader)?)
            }
        }
    )*};
}
antelope_form!(u8, u16, u32, u64, i64, Name, Symbol, Asset, String);

impl<T: Pack> Pack for Vec<T> {
    fn pack(&self, out: &mut Vec<u8>) {
        antelope::codec::pack_seq(self, out, T::pack);
    }
    fn unpack(reader: &mut Reader<'_>) -> Result<Self> {
        antelope::codec::unpack_seq(reader, T::unpack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn decoding_errors_keep_the_cdt_message() {
        let short = from_bytes::<u64>(&[1, 2, 3]).unwrap_err();
        assert_eq!(short, ContractError::new(antelope::error::SHORT.message));
        assert_eq!(
            from_bytes::<u16>(&[1, 2, 3]).unwrap_err().message,
            "action data has trailing bytes"
        );
        // A huge claimed length with no data must not allocate or panic.
        assert!(from_bytes::<Vec<u64>>(&[0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }

    #[test]
    fn vectors_of_contract_types_use_the_antelope_layout() {
        let names = vec![Name::new("alice"), Name::new("bob")];
        assert_eq!(to_bytes(&names), antelope::Pack::packed(&names));
        assert_eq!(from_bytes::<Vec<Name>>(&to_bytes(&names)).unwrap(), names);
    }
}
