//! The build cache: what a build learnt about each content file, so the next build (or
//! refresh) skips reading, parsing, gating and rendering what did not change.
//!
//! It lives in `.pimfeed/cache/`: `entries.bin` holds one [`FileEntry`] per content file, in
//! catalog order, and `head.bin` says what the entries are valid for. An entry is keyed by a
//! hash of the file's bytes and a hash of the ERP records of its SKUs; it keeps the gate's
//! verdict on each product for each channel, where each rendered item sits in the feeds that
//! build published, and where its products' lines sit in the last build
//! (`.pimfeed/last-build/`). A later build copies those bytes instead of rendering them again.
//!
//! The cache is an optimisation only. It is not used when anything else could have changed
//! an item: another pimfeed binary, other configuration, schema, categories or templates, a
//! template that reads the build time, or feeds touched since they were published (every
//! file's size, inode, modification and change times are checked). Deleting it changes no
//! output byte.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diagnostics::{Diagnostic, Severity};
use crate::erp::{ErpRecord, RecordsBySku};
pub use crate::feed_fragments::{FeedStamp, SpliceSource};
use crate::last_build::ProductLines;
use crate::pimfeed_folder;
use crate::render::ItemSpan;
use crate::verdict::{Reason, Verdict};

mod erp_bytes;
mod kept;

pub use kept::{KeptEntries, KeptSlot, take_from as take_kept};

const HEAD: &str = "head.bin";
const ENTRIES: &str = "entries.bin";
/// Bumped whenever what is stored changes meaning.
const FORMAT: u32 = 6;

pub type Digest32 = [u8; 32];

/// The content digest of an entry whose file was not read: no file's SHA-256, so a build
/// always reads that file again.
pub const UNKNOWN_CONTENT: Digest32 = [0; 32];

/// What identifies a file's bytes without reading them: if all three are the same, so are
/// the bytes (a rewrite gets a new modification time; a new file, a new inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    len: u64,
    modified_ns: i64,
    inode: u64,
}

impl Stamp {
    /// A stamp no file has: for an entry whose file was not looked at (a refresh keeps entries
    /// from the last build, without reading `content/`).
    pub const UNKNOWN: Stamp = Stamp {
        len: u64::MAX,
        modified_ns: i64::MIN,
        inode: 0,
    };

    pub fn new(len: u64, modified_ns: i64, inode: u64) -> Stamp {
        Stamp {
            len,
            modified_ns,
            inode,
        }
    }

    /// The file's size when the stamp was taken, in bytes.
    pub fn size(&self) -> u64 {
        self.len
    }

    pub fn of(path: &Path) -> io::Result<Stamp> {
        let metadata = fs::metadata(path)?;
        let modified_ns = metadata
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(Stamp {
            len: metadata.len(),
            modified_ns,
            inode,
        })
    }
}

/// The stamps of the feed files the last build published, as its cache recorded them (none
/// without a cache).
pub fn published_feed_stamps(root: &Path) -> Vec<FeedStamp> {
    let head = fs::read(root.join(pimfeed_folder::CACHE).join(HEAD))
        .ok()
        .and_then(|bytes| postcard::from_bytes::<Head>(&bytes).ok());
    match head {
        Some(head) if head.format == FORMAT => head
            .feeds
            .into_iter()
            .flatten()
            .map(|feed| feed.stamp)
            .collect(),
        _ => Vec::new(),
    }
}

/// One feed file as the build that published it left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PublishedFeed {
    /// Catalog-relative.
    path: String,
    stamp: FeedStamp,
    /// Whether every item in it is known to be whole on its own (see
    /// [`crate::feed_fragments`]), so a later build may splice runs of them unparsed.
    items_checked: bool,
}

/// A content file as a build saw it, and everything the next build can reuse of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Catalog-relative, as in `Product::file`.
    pub path: Arc<str>,
    pub stamp: Stamp,
    /// SHA-256 of the file's bytes; [`UNKNOWN_CONTENT`] when the file was not read.
    pub content: Digest32,
    /// [`erp_digest`] of its products' SKUs.
    pub erp: Digest32,
    /// Its products' lines in the last build (see [`ProductLines`]): start and length in
    /// bytes.
    pub last_build: (u64, u64),
    /// False when the file had errors, or warnings that depend on other files (a duplicate
    /// SKU or title): the next build parses it again (a refresh still finds its products
    /// through `last_build`).
    pub reusable: bool,
    /// Its warnings, shown again by a build that reuses it.
    pub diagnostics: Vec<CachedDiagnostic>,
    pub products: Vec<CachedProduct>,
    /// When its products were first kept from an earlier build because the file has an error
    /// (see [`crate::keep`]).
    pub kept_since: Option<String>,
}

impl FileEntry {
    /// Whether the entry's verdicts and items still hold with the ERP records `by_sku`: the
    /// file had nothing that forbids reuse, and its SKUs' records are as they were.
    pub fn holds_with(&self, by_sku: &RecordsBySku<'_>) -> bool {
        self.reusable && self.erp == erp_digest(self.products.iter().map(|p| &*p.sku), by_sku)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedProduct {
    /// Shared with the checks across files and the feeds' queues, which take it as it is.
    pub sku: Arc<str>,
    pub line: u32,
    /// For the duplicate-title check across files.
    pub titles: Vec<(String, u64)>,
    /// One per channel, in the order of `pim.toml`; empty when the entry is not reusable.
    pub channels: Vec<CachedVerdict>,
}

/// The gate's verdict on one product in one channel, and its item in the feed when it is in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedVerdict {
    pub included: bool,
    pub completeness: u8,
    pub reasons: Vec<CachedReason>,
    pub warnings: Vec<CachedReason>,
    pub item: Option<ItemSpan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedReason {
    code: String,
    attribute: Option<String>,
    message: String,
    line: Option<u32>,
}

impl CachedVerdict {
    pub fn new(verdict: &Verdict, item: Option<ItemSpan>) -> Self {
        let keep = |reasons: &[Reason]| {
            reasons
                .iter()
                .map(|r| CachedReason {
                    code: r.code.to_string(),
                    attribute: r.attribute.clone(),
                    message: r.message.clone(),
                    line: r.line,
                })
                .collect()
        };
        CachedVerdict {
            included: verdict.included,
            completeness: verdict.completeness,
            reasons: keep(&verdict.reasons),
            warnings: keep(&verdict.warnings),
            item,
        }
    }

    pub fn verdict(&self) -> Verdict {
        let restore = |reasons: &[CachedReason]| {
            reasons
                .iter()
                .map(|r| Reason {
                    attribute: r.attribute.clone(),
                    line: r.line,
                    ..Reason::new(intern(&r.code), r.message.clone())
                })
                .collect()
        };
        Verdict {
            included: self.included,
            completeness: self.completeness,
            reasons: restore(&self.reasons),
            warnings: restore(&self.warnings),
        }
    }
}

/// A diagnostic as the cache keeps it (its span too, for the snippet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedDiagnostic {
    severity: Severity,
    code: String,
    file: PathBuf,
    line: usize,
    column: usize,
    message: String,
    help: Option<String>,
    span: Option<(usize, usize)>,
}

/// Codes of diagnostics about a file that other files decide: a file with one is never reused.
const ACROSS_FILES: &[&str] = &["duplicate-sku", "duplicate-title"];

/// Whether a file with these diagnostics can be reused by a later build.
pub fn reusable_with(diagnostics: &[Diagnostic]) -> bool {
    diagnostics
        .iter()
        .all(|d| !d.is_error() && !ACROSS_FILES.contains(&d.code))
}

impl CachedDiagnostic {
    pub fn new(diagnostic: &Diagnostic) -> Self {
        CachedDiagnostic {
            severity: diagnostic.severity,
            code: diagnostic.code.to_string(),
            file: diagnostic.file.clone(),
            line: diagnostic.line,
            column: diagnostic.column,
            message: diagnostic.message.clone(),
            help: diagnostic.help.clone(),
            span: diagnostic.span.as_ref().map(|span| (span.start, span.end)),
        }
    }

    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic {
            severity: self.severity,
            code: intern(&self.code),
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            message: self.message.clone(),
            help: self.help.clone(),
            span: self.span.map(|(start, end)| start..end),
            blame: None,
        }
    }
}

