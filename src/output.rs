//! Where feeds land: feed files, a parse-back check of every feed, and keeping unchanged ones
//! (the staging folder and the swap are in [`crate::swap`]).
//!
//! Readers never see a half-written feed: a build writes into a fresh folder beside
//! `feeds/` and only renames it into place when every channel rendered and parsed back. A
//! failed build removes its staging folder and leaves the previous feeds byte-identical.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ChannelFormat;
use crate::text::escape::is_xml_char;

mod copy_behind;

pub use copy_behind::{CopyBehind, Copying, copy_range, eager_bytes as copy_eager_bytes};

/// A feed file being written, and optionally its gzip twin: compressed in the same pass, so a
/// big feed is never read twice or held in memory.
pub struct FeedFile {
    plain: io::BufWriter<File>,
    /// Bytes written to the plain file so far.
    written: u64,
    gzip: Option<flate2::write::GzEncoder<HashingWriter<io::BufWriter<File>>>>,
    /// Long ranges spliced from the last build's feed, copied while the writer goes on.
    behind: CopyBehind,
}

impl FeedFile {
    pub fn create(path: &Path, gzip: bool) -> io::Result<FeedFile> {
        // Readable too: the thread that copies runs into it hashes it by reading it back.
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        let plain = io::BufWriter::with_capacity(1 << 16, file);
        let gzip = if gzip {
            let mut gz_path = path.as_os_str().to_owned();
            gz_path.push(".gz");
            let file = io::BufWriter::with_capacity(1 << 16, File::create(gz_path)?);
            Some(flate2::write::GzEncoder::new(
                HashingWriter::new(file),
                flate2::Compression::default(),
            ))
        } else {
            None
        };
        Ok(FeedFile {
            plain,
            written: 0,
            gzip,
            behind: CopyBehind::new("the last build's feed"),
        })
    }

    /// Bytes written to the plain file so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The plain file, with everything written so far flushed into it.
    pub fn flushed(&mut self) -> io::Result<&File> {
        self.plain.flush()?;
        Ok(self.plain.get_ref())
    }

    /// Appends `len` bytes of `source` from `offset`: in the kernel (`copy_file_range`) when
    /// only the plain file needs them, through memory when the gzip twin needs them too.
    pub fn splice_from(&mut self, source: &File, offset: u64, len: u64) -> io::Result<()> {
        if self.gzip.is_some() {
            let mut buffer = vec![0; (1 << 20).min(len as usize)];
            let mut at = offset;
            while at < offset + len {
                let chunk = ((offset + len - at) as usize).min(buffer.len());
                crate::positioned::read_exact_at(source, &mut buffer[..chunk], at)?;
                self.write_all(&buffer[..chunk])?;
                at += chunk as u64;
            }
            return Ok(());
        }
        // What is buffered goes first; a long range is copied on a thread of its own into the
        // gap left for it here, and the file is whole once `finish` has returned.
        self.plain.flush()?;
        let file = self.plain.get_mut();
        self.behind
            .copy(file, source, (offset, self.written, len))?;
        io::Seek::seek(file, io::SeekFrom::Current(len as i64))?;
        self.written += len;
        Ok(())
    }

    /// Flushes both files. Ranges copied behind may still be on their way: the file is whole
    /// once [`FinishedFeed::copying`] has been waited for.
    pub fn finish(mut self) -> io::Result<FinishedFeed> {
        self.plain.flush()?;
        let copying = self.behind.into_copying(self.written);
        let gzip = match self.gzip {
            Some(gzip) => {
                let mut hashing = gzip.finish()?;
                hashing.inner.flush()?;
                Some(hashing.stats())
            }
            None => None,
        };
        Ok(FinishedFeed { gzip, copying })
    }
}

/// What a finished feed file knows about itself.
pub struct FinishedFeed {
    /// The gzip twin's size and digest, when there is one.
    pub gzip: Option<FileStats>,
    /// The ranges still being copied into the plain file, and its size and digest once they
    /// are: it was hashed front to back as it was made, so it need not be read again.
    pub copying: Copying,
}

impl io::Write for FeedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.plain.write_all(buf)?;
        self.written += buf.len() as u64;
        if let Some(gzip) = &mut self.gzip {
            gzip.write_all(buf)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.plain.flush()
    }
}

