//! The last build as a source, for a refresh: its products, read back whole or, through the
//! build cache, only those whose ERP records changed.

use super::{Batch, BatchSource, ContentSoFar, FileKey, FileWork, FreshFile, Rendered};
use crate::cache::{self, FileEntry};
use crate::content::{self, Product};
use crate::erp::RecordsBySku;
use crate::last_build::{self, LastBuildReader};
use crate::pipeline::timings::Stopwatch;
use crate::pipeline::{CacheUse, FILES_PER_BATCH, Failure};

/// A refresh without the build cache: every product of the last build, rendered again.
pub(crate) struct LastBuild {
    pub(crate) reader: LastBuildReader,
}

impl BatchSource for LastBuild {
    fn next_batch(
        &mut self,
        so_far: &mut ContentSoFar,
        _: &mut Stopwatch,
    ) -> Result<Option<Batch>, Failure> {
        let products = self
            .reader
            .next_batch(FILES_PER_BATCH)
            .map_err(Failure::io("cannot read the last build's content"))?;
        for (product, _) in &products {
            so_far.skus.register(product);
        }
        let progressed = products.len();
        Ok((progressed > 0).then(|| Batch {
            works: refresh_works_without_cache(products),
            progressed,
        }))
    }
}

/// A refresh with the build cache: the cache's entries in catalog order, and the last build's
/// products for those whose ERP records changed.
pub(crate) struct LastBuildThroughCache<'a> {
    pub(crate) cache: cache::Previous,
    pub(crate) last_build: last_build::ProductLines,
    pub(crate) by_sku: &'a RecordsBySku<'a>,
    /// `[guard] keep_last_good_days` (see [`crate::keep`]).
    pub(crate) keep_days: u32,
}

impl BatchSource for LastBuildThroughCache<'_> {
    fn next_batch(
        &mut self,
        so_far: &mut ContentSoFar,
        _: &mut Stopwatch,
    ) -> Result<Option<Batch>, Failure> {
        let entries = self
            .cache
            .next_entries(FILES_PER_BATCH)
            .map_err(Failure::io("cannot read the build cache"))?;
        let progressed = entries.len();
        let works = refresh_works(
            entries,
            &mut so_far.skus,
            self.by_sku,
            &self.last_build,
            &mut so_far.reuse,
            self.keep_days,
        )?;
        Ok((progressed > 0).then_some(Batch { works, progressed }))
    }
}

/// A refresh with the build cache: files whose ERP records did not change are reused, the
/// others' products are read back from the last build to be rendered again.
fn refresh_works(
    entries: Vec<FileEntry>,
    skus: &mut content::SkuRegistry,
    by_sku: &RecordsBySku<'_>,
    last_build: &last_build::ProductLines,
    reuse: &mut CacheUse,
    keep_days: u32,
) -> Result<Vec<FileWork>, Failure> {
    use rayon::prelude::*;
    // Hashing each file's ERP records to know whether they changed is most of a batch's
    // work here: done on every core, ahead of the registering, which goes in order.
    let holding: Vec<bool> = entries
        .par_iter()
        .map(|entry| entry.holds_with(by_sku))
        .collect();
    let mut works = Vec::with_capacity(entries.len());
    for (entry, holds) in entries.into_iter().zip(holding) {
        for product in &entry.products {
            skus.register_sku(&product.sku, &entry.path, product.line);
        }
        if holds {
            reuse.files_reused += 1;
            works.push(FileWork::Cached(entry));
            continue;
        }
        let (start, len) = entry.last_build;
        let products = last_build
            .read(start, len)
            .and_then(|lines| last_build::parse_lines(&lines))
            .map_err(Failure::io("cannot read the last build's content"))?;
        reuse.files_checked += 1;
        // Still kept from an earlier build: a refresh reads no content to know better.
        let kept = entry.kept_since.map(|since| crate::keep::Kept {
            since,
            skus: products.iter().map(|p| p.sku.clone()).collect(),
            days: keep_days,
        });
        works.push(FileWork::Fresh(FreshFile {
            path: entry.path,
            products,
            results: Vec::new(),
            rendered: Rendered::default(),
            key: Some(FileKey {
                stamp: entry.stamp,
                content: entry.content,
            }),
            reusable: entry.reusable,
            // Not shown by a refresh, which checks no content; kept for the next build.
            diagnostics: entry.diagnostics,
            last_build: Some(entry.last_build),
            kept,
        }));
    }
    Ok(works)
}

/// A refresh without the build cache: every product of the last build (with where its line is),
/// rendered again. Their cache entries let the next refresh reuse them; a build reads their
/// files again, as their bytes are unknown here.
fn refresh_works_without_cache(products: Vec<(Product, (u64, u64))>) -> Vec<FileWork> {
    let mut works: Vec<FileWork> = Vec::new();
    for (product, (start, len)) in products {
        if let Some(FileWork::Fresh(last)) = works.last_mut()
            && last.path == product.file
            && let Some(lines) = last.last_build.as_mut()
        {
            lines.1 = start + len - lines.0;
            last.products.push(product);
            continue;
        }
        works.push(FileWork::Fresh(FreshFile {
            path: product.file.clone(),
            products: vec![product],
            results: Vec::new(),
            rendered: Rendered::default(),
            key: Some(FileKey {
                stamp: cache::Stamp::UNKNOWN,
                content: cache::UNKNOWN_CONTENT,
            }),
            reusable: true,
            diagnostics: Vec::new(),
            last_build: Some((start, len)),
            kept: None,
        }));
    }
    works
}
