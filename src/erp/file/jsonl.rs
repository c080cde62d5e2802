//! Reading a JSON Lines export: one record per line, each reported by its line.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use crate::erp::record_check::{Collector, ErpFileError, Origin, Parser, Seen, json_record};

pub(crate) fn read_jsonl(
    path: &Path,
    parser: &Parser<'_>,
    rows: &mut Collector,
) -> Result<(), ErpFileError> {
    let io_error = |source| ErpFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut buffer = Vec::new();
    let mut seen = Seen::default();
    let (mut line, mut row) = (0, 0);
    loop {
        buffer.clear();
        if reader.read_until(b'\n', &mut buffer).map_err(io_error)? == 0 {
            break;
        }
        line += 1;
        let bytes = if line == 1 {
            buffer.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&buffer)
        } else {
            &buffer
        };
        let text = std::str::from_utf8(bytes).map(str::trim);
        if matches!(text, Ok("")) {
            continue;
        }
        row += 1;
        let origin = Origin {
            row,
            line: Some(line),
        };
        rows.row(origin, |messages| {
            let Ok(text) = text else {
                messages.push("is not valid UTF-8 text; export the file as UTF-8".to_string());
                return Err(None);
            };
            match serde_json::from_str::<Value>(text) {
                Ok(item) => json_record(&item, parser, &mut seen, messages),
                Err(err) => {
                    // serde_json counts lines within this one line; only the column helps.
                    let full = err.to_string();
                    let reason = full.split(" at line ").next().unwrap_or(&full);
                    messages.push(format!(
                        "is not valid JSON: {reason} (column {})",
                        err.column()
                    ));
                    Err(None)
                }
            }
        });
    }
    seen.check(parser).map_err(|missing| ErpFileError::Format {
        path: path.to_path_buf(),
        message: missing.to_string(),
    })
}
