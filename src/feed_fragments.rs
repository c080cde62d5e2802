//! Checking a feed that was built by splicing, by its pieces: its header and footer, each item
//! written anew, and the items at each seam, rather than every byte of it.
//!
//! A build from the cache copies runs of unchanged items from the last build's feed as byte
//! ranges (see `render::writer`). Parsing the new file whole would read those bytes again
//! only to learn what the last build already proved. The pieces suffice because of what
//! every item of a feed is, on its own, in each format; call that "whole":
//!
//! - XML: a run of content that opens no element it does not close and closes none it did not
//!   open, ending outside any tag, comment or CDATA section. The header must end inside the
//!   root element, outside markup, and header + footer must be one well-formed document.
//!   Whole items put next to each other are whole, and a whole run dropped between that
//!   header and footer sits at the depth where the empty document had nothing: the result is
//!   well-formed. (References are checked per item: only the five predefined entities exist,
//!   so no item depends on a declaration elsewhere.)
//! - JSON: one complete value. The header must end, outside any string, with the `[` that
//!   opens the item array, and header + `0` + footer must parse: items joined by the
//!   separator `,` then form the array's elements, whatever values they are.
//! - JSON Lines: exactly one line, ending in a newline, holding one JSON value. The header
//!   and the footer must be whole lines of JSON themselves.
//! - CSV: whole rows (no quoted cell left open), each with the header's number of cells,
//!   ending in a newline. The header must be one or more such rows, the footer empty.
//!
//! Whether an item is whole is checked when it is written into a feed built from the cache
//! ([`ItemCheck::item`]), and is true by construction for items the pipeline renders itself
//! (the presets' own writers and built-in templates, custom CSV columns: values are escaped
//! or quoted by the format's writer). Items of a template of the user's are not whole by
//! construction (a template may open an element in one item and close it in the next), so
//! such a feed's items are spliced only from a file whose every item was checked. The build
//! cache records that per feed file, with the file's stamp; a run is spliced only from a file
//! whose stamp still matches, and the stamp is checked again before the new file is trusted,
//! so the spliced bytes are the ones the last build parsed. The items at each seam are parsed
//! again from the new file, which catches a splice that landed in the wrong place.

mod behind;
mod chunks;

pub use behind::{ParseBehind, ParsedBehind};
pub use chunks::{ChunkCuts, ChunkCutter, passes_by_chunks, verify_in_chunks};

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::ChannelFormat;
use crate::output::{self, FileStats, VerifyError, XmlPiece};

/// What identifies a published feed file without reading it: its size, modification time and
/// inode, and the time its inode last changed, which the kernel sets on every write and no tool
/// can set back (a hand edit that restores the size and modification time still shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedStamp {
    len: u64,
    modified_ns: i64,
    inode: u64,
    changed_ns: i64,
}

impl FeedStamp {
    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.len
    }

    #[cfg(unix)]
    pub fn of(path: &Path) -> std::io::Result<FeedStamp> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path)?;
        Ok(FeedStamp {
            len: metadata.len(),
            modified_ns: metadata.mtime() * 1_000_000_000 + metadata.mtime_nsec(),
            inode: metadata.ino(),
            changed_ns: metadata.ctime() * 1_000_000_000 + metadata.ctime_nsec(),
        })
    }

    /// Where files have no inode or change time: the length and modification time.
    #[cfg(not(unix))]
    pub fn of(path: &Path) -> std::io::Result<FeedStamp> {
        let metadata = std::fs::metadata(path)?;
        let modified = metadata.modified()?;
        let since_epoch = modified
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ok(FeedStamp {
            len: metadata.len(),
            modified_ns: i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX),
            inode: 0,
            changed_ns: 0,
        })
    }
}

/// A feed file of the last build that items are spliced from, and how to tell it is still
/// the file the build cache describes.
#[derive(Debug, Clone)]
pub struct SpliceSource {
    pub path: PathBuf,
    stamp: FeedStamp,
}