/// Puts the calling thread at the lowest priority (`nice` 19, where the system has it): for
/// work wanted only at the end of a build, done meanwhile in the time the stream leaves idle
/// rather than in the stream's own.
pub fn lowest_priority_for_this_thread() {
    #[cfg(target_os = "linux")]
    // SAFETY: a plain system call on this thread's own id; failing leaves the priority as is.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19);
    }
}

/// Counts and hashes what passes through to `inner`.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W> HashingWriter<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn stats(self) -> FileStats {
        FileStats {
            bytes: self.bytes,
            sha256: hex(&self.hasher.finalize()),
        }
    }
}

impl<W: io::Write> io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The manifest of the feeds in place, if there are any and it parses.
pub fn previous_manifest(output: &Path) -> Option<serde_json::Value> {
    let text = fs::read(output.join("manifest.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Each feed file's size and SHA-256 in a manifest (gzip twins left out), by file name.
pub fn published_stats(
    manifest: &serde_json::Value,
) -> std::collections::HashMap<String, FileStats> {
    let mut stats = std::collections::HashMap::new();
    let mut collect = |entry: &serde_json::Value| {
        if let (Some(file), Some(bytes), Some(sha256)) = (
            entry["file"].as_str(),
            entry["bytes"].as_u64(),
            entry["sha256"].as_str(),
        ) {
            let sha256 = sha256.to_string();
            stats.insert(file.to_string(), FileStats { bytes, sha256 });
        }
    };
    for channel in manifest["channels"].as_array().into_iter().flatten() {
        collect(channel);
        for part in channel["parts"].as_array().into_iter().flatten() {
            collect(part);
        }
    }
    stats
}

/// Puts the previous file in place of every staged feed file whose bytes did not change, so
/// its modification time (and the `Last-Modified`/`ETag` a web server derives from it) stays
/// put and fetchers download nothing new. `current` maps each staged file to its digest; the
/// previous manifest vouches for the old files' digests while `vouched` says an old file is
/// still as that build published it; any other old file is hashed again, so one edited by
/// hand (even to its old size) is replaced, not kept.
pub fn keep_unchanged(
    staged: &Path,
    output: &Path,
    previous: &serde_json::Value,
    current: &std::collections::HashMap<String, FileStats>,
    vouched: &dyn Fn(&Path) -> bool,
) -> io::Result<()> {
    let mut before = std::collections::HashMap::new();
    let mut collect = |entry: &serde_json::Value| {
        if let (Some(file), Some(sha)) = (entry["file"].as_str(), entry["sha256"].as_str()) {
            before.insert(file.to_string(), sha.to_string());
            if let Some(gzip) = entry["gzip"]["sha256"].as_str() {
                before.insert(format!("{file}.gz"), gzip.to_string());
            }
        }
    };
    for channel in previous["channels"].as_array().into_iter().flatten() {
        collect(channel);
        for part in channel["parts"].as_array().into_iter().flatten() {
            collect(part);
        }
    }
    for (file, stats) in current {
        let Some(old_digest) = before.get(file) else {
            continue;
        };
        let old = output.join(file);
        let new = staged.join(file);
        if same_file(&old, &new) {
            // Linked already by the feed's writer, which found it unchanged.
            continue;
        }
        // The size guards against a file edited in place since it was published.
        let same_size = fs::metadata(&old).is_ok_and(|m| m.len() == stats.bytes);
        let same_bytes =
            || vouched(&old) || hash_file(&old).is_ok_and(|now| now.sha256 == stats.sha256);
        if *old_digest == stats.sha256 && same_size && same_bytes() {
            fs::remove_file(&new)?;
            if fs::hard_link(&old, &new).is_err() {
                fs::copy(&old, &new)?;
            }
        }
    }
    Ok(())
}

/// Whether two paths name one file (two links to it).
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}

/// Size and digest of a finished feed, for the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileStats {
    pub bytes: u64,
    pub sha256: String,
}

/// Why a rendered feed failed its parse-back.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read it back: {0}")]
    Unreadable(#[from] io::Error),
    /// What the format's parser said about the feed.
    #[error("{0}")]
    Invalid(String),
}

/// Parses a rendered feed back with a real parser, and hashes it (both at once).
pub fn verify(path: &Path, format: ChannelFormat) -> Result<FileStats, VerifyError> {
    verify_quickly(path, format, None)
}

/// A quicker proof than parsing them whole that a feed's bytes parse: `true` when it holds,
/// `false` when it does not (which says nothing about the bytes).
pub type QuickCheck<'a> = &'a (dyn Fn(&[u8]) -> bool + Sync);

/// As [`verify`], trying `quick` first: a file it does not vouch for is parsed whole, which
/// names what is wrong.
pub fn verify_quickly(
    path: &Path,
    format: ChannelFormat,
    quick: Option<QuickCheck<'_>>,
) -> Result<FileStats, VerifyError> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len == 0 {
        return check_bytes(&[], format, None)
            .map(|sha256| FileStats { bytes: 0, sha256 })
            .map_err(VerifyError::Invalid);
    }
    // SAFETY: the file is in this build's own staging folder and nothing writes to it any
    // more. Parsing one slice is several times faster than parsing through `Read`.
    let map = unsafe { memmap2::Mmap::map(&file) }?;
    let done = std::sync::atomic::AtomicBool::new(false);
    let sha256 = std::thread::scope(|scope| {
        let dropper = scope.spawn(|| drop_pages_until(&map, &done));
        let checked = check_bytes(&map, format, quick);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        dropper.thread().unpark();
        checked
    })
    .map_err(VerifyError::Invalid)?;
    Ok(FileStats { bytes: len, sha256 })
}

