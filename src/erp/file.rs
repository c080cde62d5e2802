//! The `file` ERP source: a CSV, JSON or JSON Lines export on disk.
//!
//! The whole export is read before anything is returned, and every bad row is reported at
//! once: whoever maintains the export fixes it in one go instead of one build per typo, and a
//! build never renders from a half-understood export.
//!
//! Numbers never pass through `f64`: money must survive the round trip digit for digit, so
//! CSV cells are scanned as text and JSON numbers are read from their literal (serde_json's
//! `arbitrary_precision` keeps it).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use super::{ERP_FIELDS, ErpRecord, PriceTier};
use crate::config::{ErpFileConfig, ErpFileFormat};

/// Reads the whole export; all or nothing.
///
/// `root` is the catalog root that `config.path` is relative to.
pub fn load(config: &ErpFileConfig, root: &Path) -> Result<Vec<ErpRecord>, ErpFileError> {
    load_with_warnings(config, root).map(|checked| checked.records)
}

/// Records that passed, and what is worth a warning about rows that were taken as they are
/// meant (a negative stock, which ERPs report for backorders, counts as 0 available).
#[derive(Debug, Default)]
pub struct Checked {
    pub records: Vec<ErpRecord>,
    pub warnings: Vec<RowProblem>,
}

/// [`load`], with the warnings about its rows.
pub fn load_with_warnings(config: &ErpFileConfig, root: &Path) -> Result<Checked, ErpFileError> {
    let path = root.join(&config.path);
    let format_error = |message: String| ErpFileError::Format {
        path: path.clone(),
        message,
    };
    let format = detect_format(config, &path).map_err(format_error)?;
    let (keys, mapped) = resolve_mapping(config).map_err(format_error)?;
    let parser = Parser {
        decimal_comma: config.decimal_comma,
        keys,
        mapped,
        key_word: if format == ErpFileFormat::Csv {
            "column"
        } else {
            "key"
        },
    };
    let mut rows = Collector::default();
    match format {
        ErpFileFormat::Csv => {
            let delimiter = csv_delimiter(config.delimiter).map_err(format_error)?;
            read_csv(&path, delimiter, &parser, &mut rows)?;
        }
        ErpFileFormat::Json => read_json(&path, &parser, &mut rows)?,
        ErpFileFormat::Jsonl => read_jsonl(&path, &parser, &mut rows)?,
    }
    rows.finish(path)
}

/// Checks records another source has already put under the record's field names (the HTTP
/// source, after its field mapping) by the same rules as an export, so every bad record is
/// reported by its position, all or nothing. `source` names where they came from.
pub fn check_records(items: &[Value], source: &Path) -> Result<Vec<ErpRecord>, ErpFileError> {
    check_records_with_warnings(items, source).map(|checked| checked.records)
}

/// [`check_records`], with the warnings about its records.
pub fn check_records_with_warnings(
    items: &[Value],
    source: &Path,
) -> Result<Checked, ErpFileError> {
    let mut keys: Keys<'_> = [""; FIELD_COUNT];
    for field in FIELDS {
        keys[field as usize] = field.name();
    }
    let parser = Parser {
        decimal_comma: false,
        keys,
        mapped: [false; FIELD_COUNT],
        key_word: "field",
    };
    let mut rows = Collector::default();
    let mut seen = Seen::default();
    for (index, item) in items.iter().enumerate() {
        let origin = Origin {
            row: index + 1,
            line: None,
        };
        rows.row(origin, |messages| {
            json_record(item, &parser, &mut seen, messages)
        });
    }
    rows.finish(source.to_path_buf())
}

#[derive(Debug, thiserror::Error)]
pub enum ErpFileError {
    #[error("cannot read ERP export {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file as a whole cannot be used: not CSV/JSON of the expected shape, or the
    /// configuration does not fit it (unknown mapped field or column, missing required column).
    #[error("ERP export {}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// Every bad row, so the export can be fixed in one pass.
    #[error("{}", rows_message(path, problems))]
    Rows {
        path: PathBuf,
        problems: Vec<RowProblem>,
    },
}

impl ErpFileError {
    /// The file the error is about, as opened (the catalog root joined with the configured path).
    pub fn path(&self) -> &Path {
        match self {
            ErpFileError::Io { path, .. }
            | ErpFileError::Format { path, .. }
            | ErpFileError::Rows { path, .. } => path,
        }
    }
}

fn rows_message(path: &Path, problems: &[RowProblem]) -> String {
    use fmt::Write as _;
    let mut out = format!(
        "ERP export {} has {} problem{}:",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        let _ = write!(out, "\n  {problem}");
    }
    out
}

/// One thing wrong with one row; a row with several bad values has several problems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// 1-based data row (the header does not count), or for JSON the record index + 1.
    pub row: usize,
    /// 1-based line in the file where the row starts (CSV and JSON Lines), so an editor can
    /// jump to it even when quoted cells span lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The row's SKU when it could be read, because people search exports by SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub message: String,
}

impl RowProblem {
    /// This problem as a warning about `file` (the export, or the API's url), at its line.
    pub fn warning(&self, code: &'static str, file: &Path) -> crate::diagnostics::Diagnostic {
        let mut diagnostic =
            crate::diagnostics::Diagnostic::file_error(code, file, self.to_string()).warning();
        diagnostic.line = self.line.unwrap_or(0);
        diagnostic.column = usize::from(self.line.is_some());
        diagnostic
    }
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}", self.row)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(sku) = &self.sku {
            write!(f, ", SKU `{sku}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

// ---------------------------------------------------------------------------------------------
// Fields and mapping

const FIELD_COUNT: usize = 15;

/// The record's fields in [`ERP_FIELDS`] order, so a field doubles as an index into per-field
/// arrays (column indexes, key names) without hashing per cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Sku,
    Price,
    Stock,
    Currency,
    SalePrice,
    Gtin,
    Mpn,
    Weight,
    Length,
    Width,
    Height,
    Unit,
    PackSize,
    Active,
    PriceTiers,
}

const FIELDS: [Field; FIELD_COUNT] = [
    Field::Sku,
    Field::Price,
    Field::Stock,
    Field::Currency,
    Field::SalePrice,
    Field::Gtin,
    Field::Mpn,
    Field::Weight,
    Field::Length,
    Field::Width,
    Field::Height,
    Field::Unit,
    Field::PackSize,
    Field::Active,
    Field::PriceTiers,
];

impl Field {
    fn name(self) -> &'static str {
        ERP_FIELDS[self as usize]
    }

    fn required(self) -> bool {
        matches!(self, Field::Sku | Field::Price | Field::Stock)
    }
}

type Keys<'m> = [&'m str; FIELD_COUNT];

fn resolve_mapping(config: &ErpFileConfig) -> Result<(Keys<'_>, [bool; FIELD_COUNT]), String> {
    let mut keys: Keys<'_> = [""; FIELD_COUNT];
    for field in FIELDS {
        keys[field as usize] = field.name();
    }
    let mut mapped = [false; FIELD_COUNT];
    let mut unknown = Vec::new();
    for (name, key) in &config.mapping {
        match ERP_FIELDS.iter().position(|field| field == name) {
            Some(index) => {
                keys[index] = key.as_str();
                mapped[index] = true;
            }
            None => unknown.push(name.as_str()),
        }
    }
    if unknown.is_empty() {
        return Ok((keys, mapped));
    }
    let mut message = String::new();
    for name in unknown {
        let suggestion = ERP_FIELDS
            .iter()
            .map(|field| (strsim::jaro_winkler(name, field), field))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, field)| format!(" (did you mean `{field}`?)"))
            .unwrap_or_default();
        if !message.is_empty() {
            message.push_str("; ");
        }
        message.push_str(&format!(
            "`[erp.mapping]` names unknown record field `{name}`{suggestion}"
        ));
    }
    message.push_str(&format!(
        "; the record fields are: {}",
        ERP_FIELDS.join(", ")
    ));
    Err(message)
}

