//! The stages in order: config → content → ERP → merge → gate → render → verify → swap.
//! Content streams through merge, gate and render in batches (see [`FILES_PER_BATCH`]).
//!
//! A run is a [`Build`] taken through three steps, as the modules below read:
//! [`prepare`] (configuration, schema, channels, templates, ERP numbers), [`stream`] (batches
//! from a [`sources::BatchSource`] through the per-product step in [`product_step`] into the
//! [`writer`]) and [`finish`] (reports, parse-back, manifest, guard, swap, build cache).
//! `check`, `build` and `refresh` are the same steps from different sources and sinks:
//! `check` runs up to the gate (templates and filters included), so a pull request sees
//! exactly what a build on merge would publish.

mod erp_pull;
mod finish;
mod kept;
mod manifest;
mod parsed_export;
mod prepare;
mod product_step;
mod sources;
mod start_up;
mod stream;
mod timings;
mod verify;
mod writer;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub(crate) use erp_pull::pull_erp;
pub use erp_pull::{ErpFailure, ErpPull, Stale};
pub use kept::KeptInputs;
pub use manifest::{Manifest, ManifestChannel, ManifestPart};
pub(crate) use product_step::{Gated, gate_and_render};
pub use sources::WatchedChanges;

use crate::config::Config;
use crate::content;
use crate::diagnostics::Diagnostic;
use crate::erp::{ErpRecord, RecordsBySku};
use crate::merge::MergeContext;
use crate::render::{ChannelRenderer, RenderError};
use crate::report::Report;
use prepare::Prepared;
use timings::Stopwatch;

/// Why a run could not finish. Content problems are not failures: they are in the outcome.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{}", .0.message)]
    Config(Box<Diagnostic>),
    /// Shown with its diagnostics, each on its line in `pim.toml`.
    #[error("pim.toml: {} in the channels", crate::wording::count(.0.len(), "problem"))]
    Channels(Vec<Diagnostic>),
    #[error("the content schema has errors")]
    Schema(Vec<Diagnostic>),
    /// The ERP numbers could not be had; shown with its diagnostics, each bad row of an
    /// export at its line, each bad record of an API by its URL and number.
    #[error("ERP pull failed: {error}")]
    Erp {
        error: Box<ErpFailure>,
        diagnostics: Vec<Diagnostic>,
    },
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("channel `{channel}`: the rendered feed does not parse back: {message}")]
    Verify { channel: String, message: String },
    #[error("there is no previous build to refresh: run `pimfeed build` first")]
    NoLastBuild,
    /// Too many items would disappear (see [`crate::guard`]).
    #[error(transparent)]
    Guard(#[from] crate::guard::Stopped),
    /// Another build or refresh of the catalog is writing (see [`crate::lock`]).
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    #[error(transparent)]
    Swap(#[from] crate::swap::SwapError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl Failure {
    fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Failure {
        let context = context.into();
        move |source| Failure::Io { context, source }
    }

    /// The failure in one line, for after its diagnostics, which say the details: an ERP
    /// export with bad rows says how many, its rows are the diagnostics.
    pub fn summary(&self) -> String {
        match self {
            Failure::Erp { error, diagnostics } if !diagnostics.is_empty() => {
                format!("ERP pull failed: {}", error.summary())
            }
            _ => self.to_string(),
        }
    }

    /// Diagnostics to show for this failure, when it has positions in files.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Failure::Config(diagnostic) => std::slice::from_ref(diagnostic),
            Failure::Schema(diagnostics)
            | Failure::Channels(diagnostics)
            | Failure::Erp { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everything up to the gate; writes nothing.
    Check,
    /// The full build into the output folder; keeps its content for `Refresh`.
    Build,
    /// Fresh ERP numbers over the last build's content, which is not read again.
    Refresh,
}

/// What a run found and, for a build, wrote.
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    pub manifest: Option<Manifest>,
    pub output_dir: PathBuf,
    /// Wall time of each stage, in order.
    pub timings: Vec<(String, std::time::Duration)>,
    /// How much the build cache saved.
    pub cache: CacheUse,
    /// What went wrong after the new feeds went live (a previous folder left behind).
    pub swap_warnings: Vec<String>,
}

/// Content files taken from the build cache, and those read and rendered anew.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct CacheUse {
    pub files_reused: usize,
    pub files_checked: usize,
    /// Of the files reused, those `watch` saw no change to, so not even their stamps were
    /// taken (see [`WatchedChanges`]).
    pub files_vouched_by_watch: usize,
    /// Feed files built by splicing unchanged runs of the last build's, and verified by
    /// their new pieces rather than parsed whole.
    pub feeds_spliced: usize,
    /// Feed files the same as the last build's, byte for byte: linked to them, not written.
    pub feeds_linked: usize,
}

