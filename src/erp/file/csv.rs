//! Reading a CSV export: one row per record under a header row that names the columns.

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

/// Reads the export's rows into `rows`, each with its line in the file. An export of a
/// megabyte or more with no quote character in it is read as two parts on two cores (see
/// [`split_point`]): the rows, their numbers and lines, and every problem come out as they
/// would from one pass.
pub(crate) fn read_csv(
    path: &Path,
    delimiter: u8,
    parser: &Parser<'_>,
    rows: &mut Collector,
) -> Result<(), ErpFileError> {
    let bytes = std::fs::read(path).map_err(|source| ErpFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let export = Export {
        path,
        bytes: &bytes,
        delimiter,
        parser,
    };
    let Some(at) = split_point(&bytes, SPLIT_MIN_BYTES) else {
        return export.read_rows(rows, 0..bytes.len()).map(|_| ());
    };
    let mut rest = rows.for_another_part();
    let (first, second) = rayon::join(
        || export.read_rows(rows, 0..at),
        || export.read_rows(&mut rest, at..bytes.len()),
    );
    // What one pass would have stopped at first.
    let rows_before = first?;
    second?;
    rows.append_part(rest, rows_before);
    Ok(())
}

/// An export smaller than this is read on one core: it takes a few milliseconds at most.
const SPLIT_MIN_BYTES: usize = 1 << 20;

/// Where to cut the export in two, if it is worth it and safe: the start of the first line
/// after its middle. Without a quote character no cell can hold a line break, so every line
/// break ends a row and a reader may start after any of them; an export with quotes is read
/// in one pass.
fn split_point(bytes: &[u8], split_min_bytes: usize) -> Option<usize> {
    if bytes.len() < split_min_bytes || bytes.contains(&b'"') {
        return None;
    }
    let middle = bytes.len() / 2;
    let newline = bytes[middle..].iter().position(|&byte| byte == b'\n')?;
    let at = middle + newline + 1;
    // A cut at the very end leaves the second reader nothing.
    (at < bytes.len()).then_some(at)
}

/// Whether the export at `path` is large enough, and safe, to read in two parts.
#[cfg(test)]
pub(super) fn splits(path: &Path) -> bool {
    split_point(&std::fs::read(path).unwrap(), SPLIT_MIN_BYTES).is_some()
}

fn newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&byte| byte == b'\n').count()
}

/// An export's bytes, and how to read them.
struct Export<'e> {
    path: &'e Path,
    bytes: &'e [u8],
    delimiter: u8,
    parser: &'e Parser<'e>,
}

/// Counts the lines of an export up to each row, front to back, so that every row's line is
/// the line its first cell is on. The `csv` reader's own positions are not: it places a row
/// at the line break before it when that break is the `\n` of a `\r\n` or a blank line, so a
/// spreadsheet's CRLF export had every row one line early.
pub(crate) struct LineCounter<'b> {
    bytes: &'b [u8],
    counted_to: usize,
    breaks: usize,
}

impl<'b> LineCounter<'b> {
    pub(crate) fn new(bytes: &'b [u8]) -> LineCounter<'b> {
        LineCounter {
            bytes,
            counted_to: 0,
            breaks: 0,
        }
    }

    /// The line (from 1) of the row the reader placed at byte `at`; rows are asked about in
    /// the order of the file.
    pub(crate) fn line_at(&mut self, at: usize) -> usize {
        let mut start = at.max(self.counted_to).min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        self.breaks += newlines(&self.bytes[self.counted_to..start]);
        self.counted_to = start;
        self.breaks + 1
    }
}

impl Export<'_> {
    fn format_error(&self, message: String) -> ErpFileError {
        ErpFileError::Format {
            path: self.path.to_path_buf(),
            message,
        }
    }

    fn reader<'b>(&self, bytes: &'b [u8], has_headers: bool) -> csv::Reader<&'b [u8]> {
        // Trimming is done per cell with `str::trim` rather than `csv::Trim`: the crate's
        // trimming rebuilds the record on every row, which would undo the record reuse below.
        csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(has_headers)
            .flexible(true)
            .from_reader(bytes)
    }

    /// The header row, and where each field's column is in it.
    fn header(&self) -> Result<(csv::StringRecord, [Option<usize>; FIELD_COUNT]), ErpFileError> {
        let header = match self.reader(self.bytes, true).headers() {
            Ok(header) => header.clone(),
            Err(err) => {
                return Err(match err.into_kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        self.format_error("the header row is not valid UTF-8 text".to_string())
                    }
                    other => self.format_error(format!("cannot read the header row: {other:?}")),
                });
            }
        };
        let columns =
            csv_columns(&header, self.delimiter, self.parser).map_err(|m| self.format_error(m))?;
        Ok((header, columns))
    }

    /// Reads the rows in `part` of the bytes into `rows`, numbering them from 1; how many
    /// rows it read, blank ones included. A part from the start begins with the header row;
    /// a part from a split begins at a row, under the header read from the start.
    fn read_rows(
        &self,
        rows: &mut Collector,
        part: std::ops::Range<usize>,
    ) -> Result<usize, ErpFileError> {
        let (header, columns) = self.header()?;
        let width = header.len();
        let from = part.start;
        let mut reader = self.reader(&self.bytes[part], from == 0);
        let mut lines = LineCounter::new(self.bytes);
        let mut line_of = |position: Option<&csv::Position>| {
            position.map(|position| lines.line_at(from + position.byte() as usize))
        };
        let parser = self.parser;
        let mut record = csv::StringRecord::new();
        let mut row = 0;
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    row += 1;
                    let origin = Origin {
                        row,
                        line: line_of(record.position()),
                    };
                    // Spreadsheet exports often end in rows of bare delimiters; they carry
                    // nothing.
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
                                "has {} values but the header has {width} columns; a value \
                                 that contains the delimiter must be quoted",
                                record.len()
                            ));
                            let sku = parser.text(Field::Sku, cell(Field::Sku), &mut Vec::new());
                            return Err(sku.ok().flatten().map(str::to_owned));
                        }
                        parser.record(cell, messages)
                    });
                }
                Err(err) => {
                    let line = line_of(err.position());
                    match err.into_kind() {
                        csv::ErrorKind::Utf8 { err, .. } => {
                            row += 1;
                            rows.row(Origin { row, line }, |messages| {
                                let column = header.get(err.field()).unwrap_or("?").trim();
                                messages.push(format!(
                                    "column `{column}` is not valid UTF-8 text; export the \
                                     file as UTF-8"
                                ));
                                Err(None)
                            });
                        }
                        other => {
                            return Err(self.format_error(format!("cannot read row: {other:?}")));
                        }
                    }
                }
            }
        }
        Ok(row)
    }
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
