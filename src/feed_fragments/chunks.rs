//! Parsing a freshly written feed back on every core: the file is cut at item ends into
//! chunks of whole items, and each chunk is checked on its own, in parallel (during the
//! stream, behind the writer, as [`super::behind`] does; after it where that gave no verdict).
//!
//! This is the reasoning of the module above applied to a cold build: when the header and the
//! footer frame items, and every chunk between two cuts is a run of whole items (joined by the
//! format's separator), the file is well-formed. A chunk that is not whole proves nothing
//! either way (a template of the user's may open an element in one item and close it in the
//! next), so any failure falls back to parsing the file whole, front to back, which also names
//! what is wrong and where. A feed that does not parse is thus never taken for one that does.

use std::path::Path;

use rayon::prelude::*;

use super::{ItemCheck, check_envelope, separator_fits, strict_csv_rows};
use crate::config::ChannelFormat;
use crate::output::{self, FileStats, VerifyError, XmlPiece};

/// About how many bytes of items go into one chunk. Small enough that a feed of a few
/// megabytes already spreads over the cores, large enough that starting a parser per chunk
/// costs nothing next to parsing it.
pub const CHUNK_BYTES: u64 = 256 * 1024;

/// Where a feed file may be cut for its parse-back: the header's end, item ends about every
/// [`CHUNK_BYTES`], and the footer's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkCuts {
    header_end: u64,
    item_ends: Vec<u64>,
    footer_start: u64,
}

/// Notes item ends as a feed file is written, to cut it into chunks for its parse-back.
#[derive(Debug, Clone)]
pub struct ChunkCutter {
    /// Whether the format's separator fits the reasoning: else the file is parsed whole.
    enabled: bool,
    header_end: u64,
    last_cut: u64,
    item_ends: Vec<u64>,
}

impl ChunkCutter {
    /// The cutter for a file in `format` whose items are joined by `separator`, whose header
    /// ends at `header_end`.
    pub fn new(format: ChannelFormat, separator: &[u8], header_end: u64) -> ChunkCutter {
        ChunkCutter {
            enabled: separator_fits(format, separator),
            header_end,
            last_cut: header_end,
            item_ends: Vec::new(),
        }
    }

    /// Notes that an item ends at byte `end` of the file: whether the file is cut there.
    pub fn item_ended(&mut self, end: u64) -> bool {
        let cut = self.enabled && end - self.last_cut >= CHUNK_BYTES;
        if cut {
            self.item_ends.push(end);
            self.last_cut = end;
        }
        cut
    }

    /// Where the file's header ends.
    pub fn header_end(&self) -> u64 {
        self.header_end
    }

    /// The cuts of the file whose footer starts at `footer_start`: `None` when it is one
    /// chunk (it is then parsed whole, as cheaply).
    pub fn finish(mut self, footer_start: u64) -> Option<ChunkCuts> {
        if self.item_ends.last() == Some(&footer_start) {
            self.item_ends.pop();
        }
        (self.enabled && !self.item_ends.is_empty()).then_some(ChunkCuts {
            header_end: self.header_end,
            item_ends: self.item_ends,
            footer_start,
        })
    }
}

/// Parses a written feed file back and hashes it, as [`output::verify`] does: by its chunks on
/// every core when it has `cuts` and they pass, else whole.
pub fn verify_in_chunks(
    path: &Path,
    format: ChannelFormat,
    cuts: Option<&ChunkCuts>,
) -> Result<FileStats, VerifyError> {
    match cuts {
        Some(cuts) => {
            let by_chunks = |bytes: &[u8]| passes_by_chunks(bytes, format, cuts);
            output::verify_quickly(path, format, Some(&by_chunks))
        }
        None => output::verify(path, format),
    }
}

