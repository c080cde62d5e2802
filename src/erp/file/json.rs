//! Reading a JSON export: an array of records, or an object holding one such array.

use std::path::Path;

use serde_json::Value;

use crate::erp::record_check::{
    Collector, ErpFileError, Origin, Parser, Seen, json_kind, json_record,
};

pub(crate) fn read_json(
    path: &Path,
    parser: &Parser<'_>,
    rows: &mut Collector,
) -> Result<(), ErpFileError> {
    let format_error = |message: String| ErpFileError::Format {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|source| ErpFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format_error("is not UTF-8 text; export it as UTF-8".to_string()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|err| {
        let mut message = format!("is not valid JSON: {err}");
        if err.to_string().starts_with("trailing characters") {
            message
                .push_str("; for one JSON object per line set `format = \"jsonl\"` under `[erp]`");
        }
        format_error(message)
    })?;
    let items = match &value {
        Value::Array(items) => items,
        Value::Object(object) => {
            let arrays: Vec<(&String, &Vec<Value>)> = object
                .iter()
                .filter_map(|(key, value)| value.as_array().map(|items| (key, items)))
                .collect();
            match arrays.as_slice() {
                [(_, items)] => *items,
                [] => {
                    return Err(format_error(
                        "the top-level object holds no array of records; expected an array \
                         of objects, or an object with one array such as `items`"
                            .to_string(),
                    ));
                }
                several => {
                    let keys: Vec<String> =
                        several.iter().map(|(key, _)| format!("`{key}`")).collect();
                    return Err(format_error(format!(
                        "the top-level object holds several arrays ({}), so which one holds \
                         the records is ambiguous; export a single array of records",
                        keys.join(", ")
                    )));
                }
            }
        }
        other => {
            return Err(format_error(format!(
                "the top level is {}; expected an array of objects, or an object with one \
                 array such as `items`",
                json_kind(other)
            )));
        }
    };
    let mut seen = Seen::default();
    for (index, item) in items.iter().enumerate() {
        let origin = Origin {
            row: index + 1,
            line: None,
        };
        rows.row(origin, |messages| {
            json_record(item, parser, &mut seen, messages)
        });
    }
    seen.check(parser)
        .map_err(|missing| format_error(missing.to_string()))
}