impl SpliceSource {
    pub fn new(path: PathBuf, stamp: FeedStamp) -> Self {
        SpliceSource { path, stamp }
    }

    /// Whether the file is still the one that build verified and published.
    pub fn unchanged(&self) -> bool {
        FeedStamp::of(&self.path).is_ok_and(|now| now == self.stamp)
    }
}

/// What a feed file built by splicing needs checked, besides its hash.
#[derive(Debug, Clone, Default)]
pub struct SplicePlan {
    /// Where the header ends and the footer starts.
    pub header_end: u64,
    pub footer_start: u64,
    /// The first and last item of every spliced run, as (offset, length) in the new file.
    pub seam_items: Vec<(u64, u32)>,
    /// The last build's files the runs came from.
    pub sources: Vec<SpliceSource>,
}

impl SplicePlan {
    /// Notes a spliced run: its first and last item, and the file it came from.
    pub fn add_run(&mut self, first: (u64, u32), last: (u64, u32), source: &SpliceSource) {
        self.seam_items.push(first);
        if last != first {
            self.seam_items.push(last);
        }
        if !self.sources.iter().any(|known| known.path == source.path) {
            self.sources.push(source.clone());
        }
    }

    /// Whether every file a run came from is still the one the last build published.
    pub fn sources_unchanged(&self) -> bool {
        self.sources.iter().all(SpliceSource::unchanged)
    }
}

/// Whether items joined by `separator` fit the reasoning above for `format`.
pub fn separator_fits(format: ChannelFormat, separator: &[u8]) -> bool {
    match format {
        ChannelFormat::Json => separator == b",",
        ChannelFormat::Xml | ChannelFormat::Csv | ChannelFormat::Jsonl => separator.is_empty(),
    }
}

/// Checks one item of a feed on its own.
#[derive(Debug, Clone, Copy)]
pub struct ItemCheck {
    format: ChannelFormat,
    /// A CSV feed's number of columns, from its header.
    columns: usize,
}

impl ItemCheck {
    /// The check for items of a file that starts with `header`: `None` when the header does
    /// not fit the reasoning above (the file is then parsed whole).
    pub fn after_header(format: ChannelFormat, header: &[u8]) -> Option<ItemCheck> {
        let columns = match format {
            ChannelFormat::Csv => {
                let mut csv = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(header);
                let columns = csv.headers().ok()?.len();
                if !strict_csv_rows(header, columns) {
                    return None;
                }
                columns
            }
            _ => 0,
        };
        Some(ItemCheck { format, columns })
    }

    /// Whether `bytes`, one item as written, is whole (see the module's comment).
    pub fn item(&self, bytes: &[u8]) -> Result<(), String> {
        match self.format {
            ChannelFormat::Xml => match output::walk_xml(bytes, XmlPiece::Content)? {
                (0, _) => Ok(()),
                _ => Err("not well-formed XML: the item leaves an element open".into()),
            },
            ChannelFormat::Json => output::verify_json(bytes),
            ChannelFormat::Jsonl => {
                let line = bytes
                    .strip_suffix(b"\n")
                    .ok_or("not valid JSON Lines: the item does not end its line")?;
                if line.contains(&b'\n') {
                    return Err("not valid JSON Lines: the item is more than one line".into());
                }
                output::verify_json(line.strip_suffix(b"\r").unwrap_or(line))
            }
            ChannelFormat::Csv => self.csv_rows(bytes),
        }
    }

    /// Complete CSV rows, each with the header's number of cells (see [`strict_csv_rows`]).
    fn csv_rows(&self, bytes: &[u8]) -> Result<(), String> {
        if strict_csv_rows(bytes, self.columns) {
            Ok(())
        } else {
            Err(format!(
                "not valid CSV: the item is not whole rows of {} plain or quoted cells",
                self.columns
            ))
        }
    }
}