/// Reason codes are `&'static str` in the gate; the few distinct ones read back from the cache
/// are kept for the life of the process.
fn intern(code: &str) -> &'static str {
    static CODES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut codes = CODES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = codes.iter().find(|known| **known == code) {
        return known;
    }
    let leaked: &'static str = Box::leak(code.to_string().into_boxed_str());
    codes.push(leaked);
    leaked
}

/// What the entries of a cache are valid for.
#[derive(Debug, Serialize, Deserialize)]
struct Head {
    format: u32,
    /// Also at the start of `entries.bin`, so a head never vouches for another build's entries.
    build_id: u64,
    fingerprint: Digest32,
    /// When the build began (ns since the epoch): a file modified after that may have changed
    /// again within the same timestamp, so its stamp alone is not trusted.
    started_ns: i64,
    /// Each channel's feed files, in order.
    feeds: Vec<Vec<PublishedFeed>>,
    /// The last build's folder (catalog-relative), and the stamp of each of its line files.
    last_build: Option<(String, Vec<(String, Stamp)>)>,
    /// [`records_digest`] of the ERP records the build had: every reusable entry's
    /// [`FileEntry::erp`] was made or checked with exactly those records.
    erp_records: Option<Digest32>,
}

/// A hash of everything besides a file and its ERP records that an item depends on.
pub struct Fingerprint(Sha256);

impl Fingerprint {
    pub fn new() -> Self {
        let mut hasher = Sha256::new();
        hasher.update(FORMAT.to_le_bytes());
        hasher.update(env!("CARGO_PKG_VERSION"));
        // A rebuilt binary may render differently under the same version number.
        if let Some(stamp) = std::env::current_exe()
            .ok()
            .and_then(|exe| Stamp::of(&exe).ok())
        {
            hasher.update(stamp.len.to_le_bytes());
            hasher.update(stamp.modified_ns.to_le_bytes());
        }
        Fingerprint(hasher)
    }

    /// Adds one input, length-prefixed so two inputs never run together.
    pub fn add(&mut self, part: &[u8]) {
        self.0.update((part.len() as u64).to_le_bytes());
        self.0.update(part);
    }

    pub fn finish(self) -> Digest32 {
        self.0.finalize().into()
    }
}

impl Default for Fingerprint {
    fn default() -> Self {
        Self::new()
    }
}

pub fn content_digest(bytes: &[u8]) -> Digest32 {
    Sha256::digest(bytes).into()
}

/// A hash of the ERP records of `skus` (or of their absence), in order.
pub fn erp_digest<'s>(skus: impl Iterator<Item = &'s str>, by_sku: &RecordsBySku<'_>) -> Digest32 {
    // A build from the cache does this for every content file: the records are written into
    // one buffer as their exact bytes (see [`erp_bytes`]) and hashed whole.
    let mut bytes = Vec::with_capacity(256);
    for sku in skus {
        bytes.extend_from_slice(sku.as_bytes());
        bytes.push(0);
        match by_sku.get(sku) {
            Some(record) => {
                bytes.push(1);
                erp_bytes::append(&mut bytes, record);
            }
            None => bytes.push(0),
        }
    }
    Sha256::digest(&bytes).into()
}

/// A hash of every ERP record, in order. Two runs whose records have the same digest have the
/// same records by SKU, so each entry's [`erp_digest`] a cache made with one holds with the
/// other, and a build need not compute it for every file again. The records are hashed in
/// runs of a fixed length on every core, and the runs' hashes hashed in order.
pub fn records_digest(records: &[ErpRecord]) -> Digest32 {
    use rayon::prelude::*;
    const RECORDS_PER_RUN: usize = 8192;
    let runs: Vec<Digest32> = records
        .par_chunks(RECORDS_PER_RUN)
        .map(records_run_digest)
        .collect();
    digest_of_runs(records.len() as u64, &runs)
}

/// A hash of a sequence hashed in runs on every core: of its length (in whatever it counts)
/// and of its runs' hashes, in order.
pub fn digest_of_runs(len: u64, runs: &[Digest32]) -> Digest32 {
    let mut hasher = Sha256::new();
    hasher.update(len.to_le_bytes());
    for run in runs {
        hasher.update(run);
    }
    hasher.finalize().into()
}

/// The hash of one run of records' bytes. Each record's bytes are self-delimiting (every
/// field length-prefixed or tagged), so the records run together unambiguously; hashed a
/// buffer at a time.
fn records_run_digest(records: &[ErpRecord]) -> Digest32 {
    const FLUSH_AT: usize = 64 * 1024;
    let mut hasher = Sha256::new();
    let mut bytes = Vec::with_capacity(FLUSH_AT + 1024);
    for record in records {
        erp_bytes::append(&mut bytes, record);
        if bytes.len() >= FLUSH_AT {
            hasher.update(&bytes);
            bytes.clear();
        }
    }
    hasher.update(&bytes);
    hasher.finalize().into()
}

