//! The working tree as a source: content files read and checked, or found unchanged in the
//! build cache.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::stamps::FolderStamps;
use super::watched::Unchanged;
use super::{
    Batch, BatchSource, ContentSoFar, FileKey, FileWork, FreshFile, Rendered, WatchedChanges,
};
use crate::cache::{self, FileEntry};
use crate::channels::Channel;
use crate::content;
use crate::diagnostics::Diagnostic;
use crate::erp::RecordsBySku;
use crate::last_build;
use crate::pipeline::timings::{BusyTime, Stopwatch};
use crate::pipeline::{CacheUse, FILES_PER_BATCH, Failure};
use crate::report::ProductRef;
use crate::validate;

/// The working tree's product files, read and checked, or found unchanged in the build cache.
pub(crate) struct WorkingTree<'a> {
    pub(crate) files: &'a [PathBuf],
    /// The index of the next batch's first file.
    pub(crate) next: usize,
    pub(crate) last_cache: Option<cache::Previous>,
    pub(crate) source: &'a content::CatalogSource,
    pub(crate) parse: content::product::ParseContext<'a>,
    pub(crate) by_sku: &'a RecordsBySku<'a>,
    pub(crate) model: &'a content::Model,
    pub(crate) channels: &'a [Channel],
    pub(crate) busy: &'a ReadingTime,
    /// `[guard] keep_last_good_days`, and this run's start (see [`crate::keep`]).
    pub(crate) keep_days: u32,
    pub(crate) now: chrono::DateTime<chrono::Utc>,
    /// What the watcher that started this build saw change (see [`WatchedChanges`]).
    pub(crate) watched: Option<&'a WatchedChanges>,
    /// Set when the ERP records are those of the build whose cache started at this time.
    pub(crate) records_of_cache: Option<i64>,
    /// The [`cache::records_digest`] of this run's ERP records, matched against the one the
    /// cache was made with.
    pub(crate) records_digest: Option<cache::Digest32>,
    /// The next batch, looked up while the checks of the one before ran.
    pub(crate) prefetched: Option<LookedUp>,
}

impl BatchSource for WorkingTree<'_> {
    fn next_batch(
        &mut self,
        so_far: &mut ContentSoFar,
        stopwatch: &mut Stopwatch,
    ) -> Result<Option<Batch>, Failure> {
        let start = self.next;
        let end = self.files.len().min(start + FILES_PER_BATCH);
        if start == end {
            return Ok(None);
        }
        self.next = end;
        if start == 0 {
            // A file has a product or more: room for as many as there are files (or as the
            // last build had products, when its cache says), at once, rather than growing
            // (and rehashing) step by step as the batches come.
            let last_products = self.last_cache.as_ref().and_then(cache::Previous::products);
            let room = self.files.len().max(last_products.unwrap_or(0));
            so_far.skus.reserve(room);
            so_far.quality.reserve_titles(room);
        }
        let prefetched = match self.prefetched.take() {
            Some(prefetched) => prefetched,
            None => LookedUp::Pending(self.entries_through(end)?),
        };
        let following = self.files.len().min(end + FILES_PER_BATCH);
        let next_old = match following > end {
            true => Some(self.entries_through(following)?),
            false => None,
        };
        stopwatch.lap("read the build cache");
        let unchanged = match (self.watched, self.last_cache.as_ref()) {
            (Some(watched), Some(last_cache)) => watched.since(last_cache.started_ns()),
            _ => None,
        };
        let erp_as_cached = self.erp_as_cached();
        let reading = Reading {
            unchanged,
            erp_as_cached,
            source: self.source,
            parse: &self.parse,
            by_sku: self.by_sku,
            last_cache: self.last_cache.as_ref(),
            busy: self.busy,
            keep_days: self.keep_days,
            now: self.now,
        };
        let mut checks = ContentChecks {
            skus: &mut so_far.skus,
            with_errors: &mut so_far.with_errors,
            quality: &mut so_far.quality,
            diagnostics: &mut so_far.diagnostics,
            model: self.model,
            channels: self.channels,
            source: self.source,
        };
        let batch = &self.files[start..end];
        let (old, looked) = match prefetched {
            LookedUp::Done(old, looked) => (old, looked),
            LookedUp::Pending(old) => {
                let looked = look_up_batch(batch, &old, &reading);
                (old, looked)
            }
        };
        // The checks across files run in catalog order on this thread; meanwhile the next
        // batch's files are looked up (a stat each, in a build from the cache) on the others.
        let next_batch = &self.files[end..following];
        let (works, prefetched) = rayon::join(
            || {
                read_content_batch(
                    batch,
                    old,
                    looked,
                    &reading,
                    &mut checks,
                    (&mut so_far.reuse, &mut so_far.changed),
                )
            },
            || {
                next_old.map(|old| {
                    let looked = look_up_batch(next_batch, &old, &reading);
                    LookedUp::Done(old, looked)
                })
            },
        );
        self.prefetched = prefetched;
        Ok(Some(Batch {
            works,
            progressed: batch.len(),
        }))
    }
}