/// Whether `bytes` is complete CSV rows of `columns` cells each, every cell either plain (no
/// quote, no line break) or quoted with its quotes doubled, every row ending in `\n`. That is
/// stricter than a CSV reader, so rows that pass read the same, one by one, whatever whole rows
/// come before them; anything else is left to the reader of the whole file. (Counting quotes
/// is not enough: to a reader, a quote inside a plain cell is a literal, so `a"b,"c` leaves a
/// quoted cell open though its quotes pair up.) Read byte by byte, quoted cells jumped over to
/// their next quote, rather than with the `csv` crate, whose reader costs more to set up than
/// one row to read.
fn strict_csv_rows(bytes: &[u8], columns: usize) -> bool {
    #[derive(PartialEq)]
    enum Cell {
        Start,
        Plain,
        /// A quote inside a quoted cell: its end, or the first of a doubled quote.
        QuoteInQuoted,
    }
    let mut cell = Cell::Start;
    let mut cells = 1;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        cell = match (cell, byte) {
            // A quote opens a quoted cell, or, doubled, goes on with it; only the next quote
            // ends what follows. Descriptions make these cells the long ones: jump to it.
            (Cell::Start | Cell::QuoteInQuoted, b'"') => {
                let Some(quote) = memchr::memchr(b'"', &bytes[at..]) else {
                    return false;
                };
                at += quote + 1;
                Cell::QuoteInQuoted
            }
            (_, b'"' | b'\r') => return false,
            (_, b',') => {
                cells += 1;
                Cell::Start
            }
            (_, b'\n') => {
                if cells != columns {
                    return false;
                }
                cells = 1;
                Cell::Start
            }
            (Cell::QuoteInQuoted, _) => return false,
            (Cell::Start | Cell::Plain, _) => Cell::Plain,
        };
    }
    cell == Cell::Start && cells == 1 && bytes.ends_with(b"\n")
}

/// Checks that the header and footer frame whole items as the module's comment says.
fn check_envelope(
    format: ChannelFormat,
    header: &[u8],
    footer: &[u8],
) -> Result<ItemCheck, String> {
    let whole = |middle: &[u8]| [header, middle, footer].concat();
    match format {
        ChannelFormat::Xml => {
            let (depth, _) = output::walk_xml(header, XmlPiece::Content)?;
            if depth == 0 {
                return Err("the header does not open the root element".into());
            }
            output::verify_xml(&whole(b""))?;
        }
        ChannelFormat::Json => {
            if !json_opens_array(header) {
                return Err("the header does not end by opening the item array".into());
            }
            output::verify_json(&whole(b"0"))?;
        }
        ChannelFormat::Jsonl => {
            if !(header.is_empty() || header.ends_with(b"\n")) {
                return Err("the header does not end its line".into());
            }
            output::verify_json_lines(header)?;
            output::verify_json_lines(footer)?;
        }
        ChannelFormat::Csv => {
            if !footer.is_empty() {
                return Err("a CSV footer".into());
            }
            output::verify_csv(header)?;
        }
    }
    ItemCheck::after_header(format, header).ok_or_else(|| "the header does not end its row".into())
}

/// Whether JSON text ends, outside any string, with `[` (and whitespace).
fn json_opens_array(header: &[u8]) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let mut last = None;
    for byte in header {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if *byte == b'"' {
            in_string = true;
            last = Some(b'"');
        } else if !byte.is_ascii_whitespace() {
            last = Some(*byte);
        }
    }
    !in_string && last == Some(b'[')
}

/// Checks a feed file built by splicing (see the module's comment) and hashes it whole, both
/// at once; or takes `digest` for its hash, taken as it was written, while its size is still
/// the size hashed.
pub fn verify_spliced(
    path: &Path,
    format: ChannelFormat,
    plan: &SplicePlan,
    digest: Option<&FileStats>,
) -> Result<FileStats, VerifyError> {
    let hashed = |path: &Path| match digest {
        Some(digest) if std::fs::metadata(path)?.len() == digest.bytes => Ok(digest.clone()),
        _ => output::hash_file(path),
    };
    let (stats, checked) = rayon::join(|| hashed(path), || check_pieces(path, format, plan));
    checked?;
    Ok(stats?)
}

