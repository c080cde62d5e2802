//! Checking ERP records, whichever source they come from: the file source's readers and the
//! HTTP source hand each row here, under the record's field names or the mapped ones.
//!
//! Every bad row is collected with where it came from (its row, and line when the source has
//! lines) and its SKU, so a whole export or pull is reported at once and used all or nothing.
//! Numbers never pass through `f64`: money must survive the round trip digit for digit, so
//! CSV cells are scanned as text and JSON numbers are read from their literal (serde_json's
//! `arbitrary_precision` keeps it).

mod values;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

pub(crate) use values::{Cell, Parser};

use super::{ERP_FIELDS, ErpRecord};

/// Records that passed, and what is worth a warning about rows that were taken as they are
/// meant (a negative stock, which ERPs report for backorders, counts as 0 available).
#[derive(Debug, Default)]
pub struct Checked {
    pub records: Vec<ErpRecord>,
    pub warnings: Vec<RowProblem>,
}

/// Checks records another source has already put under the record's field names (the HTTP
/// source, after its field mapping) by the same rules as an export, so every bad record is
/// reported by its number, all or nothing. `source` names where they came from (the API's
/// URL).
pub fn check_records(items: &[Value], source: &str) -> Result<Vec<ErpRecord>, RecordsError> {
    check_records_with_warnings(items, source).map(|checked| checked.records)
}

/// [`check_records`], with the warnings about its records.
pub fn check_records_with_warnings(items: &[Value], source: &str) -> Result<Checked, RecordsError> {
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
    let mut rows = Collector {
        noun: RowNoun::Record,
        ..Collector::default()
    };
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
    rows.finish(PathBuf::from(source)).map_err(|err| match err {
        ErpFileError::Rows { problems, .. } => RecordsError {
            url: source.to_string(),
            problems,
        },
        ErpFileError::Io { .. } | ErpFileError::Format { .. } => {
            unreachable!("checking records reads no file")
        }
    })
}

/// Every bad record of an API pull, named by the API's URL and the record's number.
#[derive(Debug, thiserror::Error)]
#[error("{}", problems_message(&format!("ERP source {url}"), problems))]
pub struct RecordsError {
    /// The API's URL.
    pub url: String,
    pub problems: Vec<RowProblem>,
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
    problems_message(&format!("ERP export {}", path.display()), problems)
}

/// `{source} has N problems:` and every problem on its line.
fn problems_message(source: &str, problems: &[RowProblem]) -> String {
    use fmt::Write as _;
    let mut out = format!(
        "{source} has {}:",
        crate::wording::count(problems.len(), "problem")
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
    /// What the source calls its rows.
    #[serde(skip)]
    pub noun: RowNoun,
}

/// What a source's rows are called in messages: rows of an export, records of an API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RowNoun {
    #[default]
    Row,
    Record,
}

impl RowNoun {
    fn word(self) -> &'static str {
        match self {
            RowNoun::Row => "row",
            RowNoun::Record => "record",
        }
    }
}

impl RowProblem {
    /// This problem as a warning about `file` (the export, or the API's url), at its line.
    pub fn warning(&self, code: &'static str, file: &Path) -> crate::diagnostics::Diagnostic {
        self.error(code, file).warning()
    }

    /// This problem as an error about `file` (the export, or the API's url), at its line.
    pub fn error(&self, code: &'static str, file: &Path) -> crate::diagnostics::Diagnostic {
        let mut diagnostic =
            crate::diagnostics::Diagnostic::file_error(code, file, self.to_string());
        diagnostic.line = self.line.unwrap_or(0);
        diagnostic.column = usize::from(self.line.is_some());
        diagnostic
    }
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.noun.word(), self.row)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(sku) = &self.sku {
            write!(f, ", SKU `{sku}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

pub(crate) const FIELD_COUNT: usize = 15;

/// The record's fields in [`ERP_FIELDS`] order, so a field doubles as an index into per-field
/// arrays (column indexes, key names) without hashing per cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
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

pub(crate) const FIELDS: [Field; FIELD_COUNT] = [
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
    pub(crate) fn name(self) -> &'static str {
        ERP_FIELDS[self as usize]
    }

    pub(crate) fn required(self) -> bool {
        matches!(self, Field::Sku | Field::Price | Field::Stock)
    }
}

pub(crate) type Keys<'m> = [&'m str; FIELD_COUNT];

/// Where a row came from, for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    pub(crate) row: usize,
    pub(crate) line: Option<usize>,
}

pub(crate) fn json_record(
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
pub(crate) struct Seen {
    objects: bool,
    keys: [bool; FIELD_COUNT],
    /// A required key found only in another case.
    other_case: [Option<String>; FIELD_COUNT],
}

impl Seen {
    pub(crate) fn check(&self, parser: &Parser<'_>) -> Result<(), MissingKeys> {
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
            Err(MissingKeys(missing))
        }
    }
}

/// Required keys no record of a JSON export has, each as the export names it.
#[derive(Debug, thiserror::Error)]
#[error(
    "no record has the required key {}; name the keys so or map them in `[erp.mapping]`",
    .0.join(", ")
)]
pub(crate) struct MissingKeys(Vec<String>);

pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[derive(Default)]
pub(crate) struct Collector {
    records: Vec<ErpRecord>,
    /// Parallel to `records`: rows with problems leave gaps, so the index is not the row.
    origins: Vec<Origin>,
    /// SKUs of rows that failed otherwise, so a duplicate of a bad row is still reported.
    failed_skus: Vec<(String, Origin)>,
    problems: Vec<RowProblem>,
    warnings: Vec<RowProblem>,
    /// Reused across rows; a good row allocates nothing here.
    messages: Vec<String>,
    /// What the source calls its rows.
    noun: RowNoun,
}

impl Collector {
    /// An empty collector for a later part of the same export, read beside this one (see
    /// [`Self::append_part`]).
    pub(crate) fn for_another_part(&self) -> Collector {
        Collector {
            noun: self.noun,
            ..Collector::default()
        }
    }

    /// Adds what `part` collected from the rows that follow this collector's, which it
    /// numbered from 1: they are numbered on after this collector's `rows_before` rows.
    pub(crate) fn append_part(&mut self, mut part: Collector, rows_before: usize) {
        let origins = part
            .origins
            .iter_mut()
            .chain(part.failed_skus.iter_mut().map(|(_, origin)| origin));
        for origin in origins {
            origin.row += rows_before;
        }
        for problem in part.problems.iter_mut().chain(&mut part.warnings) {
            problem.row += rows_before;
        }
        self.records.append(&mut part.records);
        self.origins.append(&mut part.origins);
        self.failed_skus.append(&mut part.failed_skus);
        self.problems.append(&mut part.problems);
        self.warnings.append(&mut part.warnings);
    }

    pub(crate) fn row(
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
                        noun: self.noun,
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
                noun: self.noun,
            });
        }
        if let Some(sku) = sku {
            self.failed_skus.push((sku, origin));
        }
    }

    pub(crate) fn finish(mut self, path: PathBuf) -> Result<Checked, ErpFileError> {
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
        let mut first: HashMap<&str, usize, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(
                self.records.len() + self.failed_skus.len(),
                Default::default(),
            );
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
                    message: format!("SKU `{sku}` also on {} {}", self.noun.word(), entry.get()),
                    noun: self.noun,
                }),
                Entry::Vacant(entry) => {
                    entry.insert(origin.row);
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