impl WorkingTree<'_> {
    /// Whether the cache was made with this run's ERP records, so that every reusable
    /// entry's ERP digest holds without being computed again: a watcher kept the records of
    /// the build that made it, or the records hash the same as that build's.
    fn erp_as_cached(&self) -> bool {
        let Some(last_cache) = self.last_cache.as_ref() else {
            return false;
        };
        self.records_of_cache == Some(last_cache.started_ns())
            || self
                .records_digest
                .is_some_and(|digest| last_cache.made_with_records(&digest))
    }

    /// The last build's cache entries of the files up to `end` (exclusive), by path.
    fn entries_through(&mut self, end: usize) -> Result<cache::EntriesByPath, Failure> {
        match (self.last_cache.as_mut(), self.files[..end].last()) {
            (Some(last_cache), Some(last)) => last_cache
                .entries_through(last)
                .map_err(Failure::io("cannot read the build cache")),
            _ => Ok(cache::EntriesByPath::default()),
        }
    }
}

/// A batch's cache entries, with its files looked up in them or not yet.
pub(crate) enum LookedUp {
    Pending(cache::EntriesByPath),
    Done(cache::EntriesByPath, Vec<Looked>),
}

/// A content file, looked up in the build cache before it is parsed.
pub(crate) enum Looked {
    /// The cache has it: same bytes, same ERP records.
    Reusable(cache::Stamp),
    /// The cache has it, and the watcher saw no change to it since the cache was made: not
    /// even its stamp was taken.
    Vouched,
    Parsed(Box<content::ParsedFile>, Option<FileKey>),
}

/// Reads content files, or finds them unchanged in the build cache.
struct Reading<'r> {
    /// The files the watcher that started this build vouches for.
    unchanged: Option<Unchanged>,
    /// The ERP records are those the cache's entries were made or checked with: their ERP
    /// digests hold without being computed again.
    erp_as_cached: bool,
    source: &'r content::CatalogSource,
    parse: &'r content::product::ParseContext<'r>,
    by_sku: &'r RecordsBySku<'r>,
    last_cache: Option<&'r cache::Previous>,
    busy: &'r ReadingTime,
    /// `[guard] keep_last_good_days`, and this run's start (see [`crate::keep`]).
    keep_days: u32,
    now: chrono::DateTime<chrono::Utc>,
}

/// Where reading content spends its time, summed over the threads that do it (so on two
/// cores up to twice the stage's wall time): for `--timings`.
#[derive(Default)]
pub(crate) struct ReadingTime {
    pub(crate) reading: BusyTime,
    pub(crate) parsing: BusyTime,
}

