//! Where a run's batches of products come from.

mod last_build;
mod working_tree;

use std::sync::Arc;

use crate::cache::{self, FileEntry};
use crate::content::Product;

pub(crate) use last_build::{refresh_works, refresh_works_without_cache};
pub(crate) use working_tree::{BusyTime, ContentChecks, Reading, ReadingTime, read_content_batch};

use super::product_step::Gated;

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
    pub(crate) products: Vec<Product>,
    /// Per product, per channel; filled in by the render stage.
    pub(crate) results: Vec<Vec<Gated>>,
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

pub(crate) struct FileKey {
    pub(crate) stamp: cache::Stamp,
    pub(crate) content: cache::Digest32,
}