/// Size and SHA-256 of a file, read once through a mapping whose pages are dropped as it goes.
pub fn hash_file(path: &Path) -> io::Result<FileStats> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(FileStats {
            bytes: 0,
            sha256: hex(&Sha256::digest([])),
        });
    }
    // SAFETY: as in `verify`: the file is in this build's staging folder, written and closed.
    let map = unsafe { memmap2::Mmap::map(&file) }?;
    let done = std::sync::atomic::AtomicBool::new(false);
    let sha256 = std::thread::scope(|scope| {
        let dropper = scope.spawn(|| drop_pages_until(&map, &done));
        let sha256 = hex(&Sha256::digest(&map[..]));
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        dropper.thread().unpark();
        sha256
    });
    Ok(FileStats { bytes: len, sha256 })
}

/// The parser and the hash read the mapping front to back, once. Dropping its pages every
/// few milliseconds keeps the memory it takes to the few megabytes they are on: a feed of
/// gigabytes never counts against the build's memory. Safe for a read-only file mapping, whose
/// pages are read again from the (cached) file if touched again.
pub(crate) fn drop_pages_until(map: &memmap2::Mmap, done: &std::sync::atomic::AtomicBool) {
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::park_timeout(std::time::Duration::from_millis(20));
        #[cfg(unix)]
        // SAFETY: MADV_DONTNEED on a shared read-only mapping of a file only unmaps pages;
        // their content is the file's, read again on the next access.
        let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        #[cfg(not(unix))]
        let _ = map;
    }
}

/// Hashes and parses a feed's bytes, both at once; the hex SHA-256.
fn check_bytes(
    bytes: &[u8],
    format: ChannelFormat,
    quick: Option<QuickCheck<'_>>,
) -> Result<String, String> {
    let (sha256, parsed) = rayon::join(
        || hex(&Sha256::digest(bytes)),
        || match format {
            _ if quick.is_some_and(|quick| quick(bytes)) => Ok(()),
            ChannelFormat::Xml => verify_xml(bytes),
            ChannelFormat::Csv => verify_csv(bytes),
            ChannelFormat::Json => verify_json(bytes),
            ChannelFormat::Jsonl => verify_json_lines(bytes),
        },
    );
    parsed.map(|()| sha256)
}

pub(crate) fn verify_xml(bytes: &[u8]) -> Result<(), String> {
    let (depth, roots) = walk_xml(bytes, XmlPiece::Document)?;
    if depth != 0 {
        return Err("not well-formed XML: an element is not closed".into());
    }
    if roots != 1 {
        return Err(format!(
            "XML must have exactly one root element, found {roots}"
        ));
    }
    Ok(())
}

/// What part of a document [`walk_xml`] reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum XmlPiece {
    /// A whole document: text outside the root element is an error.
    Document,
    /// A run of content inside an element (an item, a document's start): text is allowed
    /// anywhere and an end tag may not close what it did not open.
    Content,
}

