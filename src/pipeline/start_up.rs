//! The start of a run, side by side: listing the product files, pulling the ERP numbers and
//! opening the last build's cache each need the configuration and nothing of each other.
//!
//! At 100k products a one-line edit spent as long on these three, one after the other
//! (a walk of 57,000 files, reading, hashing and decoding a 100,000-row export, decoding the
//! cache's first entries and stamping the feeds), as on everything else before the feeds.
//! Run on the cores side by side, the run waits for the longest of them instead of their sum.
//! Each keeps its own failure: a listing that fails is reported before an ERP pull that
//! fails, as when they ran in that order.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::kept::Taken;
use super::prepare::Prepared;
use super::{ErpPull, Failure, Mode, erp_pull};
use crate::cache;
use crate::erp::ErpRecord;
use crate::render::ChannelRenderer;

/// What the start of a run found, and how long each part took on its own.
pub(super) struct StartedUp {
    pub(super) files: Vec<PathBuf>,
    pub(super) records: Vec<ErpRecord>,
    pub(super) pull: ErpPull,
    /// The last build's cache, when the run may use it (see [`cache::Previous::usable`]).
    pub(super) last_cache: Option<cache::Previous>,
    pub(super) listing_took: Duration,
    pub(super) pull_took: Duration,
    pub(super) cache_took: Duration,
}

/// Lists the product files (kept ones when a watcher's `taken` holds them), pulls the ERP
/// numbers (the kept ones when they still hold) and opens the last build's cache, at once.
pub(super) fn start_up(
    prepared: &Prepared,
    renderers: &[ChannelRenderer<'_>],
    taken: Option<&mut Taken>,
    use_cache: bool,
    progress: &crate::ui::Progress,
) -> Result<StartedUp, Failure> {
    let fingerprint = cache::fingerprint(&prepared.source, renderers, &prepared.generated_at);
    let reads_only = prepared.mode == Mode::Check;
    let writes = prepared.mode != Mode::Check;
    std::thread::scope(|scope| {
        let opening = scope.spawn(|| {
            timed(|| cache::Previous::usable(&prepared.root, &fingerprint, use_cache, reads_only))
        });
        let ((files, listing_took), (pulled, pull_took)) = match taken {
            // A watcher's kept listing and numbers take no time when they hold: one after
            // the other, both from what it kept.
            Some(taken) => {
                let files = timed(|| taken.product_files(prepared));
                (files, timed(|| taken.pull_erp(prepared, progress)))
            }
            None => {
                let pulling = scope.spawn(|| {
                    timed(|| {
                        erp_pull::pull_erp_with(&prepared.config, &prepared.root, progress, writes)
                    })
                });
                let files = timed(|| prepared.product_files());
                (files, joined(pulling))
            }
        };
        let (last_cache, cache_took) = joined(opening);
        let files = files?;
        let (records, pull) = pulled?;
        Ok(StartedUp {
            files,
            records,
            pull,
            last_cache,
            listing_took,
            pull_took,
            cache_took,
        })
    })
}

fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let done = work();
    (done, started.elapsed())
}

/// A scoped thread's result; its panic goes on as this thread's.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