/// A hash of everything an item depends on besides its file and ERP records: the catalog's
/// configuration, schema and categories, every channel's templates and expressions, and the
/// build time for a channel whose templates read it.
pub fn fingerprint(
    source: &crate::content::CatalogSource,
    renderers: &[crate::render::ChannelRenderer<'_>],
    generated_at: &str,
) -> Digest32 {
    let mut fingerprint = Fingerprint::new();
    for file in crate::last_build::FILES {
        let text = source.read_to_string(Path::new(file)).unwrap_or_default();
        fingerprint.add(text.as_bytes());
    }
    for renderer in renderers {
        fingerprint.add(renderer.sources().as_bytes());
        if renderer.reads_build() {
            fingerprint.add(generated_at.as_bytes());
        }
    }
    fingerprint.finish()
}

/// A batch's cache entries by path. Built and looked up once per file of every build from
/// the cache, on the thread that checks files in order: hashed with foldhash, not SipHash.
pub type EntriesByPath = HashMap<Arc<str>, FileEntry, foldhash::fast::RandomState>;

/// The cache a previous build left, read as the catalog streams through.
pub struct Previous {
    head: Head,
    entries: EntryReader,
    /// Whether the feeds and last build the entries point into are still as that build left
    /// them, so items and products can be copied from them.
    pub outputs_intact: bool,
    root: PathBuf,
    /// How many products its entries have, when known without decoding them (kept ones).
    products: Option<usize>,
}

impl Previous {
    /// The cache of the catalog at `root`, if there is one valid for `fingerprint`.
    pub fn open(root: &Path, fingerprint: &Digest32) -> Option<Previous> {
        Previous::open_kept(root, fingerprint, None)
    }

    /// [`Previous::open`], with its entries taken from `kept` when they are that cache's
    /// (see [`kept`]), rather than decoded from its entries file.
    pub fn open_kept(
        root: &Path,
        fingerprint: &Digest32,
        kept: Option<KeptEntries>,
    ) -> Option<Previous> {
        let dir = root.join(pimfeed_folder::CACHE);
        let head: Head = postcard::from_bytes(&fs::read(dir.join(HEAD)).ok()?).ok()?;
        if head.format != FORMAT || head.fingerprint != *fingerprint {
            return None;
        }
        let entries_path = dir.join(ENTRIES);
        let (mut entries, products) = match kept {
            Some(kept) if kept.are_of(head.build_id, &entries_path) => (
                EntryReader::kept(head.build_id, kept.entries),
                Some(kept.products),
            ),
            _ => (EntryReader::open(&entries_path).ok()?, None),
        };
        if entries.build_id != head.build_id {
            return None;
        }
        entries.fill().ok()?;
        let intact = |(folder, stamps): &(String, Vec<(String, Stamp)>)| {
            last_build_stamps(&root.join(folder)).is_ok_and(|now| now == *stamps)
        };
        let feed_intact = |feed: &PublishedFeed| {
            FeedStamp::of(&root.join(&feed.path)).is_ok_and(|now| now == feed.stamp)
        };
        let outputs_intact = head.feeds.iter().flatten().all(feed_intact)
            && head.last_build.as_ref().is_some_and(intact);
        Some(Previous {
            head,
            entries,
            outputs_intact,
            root: root.to_path_buf(),
            products,
        })
    }

    /// The last build's cache when a run may use it (`use_cache`): valid for `fingerprint`
    /// and, unless the run only reads it (a check, which copies nothing), with the feeds and
    /// last build it points into as that build left them.
    /// `kept` are entries a watcher kept (see [`kept`]).
    pub fn usable(
        root: &Path,
        fingerprint: &Digest32,
        use_cache: bool,
        reads_only: bool,
        kept: Option<KeptEntries>,
    ) -> Option<Previous> {
        use_cache
            .then(|| Previous::open_kept(root, fingerprint, kept))
            .flatten()
            .filter(|previous| reads_only || previous.outputs_intact)
    }

    /// Whether the file whose stamp is `now` is the one `entry` was made from, without reading
    /// it: the same stamp, old enough that a write within the same clock tick is ruled out.
    pub fn unchanged(&self, entry: &FileEntry, now: &Stamp) -> bool {
        entry.stamp == *now && self.trusts(now)
    }

    /// When the build that made this cache started (ns since the epoch): before it read any
    /// file.
    pub fn started_ns(&self) -> i64 {
        self.head.started_ns
    }

    /// Whether the build that made this cache had the ERP records whose [`records_digest`] is
    /// `digest`: then every reusable entry's ERP digest holds without being computed again.
    pub fn made_with_records(&self, digest: &Digest32) -> bool {
        self.head.erp_records.as_ref() == Some(digest)
    }

    /// Whether an entry's stamp alone vouches for the file's bytes.
    pub fn trusts(&self, stamp: &Stamp) -> bool {
        stamp.modified_ns < self.head.started_ns - 1_000_000_000
    }

    /// How many products its entries have, when that is known before they are read (entries
    /// kept in memory): room to reserve for the checks across files.
    pub fn products(&self) -> Option<usize> {
        self.products
    }

    /// Whether its entries were kept in memory by a watcher rather than decoded from disk.
    pub fn entries_kept(&self) -> bool {
        self.entries.chunks.is_none()
    }

    /// The next entries, up to and including `last` in catalog order, by path; entries of
    /// files that are gone are skipped.
    pub fn entries_through(&mut self, last: &Path) -> io::Result<EntriesByPath> {
        let mut out = EntriesByPath::with_capacity_and_hasher(1024, Default::default());
        let last_bytes = plain_path_bytes(last);
        while let Some(entry) = self.entries.peek() {
            let after_last = match (plain_path_bytes(Path::new(&*entry.path)), last_bytes) {
                (Some(entry), Some(last)) => in_path_order(entry, last).is_gt(),
                _ => Path::new(&*entry.path) > last,
            };
            if after_last {
                break;
            }
            let entry = self.entries.take()?.expect("peeked");
            out.insert(entry.path.clone(), entry);
        }
        Ok(out)
    }

    /// The next `count` entries, in catalog order (for a refresh, which reads no files).
    pub fn next_entries(&mut self, count: usize) -> io::Result<Vec<FileEntry>> {
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            match self.entries.take()? {
                Some(entry) => out.push(entry),
                None => break,
            }
        }
        Ok(out)
    }

    /// Readers of each channel's feed files, to copy items from.
    pub fn feed_readers(&self) -> Vec<OldFeed> {
        self.head
            .feeds
            .iter()
            .map(|parts| OldFeed {
                parts: parts
                    .iter()
                    .map(|feed| OldFile::new(self.root.join(&feed.path)))
                    .collect(),
                splice: parts
                    .iter()
                    .map(|feed| {
                        feed.items_checked
                            .then(|| SpliceSource::new(self.root.join(&feed.path), feed.stamp))
                    })
                    .collect(),
                splice_files: parts.iter().map(|_| None).collect(),
            })
            .collect()
    }

    /// The last build's product lines, to copy or read lines from.
    pub fn last_build_lines(&self) -> Option<ProductLines> {
        let (folder, _) = self.head.last_build.as_ref()?;
        ProductLines::open(&self.root.join(folder)).ok()
    }
}

