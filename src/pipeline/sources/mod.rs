//! Where a run's batches of products come from, behind one trait: the working tree (for a
//! check or build, with or without the build cache), the last build (for a refresh without
//! the cache) and the last build through the build cache (for a refresh with it).

mod last_build;
mod stamps;
mod watched;
mod working_tree;

use std::sync::Arc;

use super::product_step::Gated;
use super::timings::Stopwatch;
use super::{CacheUse, Failure};
use crate::cache::{self, FileEntry};
use crate::content::{Product, SkuRegistry};
use crate::diagnostics::Diagnostic;
use crate::report::ProductRef;
use crate::validate::quality::QualityCheck;

pub(crate) use last_build::{LastBuild, LastBuildThroughCache};
pub use watched::WatchedChanges;
pub(crate) use working_tree::{ReadingTime, WorkingTree};

/// A source of product batches, in catalog order.
pub(crate) trait BatchSource {
    /// The next batch; `None` once the source is exhausted. What the checks across files
    /// find goes into `so_far`.
    fn next_batch(
        &mut self,
        so_far: &mut ContentSoFar,
        stopwatch: &mut Stopwatch,
    ) -> Result<Option<Batch>, Failure>;
}

/// One batch of work, in catalog order.
pub(crate) struct Batch {
    pub(crate) works: Vec<FileWork>,
    /// How far it moves the progress bar: files, or products for a refresh without the cache.
    pub(crate) progressed: usize,
}

/// What a run has learned about the content read so far: the checks across files need it,
/// and the report is made from it.
#[derive(Default)]
pub(crate) struct ContentSoFar {
    pub(crate) skus: SkuRegistry,
    /// Products of files with errors (see [`crate::report::content_errors`]).
    pub(crate) with_errors: Vec<ProductRef>,
    pub(crate) quality: QualityCheck,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) reuse: CacheUse,
    /// The first few files read again because they changed since the last build (or were
    /// not in its cache), catalog-relative: what the manifest's dirty flag asks git about
    /// first (see [`crate::git::state`]).
    pub(crate) changed: Vec<std::path::PathBuf>,
}

/// One content file's share of a batch, in catalog order.
pub(crate) enum FileWork {
    /// Unchanged since the last build, and so are its ERP records: its verdicts and items
    /// come from the build cache.
    Cached(FileEntry),
    /// Read (or, in a refresh, taken from the last build), gated and rendered now.
    Fresh(FreshFile),
}

pub(crate) struct FreshFile {
    /// Catalog-relative, as in `Product::file`.
    pub(crate) path: Arc<str>,
    /// Emptied by the render stage once they are rendered (see [`Rendered`]).
    pub(crate) products: Vec<Product>,
    /// Per product, per channel; filled in by the render stage.
    pub(crate) results: Vec<Vec<Gated>>,
    /// What the writer thread needs of the products; filled in by the render stage.
    pub(crate) rendered: Rendered,
    /// What identifies the file's bytes, for its cache entry; unknown to a refresh that
    /// runs without the cache.
    pub(crate) key: Option<FileKey>,
    /// Whether a later build may take it from the cache (see [`cache::reusable_with`]).
    pub(crate) reusable: bool,
    /// Its warnings, for its cache entry.
    pub(crate) diagnostics: Vec<cache::CachedDiagnostic>,
    /// Where its products already are in the last build (a refresh keeps the build's).
    pub(crate) last_build: Option<(u64, u64)>,
    /// Its products kept from the last good build, as the file has an error now.
    pub(crate) kept: Option<crate::keep::Kept>,
}

/// What the writer thread needs of a fresh file's products once they are gated and rendered.
///
/// The render stage writes the products' lines for the last build and drops the products on
/// the thread that parsed and rendered them. mimalloc frees a block on the thread that
/// allocated it from a list of that thread's own; a block freed on another thread goes back
/// through an atomic list that its thread collects later. The writer thread freeing every
/// parsed product took about a fifth of its time in a cold build, most of it on that path.
#[derive(Default)]
pub(crate) struct Rendered {
    pub(crate) products: Vec<RenderedProduct>,
    /// The products' lines for the last build, each ending in a line break, one after
    /// another; empty when the run keeps no last build (a check, a refresh).
    pub(crate) lines: Vec<u8>,
}

pub(crate) struct RenderedProduct {
    pub(crate) sku: Arc<str>,
    pub(crate) line: u32,
    /// Its titles' duplicate keys, for its cache entry (see [`crate::cache::CachedProduct`]).
    pub(crate) titles: Vec<(String, u64)>,
    /// Where its line ends in [`Rendered::lines`].
    pub(crate) line_end: usize,
}

impl Rendered {
    /// What is kept of `products`, with their lines when `keep_lines`.
    pub(crate) fn of(products: &[Product], keep_lines: bool) -> Rendered {
        let mut lines = Vec::new();
        let products = products
            .iter()
            .map(|product| {
                if keep_lines {
                    crate::content::json_line::write_product(&mut lines, product);
                    lines.push(b'\n');
                }
                RenderedProduct {
                    sku: Arc::from(product.sku.as_str()),
                    line: product.line,
                    titles: crate::validate::quality::title_keys(product),
                    line_end: lines.len(),
                }
            })
            .collect();
        Rendered { products, lines }
    }

    /// Each product's line, in order; empty ones when the lines were not kept.
    pub(crate) fn lines(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.products.iter().map(move |product| {
            let line = &self.lines[start..product.line_end];
            start = product.line_end;
            line
        })
    }
}

pub(crate) struct FileKey {
    pub(crate) stamp: cache::Stamp,
    pub(crate) content: cache::Digest32,
}
