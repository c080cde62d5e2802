//! The start of a run: listing the product files and pulling the ERP numbers, with the last
//! build's cache opened beside them, so that its entries are decoded ahead by the time the
//! content stage asks for them.
//!
//! The listing and the pull each need the configuration and nothing of each other, but they
//! run one after the other: on the 2-core machine this was measured on, shared with other
//! builds, running them side by side made both slower (a walk of 57,000 files and a pull that
//! reads and frees two 10 MB buffers, in one process) and the two together no faster than in
//! turn. A listing that fails is reported before an ERP pull is tried.

use std::path::PathBuf;
use std::time::Duration;

use super::kept::Taken;
use super::prepare::Prepared;
use super::timings::{joined, timed};
use super::{ErpPull, Failure, Mode, erp_pull};
use crate::cache;
use crate::erp::ErpRecord;
use crate::render::ChannelRenderer;

/// What the start of a run found, and how long each part took on its own.
pub(super) struct StartedUp {
    pub(super) files: Vec<PathBuf>,
    /// What `--timings` says of a listing that was walked (not a watcher's).
    pub(super) listing_said: Option<String>,
    pub(super) records: Vec<ErpRecord>,
    pub(super) pull: ErpPull,
    /// The last build's cache, when the run may use it (see [`cache::Previous::usable`]).
    pub(super) last_cache: Option<cache::Previous>,
    pub(super) listing_took: Duration,
    pub(super) pull_took: Duration,
    pub(super) cache_took: Duration,
}

/// Lists the product files (kept ones when a watcher's `taken` holds them) and pulls the ERP
/// numbers (the kept ones when they still hold), while the last build's cache is opened on a
/// thread of its own.
pub(super) fn start_up(
    prepared: &Prepared,
    renderers: &[ChannelRenderer<'_>],
    mut taken: Option<&mut Taken>,
    use_cache: bool,
    progress: &crate::ui::Progress,
) -> Result<StartedUp, Failure> {
    let fingerprint = cache::fingerprint(&prepared.source, renderers, &prepared.generated_at);
    let reads_only = prepared.mode == Mode::Check;
    let writes = prepared.mode != Mode::Check;
    let kept_entries = taken.as_deref_mut().and_then(|taken| taken.cache.take());
    std::thread::scope(|scope| {
        let opening = scope.spawn(|| {
            timed(|| {
                let root = &prepared.root;
                cache::Previous::usable(root, &fingerprint, use_cache, reads_only, kept_entries)
            })
        });
        // A watcher's kept listing and numbers, when they hold.
        let (files, listing_took) = timed(|| match taken.as_deref_mut() {
            Some(taken) => taken.product_files(prepared).map(|files| (files, None)),
            None => prepared.product_files(use_cache),
        });
        let (files, listing_said) = files?;
        let (pulled, pull_took) = timed(|| match taken {
            Some(taken) => taken.pull_erp(prepared, progress),
            None => erp_pull::pull_erp_with(&prepared.config, &prepared.root, progress, writes),
        });
        let (records, pull) = pulled?;
        let (last_cache, cache_took) = joined(opening);
        Ok(StartedUp {
            files,
            listing_said,
            records,
            pull,
            last_cache,
            listing_took,
            pull_took,
            cache_took,
        })
    })
}