/// Checks every event of `bytes`: well-formed tags, attributes, text, references; the depth
/// at the end and the number of elements at depth 0.
pub(crate) fn walk_xml(bytes: &[u8], piece: XmlPiece) -> Result<(usize, usize), String> {
    // Whether any text or attribute value could hold a character XML forbids, asked once of
    // the whole piece rather than of each text between two tags: a feed of short elements
    // has one every 27 bytes, and a call for each was a seventh of the XML parse-back's work.
    let may_forbid = may_hold_forbidden_characters(bytes);
    let check_text = |text: &str| {
        if may_forbid {
            check_xml_text(text)
        } else {
            Ok(())
        }
    };
    let mut xml = quick_xml::Reader::from_reader(bytes);
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        let position = xml.buffer_position();
        let event = xml
            .read_event()
            .map_err(|err| format!("not well-formed XML at byte {position}: {err}"))?;
        let at = |message: String| format!("not well-formed XML at byte {position}: {message}");
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if depth == 0 {
                    roots += 1;
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
                for attribute in start.attributes().with_checks(true) {
                    let attribute = attribute.map_err(|err| at(err.to_string()))?;
                    check_text(&attribute.value).map_err(at)?;
                }
            }
            Event::End(_) if depth == 0 && piece == XmlPiece::Content => {
                return Err(at("an end tag closes an element it did not open".into()));
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(text) => {
                if depth == 0 && piece == XmlPiece::Document && !text.trim().is_empty() {
                    return Err(at("text outside the root element".into()));
                }
                check_text(&text).map_err(at)?;
            }
            Event::CData(data) => check_text(&data).map_err(at)?,
            Event::GeneralRef(reference) => {
                if reference.is_char_ref() {
                    match reference.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => {}
                        _ => {
                            return Err(
                                at("a character reference to a forbidden character".into()),
                            );
                        }
                    }
                } else if !matches!(&*reference, "amp" | "lt" | "gt" | "quot" | "apos") {
                    let name = &*reference;
                    return Err(at(format!("undefined entity `&{name};`")));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((depth, roots))
}

/// Text XML 1.0 allows: no control characters (tab, line feed and carriage return aside), no
/// U+FFFE or U+FFFF. This runs over every byte of every XML feed, so it first looks, in one
/// pass the compiler turns into vector instructions, for any byte that could start a problem:
/// a control byte, or 0xEF, the first byte of U+FFFE and U+FFFF in UTF-8 (and of no character
/// common in product text). Only text with such a byte is checked exactly.
fn check_xml_text(text: &str) -> Result<(), String> {
    if !may_hold_forbidden_characters(text.as_bytes()) {
        return Ok(());
    }
    check_xml_text_exactly(text)
}

/// Whether `bytes` hold a byte that could start a character XML forbids (see
/// [`check_xml_text`]): `false` proves that every text in them is allowed.
fn may_hold_forbidden_characters(bytes: &[u8]) -> bool {
    let suspicious = |chunk: &[u8]| {
        chunk.iter().fold(false, |found, &b| {
            found | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0xEF)
        })
    };
    bytes.chunks(64).any(suspicious)
}

/// [`check_xml_text`], byte by byte.
fn check_xml_text_exactly(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let forbidden_control = bytes
        .iter()
        .any(|b| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'));
    // U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8.
    let non_character = || {
        bytes
            .windows(3)
            .any(|w| w[0] == 0xEF && w[1] == 0xBF && w[2] >= 0xBE)
    };
    if forbidden_control || non_character() {
        let c = text.chars().find(|c| !is_xml_char(*c)).unwrap_or_default();
        return Err(format!(
            "character U+{:04X} is not allowed in XML",
            c as u32
        ));
    }
    Ok(())
}

pub(crate) fn verify_csv(bytes: &[u8]) -> Result<(), String> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let columns = csv
        .headers()
        .map_err(|err| format!("not valid CSV: {err}"))?
        .len();
    let mut record = csv::ByteRecord::new();
    while csv
        .read_byte_record(&mut record)
        .map_err(|err| format!("not valid CSV: {err}"))?
    {
        if record.len() != columns {
            return Err(format!(
                "not valid CSV: a row has {} cells, the header {columns}",
                record.len()
            ));
        }
    }
    Ok(())
}

pub(crate) fn verify_json(bytes: &[u8]) -> Result<(), String> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    serde::de::IgnoredAny::deserialize(&mut json)
        .map_err(|err| format!("not valid JSON: {err}"))?;
    json.end().map_err(|err| format!("not valid JSON: {err}"))
}

