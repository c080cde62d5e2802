//! Reading a CSV export: one row per record under a header row that names the columns.

use std::fs::File;
use std::path::Path;

use crate::erp::record_check::{
    Cell, Collector, ErpFileError, FIELD_COUNT, FIELDS, Field, Origin, Parser,
};

pub(crate) fn csv_delimiter(delimiter: Option<char>) -> Result<u8, BadDelimiter> {
    let delimiter = delimiter.unwrap_or(',');
    match u8::try_from(delimiter) {
        Ok(byte) if byte.is_ascii() && !matches!(byte, b'"' | b'\n' | b'\r') => Ok(byte),
        _ => Err(BadDelimiter(delimiter)),
    }
}

/// A configured delimiter the CSV reader cannot split on.
#[derive(Debug, thiserror::Error)]
#[error(
    "the CSV delimiter `{}` must be a single ASCII character other than a quote or line \
     break, such as `,`, `;` or a tab",
    .0.escape_default()
)]
pub(crate) struct BadDelimiter(char);

pub(crate) fn read_csv(
    path: &Path,
    delimiter: u8,
    parser: &Parser<'_>,
    rows: &mut Collector,
) -> Result<(), ErpFileError> {
    let io_error = |source| ErpFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let format_error = |message: String| ErpFileError::Format {
        path: path.to_path_buf(),
        message,
    };
    let file = File::open(path).map_err(io_error)?;
    // Trimming is done per cell with `str::trim` rather than `csv::Trim`: the crate's trimming
    // rebuilds the record on every row, which would undo the record reuse below.
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(file);

    let header = match reader.headers() {
        Ok(header) => header.clone(),
        Err(err) => {
            return Err(match err.into_kind() {
                csv::ErrorKind::Io(source) => io_error(source),
                csv::ErrorKind::Utf8 { .. } => {
                    format_error("the header row is not valid UTF-8 text".to_string())
                }
                other => format_error(format!("cannot read the header row: {other:?}")),
            });
        }
    };
    let columns = csv_columns(&header, delimiter, parser).map_err(format_error)?;
    let width = header.len();

    let mut record = csv::StringRecord::new();
    let mut row = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                row += 1;
                let origin = Origin {
                    row,
                    line: record.position().map(|pos| pos.line() as usize),
                };
                // Spreadsheet exports often end in rows of bare delimiters; they carry nothing.
                if record.iter().all(|cell| cell.trim().is_empty()) {
                    continue;
                }
                let cell = |field: Field| {
                    columns[field as usize]
                        .and_then(|index| record.get(index))
                        .map(Cell::Text)
                };
                let overflow = record.len() > width
                    && record
                        .iter()
                        .skip(width)
                        .any(|cell| !cell.trim().is_empty());
                rows.row(origin, |messages| {
                    if overflow {
                        // The values are shifted, so reading them by column would produce
                        // nonsense errors (or worse, plausible wrong numbers).
                        messages.push(format!(
                            "has {} values but the header has {width} columns; a value that \
                             contains the delimiter must be quoted",
                            record.len()
                        ));
                        let sku = parser.text(Field::Sku, cell(Field::Sku), &mut Vec::new());
                        return Err(sku.ok().flatten().map(str::to_owned));
                    }
                    parser.record(cell, messages)
                });
            }
            Err(err) => {
                let line = err.position().map(|pos| pos.line() as usize);
                match err.into_kind() {
                    csv::ErrorKind::Io(source) => return Err(io_error(source)),
                    csv::ErrorKind::Utf8 { err, .. } => {
                        row += 1;
                        rows.row(Origin { row, line }, |messages| {
                            let column = header.get(err.field()).unwrap_or("?").trim();
                            messages.push(format!(
                                "column `{column}` is not valid UTF-8 text; export the file \
                                 as UTF-8"
                            ));
                            Err(None)
                        });
                    }
                    other => return Err(format_error(format!("cannot read row: {other:?}"))),
                }
            }
        }
    }
    Ok(())
}

/// Looks every field's column up once, so rows are read by index.
pub(crate) fn csv_columns(
    header: &csv::StringRecord,
    delimiter: u8,
    parser: &Parser<'_>,
) -> Result<[Option<usize>; FIELD_COUNT], String> {
    let clean = |name: &str| name.trim_start_matches('\u{feff}').trim().to_string();
    let names: Vec<String> = header.iter().map(clean).collect();
    if names.iter().all(String::is_empty) {
        return Err("the file is empty; expected a header row naming the columns".to_string());
    }
    let mut columns = [None; FIELD_COUNT];
    let mut problems = Vec::new();
    let mut wrong_case = false;
    for field in FIELDS {
        let key = parser.keys[field as usize];
        let mut found = names
            .iter()
            .enumerate()
            .filter(|(_, name)| name.as_str() == key);
        let first = found.next().map(|(index, _)| index);
        if found.next().is_some() {
            problems.push(format!(
                "column `{key}` appears more than once in the header"
            ));
        }
        let same_but_case = names
            .iter()
            .find(|name| name.eq_ignore_ascii_case(key))
            .filter(|_| first.is_none());
        match first {
            Some(index) => columns[field as usize] = Some(index),
            None if same_but_case.is_some() => {
                wrong_case = true;
                problems.push(format!(
                    "column `{}` must be spelled `{key}`: column names are case-sensitive",
                    same_but_case.expect("checked")
                ));
            }
            None if parser.mapped[field as usize] => problems.push(format!(
                "no column `{key}` (mapped from `{}` in `[erp.mapping]`)",
                field.name()
            )),
            None if field.required() => problems.push(format!(
                "no column `{key}`, which is required; name the column `{key}` or map it in \
                 `[erp.mapping]`"
            )),
            None => {}
        }
    }
    if problems.is_empty() {
        return Ok(columns);
    }
    let mut message = problems.join("; ");
    const SHOWN: usize = 30;
    let listed: Vec<String> = names
        .iter()
        .take(SHOWN)
        .map(|name| format!("`{name}`"))
        .collect();
    message.push_str(&format!("; the header row has {}", listed.join(", ")));
    if names.len() > SHOWN {
        message.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    let other_delimiter = [b';', b',', b'\t', b'|']
        .into_iter()
        .find(|&d| d != delimiter && names[0].as_bytes().contains(&d));
    if let (1, Some(d)) = (names.len(), other_delimiter) {
        message.push_str(&format!(
            "; is the delimiter `{}`? set `delimiter` under `[erp]`",
            (d as char).escape_default()
        ));
    } else if !wrong_case
        && FIELDS
            .into_iter()
            .filter(|field| field.required())
            .all(|field| columns[field as usize].is_none())
    {
        message.push_str("; the first line must be a header row naming the columns");
    }
    Err(message)
}