/// The stamp of each line file of the last build in `folder`, in order: a build copies lines
/// from them only while they are all as it left them.
fn last_build_stamps(folder: &Path) -> io::Result<Vec<(String, Stamp)>> {
    let lines = ProductLines::open(folder)?;
    (0..lines.files().len())
        .map(|index| {
            Ok((
                lines.files()[index].name.clone(),
                Stamp::of(&lines.path(index))?,
            ))
        })
        .collect()
}

/// The bytes of a path spelled as a walk spells it (components joined by single `/`, no
/// `.` and no trailing `/`), which [`in_path_order`] orders as paths are ordered.
pub(crate) fn plain_path_bytes(path: &Path) -> Option<&[u8]> {
    let bytes = path.as_os_str().as_encoded_bytes();
    // Each component is neither empty nor `.`: one pass, as this runs for every file.
    let plain = bytes
        .split(|byte| *byte == b'/')
        .all(|component| !component.is_empty() && component != b".");
    plain.then_some(bytes)
}

/// Two plain paths (see [`plain_path_bytes`]) in the order of [`Path`]'s comparison, which
/// compares component by component: as bytes with `/` below every other byte, so that a
/// folder's files come before a name that extends the folder's (`a/b` before `a-b`).
fn in_path_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let key = |byte: &u8| if *byte == b'/' { 0 } else { *byte };
    a.iter().map(key).cmp(b.iter().map(key))
}

/// The wall clock, in ns since the epoch, as the cache keeps times.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// When the build that made the catalog's current cache started (ns since the epoch), if
/// there is a cache this binary can read: for `watch`, which learns so which caches its own
/// builds made.
pub fn started_ns(root: &Path) -> Option<i64> {
    let bytes = fs::read(root.join(pimfeed_folder::CACHE).join(HEAD)).ok()?;
    let head: Head = postcard::from_bytes(&bytes).ok()?;
    (head.format == FORMAT).then_some(head.started_ns)
}

/// The entries file the last build of a catalog kept, read by position (for `serve`, which
/// indexes where each file's entry sits and reads one when a page asks for it). The file is
/// kept open: a newer build replaces it, never changes it, so positions stay valid for as
/// long as this lives.
pub struct EntriesFile {
    file: File,
}

/// Where one entry sits in `entries.bin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryAt {
    offset: u64,
    len: u32,
}

/// The first fields of a [`FileEntry`], decoded without its diagnostics and products.
#[derive(Debug, Deserialize)]
pub struct EntryHead {
    pub path: Arc<str>,
    pub stamp: Stamp,
    pub content: Digest32,
    pub erp: Digest32,
    pub last_build: (u64, u64),
    pub reusable: bool,
}

impl EntriesFile {
    pub fn open(root: &Path) -> io::Result<EntriesFile> {
        let file = File::open(root.join(pimfeed_folder::CACHE).join(ENTRIES))?;
        Ok(EntriesFile { file })
    }

    /// Visits every entry in catalog order: where it sits and its bytes (see [`EntryHead`]
    /// and [`decode_entry`]).
    pub fn for_each(
        &self,
        mut visit: impl FnMut(EntryAt, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut file = &self.file;
        std::io::Seek::rewind(&mut file)?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        // The build id, which only the build checks.
        let mut id = [0; 8];
        reader.read_exact(&mut id)?;
        let mut offset = 8u64;
        let mut bytes = Vec::new();
        loop {
            let mut len = [0; 4];
            match reader.read_exact(&mut len) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(err) => return Err(err),
            }
            let len = u32::from_le_bytes(len);
            bytes.resize(len as usize, 0);
            reader.read_exact(&mut bytes)?;
            visit(
                EntryAt {
                    offset: offset + 4,
                    len,
                },
                &bytes,
            )?;
            offset += 4 + u64::from(len);
        }
    }

    /// The entry at `at`, whole.
    pub fn read(&self, at: EntryAt) -> io::Result<FileEntry> {
        let mut bytes = vec![0; at.len as usize];
        crate::positioned::read_exact_at(&self.file, &mut bytes, at.offset)?;
        decode_entry(&bytes)
    }
}

/// An entry's first fields, from its bytes.
pub fn decode_head(bytes: &[u8]) -> io::Result<EntryHead> {
    postcard::take_from_bytes(bytes)
        .map(|(head, _)| head)
        .map_err(io::Error::other)
}

/// An entry, from its bytes.
pub fn decode_entry(bytes: &[u8]) -> io::Result<FileEntry> {
    postcard::from_bytes(bytes).map_err(io::Error::other)
}

/// One channel's feed files of the previous build (each opened when first read).
pub struct OldFeed {
    parts: Vec<OldFile>,
    /// Per file, where runs of its items may be spliced from: `None` for a file whose items
    /// were not each checked whole.
    splice: Vec<Option<SpliceSource>>,
    /// Per file, its handle for splicing, opened when first needed.
    splice_files: Vec<Option<File>>,
}

impl crate::render::LastFeed for OldFeed {
    fn splice_source(&self, part: u32) -> Option<&SpliceSource> {
        OldFeed::splice_source(self, part)
    }

    fn read(&mut self, span: &ItemSpan) -> io::Result<Vec<u8>> {
        OldFeed::read(self, span)
    }

    fn read_spliceable(&mut self, span: &ItemSpan) -> io::Result<Vec<u8>> {
        OldFeed::read_spliceable(self, span)
    }

    fn splice_file(&mut self, part: u32) -> io::Result<File> {
        OldFeed::splice_file(self, part)
    }
}

impl OldFeed {
    /// A channel the last build did not have.
    pub fn empty() -> Self {
        OldFeed {
            parts: Vec::new(),
            splice: Vec::new(),
            splice_files: Vec::new(),
        }
    }

    /// Whether the last build had this channel's feed to copy from.
    pub fn exists(&self) -> bool {
        !self.parts.is_empty()
    }

    /// Where runs of items of file `part` may be spliced from, if they may.
    pub fn splice_source(&self, part: u32) -> Option<&SpliceSource> {
        self.splice.get(part as usize)?.as_ref()
    }

    /// The bytes of one item of a file runs may be spliced from, read by position: the item
    /// that may start a run sits past the last run, where a buffered reader would refill its
    /// whole buffer for one item.
    pub fn read_spliceable(&mut self, span: &ItemSpan) -> io::Result<Vec<u8>> {
        let mut bytes = vec![0; span.len as usize];
        let file = self.splice_handle(span.part)?;
        crate::positioned::read_exact_at(file, &mut bytes, span.offset)?;
        Ok(bytes)
    }