/// Every line one JSON document (a final newline is allowed, blank lines are not: JSON Lines
/// readers treat them as errors).
pub(crate) fn verify_json_lines(bytes: &[u8]) -> Result<(), String> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if body.is_empty() {
        return Ok(());
    }
    for (index, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        serde_json::from_slice::<serde::de::IgnoredAny>(line)
            .map_err(|err| format!("not valid JSON Lines: line {}: {err}", index + 1))?;
    }
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify_text(text: &str, format: ChannelFormat) -> Result<FileStats, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed");
        fs::write(&path, text).unwrap();
        let stats = verify(&path, format).map_err(|err| err.to_string())?;
        assert_eq!(stats.bytes, text.len() as u64);
        assert_eq!(stats.sha256, hex(&Sha256::digest(text.as_bytes())));
        Ok(stats)
    }

    #[test]
    fn well_formed_feeds_pass_and_are_hashed() {
        let stats = verify_text("<a x=\"1\">&amp;&#233;</a>\n", ChannelFormat::Xml).unwrap();
        assert_eq!(stats.bytes, 25);
        assert_eq!(stats.sha256.len(), 64);
        verify_text("a,b\n1,\"x,y\"\n", ChannelFormat::Csv).unwrap();
        verify_text("{\"a\": [1, 2]}\n", ChannelFormat::Json).unwrap();
        verify_text("{\"a\": 1}\n[2]\n", ChannelFormat::Jsonl).unwrap();
        verify_text("", ChannelFormat::Jsonl).unwrap();
    }

    #[test]
    fn xml_text_is_judged_the_same_with_and_without_the_quick_look() {
        let mut texts: Vec<String> = (0..=0x7Fu8)
            .map(|b| format!("{}{}{}", "a".repeat(70), b as char, "b".repeat(b as usize)))
            .collect();
        for c in [
            '\u{D7FF}',
            '\u{E000}',
            '\u{EFFF}',
            '\u{F000}',
            '\u{FF01}',
            '\u{FFFD}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{10000}',
        ] {
            texts.push(format!("{}{c}", "x".repeat(100)));
            texts.push(format!("{c}tail"));
        }
        texts.push(String::new());
        texts.push("tab\tline\ncarriage\r".repeat(10));
        for text in texts {
            assert_eq!(
                check_xml_text(&text),
                check_xml_text_exactly(&text),
                "{text:?}"
            );
        }
        assert!(check_xml_text(&format!("{}\u{b}", "a".repeat(200))).is_err());
        assert!(check_xml_text(&format!("{}\u{FFFF}", "a".repeat(200))).is_err());
    }

    #[test]
    fn a_forbidden_character_anywhere_in_a_run_of_items_fails_it() {
        let item = "<item><title>Makita DHP485Z</title><price>129.00 EUR</price></item>\n";
        let clean = item.repeat(40);
        assert_eq!(walk_xml(clean.as_bytes(), XmlPiece::Content), Ok((0, 40)));
        for bad in [
            "<item><title>a\u{1}b</title></item>",
            "<item><title>\u{FFFF}</title></item>",
            "<item code=\"\u{b}\"/>",
        ] {
            let run = format!("{clean}{bad}{clean}");
            assert!(
                walk_xml(run.as_bytes(), XmlPiece::Content).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn broken_feeds_fail() {
        for xml in [
            "<a><b></a>",
            "<a>&nbsp;</a>",
            "<a>\u{b}</a>",
            "<a/><b/>",
            "<a>&#11;</a>",
            "<a>\u{FFFE}</a>",
            "<a x=\"\u{1}\"/>",
            "<a>",
        ] {
            assert!(verify_text(xml, ChannelFormat::Xml).is_err(), "{xml:?}");
        }
        assert!(verify_text("a,b\n1\n", ChannelFormat::Csv).is_err());
        assert!(verify_text("{\"a\": [1, 2}", ChannelFormat::Json).is_err());
        assert!(verify_text("{} {}", ChannelFormat::Json).is_err());
        for jsonl in ["{}\n\n{}\n", "{} {}\n", "{\"a\":\n1}\n", "{}\n{"] {
            assert!(
                verify_text(jsonl, ChannelFormat::Jsonl).is_err(),
                "{jsonl:?}"
            );
        }
    }
}