fn detect_format(config: &ErpFileConfig, path: &Path) -> Result<ErpFileFormat, String> {
    if let Some(format) = config.format {
        return Ok(format);
    }
    let extension = path
        .extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(ErpFileFormat::Csv),
        Some("json") => Ok(ErpFileFormat::Json),
        Some("jsonl" | "ndjson") => Ok(ErpFileFormat::Jsonl),
        _ => Err(
            "cannot tell the format from the file name (expected .csv, .json, .jsonl or \
             .ndjson); set `format = \"csv\"`, `\"json\"` or `\"jsonl\"` under `[erp]`"
                .to_string(),
        ),
    }
}

fn csv_delimiter(delimiter: Option<char>) -> Result<u8, String> {
    let delimiter = delimiter.unwrap_or(',');
    match u8::try_from(delimiter) {
        Ok(byte) if byte.is_ascii() && !matches!(byte, b'"' | b'\n' | b'\r') => Ok(byte),
        _ => Err(format!(
            "the CSV delimiter `{}` must be a single ASCII character other than a quote or \
             line break, such as `,`, `;` or a tab",
            delimiter.escape_default()
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the three formats

/// Where a row came from, for messages.
#[derive(Debug, Clone, Copy)]
struct Origin {
    row: usize,
    line: Option<usize>,
}

fn read_csv(
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
fn csv_columns(
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

fn read_json(path: &Path, parser: &Parser<'_>, rows: &mut Collector) -> Result<(), ErpFileError> {
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
    seen.check(parser).map_err(format_error)
}

fn read_jsonl(path: &Path, parser: &Parser<'_>, rows: &mut Collector) -> Result<(), ErpFileError> {
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
    seen.check(parser).map_err(|message| ErpFileError::Format {
        path: path.to_path_buf(),
        message,
    })
}

fn json_record(
    item: &Value,
    parser: &Parser<'_>,
    seen: &mut Seen,
    messages: &mut Vec<String>,
) -> Result<ErpRecord, Option<String>> {
    let Value::Object(object) = item else {
        messages.push(format!("is {}, not a JSON object", json_kind(item)));
        return Err(None);
    };
    seen.objects = true;
    for field in FIELDS {
        let key = parser.keys[field as usize];
        if !seen.keys[field as usize] && object.contains_key(key) {
            seen.keys[field as usize] = true;
        }
        // A required key spelt in another case (`SKU`), to name it if no record has the key.
        if field.required()
            && !seen.keys[field as usize]
            && seen.other_case[field as usize].is_none()
        {
            seen.other_case[field as usize] =
                object.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned();
        }
    }
    parser.record(
        |field| object.get(parser.keys[field as usize]).map(Cell::Json),
        messages,
    )
}

/// Which keys occurred anywhere in a JSON export: a required key that no record has is a wrong
/// mapping or a wrong file, better said once than once per record.
#[derive(Default)]
struct Seen {
    objects: bool,
    keys: [bool; FIELD_COUNT],
    /// A required key found only in another case.
    other_case: [Option<String>; FIELD_COUNT],
}

impl Seen {
    fn check(&self, parser: &Parser<'_>) -> Result<(), String> {
        if !self.objects {
            return Ok(());
        }
        let missing: Vec<String> = FIELDS
            .into_iter()
            .filter(|&field| field.required() && !self.keys[field as usize])
            .map(|field| {
                let key = parser.keys[field as usize];
                if let Some(other) = &self.other_case[field as usize] {
                    return format!(
                        "`{key}` (the records have `{other}`: keys are case-sensitive)"
                    );
                }
                if parser.mapped[field as usize] {
                    format!("`{key}` (mapped from `{}`)", field.name())
                } else {
                    format!("`{key}`")
                }
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "no record has the required key {}; name the keys so or map them in \
                 `[erp.mapping]`",
                missing.join(", ")
            ))
        }
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------
// Collecting rows

#[derive(Default)]
struct Collector {
    records: Vec<ErpRecord>,
    /// Parallel to `records`: rows with problems leave gaps, so the index is not the row.
    origins: Vec<Origin>,
    /// SKUs of rows that failed otherwise, so a duplicate of a bad row is still reported.
    failed_skus: Vec<(String, Origin)>,
    problems: Vec<RowProblem>,
    warnings: Vec<RowProblem>,
    /// Reused across rows; a good row allocates nothing here.
    messages: Vec<String>,
}

impl Collector {
    fn row(
        &mut self,
        origin: Origin,
        build: impl FnOnce(&mut Vec<String>) -> Result<ErpRecord, Option<String>>,
    ) {
        self.messages.clear();
        match build(&mut self.messages) {
            Ok(mut record) if self.messages.is_empty() => {
                if record.stock < 0 {
                    self.warnings.push(RowProblem {
                        row: origin.row,
                        line: origin.line,
                        sku: Some(record.sku.clone()),
                        message: format!(
                            "stock is {} (a backorder?); counted as 0 available",
                            record.stock
                        ),
                    });
                    record.stock = 0;
                }
                self.records.push(record);
                self.origins.push(origin);
            }
            Ok(record) => self.fail(origin, Some(record.sku)),
            Err(sku) => self.fail(origin, sku),
        }
    }

    fn fail(&mut self, origin: Origin, sku: Option<String>) {
        for message in self.messages.drain(..) {
            self.problems.push(RowProblem {
                row: origin.row,
                line: origin.line,
                sku: sku.clone(),
                message,
            });
        }
        if let Some(sku) = sku {
            self.failed_skus.push((sku, origin));
        }
    }

    fn finish(mut self, path: PathBuf) -> Result<Checked, ErpFileError> {
        let duplicates = self.duplicates();
        self.problems.extend(duplicates);
        if self.problems.is_empty() {
            return Ok(Checked {
                records: self.records,
                warnings: self.warnings,
            });
        }
        self.problems.sort_by_key(|problem| problem.row);
        Err(ErpFileError::Rows {
            path,
            problems: self.problems,
        })
    }

    /// Runs after the pass rather than during it, so the map borrows the SKUs the records
    /// already own instead of keeping a second copy of each.
    fn duplicates(&self) -> Vec<RowProblem> {
        let mut first: HashMap<&str, usize> =
            HashMap::with_capacity(self.records.len() + self.failed_skus.len());
        let mut problems = Vec::new();
        let mut good = self
            .records
            .iter()
            .zip(&self.origins)
            .map(|(record, origin)| (record.sku.as_str(), *origin))
            .peekable();
        let mut bad = self
            .failed_skus
            .iter()
            .map(|(sku, origin)| (sku.as_str(), *origin))
            .peekable();
        loop {
            let next = match (good.peek(), bad.peek()) {
                (Some(g), Some(b)) if b.1.row < g.1.row => bad.next(),
                (Some(_), _) => good.next(),
                (None, Some(_)) => bad.next(),
                (None, None) => break,
            };
            let Some((sku, origin)) = next else { break };
            match first.entry(sku) {
                Entry::Occupied(entry) => problems.push(RowProblem {
                    row: origin.row,
                    line: origin.line,
                    sku: Some(sku.to_string()),
                    message: format!("SKU `{sku}` also on row {}", entry.get()),
                }),
                Entry::Vacant(entry) => {
                    entry.insert(origin.row);
                }
            }
        }
        problems
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing values

/// One value as found in the export, before it is known to be valid.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Text(&'a str),
    Json(&'a Value),
}

/// A value with format differences (CSV text, JSON types) folded away.
enum Scalar<'a> {
    Absent,
    Text(&'a str),
    /// A JSON number's literal, exactly as written.
    Number(&'a str),
    Bool(bool),
    Other(&'a Value),
}

fn scalar(cell: Option<Cell<'_>>) -> Scalar<'_> {
    match cell {
        None | Some(Cell::Json(Value::Null)) => Scalar::Absent,
        Some(Cell::Text(text)) => text_scalar(text),
        Some(Cell::Json(Value::String(text))) => text_scalar(text),
        Some(Cell::Json(Value::Number(number))) => Scalar::Number(number.as_str()),
        Some(Cell::Json(Value::Bool(value))) => Scalar::Bool(*value),
        Some(Cell::Json(other)) => Scalar::Other(other),
    }
}

fn text_scalar(text: &str) -> Scalar<'_> {
    match text.trim() {
        "" => Scalar::Absent,
        text => Scalar::Text(text),
    }
}

/// Marks that a problem has already been pushed for a value, so the caller neither uses the
/// value nor adds a second "missing" message.
struct Reported;

struct Parser<'m> {
    decimal_comma: bool,
    /// Column (CSV) or key (JSON) per field.
    keys: Keys<'m>,
    mapped: [bool; FIELD_COUNT],
    key_word: &'static str,
}

/// Names one tier of a JSON tier list, built into text only when a message needs it.
struct TierItem<'l> {
    label: &'l Label<'l>,
    number: usize,
}

impl fmt::Display for TierItem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} item {}", self.label, self.number)
    }
}

/// A field as the user knows it: by its record name, and by the export's name when mapped.
struct Label<'p> {
    field: Field,
    key: Option<(&'static str, &'p str)>,
}

impl fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field.name())?;
        if let Some((word, key)) = self.key {
            write!(f, " ({word} `{key}`)")?;
        }
        Ok(())
    }
}

impl Parser<'_> {
    fn label(&self, field: Field) -> Label<'_> {
        Label {
            field,
            key: self.mapped[field as usize].then(|| (self.key_word, self.keys[field as usize])),
        }
    }

    fn record<'a>(
        &self,
        cell: impl Fn(Field) -> Option<Cell<'a>>,
        messages: &mut Vec<String>,
    ) -> Result<ErpRecord, Option<String>> {
        let sku = self.required(
            Field::Sku,
            self.text(Field::Sku, cell(Field::Sku), messages),
            messages,
        );
        let price = self.required(
            Field::Price,
            self.amount(Field::Price, cell(Field::Price), messages),
            messages,
        );
        let stock = self.required(
            Field::Stock,
            // Negative for a backorder: the collector counts it as 0 and warns.
            self.count(
                Field::Stock,
                cell(Field::Stock),
                i64::MIN,
                i64::MAX,
                messages,
            ),
            messages,
        );
        let currency = self.currency(cell(Field::Currency), messages);
        let sale_price = self.amount(Field::SalePrice, cell(Field::SalePrice), messages);
        let gtin = self
            .text(Field::Gtin, cell(Field::Gtin), messages)
            .map(|gtin| gtin.map(strip_gtin).filter(|gtin| !gtin.is_empty()));
        let mpn = self.text(Field::Mpn, cell(Field::Mpn), messages);
        let weight = self.amount(Field::Weight, cell(Field::Weight), messages);
        let length = self.amount(Field::Length, cell(Field::Length), messages);
        let width = self.amount(Field::Width, cell(Field::Width), messages);
        let height = self.amount(Field::Height, cell(Field::Height), messages);
        let unit = self.text(Field::Unit, cell(Field::Unit), messages);
        let pack_size = self.count(
            Field::PackSize,
            cell(Field::PackSize),
            1,
            u32::MAX.into(),
            messages,
        );
        let active = self.flag(Field::Active, cell(Field::Active), messages);
        let price_tiers = self.tiers(cell(Field::PriceTiers), messages);

        let sku = sku.map(str::to_owned);
        match (
            sku,
            price,
            stock,
            currency,
            sale_price,
            gtin,
            mpn,
            weight,
            length,
            width,
            height,
            unit,
            pack_size,
            active,
            price_tiers,
        ) {
            (
                Some(sku),
                Some(price),
                Some(stock),
                Ok(currency),
                Ok(sale_price),
                Ok(gtin),
                Ok(mpn),
                Ok(weight),
                Ok(length),
                Ok(width),
                Ok(height),
                Ok(unit),
                Ok(pack_size),
                Ok(active),
                Ok(price_tiers),
            ) => Ok(ErpRecord {
                sku,
                price,
                stock,
                currency,
                sale_price,
                gtin,
                mpn: mpn.map(str::to_owned),
                weight,
                length,
                width,
                height,
                unit: unit.map(str::to_owned),
                // `count` checked the range.
                pack_size: pack_size.map(|size| size as u32),
                active: active.unwrap_or(true),
                price_tiers,
                prices: Default::default(),
            }),
            (sku, ..) => Err(sku),
        }
    }

    fn required<T>(
        &self,
        field: Field,
        value: Result<Option<T>, Reported>,
        messages: &mut Vec<String>,
    ) -> Option<T> {
        match value {
            Ok(Some(value)) => Some(value),
            Ok(None) => {
                messages.push(format!("{} is missing", self.label(field)));
                None
            }
            Err(Reported) => None,
        }
    }

    fn text<'a>(
        &self,
        field: Field,
        cell: Option<Cell<'a>>,
        messages: &mut Vec<String>,
    ) -> Result<Option<&'a str>, Reported> {
        match scalar(cell) {
            Scalar::Absent => Ok(None),
            Scalar::Text(text) | Scalar::Number(text) => Ok(Some(text)),
            Scalar::Bool(value) => {
                messages.push(format!("{} must be text, not `{value}`", self.label(field)));
                Err(Reported)
            }
            Scalar::Other(value) => {
                messages.push(format!(
                    "{} must be text, not {}",
                    self.label(field),
                    json_kind(value)
                ));
                Err(Reported)
            }
        }
    }

    fn currency(
        &self,
        cell: Option<Cell<'_>>,
        messages: &mut Vec<String>,
    ) -> Result<Option<String>, Reported> {
        let Some(code) = self.text(Field::Currency, cell, messages)? else {
            return Ok(None);
        };
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Some(code.to_string()))
        } else {
            messages.push(format!(
                "{} `{code}` is not a currency code (three capital letters, such as EUR)",
                self.label(Field::Currency)
            ));
            Err(Reported)
        }
    }

    /// A decimal ≥ 0.
    fn amount(
        &self,
        field: Field,
        cell: Option<Cell<'_>>,
        messages: &mut Vec<String>,
    ) -> Result<Option<Decimal>, Reported> {
        let (text, parsed) = match scalar(cell) {
            Scalar::Absent => return Ok(None),
            Scalar::Text(text) => (text, parse_decimal(text, self.decimal_comma)),
            Scalar::Number(text) => (text, parse_json_decimal(text)),
            other => return Err(self.wrong_type(field, &other, "a number", messages)),
        };
        self.check_amount(&self.label(field), text, parsed, messages)
            .map(Some)
    }

    fn check_amount(
        &self,
        label: &dyn fmt::Display,
        text: &str,
        parsed: Result<Decimal, NumberError>,
        messages: &mut Vec<String>,
    ) -> Result<Decimal, Reported> {
        match parsed {
            Ok(value) if value.is_sign_negative() => {
                messages.push(format!("{label} `{text}` is negative"));
                Err(Reported)
            }
            Ok(value) => Ok(value),
            Err(NumberError::Range) => {
                messages.push(format!(
                    "{label} `{text}` has too many digits for a decimal number"
                ));
                Err(Reported)
            }
            Err(NumberError::Malformed | NumberError::Fraction) => {
                messages.push(format!(
                    "{label} `{text}` is not a decimal number{}",
                    self.separator_hint(text)
                ));
                Err(Reported)
            }
        }
    }

    /// An integer in `min..=max`.
    fn count(
        &self,
        field: Field,
        cell: Option<Cell<'_>>,
        min: i64,
        max: i64,
        messages: &mut Vec<String>,
    ) -> Result<Option<i64>, Reported> {
        let (text, parsed) = match scalar(cell) {
            Scalar::Absent => return Ok(None),
            Scalar::Text(text) => (text, parse_integer(text, self.decimal_comma)),
            Scalar::Number(text) => (text, parse_integer(text, false)),
            other => return Err(self.wrong_type(field, &other, "a whole number", messages)),
        };
        self.check_count(&self.label(field), text, parsed, min, max, messages)
            .map(Some)
    }

    fn check_count(
        &self,
        label: &dyn fmt::Display,
        text: &str,
        parsed: Result<i64, NumberError>,
        min: i64,
        max: i64,
        messages: &mut Vec<String>,
    ) -> Result<i64, Reported> {
        let message = match parsed {
            Ok(value) if (min..=max).contains(&value) => return Ok(value),
            Ok(value) if value < 0 => format!("{label} `{text}` is negative"),
            Ok(value) if value < min => format!("{label} `{text}` must be at least {min}"),
            Ok(_) | Err(NumberError::Range) => format!("{label} `{text}` is too large"),
            Err(NumberError::Malformed | NumberError::Fraction) => {
                format!("{label} `{text}` is not a whole number")
            }
        };
        messages.push(message);
        Err(Reported)
    }

    fn flag(
        &self,
        field: Field,
        cell: Option<Cell<'_>>,
        messages: &mut Vec<String>,
    ) -> Result<Option<bool>, Reported> {
        const TRUE: [&str; 5] = ["true", "yes", "y", "1", "ja"];
        const FALSE: [&str; 5] = ["false", "no", "n", "0", "nee"];
        let text = match scalar(cell) {
            Scalar::Absent => return Ok(None),
            Scalar::Bool(value) => return Ok(Some(value)),
            Scalar::Text(text) | Scalar::Number(text) => text,
            other => return Err(self.wrong_type(field, &other, "true or false", messages)),
        };
        if TRUE.iter().any(|word| word.eq_ignore_ascii_case(text)) {
            Ok(Some(true))
        } else if FALSE.iter().any(|word| word.eq_ignore_ascii_case(text)) {
            Ok(Some(false))
        } else {
            messages.push(format!(
                "{} `{text}` is not a yes/no value (true/false, yes/no, y/n, 1/0, ja/nee)",
                self.label(field)
            ));
            Err(Reported)
        }
    }

    fn tiers(
        &self,
        cell: Option<Cell<'_>>,
        messages: &mut Vec<String>,
    ) -> Result<Vec<PriceTier>, Reported> {
        let label = self.label(Field::PriceTiers);
        let before = messages.len();
        let mut tiers = Vec::new();
        match scalar(cell) {
            Scalar::Absent => return Ok(tiers),
            Scalar::Text(text) => {
                for part in text
                    .split('|')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                {
                    let Some((qty, price)) = part.split_once(':') else {
                        messages.push(format!(
                            "{label} `{text}`: `{part}` is not `min_qty:price` (tiers are \
                             written like `10:139.95|50:129.95`)"
                        ));
                        continue;
                    };
                    let (qty, price) = (qty.trim(), price.trim());
                    let min_qty = self.check_count(
                        &format_args!("{label} `{text}`: min_qty"),
                        qty,
                        parse_integer(qty, self.decimal_comma),
                        1,
                        u32::MAX.into(),
                        messages,
                    );
                    let price = self.check_amount(
                        &format_args!("{label} `{text}`: price"),
                        price,
                        parse_decimal(price, self.decimal_comma),
                        messages,
                    );
                    if let (Ok(min_qty), Ok(price)) = (min_qty, price) {
                        tiers.push(PriceTier {
                            min_qty: min_qty as u32,
                            price,
                        });
                    }
                }
            }
            Scalar::Other(Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    let item_label = TierItem {
                        label: &label,
                        number: index + 1,
                    };
                    let Value::Object(object) = item else {
                        messages.push(format!(
                            "{item_label} is {}, not an object with `min_qty` and `price`",
                            json_kind(item)
                        ));
                        continue;
                    };
                    let min_qty = self.tier_part(
                        &item_label,
                        "min_qty",
                        object.get("min_qty"),
                        messages,
                        |text, json| parse_integer(text, self.decimal_comma && !json),
                    );
                    let min_qty = min_qty.and_then(|(text, parsed)| {
                        self.check_count(
                            &format_args!("{item_label} min_qty"),
                            text,
                            parsed,
                            1,
                            u32::MAX.into(),
                            messages,
                        )
                    });
                    let price = self.tier_part(
                        &item_label,
                        "price",
                        object.get("price"),
                        messages,
                        |text, json| {
                            if json {
                                parse_json_decimal(text)
                            } else {
                                parse_decimal(text, self.decimal_comma)
                            }
                        },
                    );
                    let price = price.and_then(|(text, parsed)| {
                        self.check_amount(
                            &format_args!("{item_label} price"),
                            text,
                            parsed,
                            messages,
                        )
                    });
                    if let (Ok(min_qty), Ok(price)) = (min_qty, price) {
                        tiers.push(PriceTier {
                            min_qty: min_qty as u32,
                            price,
                        });
                    }
                }
            }
            other => {
                return Err(self.wrong_type(
                    Field::PriceTiers,
                    &other,
                    "a list of tiers such as `10:139.95|50:129.95`",
                    messages,
                ));
            }
        }
        if messages.len() > before {
            return Err(Reported);
        }
        tiers.sort_by_key(|tier| tier.min_qty);
        if let Some(pair) = tiers
            .windows(2)
            .find(|pair| pair[0].min_qty == pair[1].min_qty)
        {
            messages.push(format!(
                "{label} has more than one tier for min_qty {}",
                pair[0].min_qty
            ));
            return Err(Reported);
        }
        Ok(tiers)
    }

    /// One value inside a JSON tier object: present, scalar, then parsed by `parse` (told
    /// whether the text is a JSON number literal, which never uses a decimal comma).
    fn tier_part<'a, T>(
        &self,
        item_label: &TierItem<'_>,
        key: &str,
        value: Option<&'a Value>,
        messages: &mut Vec<String>,
        parse: impl Fn(&str, bool) -> Result<T, NumberError>,
    ) -> Result<(&'a str, Result<T, NumberError>), Reported> {
        match scalar(value.map(Cell::Json)) {
            Scalar::Absent => {
                messages.push(format!("{item_label} has no `{key}`"));
                Err(Reported)
            }
            Scalar::Text(text) => Ok((text, parse(text, false))),
            Scalar::Number(text) => Ok((text, parse(text, true))),
            Scalar::Bool(value) => {
                messages.push(format!(
                    "{item_label} `{key}` must be a number, not `{value}`"
                ));
                Err(Reported)
            }
            Scalar::Other(value) => {
                messages.push(format!(
                    "{item_label} `{key}` must be a number, not {}",
                    json_kind(value)
                ));
                Err(Reported)
            }
        }
    }

    fn wrong_type(
        &self,
        field: Field,
        found: &Scalar<'_>,
        expected: &str,
        messages: &mut Vec<String>,
    ) -> Reported {
        let found = match found {
            Scalar::Bool(value) => format!("`{value}`"),
            Scalar::Other(value) => json_kind(value).to_string(),
            Scalar::Absent => "nothing".to_string(),
            Scalar::Text(text) | Scalar::Number(text) => format!("`{text}`"),
        };
        messages.push(format!(
            "{} must be {expected}, not {found}",
            self.label(field)
        ));
        Reported
    }

    /// Most bad numbers in practice are the other convention's decimal separator.
    fn separator_hint(&self, text: &str) -> &'static str {
        if self.decimal_comma {
            if scan_number(text, false).is_ok() {
                return " (with `decimal_comma = true`, `.` only separates thousands, as in \
                        `1.234,50`)";
            }
        } else if scan_number(text, true).is_ok() {
            return " (for numbers like `12,50` set `decimal_comma = true` under `[erp]`)";
        }
        ""
    }
}

