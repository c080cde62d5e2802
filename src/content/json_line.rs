//! A product as one line of JSON, written straight from its typed values.
//!
//! The bytes are exactly those of `serde_json::to_writer(product)`: compact, fields in
//! declaration order, objects in insertion order, numbers as they were written. `refresh`,
//! `serve` and `diff` read the lines back with serde_json, and the build cache copies lines
//! from one build's `products.jsonl` into the next, so the two must never differ (the tests
//! below compare them). A cold build writes every product on the writer thread; serde_json's
//! generic path and its byte-at-a-time escaping of the long descriptions were most of the
//! time it took.

use std::collections::BTreeMap;

use serde_json::Value;

use super::product::{AttrValue, Product};

/// Appends `product` as JSON (without a line break) to `out`.
pub fn write_product(out: &mut Vec<u8>, product: &Product) {
    out.extend_from_slice(b"{\"sku\":");
    write_str(out, &product.sku);
    out.extend_from_slice(b",\"model\":");
    match &product.model {
        Some(model) => write_str(out, model),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"family\":");
    write_str(out, &product.family);
    out.extend_from_slice(b",\"file\":");
    write_str(out, &product.file);
    out.extend_from_slice(b",\"line\":");
    write_u32(out, product.line);
    out.extend_from_slice(b",\"values\":");
    write_values(out, &product.values);
    out.extend_from_slice(b",\"channels\":{");
    for (index, (channel, values)) in product.channels.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_str(out, channel);
        out.push(b':');
        write_values(out, values);
    }
    out.extend_from_slice(b"}}");
}

fn write_values(out: &mut Vec<u8>, values: &BTreeMap<String, AttrValue>) {
    out.push(b'{');
    for (index, (name, value)) in values.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_str(out, name);
        out.extend_from_slice(b":{\"value\":");
        write_value(out, &value.value);
        out.extend_from_slice(b",\"line\":");
        write_u32(out, value.line);
        out.push(b'}');
    }
    out.push(b'}');
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Numbers keep the digits they were read with (serde_json's `arbitrary_precision`).
        Value::Number(number) => out.extend_from_slice(number.as_str().as_bytes()),
        Value::String(text) => write_str(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

fn write_u32(out: &mut Vec<u8>, mut number: u32) {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// What a byte becomes in a JSON string, as serde_json writes it: 0 for itself, `u` for
/// `\u00XX`, else the letter after the backslash.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Whether any of the eight bytes in `word` is a control character, a quote or a backslash.
/// Exact for the word as a whole (the classic "has a byte less than / equal to" tests).
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    let quotes = word ^ (ONES * u64::from(b'"'));
    let quote = quotes.wrapping_sub(ONES) & !quotes & HIGHS;
    let backslashes = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslashes.wrapping_sub(ONES) & !backslashes & HIGHS;
    below_space | quote | backslash != 0
}

/// Appends `text` as a JSON string. Runs of eight bytes that need no escape (most of any
/// text) are skipped a word at a time.
fn write_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        while let Some(word) = bytes.get(at..at + 8) {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            if word_needs_escape(word) {
                break;
            }
            at += 8;
        }
        for &byte in &bytes[at..(at + 8).min(bytes.len())] {
            let escape = ESCAPE[usize::from(byte)];
            if escape != 0 {
                out.extend_from_slice(&bytes[copied..at]);
                match escape {
                    b'u' => out.extend_from_slice(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(byte >> 4)],
                        HEX[usize::from(byte & 0xF)],
                    ]),
                    letter => out.extend_from_slice(&[b'\\', letter]),
                }
                copied = at + 1;
            }
            at += 1;
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn attr(value: Value, line: u32) -> AttrValue {
        AttrValue { value, line }
    }

    fn product(values: BTreeMap<String, AttrValue>, model: Option<&str>) -> Product {
        let mut google = BTreeMap::new();
        google.insert("title".to_string(), attr(json!({"nl-NL": "Kort"}), 9));
        let mut channels = BTreeMap::new();
        channels.insert("google-nl".to_string(), google);
        channels.insert("meta".to_string(), BTreeMap::new());
        Product {
            sku: "MK \"DHP\"/485\\x".into(),
            model: model.map(str::to_string),
            family: "drills".into(),
            file: Arc::from("content/products/ü.toml"),
            line: 4_000_000_000,
            values,
            channels,
            derived: Default::default(),
        }
    }

    fn assert_same_as_serde_json(product: &Product) {
        let mut ours = Vec::new();
        write_product(&mut ours, product);
        let theirs = serde_json::to_vec(product).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    #[test]
    fn every_kind_of_value_is_written_as_serde_json_writes_it() {
        let numbers: Value = serde_json::from_str(
            "[0, -1, 18, 1.50, 1e3, 2.5E-7, 12345678901234567890123, -0.0, 3.141592653589793238]",
        )
        .unwrap();
        let mut values = BTreeMap::new();
        values.insert("numbers".into(), attr(numbers, 2));
        values.insert("empty".into(), attr(json!({}), 3));
        values.insert("none".into(), attr(json!([]), 4));
        values.insert("flags".into(), attr(json!([true, false, null]), 5));
        values.insert(
            "images".into(),
            attr(
                json!([{"url": "https://x/a.jpg", "alt": {"nl-NL": "voor", "en-GB": "front"}}]),
                6,
            ),
        );
        values.insert(
            "description".into(),
            attr(
                json!({"nl-NL": "# Kop\n\n- één\n- \"twee\"\t\\drie\r\n", "en-GB": ""}),
                7,
            ),
        );
        assert_same_as_serde_json(&product(values.clone(), None));
        assert_same_as_serde_json(&product(values, Some("MK")));
        assert_same_as_serde_json(&product(BTreeMap::new(), None));
    }

    #[test]
    fn every_byte_that_needs_an_escape_is_escaped_at_every_offset_in_a_word() {
        let specials: Vec<char> = (0u8..0x20)
            .map(char::from)
            .chain(['"', '\\', '\u{7f}', '/', 'é', '€', '😀'])
            .collect();
        for special in specials {
            for offset in 0..17 {
                let text = format!("{}{special}{}", "a".repeat(offset), "b".repeat(9));
                let mut ours = Vec::new();
                write_str(&mut ours, &text);
                assert_eq!(ours, serde_json::to_vec(&text).unwrap(), "{text:?}");
            }
        }
        for text in ["", "a", "abcdefgh", "abcdefghi", "\"\"\"\"\"\"\"\"\""] {
            let mut ours = Vec::new();
            write_str(&mut ours, text);
            assert_eq!(ours, serde_json::to_vec(&text).unwrap(), "{text:?}");
        }
    }
}
