//! Pieces of JSON written straight into a feed item's bytes, each the bytes serde_json writes
//! for the same value: for presets that write their items without building a tree of JSON
//! values per product first. Strings, `serde_json::Value`s, arrays and objects are written by
//! [`crate::text::json`], which the last build's product lines share.

use std::str::FromStr;

use serde_json::{Number, Value};

use crate::text::json;
pub(super) use crate::text::json::{array, object};

/// A JSON string, escaped as serde_json escapes it.
pub(super) fn string(out: &mut Vec<u8>, text: &str) {
    json::write_str(out, text);
}

/// A `serde_json::Value` as serde_json writes it.
pub(super) fn json_value(out: &mut Vec<u8>, value: &Value) {
    json::write_value(out, value);
}

/// Any other value as serde_json writes it (the integers of stock, quantities and days).
pub(super) fn serialize<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(&mut *out, value).expect("writing JSON to a Vec cannot fail");
}

/// `value`, or `null`.
pub(super) fn optional<T>(
    out: &mut Vec<u8>,
    value: Option<T>,
    write: impl FnOnce(&mut Vec<u8>, T),
) {
    match value {
        Some(value) => write(out, value),
        None => out.extend_from_slice(b"null"),
    }
}

/// Money as an exact JSON number (`12.50`, as written) when it is one, else as a string: the
/// bytes of serialising `Number::from_str(text)`. A plain decimal without an exponent is
/// written as it is, which is what that number serialises to (serde_json's
/// `arbitrary_precision` keeps a decimal's digits as written, and an integer is written in
/// its only form); anything else takes serde_json's own path.
pub(super) fn money(out: &mut Vec<u8>, text: &str) {
    if is_plain_decimal(text) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    match Number::from_str(text) {
        Ok(number) => json::write_value(out, &Value::Number(number)),
        Err(_) => string(out, text),
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`: a JSON number without an exponent.
fn is_plain_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && (whole == "0" || !whole.starts_with('0')) && fraction.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_the_serialised_number_byte_for_byte() {
        for text in [
            "15.00",
            "0.50",
            "-0.50",
            "0",
            "-0",
            "-0.00",
            "12",
            "-12",
            "1e5",
            "1E+5",
            "2.5e-3",
            "n/a",
            "",
            "00.5",
            "0.",
            ".5",
            "-",
            "+1",
            "1.2.3",
            " 1",
            "1 ",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890.125",
        ] {
            // What the presets wrote through serde before they wrote bytes.
            let value = Number::from_str(text).map_or(Value::String(text.into()), Value::Number);
            let expected = serde_json::to_vec(&value).unwrap();
            let mut written = Vec::new();
            money(&mut written, text);
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(expected).unwrap(),
                "{text:?}"
            );
        }
    }
}