    /// A handle of its own on file `part`, to splice byte ranges of it.
    pub fn splice_file(&mut self, part: u32) -> io::Result<File> {
        self.splice_handle(part)?.try_clone()
    }

    fn splice_handle(&mut self, part: u32) -> io::Result<&File> {
        let index = part as usize;
        let source = self
            .splice
            .get(index)
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                io::Error::other("the build cache names a feed file it does not have")
            })?;
        let slot = &mut self.splice_files[index];
        let file = match slot {
            Some(file) => file,
            None => slot.insert(File::open(&source.path).map_err(|err| {
                io::Error::new(err.kind(), format!("{}: {err}", source.path.display()))
            })?),
        };
        Ok(file)
    }

    /// The bytes of one item, as written.
    pub fn read(&mut self, span: &ItemSpan) -> io::Result<Vec<u8>> {
        self.parts
            .get_mut(span.part as usize)
            .ok_or_else(|| io::Error::other("the build cache names a feed file it does not have"))?
            .read(span.offset, span.len as u64)
    }
}

/// A file read mostly front to back (cached items come in the order they were written).
pub struct OldFile {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    position: u64,
}

impl OldFile {
    fn new(path: PathBuf) -> Self {
        OldFile {
            path,
            reader: None,
            position: 0,
        }
    }

    /// A handle on the file of its own (for copying ranges of it in the kernel).
    pub fn file(&mut self) -> io::Result<File> {
        File::open(&self.path)
            .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", self.path.display())))
    }

    pub fn read(&mut self, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let reader = match &mut self.reader {
            Some(reader) => reader,
            None => {
                let file = File::open(&self.path).map_err(|err| {
                    io::Error::new(err.kind(), format!("{}: {err}", self.path.display()))
                })?;
                self.position = 0;
                self.reader.insert(BufReader::with_capacity(1 << 20, file))
            }
        };
        if offset != self.position {
            reader.seek_relative(offset as i64 - self.position as i64)?;
        }
        let mut bytes = vec![0; len as usize];
        reader.read_exact(&mut bytes)?;
        self.position = offset + len;
        Ok(bytes)
    }
}

/// Reads `entries.bin`: a build id, then length-prefixed entries.
/// Reads `entries.bin` in order. Decoding an entry (its products, verdicts and reasons) is
/// most of what reading the cache costs, about 0.1 s for 57,000 files; a thread of its own
/// reads and decodes them a chunk ahead of the build, which meanwhile checks the batch
/// before. At most [`CHUNKS_AHEAD`] chunks wait, so memory stays bounded by a batch.
struct EntryReader {
    build_id: u64,
    /// In a mutex only so that the cache can be shared with the threads that check files
    /// (a receiver is not `Sync`); only `&mut self` ever reaches it, without locking. None
    /// for entries kept in memory, which are all in `chunk`.
    chunks: Option<std::sync::Mutex<std::sync::mpsc::Receiver<io::Result<Vec<FileEntry>>>>>,
    chunk: std::vec::IntoIter<FileEntry>,
    next: Option<FileEntry>,
    done: bool,
}

/// Entries decoded per chunk, and chunks decoded ahead of the build: the cache is opened
/// while the ERP numbers are pulled and the product files listed, and the first batch also
/// looks up the second (two batches of 1,024 files), so that much is decoded by the time
/// the content stage asks for it. Still a few thousand entries, whatever the catalog's size.
const ENTRIES_PER_CHUNK: usize = 256;
const CHUNKS_AHEAD: usize = 12;

impl EntryReader {
    fn open(path: &Path) -> io::Result<Self> {
        let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
        let mut id = [0; 8];
        reader.read_exact(&mut id)?;
        let (sender, chunks) = std::sync::mpsc::sync_channel(CHUNKS_AHEAD);
        // It stops at the end of the file, or when the reader is dropped.
        std::thread::spawn(move || decode_chunks(reader, &sender));
        Ok(EntryReader {
            build_id: u64::from_le_bytes(id),
            chunks: Some(std::sync::Mutex::new(chunks)),
            chunk: Vec::new().into_iter(),
            next: None,
            done: false,
        })
    }

    /// The entries of the cache `build_id`, kept in memory (see [`kept`]).
    fn kept(build_id: u64, entries: Vec<FileEntry>) -> Self {
        EntryReader {
            build_id,
            chunks: None,
            chunk: entries.into_iter(),
            next: None,
            done: false,
        }
    }

    fn peek(&self) -> Option<&FileEntry> {
        self.next.as_ref()
    }

    fn take(&mut self) -> io::Result<Option<FileEntry>> {
        let entry = self.next.take();
        self.fill()?;
        Ok(entry)
    }

    fn fill(&mut self) -> io::Result<()> {
        while !self.done && self.next.is_none() {
            if let Some(entry) = self.chunk.next() {
                self.next = Some(entry);
                return Ok(());
            }
            let Some(chunks) = self.chunks.as_mut() else {
                // Kept entries: all of them were in the one chunk.
                self.done = true;
                break;
            };
            let chunks = chunks
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match chunks.recv() {
                Ok(chunk) => self.chunk = chunk?.into_iter(),
                // The decoding thread is done: the end of the file.
                Err(_) => self.done = true,
            }
        }
        Ok(())
    }
}

/// Decodes the entries after the build id, a chunk at a time, into `sender`: until the end
/// of the file, the first error (sent too), or until nobody receives.
fn decode_chunks(
    mut reader: BufReader<File>,
    sender: &std::sync::mpsc::SyncSender<io::Result<Vec<FileEntry>>>,
) {
    let mut chunk = Vec::with_capacity(ENTRIES_PER_CHUNK);
    let mut bytes = Vec::new();
    loop {
        let mut len = [0; 4];
        let decoded = match reader.read_exact(&mut len) {
            Ok(()) => {
                bytes.resize(u32::from_le_bytes(len) as usize, 0);
                reader
                    .read_exact(&mut bytes)
                    .and_then(|()| postcard::from_bytes(&bytes).map_err(io::Error::other))
                    .map(Some)
            }
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(err) => Err(err),
        };
        match decoded {
            Ok(Some(entry)) => {
                chunk.push(entry);
                if chunk.len() == ENTRIES_PER_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(ENTRIES_PER_CHUNK));
                    if sender.send(Ok(full)).is_err() {
                        return;
                    }
                }
            }
            Ok(None) => {
                if !chunk.is_empty() {
                    let _ = sender.send(Ok(chunk));
                }
                return;
            }
            Err(err) => {
                if !chunk.is_empty() && sender.send(Ok(chunk)).is_err() {
                    return;
                }
                let _ = sender.send(Err(err));
                return;
            }
        }
    }
}