/// Whether `bytes`, a whole feed file in `format` cut as `cuts` says, passes by its chunks:
/// the header and footer frame items, and every chunk is whole items. `false` says nothing
/// about the file: parse it whole then.
pub fn passes_by_chunks(bytes: &[u8], format: ChannelFormat, cuts: &ChunkCuts) -> bool {
    let len = bytes.len() as u64;
    let mut bounds = Vec::with_capacity(cuts.item_ends.len() + 2);
    bounds.push(cuts.header_end);
    bounds.extend_from_slice(&cuts.item_ends);
    bounds.push(cuts.footer_start);
    if cuts.footer_start > len || bounds.windows(2).any(|pair| pair[0] > pair[1]) {
        return false;
    }
    let header = &bytes[..cuts.header_end as usize];
    let footer = &bytes[cuts.footer_start as usize..];
    let Ok(items) = check_envelope(format, header, footer) else {
        return false;
    };
    bounds.par_windows(2).enumerate().all(|(index, pair)| {
        let chunk = &bytes[pair[0] as usize..pair[1] as usize];
        chunk_is_whole(&items, format, chunk, index > 0)
    })
}

/// Whether `chunk` is whole items joined by the format's separator. Every chunk but the first
/// starts with the separator written before its first item.
pub(super) fn chunk_is_whole(
    items: &ItemCheck,
    format: ChannelFormat,
    chunk: &[u8],
    after_cut: bool,
) -> bool {
    match format {
        ChannelFormat::Xml => matches!(output::walk_xml(chunk, XmlPiece::Content), Ok((0, _))),
        ChannelFormat::Jsonl => {
            chunk.is_empty() || (chunk.ends_with(b"\n") && output::verify_json_lines(chunk).is_ok())
        }
        ChannelFormat::Csv => strict_csv_rows(chunk, items.columns),
        ChannelFormat::Json => {
            let values = match (after_cut, chunk.strip_prefix(b",")) {
                (false, _) => chunk,
                (true, Some(rest)) => rest,
                (true, None) => return false,
            };
            json_values_joined_by_commas(values)
        }
    }
}

