//! Field readers for one JSON table row: nodeos prints large integers as strings and small ones
//! as numbers, so integers are accepted in both forms; any other shape is a clear error.

use serde_json::{Map, Value};

/// Reads a required object field; the error names the field.
pub fn field<'a>(row: &'a Map<String, Value>, name: &str) -> Result<&'a Value, String> {
    row.get(name)
        .ok_or_else(|| format!("missing field `{name}`"))
}

/// Reads an unsigned integer given as a JSON number or a decimal string.
pub fn as_u64(value: &Value, name: &str) -> Result<u64, String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| format!("field `{name}` is not an unsigned integer: {n}")),
        Value::String(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("field `{name}` is not an unsigned integer: {s:?}")),
        other => Err(format!(
            "field `{name}` should be an integer, found {}",
            kind(other)
        )),
    }
}

/// Reads a required unsigned integer field.
pub fn u64_field(row: &Map<String, Value>, name: &str) -> Result<u64, String> {
    as_u64(field(row, name)?, name)
}

/// Reads a required unsigned integer field that must fit in `u32` (e.g. edge weights).
pub fn u32_field(row: &Map<String, Value>, name: &str) -> Result<u32, String> {
    let v = u64_field(row, name)?;
    u32::try_from(v).map_err(|_| format!("field `{name}` is out of range for uint32: {v}"))
}

/// Reads a required unsigned integer field that must fit in `u16` (ports).
pub fn u16_field(row: &Map<String, Value>, name: &str) -> Result<u16, String> {
    let v = u64_field(row, name)?;
    u16::try_from(v).map_err(|_| format!("field `{name}` is out of range for uint16: {v}"))
}

/// Reads a required string field.
pub fn str_field<'a>(row: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match field(row, name)? {
        Value::String(s) => Ok(s),
        other => Err(format!(
            "field `{name}` should be a string, found {}",
            kind(other)
        )),
    }
}

/// Views a row as an object, or says what it was instead.
pub fn as_object(value: &Value) -> Result<&Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("row should be an object, found {}", kind(value)))
}

/// Names a JSON value's kind for error messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_come_as_numbers_or_strings() {
        assert_eq!(as_u64(&json!(7), "x"), Ok(7));
        assert_eq!(as_u64(&json!("18446744073709551615"), "x"), Ok(u64::MAX));
        assert!(as_u64(&json!(-1), "x").unwrap_err().contains("`x`"));
        assert!(as_u64(&json!("1.5"), "x").is_err());
        assert!(as_u64(&json!(null), "x").unwrap_err().contains("null"));
    }

    #[test]
    fn narrow_fields_reject_out_of_range_values() {
        let row = json!({"port": 70000, "w": 4294967296u64});
        let row = row.as_object().unwrap();
        assert!(u16_field(row, "port").unwrap_err().contains("uint16"));
        assert!(u32_field(row, "w").unwrap_err().contains("uint32"));
        assert!(u32_field(row, "absent").unwrap_err().contains("missing"));
    }
}