/// The cache a build writes as it goes; put in place by [`Writer::commit`] once the feeds are.
pub struct Writer {
    dir: PathBuf,
    entries: BufWriter<File>,
    build_id: u64,
    fingerprint: Digest32,
    started_ns: i64,
    erp_records: Option<Digest32>,
    committed: bool,
    /// An entry's bytes, encoded into the same buffer every time.
    encoded: Vec<u8>,
    /// The entries written, for a watcher to keep once the cache is committed.
    keeping: Option<kept::Collecting>,
}

/// Removes the cache of the catalog at `root` (when a new one could not be kept whole).
pub fn discard(root: &Path) {
    let _ = fs::remove_file(root.join(pimfeed_folder::CACHE).join(HEAD));
}

impl Writer {
    pub fn create(root: &Path, fingerprint: Digest32) -> io::Result<Writer> {
        let dir = root.join(pimfeed_folder::CACHE);
        fs::create_dir_all(&dir)?;
        let started_ns = now_ns();
        let build_id = (started_ns as u64) ^ (u64::from(std::process::id()) << 32);
        let mut entries = BufWriter::with_capacity(
            1 << 20,
            File::create(dir.join(format!("{ENTRIES}.{}", std::process::id())))?,
        );
        entries.write_all(&build_id.to_le_bytes())?;
        Ok(Writer {
            dir,
            entries,
            build_id,
            fingerprint,
            started_ns,
            erp_records: None,
            committed: false,
            encoded: Vec::new(),
            keeping: None,
        })
    }

    /// Collects every entry written, and once the cache is committed puts them in `slot`,
    /// for the next build of a watcher to take instead of decoding them (see [`kept`]).
    /// `files` is how many content files the build has: room for as many entries at once.
    pub fn keeping_entries(mut self, slot: KeptSlot, files: usize) -> Writer {
        self.keeping = Some(kept::Collecting {
            entries: Vec::with_capacity(files),
            slot,
        });
        self
    }

    /// Notes the [`records_digest`] of the ERP records this build has, whose entries' ERP
    /// digests are all made or checked with them.
    pub fn made_with_records(mut self, digest: Option<Digest32>) -> Writer {
        self.erp_records = digest;
        self
    }

    fn entries_in_progress(&self) -> PathBuf {
        self.dir.join(format!("{ENTRIES}.{}", std::process::id()))
    }

    pub fn add(&mut self, entry: &FileEntry) -> io::Result<()> {
        let mut encoded = std::mem::take(&mut self.encoded);
        encoded.clear();
        let encoded = postcard::to_extend(entry, encoded).map_err(io::Error::other)?;
        self.entries
            .write_all(&(encoded.len() as u32).to_le_bytes())?;
        let written = self.entries.write_all(&encoded);
        self.encoded = encoded;
        written
    }

    /// [`Writer::add`], keeping the entry when a watcher keeps them (see [`kept`]).
    pub fn add_owned(&mut self, entry: FileEntry) -> io::Result<()> {
        let added = self.add(&entry);
        match (&added, self.keeping.as_mut()) {
            (Ok(()), Some(keeping)) => keeping.entries.push(entry),
            // An entry missing would make the kept ones another cache's: keep none.
            (Err(_), Some(_)) => self.keeping = None,
            (_, None) => {}
        }
        added
    }

    /// Puts the new entries in place, valid for the feeds and last build now at these paths
    /// (catalog-relative; each feed file with whether its items were each checked whole).
    pub fn commit(
        mut self,
        root: &Path,
        feeds: Vec<Vec<(String, bool)>>,
        last_build: Option<String>,
    ) -> io::Result<()> {
        self.entries.flush()?;
        let stamped = |folder: String| -> io::Result<(String, Vec<(String, Stamp)>)> {
            let stamps = last_build_stamps(&root.join(&folder))?;
            Ok((folder, stamps))
        };
        let head = Head {
            format: FORMAT,
            build_id: self.build_id,
            fingerprint: self.fingerprint,
            started_ns: self.started_ns,
            feeds: feeds
                .into_iter()
                .map(|parts| {
                    parts
                        .into_iter()
                        .map(|(path, items_checked)| {
                            let stamp = FeedStamp::of(&root.join(&path))?;
                            Ok(PublishedFeed {
                                path,
                                stamp,
                                items_checked,
                            })
                        })
                        .collect::<io::Result<Vec<_>>>()
                })
                .collect::<io::Result<_>>()?,
            last_build: last_build.map(stamped).transpose()?,
            erp_records: self.erp_records,
        };
        let head_tmp = self.dir.join(format!("{HEAD}.{}", std::process::id()));
        fs::write(
            &head_tmp,
            postcard::to_allocvec(&head).map_err(io::Error::other)?,
        )?;
        // Entries first: a head is only ever next to the entries of its own build id.
        let entries_path = self.dir.join(ENTRIES);
        fs::rename(self.entries_in_progress(), &entries_path)?;
        self.committed = true;
        fs::rename(head_tmp, self.dir.join(HEAD))?;
        if let Some(keeping) = self.keeping.take() {
            keeping.committed(self.build_id, &entries_path);
        }
        Ok(())
    }
}