/// Whether `bytes` is one or more JSON values separated by commas (whitespace allowed around
/// them), as the elements of an array are.
fn json_values_joined_by_commas(mut bytes: &[u8]) -> bool {
    loop {
        let mut values =
            serde_json::Deserializer::from_slice(bytes).into_iter::<serde::de::IgnoredAny>();
        if !matches!(values.next(), Some(Ok(_))) {
            return false;
        }
        let rest = bytes[values.byte_offset()..].trim_ascii_start();
        match rest.split_first() {
            None => return true,
            Some((b',', after)) => bytes = after,
            Some(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A feed of `count` copies of `item` between `header` and `footer`, cut about every
    /// `every` items, and its cuts.
    fn feed(
        header: &str,
        item: &str,
        sep: &str,
        footer: &str,
        count: usize,
    ) -> (Vec<u8>, ChunkCuts) {
        let mut bytes = header.as_bytes().to_vec();
        let mut item_ends = Vec::new();
        for index in 0..count {
            if index > 0 {
                bytes.extend_from_slice(sep.as_bytes());
            }
            bytes.extend_from_slice(item.as_bytes());
            if index % 3 == 2 && index + 1 < count {
                item_ends.push(bytes.len() as u64);
            }
        }
        let footer_start = bytes.len() as u64;
        bytes.extend_from_slice(footer.as_bytes());
        let cuts = ChunkCuts {
            header_end: header.len() as u64,
            item_ends,
            footer_start,
        };
        (bytes, cuts)
    }

    const RSS: (&str, &str) = (
        "<?xml version=\"1.0\"?>\n<rss><channel>\n",
        "</channel></rss>\n",
    );

    /// A Google-like feed of `count` items cut about every three items, as the writer cuts.
    fn cut_feed(count: usize, item: impl Fn(usize) -> String) -> (String, ChunkCuts) {
        let mut text = String::from("<?xml version=\"1.0\"?>\n<rss><channel>\n");
        let mut cutter = ChunkCutter::new(ChannelFormat::Xml, b"", text.len() as u64);
        for index in 0..count {
            text.push_str(&item(index));
            cutter.item_ended(text.len() as u64);
        }
        let cuts = cutter.finish(text.len() as u64).expect("several chunks");
        text.push_str("</channel></rss>\n");
        (text, cuts)
    }

    fn verify_whole(text: &str) -> Result<FileStats, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.xml");
        std::fs::write(&path, text).unwrap();
        output::verify(&path, ChannelFormat::Xml).map_err(|err| err.to_string())
    }

    fn verify_cut_text(text: &str, cuts: &ChunkCuts) -> Result<FileStats, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.xml");
        std::fs::write(&path, text).unwrap();
        verify_in_chunks(&path, ChannelFormat::Xml, Some(cuts)).map_err(|err| err.to_string())
    }

    #[test]
    fn a_feed_cut_into_chunks_is_hashed_and_a_broken_item_in_the_middle_is_named_where_it_is() {
        let padding = "x".repeat(1000);
        let good = |index: usize| format!("<item><id>{index}</id><t>{padding}</t></item>\n");
        let (text, cuts) = cut_feed(1000, good);
        let stats = verify_cut_text(&text, &cuts).unwrap();
        assert_eq!(stats.sha256, verify_whole(&text).unwrap().sha256);
        let (broken, cuts) = cut_feed(1000, |index| match index {
            500 => format!("<item><id>{index}</id><t>{padding} &nbsp;</t></item>\n"),
            _ => good(index),
        });
        let whole = verify_whole(&broken).unwrap_err();
        let by_chunks = verify_cut_text(&broken, &cuts).unwrap_err();
        assert_eq!(by_chunks, whole);
        let position = broken.find("&nbsp;").unwrap();
        assert!(
            by_chunks.contains(&format!("at byte {position}")),
            "{by_chunks}"
        );
    }

    #[test]
    fn a_feed_whose_items_are_not_whole_alone_still_passes_when_cut() {
        // A template may open an element in one item and close it in a later one.
        let padding = "x".repeat(1000);
        let (text, cuts) = cut_feed(1000, |index| match index {
            0 => "<group>\n".to_string(),
            999 => "</group>\n".to_string(),
            _ => format!("<item>{padding}</item>\n"),
        });
        verify_cut_text(&text, &cuts).unwrap();
    }

    #[test]
    fn whole_items_pass_by_chunks_in_every_format() {
        let (xml, cuts) = feed(RSS.0, "<item><t>a &amp; b</t></item>\n", "", RSS.1, 10);
        assert_eq!(cuts.item_ends.len(), 3);
        assert!(passes_by_chunks(&xml, ChannelFormat::Xml, &cuts));
        let (json, cuts) = feed("{\"items\":[", "{\"a\":[1,\"]\"]}", ",", "]}\n", 10);
        assert!(passes_by_chunks(&json, ChannelFormat::Json, &cuts));
        let (jsonl, cuts) = feed("", "{\"a\":1}\n", "", "", 10);
        assert!(passes_by_chunks(&jsonl, ChannelFormat::Jsonl, &cuts));
        let (csv, cuts) = feed("id,title\n", "1,\"a, \"\"b\"\"\n c\"\n", "", "", 10);
        assert!(passes_by_chunks(&csv, ChannelFormat::Csv, &cuts));
        assert!(output::verify_csv(&csv).is_ok());
    }

    #[test]
    fn a_broken_item_in_the_middle_fails_its_chunk() {
        let (mut xml, cuts) = feed(RSS.0, "<item><t>x</t></item>\n", "", RSS.1, 10);
        let at = xml.len() / 2;
        xml[at] = b'<';
        assert!(!passes_by_chunks(&xml, ChannelFormat::Xml, &cuts));
        let (mut jsonl, cuts) = feed("", "{\"a\":1}\n", "", "", 10);
        jsonl[40] = b'}';
        assert!(!passes_by_chunks(&jsonl, ChannelFormat::Jsonl, &cuts));
        let (json, cuts) = feed("[", "{\"a\":1}", ",", "]", 10);
        let broken = String::from_utf8(json).unwrap().replacen("},{", "}{", 4);
        assert!(!passes_by_chunks(
            broken.as_bytes(),
            ChannelFormat::Json,
            &cuts
        ));
    }

    #[test]
    fn items_that_are_not_whole_alone_fail_by_chunks_though_the_file_parses() {
        // A template of the user's may open an element in one item and close it in the next.
        let header = RSS.0;
        let xml = format!("{header}<group>\n<item/>\n</group>\n{}", RSS.1);
        let cut = (header.len() + "<group>\n<item/>\n".len()) as u64;
        let cuts = ChunkCuts {
            header_end: header.len() as u64,
            item_ends: vec![cut],
            footer_start: (xml.len() - RSS.1.len()) as u64,
        };
        assert!(output::verify_xml(xml.as_bytes()).is_ok());
        assert!(!passes_by_chunks(xml.as_bytes(), ChannelFormat::Xml, &cuts));
    }

    #[test]
    fn cuts_that_do_not_fall_between_items_fail() {
        let (xml, mut cuts) = feed(RSS.0, "<item>x</item>", "", RSS.1, 10);
        cuts.item_ends[1] += 3;
        assert!(!passes_by_chunks(&xml, ChannelFormat::Xml, &cuts));
        let (json, mut cuts) = feed("[", "1", ",", "]", 10);
        cuts.item_ends[0] += 1;
        assert!(!passes_by_chunks(&json, ChannelFormat::Json, &cuts));
        cuts.footer_start = json.len() as u64 + 1;
        assert!(!passes_by_chunks(&json, ChannelFormat::Json, &cuts));
    }

    #[test]
    fn csv_rows_pass_only_when_a_reader_reads_them_the_same_anywhere() {
        for whole in [
            "1,\"x,\"\"y\"\"\"\n2,\n",
            "\"two\nlines, a comma\",2\n", // a line break and a comma inside quotes
            "\"\",\"\"\"\"\n",             // an empty quoted cell, one of a lone quote
        ] {
            assert!(strict_csv_rows(whole.as_bytes(), 2), "{whole:?}");
        }
        for loose in [
            "ab\"c,d\"\n", // a quote inside a plain cell: literal to a CSV reader
            "1,2\r\n",     // a carriage return ends a row too
            "1,\"open\n",  // a quoted cell left open
            "1,\"x\"y\n",  // text after a closing quote
            "1,2",         // no line end
            "1,2,3\n",     // a cell too many
            "1,\"x\"\"\n", // a doubled quote, then no end to the cell
            "1,\"x\"",     // a closed quoted cell, then no line end
        ] {
            assert!(!strict_csv_rows(loose.as_bytes(), 2), "{loose:?}");
        }
    }

    #[test]
    fn the_cutter_cuts_at_item_ends_about_every_chunk() {
        let mut cutter = ChunkCutter::new(ChannelFormat::Xml, b"", 10);
        let mut end = 10;
        for _ in 0..100 {
            end += CHUNK_BYTES / 8;
            cutter.item_ended(end);
        }
        let cuts = cutter.finish(end).unwrap();
        assert_eq!(cuts.item_ends.len(), 12);
        assert!(
            cuts.item_ends
                .iter()
                .all(|e| (e - 10) % (CHUNK_BYTES / 8) == 0)
        );
        let mut small = ChunkCutter::new(ChannelFormat::Xml, b"", 10);
        small.item_ended(CHUNK_BYTES + 10);
        assert_eq!(
            small.finish(CHUNK_BYTES + 10),
            None,
            "one chunk is parsed whole"
        );
        let mut loose = ChunkCutter::new(ChannelFormat::Json, b",\n", 1);
        loose.item_ended(2 * CHUNK_BYTES);
        assert_eq!(
            loose.finish(3 * CHUNK_BYTES),
            None,
            "a separator the reasoning does not cover"
        );
    }
}