fn check_pieces(path: &Path, format: ChannelFormat, plan: &SplicePlan) -> Result<(), VerifyError> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let read = |offset: u64, len: u64| -> std::io::Result<Vec<u8>> {
        let mut bytes = vec![0; len as usize];
        crate::positioned::read_exact_at(&file, &mut bytes, offset)?;
        Ok(bytes)
    };
    let header = read(0, plan.header_end)?;
    let footer = read(plan.footer_start, len.saturating_sub(plan.footer_start))?;
    let items = check_envelope(format, &header, &footer).map_err(VerifyError::Invalid)?;
    for (offset, item_len) in &plan.seam_items {
        let bytes = read(*offset, u64::from(*item_len))?;
        items
            .item(&bytes)
            .map_err(|err| VerifyError::Invalid(format!("the item at byte {offset}: {err}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(format: ChannelFormat, header: &str, item: &str) -> Result<(), String> {
        ItemCheck::after_header(format, header.as_bytes())
            .expect("a header that fits")
            .item(item.as_bytes())
    }

    #[test]
    fn whole_items_pass_and_broken_ones_fail() {
        use ChannelFormat::*;
        assert!(item(Xml, "", "<item><a>x &amp; y</a></item>\n").is_ok());
        assert!(item(Xml, "", "text <b/> more").is_ok());
        for broken in [
            "<item>",
            "</item>",
            "<item></a>",
            "<a",
            "<!-- open",
            "&nbsp;",
        ] {
            assert!(item(Xml, "", broken).is_err(), "{broken:?}");
        }
        assert!(item(Json, "", "{\"a\":[1,2]}").is_ok());
        for broken in ["{\"a\":1", "1,2", ""] {
            assert!(item(Json, "", broken).is_err(), "{broken:?}");
        }
        assert!(item(Jsonl, "", "{\"a\":1}\n").is_ok());
        for broken in ["{\"a\":1}", "{}\n{}\n", "\n"] {
            assert!(item(Jsonl, "", broken).is_err(), "{broken:?}");
        }
        assert!(item(Csv, "a,b\n", "1,\"x,\"\"y\"\"\"\n").is_ok());
        for broken in ["1\n", "1,2", "1,\"open\n", "1,2,3\n"] {
            assert!(item(Csv, "a,b\n", broken).is_err(), "{broken:?}");
        }
        // Its quotes pair up, but to a CSV reader the first is a literal and the second opens
        // a cell that runs into the next rows.
        assert!(item(Csv, "a\n", "x\"y,\"z\n").is_err());
    }

    #[test]
    fn an_envelope_must_frame_items() {
        use ChannelFormat::*;
        let fits = |format, header: &str, footer: &str| {
            check_envelope(format, header.as_bytes(), footer.as_bytes()).is_ok()
        };
        assert!(fits(
            Xml,
            "<?xml version=\"1.0\"?>\n<rss><channel>",
            "</channel></rss>\n"
        ));
        assert!(!fits(Xml, "<rss><channel", "></rss>"), "ends inside a tag");
        assert!(
            !fits(Xml, "<rss><!--", "--></rss>"),
            "ends inside a comment"
        );
        assert!(!fits(Xml, "", "<rss/>"), "items outside the root");
        assert!(fits(Json, "{\"h\":1,\"items\":[", "]}"));
        assert!(
            !fits(Json, "{\"items\":[1", "]}"),
            "no separator before the first item"
        );
        assert!(!fits(Json, "{\"items\":\"[", "\"}"), "inside a string");
        assert!(fits(Jsonl, "", ""));
        assert!(!fits(Jsonl, "{}", ""));
        assert!(fits(Csv, "a,b\n", ""));
        assert!(!fits(Csv, "a,b", ""));
    }
}