impl Drop for Writer {
    /// A failed build leaves the last cache as it was.
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(self.entries_in_progress());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sku: &str, stock: i64) -> ErpRecord {
        ErpRecord::example(sku, rust_decimal::Decimal::new(1250, 2), stock)
    }

    /// The digest is of each SKU and its record's exact bytes (see [`erp_bytes`]), in order;
    /// a SKU without a record and the order of the SKUs both count.
    #[test]
    fn the_erp_digest_is_of_each_sku_and_its_records_bytes() {
        let records = [record("A", 3), record("B", 1)];
        let by_sku = RecordsBySku::new(&records);
        let mut expected = Vec::new();
        for (sku, record) in [
            ("B", Some(&records[1])),
            ("C", None),
            ("A", Some(&records[0])),
        ] {
            expected.extend_from_slice(sku.as_bytes());
            expected.push(0);
            match record {
                Some(record) => {
                    expected.push(1);
                    erp_bytes::append(&mut expected, record);
                }
                None => expected.push(0),
            }
        }
        let expected: Digest32 = Sha256::digest(&expected).into();
        assert_eq!(erp_digest(["B", "C", "A"].into_iter(), &by_sku), expected);
        assert_ne!(erp_digest(["A", "C", "B"].into_iter(), &by_sku), expected);
        assert_ne!(erp_digest(["B", "A"].into_iter(), &by_sku), expected);
    }

    /// Every record counts, in order, each by its exact bytes: a decimal's scale, a record
    /// more or less, two records swapped.
    #[test]
    fn the_records_digest_changes_with_any_record() {
        let records = vec![record("A", 3), record("B", 1)];
        let digest = records_digest(&records);
        assert_eq!(digest, records_digest(&records.clone()));
        let mut rescaled = records.clone();
        rescaled[1].price = rust_decimal::Decimal::new(12500, 3);
        assert_eq!(rescaled[1].price, records[1].price, "the same number");
        let swapped = vec![records[1].clone(), records[0].clone()];
        let fewer = vec![records[0].clone()];
        let restocked = vec![record("A", 3), record("B", 2)];
        for other in [rescaled, swapped, fewer, restocked, Vec::new()] {
            assert_ne!(records_digest(&other), digest);
        }
        // Records that run past one buffer of bytes are hashed whole.
        let many: Vec<ErpRecord> = (0..5_000).map(|n| record(&format!("S{n}"), n)).collect();
        let mut last_changed = many.clone();
        last_changed[4_999].stock = 0;
        assert_ne!(records_digest(&many), records_digest(&last_changed));
        // And past one run of records: a change in any run, a record moved across a run's
        // end, one record more.
        let runs: Vec<ErpRecord> = (0..17_000).map(|n| record(&format!("S{n}"), n)).collect();
        let digest = records_digest(&runs);
        assert_eq!(digest, records_digest(&runs.clone()));
        let mut in_the_last_run = runs.clone();
        in_the_last_run[16_999].stock = 0;
        let mut across = runs.clone();
        across.swap(8_191, 8_192);
        let mut longer = runs.clone();
        longer.push(record("S17000", 1));
        for other in [in_the_last_run, across, longer, runs[..16_384].to_vec()] {
            assert_ne!(records_digest(&other), digest);
        }
    }

    /// A cache says which records its entries were made with; one made without saying so
    /// vouches for none.
    #[test]
    fn a_cache_is_made_with_the_records_its_writer_was_given() {
        let dir = tempfile::tempdir().unwrap();
        let digest = records_digest(&[record("A", 3)]);
        let writer = Writer::create(dir.path(), [7; 32]).unwrap();
        writer
            .made_with_records(Some(digest))
            .commit(dir.path(), Vec::new(), None)
            .unwrap();
        let previous = Previous::open(dir.path(), &[7; 32]).unwrap();
        assert!(previous.made_with_records(&digest));
        assert!(!previous.made_with_records(&records_digest(&[record("A", 4)])));

        let writer = Writer::create(dir.path(), [7; 32]).unwrap();
        writer.commit(dir.path(), Vec::new(), None).unwrap();
        let previous = Previous::open(dir.path(), &[7; 32]).unwrap();
        assert!(!previous.made_with_records(&digest));
    }

    #[test]
    fn an_entry_holds_while_its_erp_records_are_the_same() {
        let records = [record("A", 3), record("B", 1)];
        let by_sku = RecordsBySku::new(&records);
        let mut entry = FileEntry {
            path: "content/products/a.toml".into(),
            stamp: Stamp::UNKNOWN,
            content: UNKNOWN_CONTENT,
            erp: erp_digest(["A"].into_iter(), &by_sku),
            last_build: (0, 0),
            reusable: true,
            diagnostics: Vec::new(),
            products: vec![CachedProduct {
                sku: "A".into(),
                line: 1,
                titles: Vec::new(),
                channels: Vec::new(),
            }],
            kept_since: None,
        };
        assert!(entry.holds_with(&by_sku));
        // Another product's record changing does not matter; its own does.
        let restocked = [record("A", 3), record("B", 9)];
        let by_sku = RecordsBySku::new(&restocked);
        assert!(entry.holds_with(&by_sku));
        let repriced = [record("A", 0)];
        let changed = RecordsBySku::new(&repriced);
        assert!(!entry.holds_with(&changed));
        entry.reusable = false;
        assert!(
            !entry.holds_with(&by_sku),
            "a file with errors is read again"
        );
    }

    #[test]
    fn a_verdict_survives_the_cache() {
        let mut reason = Reason::new("missing-attribute", "no brand");
        reason.attribute = Some("brand".into());
        reason.line = Some(3);
        let verdict = Verdict {
            included: false,
            completeness: 80,
            reasons: vec![reason],
            warnings: vec![Reason::new("too-many-images", "11 images")],
        };
        let span = ItemSpan {
            part: 1,
            offset: 42,
            len: 7,
        };
        let cached = CachedVerdict::new(&verdict, Some(span));
        let bytes = postcard::to_allocvec(&cached).unwrap();
        let back: CachedVerdict = postcard::from_bytes(&bytes).unwrap();
        let restored = back.verdict();
        assert_eq!(restored.completeness, 80);
        assert_eq!(restored.reasons[0].code, "missing-attribute");
        assert_eq!(restored.reasons[0].attribute.as_deref(), Some("brand"));
        assert_eq!(restored.reasons[0].line, Some(3));
        assert_eq!(restored.warnings[0].code, "too-many-images");
        assert_eq!(back.item, Some(span));
    }

    #[test]
    fn entries_are_read_back_in_order_and_a_foreign_head_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fingerprint = [7; 32];
        let entry = |path: &str| FileEntry {
            path: path.into(),
            stamp: Stamp {
                len: 1,
                modified_ns: 2,
                inode: 3,
            },
            content: [1; 32],
            erp: [2; 32],
            last_build: (0, 0),
            reusable: true,
            diagnostics: Vec::new(),
            products: Vec::new(),
            kept_since: None,
        };
        let mut writer = Writer::create(dir.path(), fingerprint).unwrap();
        for path in [
            "content/products/a.toml",
            "content/products/b/c.toml",
            "content/products/d.toml",
        ] {
            writer.add(&entry(path)).unwrap();
        }
        writer.commit(dir.path(), Vec::new(), None).unwrap();

        assert!(
            Previous::open(dir.path(), &[8; 32]).is_none(),
            "another fingerprint"
        );
        let mut previous = Previous::open(dir.path(), &fingerprint).unwrap();
        assert!(!previous.outputs_intact, "no last build was recorded");
        let first = previous
            .entries_through(Path::new("content/products/b/c.toml"))
            .unwrap();
        assert_eq!(first.len(), 2);
        let rest = previous.next_entries(10).unwrap();
        assert_eq!(&*rest[0].path, "content/products/d.toml");
        assert!(previous.next_entries(10).unwrap().is_empty());
    }

    #[test]
    fn entries_decoded_ahead_come_in_order_across_chunks_and_a_damaged_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |n: usize| FileEntry {
            path: format!("content/products/{n:05}.toml").into(),
            stamp: Stamp::UNKNOWN,
            content: [1; 32],
            erp: [2; 32],
            last_build: (n as u64, 1),
            reusable: true,
            diagnostics: Vec::new(),
            products: Vec::new(),
            kept_since: None,
        };
        let count = ENTRIES_PER_CHUNK * (CHUNKS_AHEAD + 2) + 3;
        let mut writer = Writer::create(dir.path(), [7; 32]).unwrap();
        for n in 0..count {
            writer.add(&entry(n)).unwrap();
        }
        writer.commit(dir.path(), Vec::new(), None).unwrap();
        let mut previous = Previous::open(dir.path(), &[7; 32]).unwrap();
        let mut read = Vec::new();
        loop {
            let entries = previous.next_entries(100).unwrap();
            if entries.is_empty() {
                break;
            }
            read.extend(entries.into_iter().map(|e| e.last_build.0 as usize));
        }
        assert_eq!(read, (0..count).collect::<Vec<_>>());

        // Cut off in the middle of an entry past the first chunk: the entries before it,
        // then an error (not a quiet end, which would drop files from the build).
        let entries = dir.path().join(pimfeed_folder::CACHE).join(ENTRIES);
        let bytes = fs::read(&entries).unwrap();
        fs::write(&entries, &bytes[..bytes.len() / 2]).unwrap();
        let mut previous = Previous::open(dir.path(), &[7; 32]).unwrap();
        let mut read = 0;
        let error = loop {
            match previous.next_entries(100) {
                Ok(entries) if entries.is_empty() => panic!("a quiet end after {read}"),
                Ok(entries) => read += entries.len(),
                Err(error) => break error,
            }
        };
        assert!(read > ENTRIES_PER_CHUNK && read < count, "{read}");
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }

    /// The entries a writer keeps are those it wrote, decoded; taken only for the cache that
    /// writer committed, not for one another build committed after it, and not kept at all
    /// by a writer that never committed.
    #[test]
    fn kept_entries_are_the_committed_caches_and_only_its() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |n: usize| FileEntry {
            path: format!("content/products/{n:05}.toml").into(),
            stamp: Stamp::new(n as u64, 7, 9),
            content: [n as u8; 32],
            erp: [2; 32],
            last_build: (n as u64 * 10, 10),
            reusable: !n.is_multiple_of(3),
            diagnostics: Vec::new(),
            products: vec![CachedProduct {
                sku: format!("SKU-{n}").into(),
                line: 2,
                titles: vec![("nl-NL".to_string(), n as u64)],
                channels: vec![CachedVerdict {
                    included: n.is_multiple_of(2),
                    completeness: 80,
                    reasons: Vec::new(),
                    warnings: Vec::new(),
                    item: Some(ItemSpan {
                        part: 0,
                        offset: n as u64 * 100,
                        len: 100,
                    }),
                }],
            }],
            kept_since: (n == 5).then(|| "2024-01-01".to_string()),
        };
        let count = ENTRIES_PER_CHUNK + 10;
        let read_all = |previous: &mut Previous| {
            let mut all = Vec::new();
            loop {
                let entries = previous.next_entries(100).unwrap();
                if entries.is_empty() {
                    return all;
                }
                all.extend(entries);
            }
        };

        let slot = KeptSlot::default();
        let mut writer = Writer::create(dir.path(), [7; 32])
            .unwrap()
            .keeping_entries(slot.clone(), 4);
        for n in 0..count {
            writer.add_owned(entry(n)).unwrap();
        }
        assert!(take_kept(&slot).is_none(), "nothing before the commit");
        writer.commit(dir.path(), Vec::new(), None).unwrap();
        let kept = take_kept(&slot).expect("kept once committed");
        assert_eq!(kept.len(), count);
        let mut decoded = Previous::open(dir.path(), &[7; 32]).unwrap();
        assert!(!decoded.entries_kept());
        let decoded = read_all(&mut decoded);
        let mut from_memory = Previous::open_kept(dir.path(), &[7; 32], Some(kept)).unwrap();
        assert!(from_memory.entries_kept());
        assert_eq!(read_all(&mut from_memory), decoded);
        let through = Previous::open_kept(dir.path(), &[7; 32], take_kept(&slot));
        assert!(!through.unwrap().entries_kept(), "taken once");

        // Another build's cache replaces this one: the kept entries are not taken for it.
        let slot = KeptSlot::default();
        let mut writer = Writer::create(dir.path(), [7; 32])
            .unwrap()
            .keeping_entries(slot.clone(), 4);
        writer.add_owned(entry(1)).unwrap();
        writer.commit(dir.path(), Vec::new(), None).unwrap();
        let stale = take_kept(&slot).unwrap();
        let mut other = Writer::create(dir.path(), [7; 32]).unwrap();
        other.add(&entry(2)).unwrap();
        other.add(&entry(3)).unwrap();
        other.commit(dir.path(), Vec::new(), None).unwrap();
        let mut previous = Previous::open_kept(dir.path(), &[7; 32], Some(stale)).unwrap();
        assert!(!previous.entries_kept());
        let paths: Vec<_> = read_all(&mut previous)
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, [entry(2).path, entry(3).path]);

        // A build that fails drops its writer uncommitted: nothing is kept.
        let slot = KeptSlot::default();
        let mut writer = Writer::create(dir.path(), [7; 32])
            .unwrap()
            .keeping_entries(slot.clone(), 4);
        writer.add_owned(entry(4)).unwrap();
        drop(writer);
        assert!(take_kept(&slot).is_none());
    }

    /// Plain paths compare as bytes, `/` lowest, exactly as paths compare component by
    /// component; others are left to the paths' comparison.
    #[test]
    fn plain_paths_in_byte_order_are_in_path_order() {
        let paths = [
            "content/products/a/b.toml",
            "content/products/a-b.toml",
            "content/products/a.toml",
            "content/products/a/b/c.toml",
            "content/products/a b/c.toml",
            "content/products/A/b.toml",
            "content/products/a",
            "content/products/ab",
            "content/products/a/",
            "content/products//a",
            "content/products/./a",
            "content/products/é/a.toml",
            "content/products/z",
        ];
        for a in paths {
            for b in paths {
                let (a, b) = (Path::new(a), Path::new(b));
                if let (Some(x), Some(y)) = (plain_path_bytes(a), plain_path_bytes(b)) {
                    assert_eq!(in_path_order(x, y), a.cmp(b), "{a:?} {b:?}");
                }
            }
        }
        assert!(plain_path_bytes(Path::new("content/products//a")).is_none());
        assert!(plain_path_bytes(Path::new("content/products/a/")).is_none());
        assert!(plain_path_bytes(Path::new("content/products/./a")).is_none());
    }
}