impl Reading<'_> {
    fn look_up(
        &self,
        relative: &Path,
        entry: Option<&FileEntry>,
        folders: &mut FolderStamps,
    ) -> Looked {
        // An entry is worth comparing with the file only while its ERP records are the same.
        let entry = entry.filter(|entry| match self.erp_as_cached {
            true => entry.reusable,
            false => entry.holds_with(self.by_sku),
        });
        if let (Some(entry), Some(unchanged)) = (entry, &self.unchanged)
            && entry.stamp != cache::Stamp::UNKNOWN
            && entry.content != cache::UNKNOWN_CONTENT
            && unchanged.vouches_for(relative)
        {
            return Looked::Vouched;
        }
        let path = match self.source.root() {
            Some(root) => root.join(relative),
            None => relative.to_path_buf(),
        };
        let stamp = folders.stamp(&path).ok();
        if let (Some(entry), Some(last_cache), Some(stamp)) = (entry, self.last_cache, stamp)
            && last_cache.unchanged(entry, &stamp)
        {
            return Looked::Reusable(stamp);
        }
        let reading = std::time::Instant::now();
        let bytes = match folders.read(&path, stamp.as_ref().map(cache::Stamp::size)) {
            Ok(bytes) => bytes,
            Err(err) => {
                let unreadable = content::unreadable(relative, content::read_error(relative, &err));
                return Looked::Parsed(Box::new(unreadable), None);
            }
        };
        let digest = cache::content_digest(&bytes);
        self.busy.reading.add(reading.elapsed());
        if let (Some(entry), Some(stamp)) = (entry, stamp)
            && entry.content == digest
        {
            return Looked::Reusable(stamp);
        }
        let parsing = std::time::Instant::now();
        let parsed = content::parse_bytes(relative, bytes, self.parse);
        self.busy.parsing.add(parsing.elapsed());
        let key = stamp.map(|stamp| FileKey {
            stamp,
            content: digest,
        });
        Looked::Parsed(Box::new(parsed), key)
    }

    /// A broken file's products, from the last good build's content (see [`crate::keep`]):
    /// those the file no longer yields and no other file has claimed since.
    fn keep_last_good(
        &self,
        fresh: &mut FreshFile,
        entry: &FileEntry,
        skus: &mut content::SkuRegistry,
    ) {
        let Some(since) = crate::keep::since(entry.kept_since.as_deref(), self.now, self.keep_days)
        else {
            return;
        };
        let Some(last_build) = self.last_cache.and_then(cache::Previous::last_build_lines) else {
            return;
        };
        let (start, len) = entry.last_build;
        let products = last_build
            .read(start, len)
            .and_then(|lines| last_build::parse_lines(&lines));
        let Ok(products) = products else { return };
        let mut kept = std::collections::HashSet::new();
        for product in products {
            let yielded = fresh.products.iter().any(|p| p.sku == product.sku);
            if yielded || !skus.all_new(std::iter::once(product.sku.as_str())) {
                continue;
            }
            skus.register_sku(&product.sku, &product.file, product.line);
            kept.insert(product.sku.clone());
            fresh.products.push(product);
        }
        if !kept.is_empty() {
            fresh.kept = Some(crate::keep::Kept {
                since,
                skus: kept,
                days: self.keep_days,
            });
        }
    }

    fn parse(&self, relative: &Path) -> (content::ParsedFile, Option<FileKey>) {
        match self.look_up(relative, None, &mut FolderStamps::default()) {
            Looked::Parsed(file, key) => (*file, key),
            Looked::Reusable(_) | Looked::Vouched => {
                unreachable!("without an entry nothing is reusable")
            }
        }
    }
}

/// Each file of a batch, found unchanged in the build cache (`old`) or read, in parallel.
fn look_up_batch(
    batch: &[PathBuf],
    old: &cache::EntriesByPath,
    reading: &Reading<'_>,
) -> Vec<Looked> {
    batch
        .par_iter()
        .map_init(FolderStamps::default, |folders, relative| {
            let entry = old.get(relative.to_string_lossy().as_ref());
            reading.look_up(relative, entry, folders)
        })
        .collect()
}

/// One batch of content files, in catalog order, as [`look_up_batch`] found them: each
/// unchanged in the build cache, or read; then the checks across files, in order. Files left
/// without a product are dropped (their diagnostics are kept).
fn read_content_batch(
    batch: &[PathBuf],
    mut old: cache::EntriesByPath,
    looked: Vec<Looked>,
    reading: &Reading<'_>,
    checks: &mut ContentChecks<'_>,
    (reuse, changed): (&mut CacheUse, &mut Vec<PathBuf>),
) -> Vec<FileWork> {
    let mut works = Vec::with_capacity(batch.len());
    for (relative, looked) in batch.iter().zip(looked) {
        if matches!(looked, Looked::Vouched) {
            reuse.files_vouched_by_watch += 1;
        }
        let work = match looked {
            Looked::Reusable(_) | Looked::Vouched => {
                let entry = old
                    .remove(relative.to_string_lossy().as_ref())
                    .expect("a reusable file has an entry");
                let stamp = match looked {
                    Looked::Reusable(stamp) => stamp,
                    _ => entry.stamp,
                };
                checks.reuse(entry, stamp).unwrap_or_else(|| {
                    // Another file now has one of its SKUs or titles: check it again, to say so.
                    let (file, key) = reading.parse(relative);
                    checks.fresh(file, key)
                })
            }
            Looked::Parsed(file, key) => {
                if changed.len() < crate::git::MAX_WITNESSES {
                    changed.push(relative.clone());
                }
                let broken = file.diagnostics.iter().any(Diagnostic::is_error);
                let mut work = checks.fresh(*file, key);
                if let (true, FileWork::Fresh(fresh)) = (broken, &mut work)
                    && let Some(entry) = old.get(relative.to_string_lossy().as_ref())
                {
                    reading.keep_last_good(fresh, entry, checks.skus);
                }
                work
            }
        };
        match &work {
            FileWork::Cached(_) => reuse.files_reused += 1,
            FileWork::Fresh(fresh) if fresh.products.is_empty() => continue,
            FileWork::Fresh(_) => reuse.files_checked += 1,
        }
        works.push(work);
    }
    works
}

