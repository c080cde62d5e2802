//! A rendered feed item as named fields, so a diff can say which fields changed.
//!
//! Items are compared as rendered bytes (what the channel will really receive); only when
//! they differ are they parsed back into fields: XML elements by path (`g:price`,
//! `g:shipping/g:country`), JSON keys by path (`title.nl-NL`, `images[0].url`), CSV cells
//! by their column header. An item that does not parse is one field, `item`.

use std::collections::HashMap;

use quick_xml::events::Event;
use serde::Serialize;
use serde_json::Value;

use crate::config::ChannelFormat;

/// One field of a feed item that differs between the two sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    /// Absent when the field is new.
    pub before: Option<String>,
    /// Absent when the field is gone.
    pub after: Option<String>,
}

/// The fields of one rendered item, in order. `header` is the feed's header (the CSV header
/// row names the cells).
pub fn item_fields(format: ChannelFormat, header: &[u8], item: &[u8]) -> Vec<(String, String)> {
    let parsed = match format {
        ChannelFormat::Xml => xml_fields(item),
        // A JSON Lines item is one JSON document, like a JSON channel's item.
        ChannelFormat::Json | ChannelFormat::Jsonl => json_fields(item),
        ChannelFormat::Csv => csv_fields(header, item),
    };
    parsed.unwrap_or_else(|| {
        vec![(
            "item".to_string(),
            String::from_utf8_lossy(item).trim().to_string(),
        )]
    })
}

/// The fields that differ, in the order of `after` and then those only in `before`.
pub fn changes(before: &[(String, String)], after: &[(String, String)]) -> Vec<FieldChange> {
    let old: HashMap<&str, &str> = before
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let new: HashMap<&str, &str> = after
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut out = Vec::new();
    for (field, value) in after {
        match old.get(field.as_str()) {
            Some(previous) if previous == value => {}
            previous => out.push(FieldChange {
                field: field.clone(),
                before: previous.map(|p| p.to_string()),
                after: Some(value.clone()),
            }),
        }
    }
    for (field, value) in before {
        if !new.contains_key(field.as_str()) {
            out.push(FieldChange {
                field: field.clone(),
                before: Some(value.clone()),
                after: None,
            });
        }
    }
    out
}

fn xml_fields(item: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(item).ok()?;
    let mut reader = quick_xml::Reader::from_str(text);
    // Element names from the item down, and whether each has child elements.
    let mut stack: Vec<(String, bool)> = Vec::new();
    let mut content = String::new();
    let mut fields = Vec::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => {
                if let Some(parent) = stack.last_mut() {
                    parent.1 = true;
                }
                let name = start.name().as_ref().to_string();
                stack.push((name, false));
                push_attributes(&start, &stack, &mut fields)?;
                content.clear();
            }
            Event::Empty(empty) => {
                if let Some(parent) = stack.last_mut() {
                    parent.1 = true;
                }
                let name = empty.name().as_ref().to_string();
                stack.push((name, false));
                push_attributes(&empty, &stack, &mut fields)?;
                fields.push((xml_path(&stack), String::new()));
                stack.pop();
            }
            Event::Text(t) => content.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0)),
            Event::CData(data) => {
                content.push_str(&data.xml_content(quick_xml::XmlVersion::Implicit1_0))
            }
            Event::GeneralRef(reference) => {
                let resolved = match &*reference {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => reference.resolve_char_ref().ok()??,
                };
                content.push(resolved);
            }
            Event::End(_) => {
                let path = xml_path(&stack);
                let (_, has_children) = stack.pop()?;
                if !has_children {
                    fields.push((path, content.trim().to_string()));
                }
                content.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return None;
    }
    Some(number_repeats(strip_item_element(fields, '/')))
}

fn push_attributes(
    start: &quick_xml::events::BytesStart<'_>,
    stack: &[(String, bool)],
    fields: &mut Vec<(String, String)>,
) -> Option<()> {
    for attribute in start.attributes() {
        let attribute = attribute.ok()?;
        let key = attribute.key.as_ref().to_string();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .ok()?
            .into_owned();
        fields.push((format!("{}@{key}", xml_path(stack)), value));
    }
    Some(())
}

fn xml_path(stack: &[(String, bool)]) -> String {
    stack
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join("/")
}

/// `item/g:price` → `g:price` when every field sits in the same item element.
fn strip_item_element(fields: Vec<(String, String)>, separator: char) -> Vec<(String, String)> {
    let first = |path: &str| path.split(separator).next().map(str::to_string);
    let Some(item) = fields.first().and_then(|(path, _)| first(path)) else {
        return fields;
    };
    let prefix = format!("{item}{separator}");
    if !fields.iter().all(|(path, _)| path.starts_with(&prefix)) {
        return fields;
    }
    fields
        .into_iter()
        .map(|(path, value)| (path[prefix.len()..].to_string(), value))
        .collect()
}