impl Outcome {
    pub fn has_errors(&self) -> bool {
        self.report.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// What the ERP's server answered when a fallback to the last good pull was needed.
    pub fn erp_server_said(&self) -> Option<&str> {
        let stale = self.manifest.as_ref()?.erp.stale.as_ref()?;
        stale.server_said.as_deref()
    }

    /// Products left out of a channel because they are incomplete (not by choice: a
    /// channel filter or `enabled = false`).
    pub fn incomplete_count(&self) -> usize {
        self.report
            .channels
            .iter()
            .flat_map(|c| &c.left_out)
            .filter(|p| {
                p.reasons
                    .iter()
                    .any(|r| !matches!(r.code, "filter" | "disabled"))
            })
            .count()
    }
}

/// Reads `pim.toml` under `root`.
pub fn load_config(root: &Path) -> Result<Config, Failure> {
    let path = root.join(crate::config::CONFIG_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(Failure::io(format!("cannot read {}", path.display())))?;
    crate::config_check::parse(&text, Path::new(crate::config::CONFIG_FILE))
        .map_err(Failure::Config)
}

/// Files parsed per batch. The catalog streams through in batches: parse, then gate and render
/// every product for every channel, then append to each feed. Memory stays bounded by a batch,
/// whatever the size of the catalog or of the feeds. 256 and 4096 were both measured slower at
/// 100k products (docs/src/reference/performance.md, "Batch size").
const FILES_PER_BATCH: usize = 1024;

/// Reads `pim.toml` from the working tree or a git revision (for `pimfeed diff`).
pub fn load_config_from(source: &content::CatalogSource) -> Result<Config, Failure> {
    let file = Path::new(crate::config::CONFIG_FILE);
    let text = source.read_to_string(file).map_err(Failure::io(format!(
        "cannot read pim.toml in the {}",
        source.label()
    )))?;
    crate::config_check::parse(&text, file).map_err(Failure::Config)
}

/// Runs the pipeline on the catalog at `root`.
///
/// With `use_cache`, files and ERP records unchanged since the last build are taken from the
/// build cache (see [`crate::cache`]) instead of being parsed and rendered again; the output is
/// the same byte for byte.
///
/// A build or refresh replaces folders in `feeds/` and `.pimfeed/`: its caller holds the
/// catalog's [`crate::lock::CatalogLock`] for the whole call, so runs never overlap.
pub fn run(
    root: &Path,
    mode: Mode,
    use_cache: bool,
    allow_drop: bool,
    progress: &crate::ui::Progress,
) -> Result<Outcome, Failure> {
    run_watched(root, mode, use_cache, allow_drop, progress, None)
}

/// What a file watcher that starts a build gives it: the log of what it saw change, and the
/// inputs its earlier builds kept (see [`KeptInputs`]).
pub struct Watched<'w> {
    pub log: &'w WatchedChanges,
    pub kept: &'w mut KeptInputs,
}

/// [`run`], for a build a file watcher started: only the files it saw change are checked
/// against the build cache (see [`WatchedChanges`]), and the product files and ERP numbers
/// its earlier builds kept are used while they hold.
pub fn run_watched(
    root: &Path,
    mode: Mode,
    use_cache: bool,
    allow_drop: bool,
    progress: &crate::ui::Progress,
    watched: Option<Watched<'_>>,
) -> Result<Outcome, Failure> {
    let mut stopwatch = Stopwatch::start();
    let began_ns = crate::cache::now_ns();
    let (log, mut kept) = match watched {
        Some(Watched { log, kept }) => (Some(log), Some(kept)),
        None => (None, None),
    };
    // Taken whole: given back only by a build that succeeds.
    let mut taken = kept
        .as_deref_mut()
        .map(KeptInputs::take)
        .filter(|_| use_cache && mode == Mode::Build);
    // Opened beside the build, so that the manifest's git state finds its index loaded.
    let kept_git = taken.as_mut().and_then(kept::Taken::take_git);
    let git = match mode {
        Mode::Build => crate::git::Opening::start(root, true, kept_git),
        Mode::Check | Mode::Refresh => crate::git::Opening::none(),
    };
    let (prepared, last_build) = Prepared::load(root, mode)?;
    let renderers = prepared.renderers()?;
    stopwatch.lap("load configuration, schema and templates");

    progress.stage("listing content, pulling ERP numbers");
    let erp_files = kept::erp_file_stamps(&prepared.config, root);
    let started = start_up::start_up(&prepared, &renderers, taken.as_mut(), use_cache, progress)?;
    stopwatch.lap("list content and pull ERP (the build cache opened beside them)");
    let listing_said = match (&taken, &started.listing_said) {
        (Some(taken), _) => taken.listing_said(),
        (None, Some(said)) => said,
        (None, None) => "of which listing the product files (a walk of content/products)",
    };
    stopwatch.detail(listing_said, started.listing_took);
    match taken.as_ref().filter(|taken| taken.used.erp) {
        Some(taken) => stopwatch.detail(taken.erp_said(), started.pull_took),
        None => stopwatch.detail("of which pulling ERP", started.pull_took),
    }
    let cache_said = match started.last_cache.as_ref() {
        Some(cache) if cache.entries_kept() => {
            "of which opening the build cache (its entries kept from the last build) and stamping the feeds (beside them)"
        }
        _ => "of which opening the build cache and stamping the feeds (beside them)",
    };
    stopwatch.detail(cache_said, started.cache_took);
    let start_up::StartedUp {
        files,
        records,
        pull,
        last_cache,
        ..
    } = started;

    let mut build = Build::new(&prepared, &renderers, &files, &records);
    build.watched = log;
    build.use_cache = use_cache;
    build.records_of_cache = taken.as_ref().and_then(|taken| taken.records_of_cache);
    build.records_digest = pull.records_digest;
    build.git = git;
    let keep_cache = taken.as_ref().map(|_| crate::cache::KeptSlot::default());
    build.keep_cache = keep_cache.clone();
    let streamed = build.stream(last_cache, last_build, &pull, &mut stopwatch, progress)?;
    let kept_pull = pull.clone();
    let outcome = build.finish(streamed, pull, allow_drop, stopwatch, progress)?;
    let git = std::mem::replace(&mut build.git, crate::git::Opening::none());
    drop(build);
    match (kept, taken) {
        (Some(kept), Some(_)) => {
            // Under the catalog's lock, so no other run replaced it: the cache this build made.
            let cache_started = crate::cache::started_ns(root).filter(|at| *at >= began_ns);
            let erp = (records, kept_pull);
            kept.keep(&prepared.config, files, erp, erp_files, root, cache_started);
            kept.keep_git(git.into_kept());
            kept.keep_cache(keep_cache.as_ref().and_then(crate::cache::take_kept));
        }
        _ => crate::one_shot::release((records, files)),
    }
    Ok(outcome)
}

/// One run, between its prepare step and its end: the catalog as loaded, its renderers, its
/// product files and its ERP numbers. [`Build::stream`] and [`Build::finish`] are its other
/// two steps.
pub(crate) struct Build<'a> {
    prepared: &'a Prepared,
    renderers: &'a [ChannelRenderer<'a>],
    files: &'a [PathBuf],
    records: &'a [ErpRecord],
    by_sku: RecordsBySku<'a>,
    merge: MergeContext<'a>,
    watched: Option<&'a WatchedChanges>,
    /// Whether what earlier builds kept may be used (`--no-cache` says no).
    use_cache: bool,
    /// Set when the ERP records are exactly those of the build that made the cache which
    /// started at this time (ns since the epoch), so its entries' ERP digests hold without
    /// being computed again (see [`KeptInputs`]).
    records_of_cache: Option<i64>,
    /// The [`crate::cache::records_digest`] of `records`: a cache made with the same records
    /// has entries whose ERP digests hold as they are.
    records_digest: Option<crate::cache::Digest32>,
    /// The catalog's git repository, opened beside the build (see [`crate::git::Opening`]).
    git: crate::git::Opening,
    /// Where the cache writer leaves its entries for a watcher to keep (see
    /// [`crate::cache::KeptEntries`]).
    keep_cache: Option<crate::cache::KeptSlot>,
}

impl<'a> Build<'a> {
    fn new(
        prepared: &'a Prepared,
        renderers: &'a [ChannelRenderer<'a>],
        files: &'a [PathBuf],
        records: &'a [ErpRecord],
    ) -> Self {
        Self {
            prepared,
            renderers,
            files,
            records,
            by_sku: RecordsBySku::new(records),
            merge: prepared.merge_context(),
            watched: None,
            use_cache: true,
            records_of_cache: None,
            records_digest: None,
            git: crate::git::Opening::none(),
            keep_cache: None,
        }
    }

    fn mode(&self) -> Mode {
        self.prepared.mode
    }
}

#[cfg(test)]
mod tests;
