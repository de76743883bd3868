//! An ABI-driven serializer: packs a JSON value as the ABI says (what `cleos` and nodeos do
//! with the ABI), independently of the contract's own codec, so tests can compare the two.

use serde_json::Value;

use crate::model::Abi;

/// Why a JSON value could not be packed as an ABI type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// The type is neither built in nor declared in the ABI.
    #[error("unknown ABI type `{0}`")]
    UnknownType(String),
    /// The value does not fit the type.
    #[error("bad value for `{ty}`: {value}")]
    BadValue {
        /// ABI type.
        ty: String,
        /// The offending JSON.
        value: String,
    },
}

fn bad(ty: &str, value: &Value) -> PackError {
    PackError::BadValue {
        ty: ty.to_string(),
        value: value.to_string(),
    }
}

/// Packs `value` as ABI type `ty` onto `out`.
pub fn pack(abi: &Abi, ty: &str, value: &Value, out: &mut Vec<u8>) -> Result<(), PackError> {
    if let Some(element) = ty.strip_suffix("[]") {
        let items = value.as_array().ok_or_else(|| bad(ty, value))?;
        varuint32(items.len() as u32, out);
        for item in items {
            pack(abi, element, item, out)?;
        }
        return Ok(());
    }
    let unsigned = |bits: u32| -> Result<u64, PackError> {
        let v = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        v.filter(|v| bits == 64 || *v < (1u64 << bits))
            .ok_or_else(|| bad(ty, value))
    };
    match ty {
        "uint8" => out.push(unsigned(8)? as u8),
        "uint16" => out.extend((unsigned(16)? as u16).to_le_bytes()),
        "uint32" => out.extend((unsigned(32)? as u32).to_le_bytes()),
        "uint64" => out.extend(unsigned(64)?.to_le_bytes()),
        "uint128" => {
            let v = match value {
                Value::Number(n) => n.as_u64().map(u128::from),
                Value::String(s) => s.parse::<u128>().ok(),
                _ => None,
            };
            out.extend(v.ok_or_else(|| bad(ty, value))?.to_le_bytes());
        }
        "name" => {
            let text = value.as_str().ok_or_else(|| bad(ty, value))?;
            out.extend(name(text).ok_or_else(|| bad(ty, value))?.to_le_bytes());
        }
        "string" => {
            let text = value.as_str().ok_or_else(|| bad(ty, value))?;
            varuint32(text.len() as u32, out);
            out.extend(text.as_bytes());
        }
        "symbol" => {
            let text = value.as_str().ok_or_else(|| bad(ty, value))?;
            let (precision, code) = text.split_once(',').ok_or_else(|| bad(ty, value))?;
            let precision: u8 = precision.parse().map_err(|_| bad(ty, value))?;
            out.extend(
                symbol(precision, code)
                    .ok_or_else(|| bad(ty, value))?
                    .to_le_bytes(),
            );
        }
        "asset" => {
            let text = value.as_str().ok_or_else(|| bad(ty, value))?;
            let (amount, code) = text.split_once(' ').ok_or_else(|| bad(ty, value))?;
            let precision = amount.split_once('.').map_or(0, |(_, frac)| frac.len()) as u8;
            let digits: i64 = amount
                .replace('.', "")
                .parse()
                .map_err(|_| bad(ty, value))?;
            out.extend(digits.to_le_bytes());
            out.extend(
                symbol(precision, code)
                    .ok_or_else(|| bad(ty, value))?
                    .to_le_bytes(),
            );
        }
        _ => {
            let def = abi
                .find_struct(ty)
                .ok_or_else(|| PackError::UnknownType(ty.to_string()))?;
            for (index, field) in def.fields.iter().enumerate() {
                let item = match value {
                    Value::Object(map) => map.get(&field.name),
                    Value::Array(items) => items.get(index),
                    _ => None,
                }
                .ok_or_else(|| bad(ty, value))?;
                pack(abi, &field.ty, item, out)?;
            }
        }
    }
    Ok(())
}

fn varuint32(mut v: u32, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// EOSIO name encoding (`.12345a-z`, 12 characters of 5 bits plus a 13th of 4 bits).
fn name(text: &str) -> Option<u64> {
    if text.len() > 13 {
        return None;
    }
    let mut value = 0u64;
    for (i, c) in text.bytes().enumerate() {
        let code = match c {
            b'.' => 0,
            b'1'..=b'5' => c - b'1' + 1,
            b'a'..=b'z' => c - b'a' + 6,
            _ => return None,
        } as u64;
        if i < 12 {
            value |= code << (59 - 5 * i);
        } else if code <= 0x0f {
            value |= code;
        } else {
            return None;
        }
    }
    Some(value)
}

/// Symbol encoding: precision in the low byte, the code's letters above it.
fn symbol(precision: u8, code: &str) -> Option<u64> {
    if code.is_empty() || code.len() > 7 || !code.bytes().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    let letters = code
        .bytes()
        .rev()
        .fold(0u64, |acc, c| (acc << 8) | c as u64);
    Some((letters << 8) | precision as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_pack_like_eosio() {
        assert_eq!(name("eosio"), Some(6_138_663_577_826_885_632));
        assert_eq!(name("Eosio"), None);
        assert_eq!(symbol(4, "BIT"), Some(0x5449_4204));
        let mut out = Vec::new();
        varuint32(300, &mut out);
        assert_eq!(out, [0xac, 0x02]);
    }
}
