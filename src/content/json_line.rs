//! A product as one line of JSON, written straight from its typed values.
//!
//! The bytes are exactly those of `serde_json::to_writer(product)`: compact, fields in
//! declaration order, objects in insertion order, numbers as they were written. `refresh`,
//! `serve` and `diff` read the lines back with serde_json, and the build cache copies lines
//! from one build's product lines into the next, so the two must never differ (the tests
//! below compare them). A cold build writes every product on the writer thread; serde_json's
//! generic path and its byte-at-a-time escaping of the long descriptions were most of the
//! time it took. Strings and values are written by [`crate::text::json`], which the JSON
//! channels share.

use std::collections::BTreeMap;

use super::product::{AttrValue, Product};
use crate::text::json::{self, write_str, write_value};

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
    out.extend_from_slice(b",\"channels\":");
    let channels = product.channels.iter();
    json::object(out, channels.map(|(c, v)| (c.as_str(), v)), write_values);
    out.push(b'}');
}

fn write_values(out: &mut Vec<u8>, values: &BTreeMap<String, AttrValue>) {
    let members = values.iter().map(|(name, value)| (name.as_str(), value));
    json::object(out, members, |out, value| {
        out.extend_from_slice(b"{\"value\":");
        write_value(out, &value.value);
        out.extend_from_slice(b",\"line\":");
        write_u32(out, value.line);
        out.push(b'}');
    });
}

fn write_u32(out: &mut Vec<u8>, number: u32) {
    json::write_u64(out, u64::from(number));
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;

    fn attr(value: Value, line: u32) -> AttrValue {
        AttrValue::new(value, line)
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
}