/// A field that repeats (`g:additional_image_link`) is numbered from its second occurrence.
fn number_repeats(fields: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    fields
        .into_iter()
        .map(|(path, value)| {
            let count = seen.entry(path.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                (path, value)
            } else {
                (format!("{path}[{count}]"), value)
            }
        })
        .collect()
}

fn json_fields(item: &[u8]) -> Option<Vec<(String, String)>> {
    let value: Value = serde_json::from_slice(item).ok()?;
    let mut fields = Vec::new();
    flatten_json(&value, String::new(), &mut fields);
    Some(fields)
}

fn flatten_json(value: &Value, path: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten_json(child, child_path, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, child) in items.iter().enumerate() {
                flatten_json(child, format!("{path}[{index}]"), out);
            }
        }
        Value::String(text) => out.push((path, text.clone())),
        other => out.push((path, other.to_string())),
    }
}

fn csv_fields(header: &[u8], item: &[u8]) -> Option<Vec<(String, String)>> {
    let first_row = |bytes: &[u8]| -> Option<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes);
        let record = reader.records().next()?.ok()?;
        Some(record.iter().map(str::to_string).collect())
    };
    let headers = first_row(header)?;
    let cells = first_row(item)?;
    if headers.len() != cells.len() {
        return None;
    }
    Some(headers.into_iter().zip(cells).collect())
}

/// Both values shortened to about `max` characters around where they first differ, so a
/// one-word edit in a long description shows that word.
pub fn shorten_pair(before: &str, after: &str, max: usize) -> (String, String) {
    let before_chars: Vec<char> = before.chars().collect();
    let after_chars: Vec<char> = after.chars().collect();
    if before_chars.len() <= max && after_chars.len() <= max {
        return (before.to_string(), after.to_string());
    }
    let common = before_chars
        .iter()
        .zip(&after_chars)
        .take_while(|(a, b)| a == b)
        .count();
    let start = common.saturating_sub(max / 4);
    (
        window(&before_chars, start, max),
        window(&after_chars, start, max),
    )
}

/// One value shortened to `max` characters.
pub fn shorten(value: &str, max: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    window(&chars, 0, max)
}

fn window(chars: &[char], start: usize, max: usize) -> String {
    let start = start.min(chars.len());
    let end = (start + max).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_items_become_fields_by_path() {
        let item = br#"
  <item>
    <g:id>A-1</g:id>
    <g:title>Drill &amp; driver</g:title>
    <g:additional_image_link>https://x/1.jpg</g:additional_image_link>
    <g:additional_image_link>https://x/2.jpg</g:additional_image_link>
    <g:shipping><g:country>NL</g:country></g:shipping>
    <link rel="self" href="https://x"/>
  </item>"#;
        let fields = item_fields(ChannelFormat::Xml, b"", item);
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "g:id",
                "g:title",
                "g:additional_image_link",
                "g:additional_image_link[2]",
                "g:shipping/g:country",
                "link@rel",
                "link@href",
                "link"
            ]
        );
        assert_eq!(fields[1].1, "Drill & driver");
    }

    #[test]
    fn json_and_csv_items_become_fields() {
        let fields = item_fields(
            ChannelFormat::Json,
            b"",
            br#"{"sku":"A","title":{"nl-NL":"Boor"},"images":[{"url":"u"}],"price":12.50}"#,
        );
        assert_eq!(
            fields,
            [
                ("sku".into(), "A".into()),
                ("title.nl-NL".into(), "Boor".into()),
                ("images[0].url".into(), "u".into()),
                ("price".into(), "12.50".into())
            ]
        );
        let fields = item_fields(ChannelFormat::Csv, b"sku,Price\n", b"A,\"1,5\"\n");
        assert_eq!(
            fields,
            [("sku".into(), "A".into()), ("Price".into(), "1,5".into())]
        );
    }

    #[test]
    fn changes_name_new_changed_and_gone_fields() {
        let before = vec![("a".into(), "1".into()), ("b".into(), "2".into())];
        let after = vec![("a".into(), "1".into()), ("c".into(), "3".into())];
        let found = changes(&before, &after);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].field.as_str(), found[0].before.as_deref()),
            ("c", None)
        );
        assert_eq!(
            (found[1].field.as_str(), found[1].after.as_deref()),
            ("b", None)
        );
    }

    #[test]
    fn long_values_are_shortened_around_the_first_difference() {
        let before = format!("{} alpha {}", "x".repeat(100), "y".repeat(100));
        let after = format!("{} omega {}", "x".repeat(100), "y".repeat(100));
        let (b, a) = shorten_pair(&before, &after, 40);
        assert!(
            b.starts_with('…') && b.contains("alpha") && b.ends_with('…'),
            "{b}"
        );
        assert!(a.contains("omega"), "{a}");
        assert_eq!(shorten_pair("short", "also short", 40).0, "short");
    }
}