/// Printed GTINs are often grouped (`8 712345 678906`, `871-234`); the digits are what count.
fn strip_gtin(gtin: &str) -> String {
    let separator = |c: char| c.is_whitespace() || c == '-';
    if gtin.contains(separator) {
        gtin.chars().filter(|&c| !separator(c)).collect()
    } else {
        gtin.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberError {
    /// Not a number in the expected notation.
    Malformed,
    /// A fraction where a whole number is needed (`12.0` counts: stock is counted, not measured).
    Fraction,
    /// Too many digits for the target type.
    Range,
}

/// Long enough for any `Decimal` (29 digits, a point and up to 28 leading fraction zeros)
/// while letting the canonical form live on the stack.
const MAX_NUMBER_LEN: usize = 64;

/// A number reduced to plain ASCII `digits[.digits]`, sign kept aside.
struct Scanned {
    buffer: [u8; MAX_NUMBER_LEN],
    len: usize,
    negative: bool,
    fraction: bool,
}

impl Scanned {
    fn push(&mut self, bytes: &[u8]) -> Result<(), NumberError> {
        let end = self.len + bytes.len();
        if end > MAX_NUMBER_LEN {
            return Err(NumberError::Range);
        }
        self.buffer[self.len..end].copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and `.` are ever pushed.
        std::str::from_utf8(&self.buffer[..self.len]).unwrap_or("")
    }
}

/// Accepts `[+-]digits[.digits]`, or with `decimal_comma` `[+-]d.ddd.ddd[,digits]` where dots
/// must group thousands: checking the grouping is what keeps a stray `12.50` from silently
/// becoming 1250.
fn scan_number(text: &str, decimal_comma: bool) -> Result<Scanned, NumberError> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let (point, group) = if decimal_comma {
        (b',', Some(b'.'))
    } else {
        (b'.', None)
    };
    let (int, fraction) = match rest.iter().position(|&b| b == point) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let mut scanned = Scanned {
        buffer: [0; MAX_NUMBER_LEN],
        len: 0,
        negative,
        fraction: false,
    };
    match group {
        Some(group) if int.contains(&group) => {
            for (index, chunk) in int.split(|&b| b == group).enumerate() {
                let size_ok = if index == 0 {
                    (1..=3).contains(&chunk.len())
                } else {
                    chunk.len() == 3
                };
                if !size_ok || !chunk.iter().all(u8::is_ascii_digit) {
                    return Err(NumberError::Malformed);
                }
                scanned.push(chunk)?;
            }
        }
        _ => {
            if !int.iter().all(u8::is_ascii_digit) {
                return Err(NumberError::Malformed);
            }
            scanned.push(int)?;
        }
    }
    match fraction {
        Some(fraction) => {
            if !fraction.iter().all(u8::is_ascii_digit) || (int.is_empty() && fraction.is_empty()) {
                return Err(NumberError::Malformed);
            }
            if !fraction.is_empty() {
                if int.is_empty() {
                    scanned.push(b"0")?;
                }
                scanned.push(b".")?;
                scanned.push(fraction)?;
                scanned.fraction = true;
            }
        }
        None if int.is_empty() => return Err(NumberError::Malformed),
        None => {}
    }
    Ok(scanned)
}

fn parse_decimal(text: &str, decimal_comma: bool) -> Result<Decimal, NumberError> {
    let scanned = scan_number(text, decimal_comma)?;
    let mut value = Decimal::from_str_exact(scanned.as_str()).map_err(|_| NumberError::Range)?;
    if scanned.negative && !value.is_zero() {
        value.set_sign_negative(true);
    }
    Ok(value)
}

/// A JSON number literal may use an exponent, which person-written CSV text never should.
fn parse_json_decimal(literal: &str) -> Result<Decimal, NumberError> {
    if literal.contains(['e', 'E']) {
        let value = Decimal::from_scientific(literal).map_err(|_| NumberError::Range)?;
        Ok(if value.is_zero() {
            Decimal::ZERO
        } else {
            value
        })
    } else {
        parse_decimal(literal, false)
    }
}

fn parse_integer(text: &str, decimal_comma: bool) -> Result<i64, NumberError> {
    let scanned = scan_number(text, decimal_comma)?;
    if scanned.fraction || text.contains(['e', 'E']) {
        return Err(NumberError::Fraction);
    }
    let magnitude: i64 = scanned.as_str().parse().map_err(|_| NumberError::Range)?;
    Ok(if scanned.negative {
        -magnitude
    } else {
        magnitude
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::str::FromStr;

    use super::*;

    struct Export {
        dir: tempfile::TempDir,
        config: ErpFileConfig,
    }

    fn export(name: &str, contents: impl AsRef<[u8]>) -> Export {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("erp")).unwrap();
        let path = PathBuf::from("erp").join(name);
        std::fs::write(dir.path().join(&path), contents).unwrap();
        Export {
            dir,
            config: ErpFileConfig {
                path,
                format: None,
                delimiter: None,
                decimal_comma: false,
                mapping: BTreeMap::new(),
            },
        }
    }

    impl Export {
        fn map(mut self, field: &str, key: &str) -> Self {
            self.config.mapping.insert(field.into(), key.into());
            self
        }

        fn load(&self) -> Result<Vec<ErpRecord>, ErpFileError> {
            load(&self.config, self.dir.path())
        }

        fn records(&self) -> Vec<ErpRecord> {
            match self.load() {
                Ok(records) => records,
                Err(err) => panic!("expected records, got: {err}"),
            }
        }

        fn problems(&self) -> Vec<RowProblem> {
            match self.load() {
                Err(ErpFileError::Rows { problems, .. }) => problems,
                other => panic!("expected row problems, got {other:?}"),
            }
        }

        fn format_error(&self) -> String {
            match self.load() {
                Err(ErpFileError::Format { message, .. }) => message,
                other => panic!("expected a format error, got {other:?}"),
            }
        }
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn messages(problems: &[RowProblem]) -> Vec<(usize, &str)> {
        problems
            .iter()
            .map(|problem| (problem.row, problem.message.as_str()))
            .collect()
    }

    #[test]
    fn fields_follow_erp_fields_order() {
        assert_eq!(ERP_FIELDS.len(), FIELD_COUNT);
        for (index, field) in FIELDS.into_iter().enumerate() {
            assert_eq!(field as usize, index);
        }
        let names: Vec<&str> = FIELDS.into_iter().map(Field::name).collect();
        assert_eq!(names[..3], ["sku", "price", "stock"]);
        assert_eq!(names[14], "price_tiers");
    }

    #[test]
    fn csv_with_commas_reads_every_field() {
        let export = export(
            "items.csv",
            "\u{feff}sku , price,stock,currency,sale_price,gtin,mpn,weight,length,width,height,\
             unit,pack_size,active,price_tiers,ignored\n\
             MK-DHP485 , 149.95 , 12 ,EUR,139.95,0 088381-6 56068 ,DHP485Z,1.7,25,8.5,\
             21,piece,1,no,10:139.95|50:129.95,whatever\n\
             \"B,2\",5,0,,,,,,,,,,,,,\n",
        );
        let records = export.records();
        assert_eq!(
            records,
            vec![
                ErpRecord {
                    sku: "MK-DHP485".into(),
                    price: dec("149.95"),
                    stock: 12,
                    currency: Some("EUR".into()),
                    sale_price: Some(dec("139.95")),
                    gtin: Some("0088381656068".into()),
                    mpn: Some("DHP485Z".into()),
                    weight: Some(dec("1.7")),
                    length: Some(dec("25")),
                    width: Some(dec("8.5")),
                    height: Some(dec("21")),
                    unit: Some("piece".into()),
                    pack_size: Some(1),
                    active: false,
                    price_tiers: vec![
                        PriceTier {
                            min_qty: 10,
                            price: dec("139.95"),
                        },
                        PriceTier {
                            min_qty: 50,
                            price: dec("129.95"),
                        },
                    ],
                    prices: Default::default(),
                },
                ErpRecord {
                    sku: "B,2".into(),
                    price: dec("5"),
                    stock: 0,
                    currency: None,
                    sale_price: None,
                    gtin: None,
                    mpn: None,
                    weight: None,
                    length: None,
                    width: None,
                    height: None,
                    unit: None,
                    pack_size: None,
                    active: true,
                    price_tiers: vec![],
                    prices: Default::default(),
                },
            ]
        );
    }

    #[test]
    fn csv_keeps_file_order_and_skips_blank_rows() {
        let export = export(
            "items.csv",
            "sku,price,stock\r\nC,1,1\r\nA,2,2\r\n,,\r\n\r\nB,3,3\r\n",
        );
        let skus: Vec<String> = export.records().into_iter().map(|r| r.sku).collect();
        assert_eq!(skus, ["C", "A", "B"]);
    }

    #[test]
    fn csv_with_semicolons_and_decimal_commas() {
        let mut export = export(
            "items.csv",
            "sku;price;stock;weight;price_tiers\n\
             A; 1.234,50 ;1.000;0,5;10:9,95|100:8,5\n\
             B;12;3;;\n",
        );
        export.config.delimiter = Some(';');
        export.config.decimal_comma = true;
        let records = export.records();
        assert_eq!(records[0].price, dec("1234.50"));
        assert_eq!(records[0].price.to_string(), "1234.50");
        assert_eq!(records[0].stock, 1000);
        assert_eq!(records[0].weight, Some(dec("0.5")));
        assert_eq!(
            records[0].price_tiers,
            [
                PriceTier {
                    min_qty: 10,
                    price: dec("9.95")
                },
                PriceTier {
                    min_qty: 100,
                    price: dec("8.5")
                }
            ]
        );
        assert_eq!(records[1].price, dec("12"));
    }

    #[test]
    fn decimal_comma_rejects_a_decimal_point() {
        let mut export = export("items.csv", "sku;price;stock\nA;12.50;1\nB;12,50;1.5\n");
        export.config.delimiter = Some(';');
        export.config.decimal_comma = true;
        let problems = export.problems();
        assert_eq!(problems.len(), 2);
        assert!(
            problems[0]
                .message
                .starts_with("price `12.50` is not a decimal number (with `decimal_comma = true`"),
            "{}",
            problems[0].message
        );
        assert_eq!(problems[1].message, "stock `1.5` is not a whole number");
    }

    #[test]
    fn decimal_point_mode_hints_at_decimal_comma() {
        let export = export("items.csv", "sku;price;stock\nA;\"12,50\";1\n");
        let mut export = export;
        export.config.delimiter = Some(';');
        let problems = export.problems();
        assert_eq!(
            problems[0].message,
            "price `12,50` is not a decimal number (for numbers like `12,50` set \
             `decimal_comma = true` under `[erp]`)"
        );
    }

    #[test]
    fn json_array_accepts_numbers_strings_and_booleans() {
        let export = export(
            "items.json",
            r#"[
              {"sku": "A", "price": 19.99, "stock": 3, "active": false, "gtin": 8712345678906,
               "price_tiers": [{"min_qty": 50, "price": "17.5"}, {"min_qty": 10, "price": 18.25}],
               "pack_size": "6", "extra": {"nested": true}},
              {"sku": " B ", "price": "0.1", "stock": "0", "active": "ja", "currency": null,
               "sale_price": 1e-1, "price_tiers": "5:0.09"}
            ]"#,
        );
        let records = export.records();
        assert_eq!(records.len(), 2);
        let a = &records[0];
        assert_eq!((a.sku.as_str(), a.price, a.stock), ("A", dec("19.99"), 3));
        assert!(!a.active);
        assert_eq!(a.gtin.as_deref(), Some("8712345678906"));
        assert_eq!(a.pack_size, Some(6));
        assert_eq!(
            a.price_tiers,
            [
                PriceTier {
                    min_qty: 10,
                    price: dec("18.25")
                },
                PriceTier {
                    min_qty: 50,
                    price: dec("17.5")
                }
            ]
        );
        let b = &records[1];
        assert_eq!(b.sku, "B");
        assert_eq!(b.price, dec("0.1"));
        assert!(b.active);
        assert_eq!(b.currency, None);
        assert_eq!(b.sale_price, Some(dec("0.1")));
        assert_eq!(b.price_tiers.len(), 1);
    }

    #[test]
    fn json_object_with_one_array_is_unwrapped() {
        let export = export(
            "items.json",
            r#"{"@odata.context": "x", "@odata.count": 1, "value": [{"sku": "A", "price": 1, "stock": 2}]}"#,
        );
        assert_eq!(export.records()[0].sku, "A");
    }

    #[test]
    fn json_shapes_that_are_not_an_export() {
        let ambiguous = export("items.json", r#"{"items": [], "links": []}"#);
        let message = ambiguous.format_error();
        assert!(message.contains("`items`, `links`"), "{message}");
        assert!(message.contains("ambiguous"), "{message}");

        let no_array = export("items.json", r#"{"items": {"sku": "A"}}"#);
        assert!(no_array.format_error().contains("no array of records"));

        let scalar = export("items.json", "42");
        assert!(scalar.format_error().contains("the top level is a number"));

        let syntax = export("items.json", r#"[{"sku": "A",}]"#);
        assert!(syntax.format_error().starts_with("is not valid JSON"));

        let lines = export("items.json", "{\"sku\": \"A\"}\n{\"sku\": \"B\"}\n");
        assert!(lines.format_error().contains("format = \"jsonl\""));

        let not_objects = export("items.json", r#"[["A", 1, 2]]"#);
        assert_eq!(
            messages(&not_objects.problems()),
            [(1, "is an array, not a JSON object")]
        );
    }

    #[test]
    fn json_lines_one_object_per_line() {
        let export = export(
            "items.ndjson",
            "\u{feff}{\"sku\": \"A\", \"price\": 12345678.12, \"stock\": 1}\r\n\
             \r\n\
             {\"sku\": \"B\", \"price\": \"2\", \"stock\": 2}\n\
             {\"sku\": \"C\", \"price\": 3, \"stock\": 3}",
        );
        let records = export.records();
        let skus: Vec<&str> = records.iter().map(|r| r.sku.as_str()).collect();
        assert_eq!(skus, ["A", "B", "C"]);
        assert_eq!(records[0].price.to_string(), "12345678.12");
    }

    #[test]
    fn json_lines_bad_lines_are_row_problems() {
        let export = export(
            "items.jsonl",
            "{\"sku\": \"A\", \"price\": 1, \"stock\": 1}\n\n{\"sku\": \"B\", \"price\": 1,\n[1]\n\
             {\"sku\": \"D\", \"price\": 1, \"stock\": 1.5}\n",
        );
        let problems = export.problems();
        assert_eq!(problems.len(), 3);
        assert_eq!((problems[0].row, problems[0].line), (2, Some(3)));
        assert!(
            problems[0].message.starts_with("is not valid JSON: "),
            "{}",
            problems[0].message
        );
        assert!(problems[0].message.contains("(column "));
        assert_eq!((problems[1].row, problems[1].line), (3, Some(4)));
        assert_eq!(problems[1].message, "is an array, not a JSON object");
        assert_eq!(problems[2].sku.as_deref(), Some("D"));
        assert_eq!(problems[2].message, "stock `1.5` is not a whole number");
    }

    #[test]
    fn mapping_renames_columns() {
        let mut export = export(
            "export.csv",
            "Artikelnummer;Verkoopprijs;Voorraad;EAN;price\nA;12,50;4;871-234;999\n",
        )
        .map("sku", "Artikelnummer")
        .map("price", "Verkoopprijs")
        .map("stock", "Voorraad")
        .map("gtin", "EAN");
        export.config.delimiter = Some(';');
        export.config.decimal_comma = true;
        let records = export.records();
        assert_eq!(records[0].sku, "A");
        assert_eq!(records[0].price, dec("12.50"));
        assert_eq!(records[0].gtin.as_deref(), Some("871234"));

        export.config.decimal_comma = false;
        let problems = export.problems();
        assert!(
            problems[0]
                .message
                .starts_with("price (column `Verkoopprijs`) `12,50` is not a decimal number"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn mapping_renames_json_keys() {
        let export = export(
            "items.json",
            r#"{"data": [{"itemNo": "A", "unitPrice": 2.5, "inventory": 7}]}"#,
        )
        .map("sku", "itemNo")
        .map("price", "unitPrice")
        .map("stock", "inventory");
        let records = export.records();
        assert_eq!(
            (records[0].sku.as_str(), records[0].price, records[0].stock),
            ("A", dec("2.5"), 7)
        );
    }

    #[test]
    fn mapping_errors_are_format_errors() {
        let unknown = export("items.csv", "sku,price,stock\nA,1,1\n").map("prize", "Prijs");
        let message = unknown.format_error();
        assert!(
            message.contains("unknown record field `prize` (did you mean `price`?)"),
            "{message}"
        );
        assert!(message.contains("sku, price, stock, currency"), "{message}");

        let missing_column = export("items.csv", "sku,price,stock\nA,1,1\n").map("mpn", "MPN");
        let message = missing_column.format_error();
        assert!(
            message.starts_with("no column `MPN` (mapped from `mpn` in `[erp.mapping]`)"),
            "{message}"
        );
    }

    #[test]
    fn price_tiers_in_every_form() {
        let export = export(
            "items.csv",
            "sku,price,stock,price_tiers\n\
             A,10,1,50:8 | 10:9 |\n\
             B,10,1,\n\
             C,10,1,10:9|10:8\n\
             D,10,1,10-9\n\
             E,10,1,0:9|5:x\n",
        );
        let problems = export.problems();
        assert_eq!(
            messages(&problems),
            [
                (3, "price_tiers has more than one tier for min_qty 10"),
                (
                    4,
                    "price_tiers `10-9`: `10-9` is not `min_qty:price` (tiers are written like \
                     `10:139.95|50:129.95`)"
                ),
                (5, "price_tiers `0:9|5:x`: min_qty `0` must be at least 1"),
                (
                    5,
                    "price_tiers `0:9|5:x`: price `x` is not a decimal number"
                ),
            ]
        );

        let good = export_tiers_ok();
        assert_eq!(good[0].price_tiers[0].min_qty, 10);
        assert_eq!(good[0].price_tiers[1].price, dec("8"));
        assert!(good[1].price_tiers.is_empty());
    }

    fn export_tiers_ok() -> Vec<ErpRecord> {
        export(
            "items.csv",
            "sku,price,stock,price_tiers\nA,10,1,50:8 | 10:9 |\nB,10,1,\n",
        )
        .records()
    }

    #[test]
    fn json_price_tiers_problems() {
        let export = export(
            "items.json",
            r#"[{"sku": "A", "price": 1, "stock": 1,
                 "price_tiers": [{"min_qty": 10}, 5, {"min_qty": 2.5, "price": -1}]},
                {"sku": "B", "price": 1, "stock": 1, "price_tiers": 12}]"#,
        );
        assert_eq!(
            messages(&export.problems()),
            [
                (1, "price_tiers item 1 has no `price`"),
                (
                    1,
                    "price_tiers item 2 is a number, not an object with `min_qty` and `price`"
                ),
                (1, "price_tiers item 3 min_qty `2.5` is not a whole number"),
                (1, "price_tiers item 3 price `-1` is negative"),
                (
                    2,
                    "price_tiers must be a list of tiers such as `10:139.95|50:129.95`, not `12`"
                ),
            ]
        );
    }

    #[test]
    fn every_bad_row_is_reported_together() {
        let export = export(
            "items.csv",
            "sku,price,stock,currency,sale_price,pack_size,active,weight\n\
             OK-1,1,1,,,,,\n\
             A,\"12,5x\",-3,eur,-0.5,0,maybe,-1\n\
             ,5,12.0,,,,,\n\
             C,,,,,,,\n\
             D,1,99999999999999999999,,,4294967296,,\n\
             E,1,1,,,,,,shifted\n\
             F,1e3,+4,USD,,,,\n\
             OK-2,-0,0,,,,,\n",
        );
        let problems = export.problems();
        assert_eq!(
            messages(&problems),
            [
                (2, "price `12,5x` is not a decimal number"),
                // A negative stock is a backorder: counted as 0, with a warning.
                (
                    2,
                    "currency `eur` is not a currency code (three capital letters, such as EUR)"
                ),
                (2, "sale_price `-0.5` is negative"),
                (2, "weight `-1` is negative"),
                (2, "pack_size `0` must be at least 1"),
                (
                    2,
                    "active `maybe` is not a yes/no value (true/false, yes/no, y/n, 1/0, ja/nee)"
                ),
                (3, "sku is missing"),
                (3, "stock `12.0` is not a whole number"),
                (4, "price is missing"),
                (4, "stock is missing"),
                (5, "stock `99999999999999999999` is too large"),
                (5, "pack_size `4294967296` is too large"),
                (
                    6,
                    "has 9 values but the header has 8 columns; a value that contains the \
                     delimiter must be quoted"
                ),
                (7, "price `1e3` is not a decimal number"),
            ]
        );
        assert_eq!(problems[0].sku.as_deref(), Some("A"));
        assert_eq!(problems[0].line, Some(3));
        assert_eq!(problems[6].sku, None);
        assert_eq!(problems[12].sku.as_deref(), Some("E"));

        let display = export.load().unwrap_err().to_string();
        let lines: Vec<&str> = display.lines().collect();
        assert_eq!(lines.len(), problems.len() + 1);
        assert!(
            lines[0].ends_with("items.csv has 14 problems:"),
            "{}",
            lines[0]
        );
        assert_eq!(
            lines[1],
            "  row 2, line 3, SKU `A`: price `12,5x` is not a decimal number"
        );
        assert_eq!(lines[7], "  row 3, line 4: sku is missing");
    }

    #[test]
    fn invalid_utf8_is_a_row_problem() {
        let export = export("items.csv", b"sku,price,stock\nA,1,1\nB\xff,1,1\nC,x,1\n");
        assert_eq!(
            messages(&export.problems()),
            [
                (
                    2,
                    "column `sku` is not valid UTF-8 text; export the file as UTF-8"
                ),
                (3, "price `x` is not a decimal number"),
            ]
        );
    }

    #[test]
    fn duplicate_skus_name_both_rows() {
        let export = export(
            "items.csv",
            "sku,price,stock\nX,1,1\nY,1,1\nZ,bad,1\nX,2,2\nZ,1,1\nX,3,3\n",
        );
        let problems = export.problems();
        assert_eq!(
            messages(&problems),
            [
                (3, "price `bad` is not a decimal number"),
                (4, "SKU `X` also on row 1"),
                (5, "SKU `Z` also on row 3"),
                (6, "SKU `X` also on row 1"),
            ]
        );
        assert_eq!(problems[1].line, Some(5));
        assert_eq!(problems[1].sku.as_deref(), Some("X"));
    }

    #[test]
    fn duplicate_skus_in_json() {
        let export = export(
            "items.json",
            r#"[{"sku": "X", "price": 1, "stock": 1}, {"sku": "X", "price": 1, "stock": 1}]"#,
        );
        let problems = export.problems();
        assert_eq!(messages(&problems), [(2, "SKU `X` also on row 1")]);
        assert_eq!(problems[0].line, None);
    }

    #[test]
    fn missing_required_columns_are_format_errors() {
        let message = export("items.csv", "sku,price\nA,1\n").format_error();
        assert!(
            message.starts_with("no column `stock`, which is required"),
            "{message}"
        );
        assert!(
            message.contains("the header row has `sku`, `price`"),
            "{message}"
        );

        let headerless = export("items.csv", "A,1,2\nB,3,4\n").format_error();
        assert!(headerless.contains("no column `sku`"), "{headerless}");
        assert!(headerless.contains("no column `price`"), "{headerless}");
        assert!(
            headerless.ends_with("the first line must be a header row naming the columns"),
            "{headerless}"
        );

        let wrong_delimiter = export("items.csv", "sku;price;stock\nA;1;2\n").format_error();
        assert!(
            wrong_delimiter.contains("is the delimiter `;`? set `delimiter`"),
            "{wrong_delimiter}"
        );

        let empty = export("items.csv", "").format_error();
        assert!(empty.contains("expected a header row"), "{empty}");

        let twice = export("items.csv", "sku,price,stock,sku\nA,1,1,B\n").format_error();
        assert!(
            twice.contains("column `sku` appears more than once"),
            "{twice}"
        );

        let json = export("items.json", r#"[{"sku": "A", "stock": 1}]"#).format_error();
        assert!(
            json.starts_with("no record has the required key `price`"),
            "{json}"
        );

        let header_only = export("items.csv", "sku,price,stock\n");
        assert!(header_only.records().is_empty());
    }

    #[test]
    fn decimals_are_exact() {
        let csv = export(
            "items.csv",
            "sku,price,stock,sale_price\nA,0.1,1,0.2\nB,19.99,1,\nC,12345678.12,1,\n\
             D,79228162514264337593543950335,1,\nE,0.0000000000000000000000000001,1,\n",
        );
        let records = csv.records();
        assert_eq!(
            records[0].price + records[0].sale_price.unwrap(),
            dec("0.3")
        );
        let prices: Vec<String> = records.iter().map(|r| r.price.to_string()).collect();
        assert_eq!(
            prices,
            [
                "0.1",
                "19.99",
                "12345678.12",
                "79228162514264337593543950335",
                "0.0000000000000000000000000001"
            ]
        );

        let json = export(
            "items.json",
            r#"[{"sku": "A", "price": 0.1, "stock": 1},
                {"sku": "B", "price": 19.99, "stock": 1},
                {"sku": "C", "price": 12345678.12, "stock": 1},
                {"sku": "D", "price": 1234567890123456789.123456789, "stock": 1},
                {"sku": "E", "price": 1.5E+2, "stock": 1}]"#,
        );
        let prices: Vec<String> = json.records().iter().map(|r| r.price.to_string()).collect();
        assert_eq!(
            prices,
            [
                "0.1",
                "19.99",
                "12345678.12",
                "1234567890123456789.123456789",
                "150"
            ]
        );

        let too_big = export(
            "items.csv",
            "sku,price,stock\nA,79228162514264337593543950336,1\n",
        );
        assert_eq!(
            messages(&too_big.problems()),
            [(
                1,
                "price `79228162514264337593543950336` has too many digits for a decimal number"
            )]
        );
    }

    #[test]
    fn active_accepts_the_usual_spellings() {
        let export = export(
            "items.csv",
            "sku,price,stock,active\nA,1,1,TRUE\nB,1,1,No\nC,1,1,y\nD,1,1,0\nE,1,1,Ja\nF,1,1,NEE\n",
        );
        let active: Vec<bool> = export.records().iter().map(|r| r.active).collect();
        assert_eq!(active, [true, false, true, false, true, false]);
    }

    #[test]
    fn format_comes_from_config_or_extension() {
        let mut export = export("items.txt", "sku,price,stock\nA,1,1\n");
        let message = export.format_error();
        assert!(message.contains("set `format = \"csv\"`"), "{message}");
        export.config.format = Some(ErpFileFormat::Csv);
        assert_eq!(export.records().len(), 1);

        let upper = self::export("ITEMS.JSON", r#"[{"sku": "A", "price": 1, "stock": 1}]"#);
        assert_eq!(upper.records().len(), 1);
    }

    #[test]
    fn bad_delimiter_is_a_format_error() {
        let mut export = export("items.csv", "sku,price,stock\nA,1,1\n");
        export.config.delimiter = Some('€');
        assert!(export.format_error().contains("single ASCII character"));
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let export = export("items.csv", "");
        let config = ErpFileConfig {
            path: "erp/nope.csv".into(),
            ..export.config.clone()
        };
        let err = load(&config, export.dir.path()).unwrap_err();
        assert!(matches!(err, ErpFileError::Io { .. }), "{err:?}");
        assert!(err.to_string().starts_with("cannot read ERP export "));
        assert!(err.path().ends_with("erp/nope.csv"));
    }
}