/// The checks across files, in catalog order: duplicate SKUs and titles, quality warnings.
struct ContentChecks<'c> {
    skus: &'c mut content::SkuRegistry,
    /// Products of files with errors (see [`report::content_errors`]).
    with_errors: &'c mut Vec<ProductRef>,
    quality: &'c mut validate::quality::QualityCheck,
    diagnostics: &'c mut Vec<Diagnostic>,
    model: &'c content::Model,
    channels: &'c [Channel],
    source: &'c content::CatalogSource,
}

impl ContentChecks<'_> {
    /// A file from the cache, unless a file before it now has one of its SKUs or titles.
    fn reuse(&mut self, mut entry: FileEntry, stamp: cache::Stamp) -> Option<FileWork> {
        if !self.claim_across_files(&entry) {
            return None;
        }
        self.diagnostics.extend(
            entry
                .diagnostics
                .iter()
                .map(cache::CachedDiagnostic::diagnostic),
        );
        entry.stamp = stamp;
        Some(FileWork::Cached(entry))
    }

    /// Registers a cached file's SKUs and titles as its own, one lookup each, as a fresh
    /// check would have; when a file before it has one of them already, gives back what it
    /// registered and says so (the file is then read again, to report it).
    fn claim_across_files(&mut self, entry: &FileEntry) -> bool {
        let file = &entry.path;
        let claimed = entry.products.iter().all(|product| {
            let Some(sku) = self.skus.claim(&product.sku, file, product.line) else {
                return false;
            };
            product
                .titles
                .iter()
                .all(|(locale, key)| self.quality.claim_title(locale, *key, &sku, file))
        });
        if !claimed {
            let products = entry.products.iter();
            self.skus
                .release_file(file, products.clone().map(|p| &*p.sku));
            let titles = products.flat_map(|p| p.titles.iter());
            self.quality
                .release_titles(file, titles.map(|(locale, key)| (locale.as_str(), *key)));
        }
        claimed
    }

    fn fresh(&mut self, file: content::ParsedFile, key: Option<FileKey>) -> FileWork {
        let (products, duplicates) = self.skus.admit(self.source, file.products);
        let path = file.path.to_string_lossy().replace('\\', "/");
        self.with_errors.extend(
            file.skus_with_errors
                .into_iter()
                .map(|(sku, line)| ProductRef {
                    sku,
                    file: path.clone(),
                    line,
                }),
        );
        let warnings =
            self.quality
                .check(&products, &self.model.schema, self.channels, self.source);
        // In the order a cold build reports them.
        let mut diagnostics = file.diagnostics;
        diagnostics.extend(duplicates);
        diagnostics.extend(warnings);
        let reusable = cache::reusable_with(&diagnostics);
        let cached = match reusable {
            true => diagnostics
                .iter()
                .map(cache::CachedDiagnostic::new)
                .collect(),
            false => Vec::new(),
        };
        self.diagnostics.extend(diagnostics);
        FileWork::Fresh(FreshFile {
            path: file.path.to_string_lossy().replace('\\', "/").into(),
            products,
            results: Vec::new(),
            rendered: Rendered::default(),
            key,
            reusable,
            diagnostics: cached,
            last_build: None,
            kept: None,
        })
    }
}
