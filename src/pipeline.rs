//! The stages in order: config → content → ERP → merge → gate → render → verify → swap.
//! Content streams through merge, gate and render in batches (see [`FILES_PER_BATCH`]).
//!
//! `check` runs the same stages as `build` up to the gate (templates and filters included),
//! so a pull request sees exactly what a build on merge would publish.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use crate::cache::{self, FileEntry};
use crate::channels::{self, Channel};
use crate::config::{Config, ErpConfig};
use crate::content::{self, Product};
use crate::diagnostics::Diagnostic;
use crate::erp::{self, ErpRecord};
use crate::last_build::{self, LastBuildReader, LastBuildWriter};
use crate::merge::{self, MarkdownNeeds, MergeContext};
use crate::output::{self, FileStats, Staging};
use crate::pimfeed_folder;
use crate::render::{
    BuildView, ChannelRenderer, FeedPart, FeedWriter, Item, ItemSpan, RenderError,
};
use crate::report::{self, ChannelReport, ProductCompleteness, ProductRef, ProductVerdict, Report};
use crate::validate::{self, Reason, Verdict};

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
    #[error("ERP pull failed: {0}")]
    Erp(String),
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

    /// Diagnostics to show for this failure, when it has positions in files.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Failure::Config(diagnostic) => std::slice::from_ref(diagnostic),
            Failure::Schema(diagnostics) | Failure::Channels(diagnostics) => diagnostics,
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
}

/// Wall time per stage, for `--timings` and the benchmark.
#[derive(Default)]
struct Stopwatch {
    stages: Vec<(String, std::time::Duration)>,
    last: Option<std::time::Instant>,
}

impl Stopwatch {
    fn start() -> Self {
        Self {
            stages: Vec::new(),
            last: Some(std::time::Instant::now()),
        }
    }

    /// A part of the stages so far, measured apart; it does not end the current stage.
    fn detail(&mut self, name: &str, duration: std::time::Duration) {
        self.stages.push((format!("  {name}"), duration));
    }

    /// Ends the current stage under `name` and starts the next. A stage that runs once per
    /// batch adds up under one name.
    fn lap(&mut self, name: &str) {
        let now = std::time::Instant::now();
        let Some(last) = self.last.replace(now) else {
            return;
        };
        match self.stages.iter_mut().find(|(stage, _)| stage == name) {
            Some((_, total)) => *total += now - last,
            None => self.stages.push((name.to_string(), now - last)),
        }
    }
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

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub generated_at: String,
    pub pimfeed_version: &'static str,
    pub catalog: String,
    pub git: Option<crate::git::GitState>,
    pub erp: ErpPull,
    pub channels: Vec<ManifestChannel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErpPull {
    pub source: String,
    pub pulled_at: String,
    pub records: usize,
    /// Set when the ERP could not be read and the last good pull was used instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<Stale>,
    /// Records taken as meant, worth a warning (a negative stock counted as 0); they go into
    /// the report's diagnostics.
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stale {
    pub age_minutes: u64,
    /// Why the ERP could not be read: the source, page and status, never the server's words.
    pub because: String,
    /// The start of the server's answer (secrets masked), for the terminal only: an error page
    /// may echo the request, so it never goes into the manifest or the report.
    #[serde(skip)]
    pub server_said: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ManifestChannel {
    pub name: String,
    pub file: String,
    pub format: crate::config::ChannelFormat,
    pub items: usize,
    pub excluded: usize,
    /// Absent when no file was written (an Amazon channel no product reached).
    #[serde(flatten)]
    pub stats: Option<FileStats>,
    /// `<file>.gz`, when `[build] gzip = true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gzip: Option<FileStats>,
    /// Every file of a feed split over several (Amazon's 10,000 messages per document), the
    /// first being `file` itself; absent when the feed is one file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<ManifestPart>,
    /// Why `file` was not written, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ManifestPart {
    pub file: String,
    pub items: usize,
    #[serde(flatten)]
    pub stats: FileStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gzip: Option<FileStats>,
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
/// whatever the size of the catalog or of the feeds.
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
/// build cache (see [`cache`]) instead of being parsed and rendered again; the output is the
/// same byte for byte.
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
    let started = chrono::Utc::now();
    let mut stopwatch = Stopwatch::start();
    let generated_at = started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if mode != Mode::Check {
        // Before anything reads the last build: a crash may have stopped its swap halfway.
        crate::swap::recover(root).map_err(Failure::io(
            "cannot finish the swap a crashed build left halfway",
        ))?;
    }
    // A refresh renders the last build's content (configuration, schema, templates and
    // products as they were then), only with fresh ERP numbers.
    let (source, mut last_build) = match mode {
        Mode::Refresh => {
            let dir = LastBuildReader::dir(root).ok_or(Failure::NoLastBuild)?;
            let reader = LastBuildReader::open(&dir)
                .map_err(Failure::io(format!("cannot read {}", dir.display())))?;
            (content::CatalogSource::dir(&dir), Some(reader))
        }
        Mode::Check | Mode::Build => (content::CatalogSource::dir(root), None),
    };
    let config = load_config_from(&source)?;
    let output_dir = root.join(&config.build.output);

    let model = content::load_model(&source).map_err(Failure::Schema)?;
    let channels =
        channels::resolve_from(&config, &model.schema, &source).map_err(Failure::Channels)?;
    let build_view = BuildView {
        time: &generated_at,
    };
    let renderers = channels
        .iter()
        .map(|channel| ChannelRenderer::from_source(channel, &config.catalog, &build_view, &source))
        .collect::<Result<Vec<_>, _>>()?;
    let files = match mode {
        Mode::Refresh => Vec::new(),
        Mode::Check | Mode::Build => {
            content::product_files(&source).map_err(|d| Failure::Schema(vec![*d]))?
        }
    };
    stopwatch.lap("load configuration, schema and templates");

    progress.stage("pulling ERP numbers");
    let (records, pull) = pull_erp_with(&config, root, progress)?;
    let by_sku: HashMap<&str, &ErpRecord> = records.iter().map(|r| (r.sku.as_str(), r)).collect();
    stopwatch.lap("pull ERP");

    let merge_ctx = MergeContext {
        catalog: &config.catalog,
        schema: &model.schema,
        categories: &model.categories,
    };
    let parse_ctx = content::product::ParseContext {
        schema: &model.schema,
        categories: &model.categories,
        locales: &config.catalog.locales,
        channels: &channels.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
    };
    let staging = match mode {
        Mode::Build | Mode::Refresh => {
            Some(Staging::create(&output_dir).map_err(Failure::io(format!(
                "cannot create a staging folder next to {}",
                output_dir.display()
            )))?)
        }
        Mode::Check => None,
    };
    let mut last_build_writer = match mode {
        Mode::Build => Some(LastBuildWriter::create(root).map_err(Failure::io(format!(
            "cannot keep this build's content in {}",
            root.join(pimfeed_folder::LAST_BUILD).display()
        )))?),
        Mode::Check | Mode::Refresh => None,
    };
    let mut feeds = channels
        .iter()
        .zip(&renderers)
        .map(|(channel, renderer)| {
            Feed::open(
                channel,
                renderer,
                staging.as_ref(),
                &merge_ctx,
                config.build.gzip,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;

    // The last build's cache, when it is valid for this configuration and, for a build or
    // refresh, the feeds and last build it points into are as that build left them.
    let fingerprint = cache_fingerprint(&source, &renderers, &generated_at);
    let mut last_cache = use_cache
        .then(|| cache::Previous::open(root, &fingerprint))
        .flatten()
        .filter(|last_cache| mode == Mode::Check || last_cache.outputs_intact);
    if last_cache.is_some() {
        // The cache says which products to read again; without it, a refresh reads the whole
        // last build and renders everything.
        last_build = None;
    }
    let mut cache_writer = match (mode, &last_cache) {
        // A refresh without a usable cache makes one for the refreshes after it.
        (Mode::Build | Mode::Refresh, _) => cache::Writer::create(root, fingerprint).ok(),
        _ => None,
    };
    let mut old_feeds = match &last_cache {
        Some(last_cache) if mode != Mode::Check => last_cache.feed_readers(),
        _ => Vec::new(),
    };
    old_feeds.resize_with(channels.len(), cache::OldFeed::empty);
    // A build copies reused products' lines into its new last build; a refresh reads the lines
    // of those it renders again.
    let (mut old_last_build, mut refresh_last_build) = match mode {
        Mode::Build => (
            last_cache
                .as_ref()
                .and_then(cache::Previous::last_build_reader),
            None,
        ),
        Mode::Refresh => (
            None,
            last_cache
                .as_ref()
                .and_then(cache::Previous::last_build_reader),
        ),
        Mode::Check => (None, None),
    };

    progress.set_length(files.len());
    let mut skus = content::SkuRegistry::default();
    let mut with_errors: Vec<ProductRef> = Vec::new();
    let mut diagnostics = model.diagnostics.clone();
    diagnostics.extend(pull.warnings.iter().cloned());
    let mut quality = validate::quality::QualityCheck::default();
    let mut reuse = CacheUse::default();
    let reading_time = ReadingTime::default();
    // Feeds are written on their own thread, so appending one batch overlaps with parsing and
    // rendering the next; the bounded channel keeps at most one batch waiting.
    let (batches, received) = std::sync::mpsc::sync_channel::<Vec<FileWork>>(1);
    let by_sku = &by_sku;
    let (feeds, tally, cache_complete, writing) =
        std::thread::scope(|scope| -> Result<_, Failure> {
            let last_build_writer = &mut last_build_writer;
            let cache_writer = &mut cache_writer;
            let old_last_build = &mut old_last_build;
            let old_feeds = &mut old_feeds;
            let writer = scope.spawn(
                move || -> Result<(Vec<Feed<'_>>, Tally, bool, std::time::Duration), Failure> {
                    let mut tally = Tally::default();
                    let mut complete = true;
                    let writing = BusyTime::default();
                    for works in received {
                        let started = std::time::Instant::now();
                        let mut batch = BatchWriter::new(feeds.len());
                        for work in works {
                            complete &= batch
                                .add(
                                    work,
                                    last_build_writer.as_mut(),
                                    old_last_build.as_mut(),
                                    &mut tally,
                                    by_sku,
                                )
                                .map_err(Failure::io("cannot keep this build's content"))?;
                        }
                        let entries = batch.write(&mut feeds, old_feeds)?;
                        if let Some(writer) = cache_writer.as_mut() {
                            for entry in &entries {
                                if writer.add(entry).is_err() {
                                    complete = false;
                                }
                            }
                        }
                        writing.add(started.elapsed());
                    }
                    Ok((feeds, tally, complete, writing.total()))
                },
            );
            let mut next_file = 0;
            loop {
                progress.stage("reading content");
                // The batch's work, and how far it moves the progress bar (files, or products for
                // a refresh without the cache).
                let (mut works, progressed) = match (mode, last_build.as_mut(), last_cache.as_mut())
                {
                    (Mode::Refresh, Some(reader), _) => {
                        let products = reader
                            .next_batch(FILES_PER_BATCH)
                            .map_err(Failure::io("cannot read the last build's content"))?;
                        for (product, _) in &products {
                            skus.register(product);
                        }
                        let count = products.len();
                        (refresh_works_without_cache(products), count)
                    }
                    (Mode::Refresh, None, Some(last_cache)) => {
                        let entries = last_cache
                            .next_entries(FILES_PER_BATCH)
                            .map_err(Failure::io("cannot read the build cache"))?;
                        let last_build = refresh_last_build.as_mut().ok_or(Failure::NoLastBuild)?;
                        let count = entries.len();
                        (
                            refresh_works(
                                entries,
                                &mut skus,
                                by_sku,
                                last_build,
                                &mut reuse,
                                config.guard.keep_last_good_days,
                            )?,
                            count,
                        )
                    }
                    _ => {
                        let batch = &files[next_file..files.len().min(next_file + FILES_PER_BATCH)];
                        next_file += batch.len();
                        let Some(last) = batch.last() else { break };
                        let old = match last_cache.as_mut() {
                            Some(last_cache) => last_cache
                                .entries_through(last)
                                .map_err(Failure::io("cannot read the build cache"))?,
                            None => HashMap::new(),
                        };
                        stopwatch.lap("read the build cache");
                        let reading = Reading {
                            source: &source,
                            parse: &parse_ctx,
                            by_sku,
                            last_cache: last_cache.as_ref(),
                            busy: &reading_time,
                            keep_days: config.guard.keep_last_good_days,
                            now: started,
                        };
                        let mut checks = ContentChecks {
                            skus: &mut skus,
                            with_errors: &mut with_errors,
                            quality: &mut quality,
                            diagnostics: &mut diagnostics,
                            model: &model,
                            channels: &channels,
                            source: &source,
                        };
                        let works =
                            read_content_batch(batch, old, &reading, &mut checks, &mut reuse);
                        (works, batch.len())
                    }
                };
                if progressed == 0 {
                    break;
                }
                stopwatch.lap("read, parse and validate content");

                progress.stage("gating and rendering");
                let rendered: Vec<Result<Vec<Vec<Gated>>, RenderError>> = works
                    .par_iter()
                    .map(|work| match work {
                        FileWork::Cached(_) => Ok(Vec::new()),
                        FileWork::Fresh(fresh) => fresh
                            .products
                            .par_iter()
                            .map(|product| {
                                process_product(
                                    product,
                                    &channels,
                                    &renderers,
                                    by_sku,
                                    &merge_ctx,
                                    staging.is_some(),
                                )
                            })
                            .collect::<Vec<_>>()
                            .into_iter()
                            .collect(),
                    })
                    .collect();
                for (work, results) in works.iter_mut().zip(rendered) {
                    if let FileWork::Fresh(fresh) = work {
                        // The first error in catalog order, not whichever thread failed first.
                        fresh.results = results?;
                    }
                }
                stopwatch.lap("merge, gate and render");
                if batches.send(works).is_err() {
                    break; // The writer failed; its error is reported below.
                }
                stopwatch.lap("wait for the feed writer");
                progress.advance(progressed);
            }
            drop(batches);
            writer.join().expect("the feed writer does not panic")
        })?;
    stopwatch.lap("wait for the feed writer");
    stopwatch.detail(
        "of which reading and hashing files (busy, all cores)",
        reading_time.reading.total(),
    );
    stopwatch.detail(
        "of which parsing and checking them (busy, all cores)",
        reading_time.parsing.total(),
    );
    stopwatch.detail(
        "of which writing feeds, last build and cache (writer thread busy)",
        writing,
    );

    let mut channel_reports = Vec::with_capacity(feeds.len());
    let mut channel_parts = Vec::with_capacity(feeds.len());
    for (feed, channel) in feeds.into_iter().zip(&channels) {
        let (mut report, parts) = feed.finish()?;
        report
            .notes
            .extend(crate::channels::marketplace::empty_document_note(
                channel,
                report.items,
            ));
        channel_reports.push(report);
        channel_parts.push(parts);
    }
    // A SKU that another, valid file defines is that file's product (and a duplicate error).
    with_errors.retain(|product| !skus.contains(&product.sku));
    // A refresh reads no content: its products with errors are those of the last build.
    let broken = match mode {
        Mode::Refresh => report::content_errors::kept(root),
        Mode::Check | Mode::Build => report::content_errors::describe(&with_errors, &diagnostics),
    };
    with_errors = broken
        .iter()
        .map(report::content_errors::Broken::product)
        .collect();
    report::content_errors::leave_out(&mut channel_reports, &broken);
    let mut manifest_channels = Vec::new();
    if staging.is_some() {
        progress.stage("parsing feeds back");
        manifest_channels = verify_feeds(&channels, &channel_reports, channel_parts)?;
        stopwatch.lap("parse every feed back");
    }

    let skus_with_errors: std::collections::HashSet<&str> =
        with_errors.iter().map(|p| p.sku.as_str()).collect();
    let erp_without_content = records
        .iter()
        .filter(|r| !skus.contains(&r.sku) && !skus_with_errors.contains(r.sku.as_str()))
        .map(|r| r.sku.clone())
        .collect();
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let mut report = Report {
        generated_at: generated_at.clone(),
        catalog: config.catalog.name.clone(),
        summary: report::Summary {
            content_files: match mode {
                Mode::Refresh => tally.files_with_products,
                Mode::Check | Mode::Build => files.len(),
            },
            products: skus.len(),
            erp_records: records.len(),
            errors,
            warnings: diagnostics.len() - errors,
        },
        erp_stale: pull.stale.as_ref().map(|stale| {
            format!(
                "the ERP could not be read ({}); the numbers are from the last good pull at {}, {} old",
                stale.because, pull.pulled_at, crate::wording::minutes(stale.age_minutes)
            )
        }),
        channels: channel_reports,
        products: tally.products,
        content_without_erp: tally.without_erp,
        erp_without_content,
        content_with_errors: with_errors,
        diagnostics,
    };
    report::sku_case::name_mismatches(&mut report);
    let previous = output::previous_manifest(&output_dir);
    let git = match mode {
        // The content is the last build's, so is its commit.
        Mode::Refresh => previous
            .as_ref()
            .and_then(|m| serde_json::from_value(m.get("git")?.clone()).ok()),
        Mode::Check | Mode::Build => {
            progress.stage("looking up who changed what");
            crate::report::blame::annotate(&mut report, &source, root);
            stopwatch.lap("blame");
            crate::git::state(root, &output_dir)
        }
    };
    let manifest = staging.as_ref().map(|_| Manifest {
        generated_at: generated_at.clone(),
        pimfeed_version: env!("CARGO_PKG_VERSION"),
        catalog: config.catalog.name.clone(),
        git,
        erp: pull.clone(),
        channels: manifest_channels,
    });
    let mut swap_warnings = Vec::new();
    if let (Some(staging), Some(manifest)) = (staging, &manifest) {
        crate::guard::before_swap(
            &config.guard,
            allow_drop,
            previous.as_ref(),
            &serde_json::to_value(manifest).unwrap_or_default(),
            &output_dir,
            &report,
        )?;
        progress.stage("writing report and manifest");
        write_report_and_manifest(staging.path(), &report, manifest, &config.build.output)?;
        if let Some(previous) = &previous {
            let mut current = HashMap::new();
            for channel in &manifest.channels {
                if let Some(stats) = &channel.stats {
                    current.insert(channel.file.clone(), stats.clone());
                }
                for part in &channel.parts {
                    current.insert(part.file.clone(), part.stats.clone());
                    if let Some(gzip) = &part.gzip {
                        current.insert(format!("{}.gz", part.file), gzip.clone());
                    }
                }
                if let Some(gzip) = &channel.gzip {
                    current.insert(format!("{}.gz", channel.file), gzip.clone());
                }
            }
            output::keep_unchanged(staging.path(), &output_dir, previous, &current).map_err(
                Failure::io(format!(
                    "cannot reuse unchanged feeds from {}",
                    output_dir.display()
                )),
            )?;
        }
        let last_build = last_build_writer
            .map(LastBuildWriter::finish)
            .transpose()
            .map_err(Failure::io("cannot keep this build's content"))?;
        swap_warnings = crate::swap::publish(staging, last_build)?.warnings;
        if let Some(writer) = cache_writer {
            // A cache that does not cover every product would make a later refresh miss some:
            // better none. It is an optimisation, so failing to keep it fails nothing.
            let feeds = manifest
                .channels
                .iter()
                .map(|channel| {
                    let files = match (channel.parts.is_empty(), &channel.stats) {
                        (true, Some(_)) => vec![channel.file.clone()],
                        (true, None) => Vec::new(),
                        (false, _) => channel.parts.iter().map(|part| part.file.clone()).collect(),
                    };
                    files
                        .into_iter()
                        .map(|file| format!("{}/{file}", config.build.output.display()))
                        .collect()
                })
                .collect();
            let last_build = format!("{}/{}", pimfeed_folder::LAST_BUILD, last_build::PRODUCTS);
            if !cache_complete || writer.commit(root, feeds, Some(last_build)).is_err() {
                cache::discard(root);
            }
        }
    }
    if mode == Mode::Build {
        // For the refreshes after it; a refresh without it only misnames those products.
        let _ = report::content_errors::keep(root, &broken);
    }
    stopwatch.lap("report, manifest and swap");
    progress.finish();
    Ok(Outcome {
        report,
        manifest,
        output_dir,
        timings: stopwatch.stages,
        cache: reuse,
        swap_warnings,
    })
}

/// What the report keeps of every product: small, because there may be a million.
#[derive(Default)]
struct Tally {
    products: Vec<ProductCompleteness>,
    without_erp: Vec<ProductRef>,
    /// Files with at least one product (a refresh has no file list of its own).
    files_with_products: usize,
}

impl Tally {
    fn product(
        &mut self,
        sku: &str,
        file: &str,
        line: u32,
        completeness: impl Iterator<Item = u8>,
        by_sku: &HashMap<&str, &ErpRecord>,
    ) {
        // Products come in file order, so a file's variants are next to each other.
        if self.products.last().is_none_or(|last| last.file != file) {
            self.files_with_products += 1;
        }
        self.products.push(ProductCompleteness {
            sku: sku.to_string(),
            file: file.to_string(),
            completeness: completeness.collect(),
        });
        if !by_sku.contains_key(sku) {
            self.without_erp.push(ProductRef {
                sku: sku.to_string(),
                file: file.to_string(),
                line,
            });
        }
    }
}

/// One content file's share of a batch, in catalog order.
enum FileWork {
    /// Unchanged since the last build, and so are its ERP records: its verdicts and items
    /// come from the build cache.
    Cached(FileEntry),
    /// Read (or, in a refresh, taken from the last build), gated and rendered now.
    Fresh(FreshFile),
}

struct FreshFile {
    /// Catalog-relative, as in `Product::file`.
    path: Arc<str>,
    products: Vec<Product>,
    /// Per product, per channel; filled in by the render stage.
    results: Vec<Vec<Gated>>,
    /// What identifies the file's bytes, for its cache entry; unknown to a refresh that
    /// runs without the cache.
    key: Option<FileKey>,
    /// Whether a later build may take it from the cache (see [`cache::reusable_with`]).
    reusable: bool,
    /// Its warnings, for its cache entry.
    diagnostics: Vec<cache::CachedDiagnostic>,
    /// Where its products already are in the last build (a refresh keeps the build's).
    last_build: Option<(u64, u64)>,
    /// Its products kept from the last good build, as the file has an error now.
    kept: Option<crate::keep::Kept>,
}

struct FileKey {
    stamp: cache::Stamp,
    content: cache::Digest32,
}

/// A content file, looked up in the build cache before it is parsed.
enum Looked {
    /// The cache has it: same bytes, same ERP records.
    Reusable(cache::Stamp),
    Parsed(Box<content::ParsedFile>, Option<FileKey>),
}

/// Reads content files, or finds them unchanged in the build cache.
struct Reading<'r> {
    source: &'r content::CatalogSource,
    parse: &'r content::product::ParseContext<'r>,
    by_sku: &'r HashMap<&'r str, &'r ErpRecord>,
    last_cache: Option<&'r cache::Previous>,
    busy: &'r ReadingTime,
    /// `[guard] keep_last_good_days`, and this run's start (see [`crate::keep`]).
    keep_days: u32,
    now: chrono::DateTime<chrono::Utc>,
}

/// Where reading content spends its time, summed over the threads that do it (so on two
/// cores up to twice the stage's wall time): for `--timings`.
#[derive(Default)]
struct ReadingTime {
    reading: BusyTime,
    parsing: BusyTime,
}

/// Time summed over threads.
#[derive(Default)]
struct BusyTime(std::sync::atomic::AtomicU64);

impl BusyTime {
    fn add(&self, elapsed: std::time::Duration) {
        self.0.fetch_add(
            elapsed.as_nanos() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn total(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.load(std::sync::atomic::Ordering::Relaxed))
    }
}

impl Reading<'_> {
    fn look_up(&self, relative: &Path, entry: Option<&FileEntry>) -> Looked {
        let path = match self.source.root() {
            Some(root) => root.join(relative),
            None => relative.to_path_buf(),
        };
        let stamp = cache::Stamp::of(&path).ok();
        // An entry is worth comparing with the file only while its ERP records are the same.
        let entry = entry.filter(|entry| {
            entry.reusable
                && entry.erp
                    == cache::erp_digest(entry.products.iter().map(|p| p.sku.as_str()), self.by_sku)
        });
        if let (Some(entry), Some(last_cache), Some(stamp)) = (entry, self.last_cache, stamp)
            && entry.stamp == stamp
            && last_cache.trusts(&stamp)
        {
            return Looked::Reusable(stamp);
        }
        let reading = std::time::Instant::now();
        let bytes = match std::fs::read(&path) {
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
        let Some(mut last_build) = self.last_cache.and_then(cache::Previous::last_build_reader)
        else {
            return;
        };
        let (start, len) = entry.last_build;
        let products = last_build
            .read(start, len)
            .and_then(|lines| last_build::parse_lines(Path::new(last_build::PRODUCTS), &lines));
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
        match self.look_up(relative, None) {
            Looked::Parsed(file, key) => (*file, key),
            Looked::Reusable(_) => unreachable!("without an entry nothing is reusable"),
        }
    }
}

/// One batch of content files, in catalog order: each found unchanged in the build cache (in
/// parallel), or read and checked; then the checks across files, in order. Files left without
/// a product are dropped (their diagnostics are kept).
fn read_content_batch(
    batch: &[PathBuf],
    mut old: HashMap<Arc<str>, FileEntry>,
    reading: &Reading<'_>,
    checks: &mut ContentChecks<'_>,
    reuse: &mut CacheUse,
) -> Vec<FileWork> {
    let looked: Vec<Looked> = batch
        .par_iter()
        .map(|relative| {
            let entry = old.get(relative.to_string_lossy().as_ref());
            reading.look_up(relative, entry)
        })
        .collect();
    let mut works = Vec::with_capacity(batch.len());
    for (relative, looked) in batch.iter().zip(looked) {
        let work = match looked {
            Looked::Reusable(stamp) => {
                let entry = old
                    .remove(relative.to_string_lossy().as_ref())
                    .expect("a reusable file has an entry");
                checks.reuse(entry, stamp).unwrap_or_else(|| {
                    // Another file now has one of its SKUs or titles: check it again, to say so.
                    let (file, key) = reading.parse(relative);
                    checks.fresh(file, key)
                })
            }
            Looked::Parsed(file, key) => {
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
        let file = entry.path.clone();
        let unique = self
            .skus
            .all_new(entry.products.iter().map(|p| p.sku.as_str()))
            && entry
                .products
                .iter()
                .all(|p| self.quality.titles_unique(&file, &p.titles));
        if !unique {
            return None;
        }
        for product in &entry.products {
            self.skus.register_sku(&product.sku, &file, product.line);
            self.quality
                .remember_titles(&product.sku, &file, &product.titles);
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
            key,
            reusable,
            diagnostics: cached,
            last_build: None,
            kept: None,
        })
    }
}

/// A refresh with the build cache: files whose ERP records did not change are reused, the
/// others' products are read back from the last build to be rendered again.
fn refresh_works(
    entries: Vec<FileEntry>,
    skus: &mut content::SkuRegistry,
    by_sku: &HashMap<&str, &ErpRecord>,
    last_build: &mut cache::OldFile,
    reuse: &mut CacheUse,
    keep_days: u32,
) -> Result<Vec<FileWork>, Failure> {
    let mut works = Vec::with_capacity(entries.len());
    for entry in entries {
        for product in &entry.products {
            skus.register_sku(&product.sku, &entry.path, product.line);
        }
        let erp = cache::erp_digest(entry.products.iter().map(|p| p.sku.as_str()), by_sku);
        if entry.reusable && entry.erp == erp {
            reuse.files_reused += 1;
            works.push(FileWork::Cached(entry));
            continue;
        }
        let (start, len) = entry.last_build;
        let products = last_build
            .read(start, len)
            .and_then(|lines| last_build::parse_lines(Path::new(last_build::PRODUCTS), &lines))
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

/// A hash of everything an item depends on besides its file and ERP records.
fn cache_fingerprint(
    source: &content::CatalogSource,
    renderers: &[ChannelRenderer<'_>],
    generated_at: &str,
) -> cache::Digest32 {
    let mut fingerprint = cache::Fingerprint::new();
    for file in last_build::FILES {
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

/// One product's item for one channel, on its way into the feed.
struct Pending {
    sku: String,
    file: Arc<str>,
    line: u32,
    verdict: Verdict,
    item: Option<PendingItem>,
}

enum PendingItem {
    Rendered(Vec<u8>),
    /// Where the item is in the last build's feed.
    Copied(ItemSpan),
}

/// One batch on its way into the feeds, the last build and the next build cache.
struct BatchWriter {
    /// Per channel, the batch's products in order.
    queues: Vec<Vec<Pending>>,
    /// Per file: its new cache entry, if it gets one, and its number of products.
    entries: Vec<(Option<FileEntry>, usize)>,
}

impl BatchWriter {
    fn new(channels: usize) -> Self {
        BatchWriter {
            queues: (0..channels).map(|_| Vec::new()).collect(),
            entries: Vec::new(),
        }
    }

    /// Keeps the file's products in the last build and queues its items; false when a file
    /// with products gets no cache entry (so the cache would not be whole).
    fn add(
        &mut self,
        work: FileWork,
        last_build: Option<&mut LastBuildWriter>,
        old_last_build: Option<&mut cache::OldFile>,
        tally: &mut Tally,
        by_sku: &HashMap<&str, &ErpRecord>,
    ) -> std::io::Result<bool> {
        match work {
            FileWork::Cached(mut entry) => {
                if let Some(last_build) = last_build {
                    let old = old_last_build.ok_or_else(|| {
                        std::io::Error::other("the build cache has no last build to copy from")
                    })?;
                    let (start, len) = entry.last_build;
                    entry.last_build.0 = last_build.write_lines(&old.read(start, len)?)?;
                }
                for product in &entry.products {
                    let completeness = product.channels.iter().map(|c| c.completeness);
                    tally.product(
                        &product.sku,
                        &entry.path,
                        product.line,
                        completeness,
                        by_sku,
                    );
                    for (queue, cached) in self.queues.iter_mut().zip(&product.channels) {
                        queue.push(Pending {
                            sku: product.sku.clone(),
                            file: entry.path.clone(),
                            line: product.line,
                            verdict: cached.verdict(),
                            item: cached.item.map(PendingItem::Copied),
                        });
                    }
                }
                let count = entry.products.len();
                self.entries.push((Some(entry), count));
                Ok(true)
            }
            FileWork::Fresh(fresh) => {
                let mut range = fresh.last_build;
                if let Some(last_build) = last_build {
                    let start = last_build.written();
                    for product in &fresh.products {
                        last_build.add(product)?;
                    }
                    range = Some((start, last_build.written() - start));
                }
                let count = fresh.products.len();
                let entry = match (fresh.key, range) {
                    (Some(key), Some(last_build)) => Some(FileEntry {
                        path: fresh.path.clone(),
                        stamp: key.stamp,
                        content: key.content,
                        erp: cache::erp_digest(
                            fresh.products.iter().map(|p| p.sku.as_str()),
                            by_sku,
                        ),
                        last_build,
                        reusable: fresh.reusable,
                        diagnostics: fresh.diagnostics,
                        kept_since: fresh.kept.as_ref().map(|kept| kept.since.clone()),
                        products: fresh
                            .products
                            .iter()
                            .zip(&fresh.results)
                            .map(|(product, per_channel)| cache::CachedProduct {
                                sku: product.sku.clone(),
                                line: product.line,
                                titles: validate::quality::title_keys(product),
                                channels: match fresh.reusable {
                                    true => per_channel
                                        .iter()
                                        .map(|(verdict, _)| {
                                            cache::CachedVerdict::new(verdict, None)
                                        })
                                        .collect(),
                                    false => Vec::new(),
                                },
                            })
                            .collect(),
                    }),
                    _ => None,
                };
                let whole = entry.is_some() || count == 0;
                for (product, per_channel) in fresh.products.iter().zip(fresh.results) {
                    let completeness = per_channel.iter().map(|(v, _)| v.completeness);
                    tally.product(
                        &product.sku,
                        &fresh.path,
                        product.line,
                        completeness,
                        by_sku,
                    );
                    let kept = fresh
                        .kept
                        .as_ref()
                        .filter(|k| k.skus.contains(&product.sku));
                    for (queue, (mut verdict, bytes)) in self.queues.iter_mut().zip(per_channel) {
                        if let Some(kept) = kept.filter(|_| verdict.included) {
                            verdict.warnings.push(kept.reason());
                        }
                        queue.push(Pending {
                            sku: product.sku.clone(),
                            file: fresh.path.clone(),
                            line: product.line,
                            verdict,
                            item: bytes.map(PendingItem::Rendered),
                        });
                    }
                }
                self.entries.push((entry, count));
                Ok(whole)
            }
        }
    }

    /// Writes every channel's items, the channels in parallel; the batch's new cache
    /// entries, with where their items are now.
    fn write(
        self,
        feeds: &mut [Feed<'_>],
        old_feeds: &mut [cache::OldFeed],
    ) -> Result<Vec<FileEntry>, Failure> {
        let spans: Vec<Vec<Option<ItemSpan>>> = feeds
            .iter_mut()
            .zip(old_feeds.iter_mut())
            .zip(self.queues)
            .map(|((feed, old), queue)| {
                queue
                    .into_iter()
                    .map(|pending| feed.add(pending, old))
                    .collect::<Result<Vec<_>, Failure>>()
            })
            .collect::<Vec<_>>()
            .into_iter()
            .collect::<Result<_, _>>()?;
        let mut entries = Vec::with_capacity(self.entries.len());
        let mut next = 0;
        for (entry, count) in self.entries {
            if let Some(mut entry) = entry {
                for (index, product) in entry.products.iter_mut().enumerate() {
                    for (channel, verdict) in product.channels.iter_mut().enumerate() {
                        verdict.item = spans[channel][next + index];
                    }
                }
                entries.push(entry);
            }
            next += count;
        }
        Ok(entries)
    }
}

/// One channel's feed while the catalog streams through: its open file and its report.
struct Feed<'a> {
    writer: Option<FeedWriter<'a, 'a, 'a>>,
    report: ChannelReport,
}

impl<'a> Feed<'a> {
    fn open(
        channel: &'a Channel,
        renderer: &'a ChannelRenderer<'a>,
        staging: Option<&Staging>,
        ctx: &'a MergeContext<'a>,
        gzip: bool,
    ) -> Result<Self, Failure> {
        let writer = match staging {
            Some(staging) => Some(FeedWriter::create(
                renderer,
                ctx,
                staging.path(),
                &channel.output,
                gzip,
            )?),
            None => None,
        };
        Ok(Self {
            writer,
            report: ChannelReport {
                name: channel.name.clone(),
                kind: match channel.preset() {
                    Some(preset) => preset.name().to_string(),
                    None => format!("custom {:?}", channel.format()).to_lowercase(),
                },
                locale: channel.locale.clone(),
                output: channel.output.clone(),
                items: 0,
                excluded: 0,
                left_out: Vec::new(),
                warnings: Vec::new(),
                notes: channel.notes.clone(),
            },
        })
    }

    /// Writes one product's item, rendered now or copied from the last build's feed, and
    /// notes the verdict; where the item landed.
    fn add(
        &mut self,
        pending: Pending,
        old: &mut cache::OldFeed,
    ) -> Result<Option<ItemSpan>, Failure> {
        let span = match (self.writer.as_mut(), pending.item) {
            (Some(out), Some(PendingItem::Rendered(bytes))) => Some(out.write_item(&bytes)?),
            (Some(out), Some(PendingItem::Copied(span))) => {
                let written = old.read(&span).map_err(Failure::io(
                    "cannot copy an item from the last build's feed",
                ))?;
                Some(out.write_copied(&written)?)
            }
            _ => None,
        };
        let verdict = pending.verdict;
        let entry = |reasons: Vec<Reason>| ProductVerdict {
            sku: pending.sku,
            file: pending.file.to_string(),
            line: pending.line,
            completeness: verdict.completeness,
            reasons,
        };
        if verdict.included {
            self.report.items += 1;
            if !verdict.warnings.is_empty() {
                self.report.warnings.push(entry(verdict.warnings));
            }
        } else {
            self.report.excluded += 1;
            self.report.left_out.push(entry(verdict.reasons));
        }
        Ok(span)
    }

    /// Closes the feed's files; the report and every file written, in order.
    fn finish(self) -> Result<(ChannelReport, Vec<FeedPart>), Failure> {
        let parts = match self.writer {
            Some(writer) => writer.finish()?,
            None => Vec::new(),
        };
        Ok((self.report, parts))
    }
}

/// Parses every rendered file back, all at once (each is one sequential read).
fn verify_feeds(
    channels: &[Channel],
    reports: &[ChannelReport],
    parts: Vec<Vec<FeedPart>>,
) -> Result<Vec<ManifestChannel>, Failure> {
    let files: Vec<(&Channel, FeedPart)> = channels
        .iter()
        .zip(parts)
        .flat_map(|(channel, parts)| parts.into_iter().map(move |part| (channel, part)))
        .collect();
    let verified: Vec<(&Channel, ManifestPart)> = files
        .into_par_iter()
        .map(|(channel, part)| {
            let stats = output::verify(&part.path, channel.format()).map_err(|message| {
                Failure::Verify {
                    channel: channel.name.clone(),
                    message: format!("{}: {message}", part.file),
                }
            })?;
            Ok((
                channel,
                ManifestPart {
                    file: part.file,
                    items: part.items,
                    stats,
                    gzip: part.gzip,
                },
            ))
        })
        .collect::<Result<_, Failure>>()?;
    let mut manifest = Vec::with_capacity(channels.len());
    for (channel, report) in channels.iter().zip(reports) {
        let mut parts: Vec<ManifestPart> = verified
            .iter()
            .filter(|(c, _)| c.name == channel.name)
            .map(|(_, part)| ManifestPart {
                file: part.file.clone(),
                items: part.items,
                stats: part.stats.clone(),
                gzip: part.gzip.clone(),
            })
            .collect();
        let (stats, gzip) = match parts.first() {
            Some(first) => (Some(first.stats.clone()), first.gzip.clone()),
            None => (None, None),
        };
        let note = match stats {
            None => crate::channels::marketplace::empty_document_note(channel, report.items),
            Some(_) => None,
        };
        if parts.len() == 1 {
            parts.clear();
        }
        manifest.push(ManifestChannel {
            name: channel.name.clone(),
            file: channel.output.clone(),
            format: channel.format(),
            items: report.items,
            excluded: report.excluded,
            stats,
            gzip,
            parts,
            note,
        });
    }
    Ok(manifest)
}

pub(crate) fn pull_erp(config: &Config, root: &Path) -> Result<(Vec<ErpRecord>, ErpPull), Failure> {
    pull_erp_with(config, root, &crate::ui::Progress::hidden())
}

/// The ERP records, all or nothing: from the export, from the API, or (when the API is down
/// and the catalog allows it) from the last good pull.
fn pull_erp_with(
    config: &Config,
    root: &Path,
    progress: &crate::ui::Progress,
) -> Result<(Vec<ErpRecord>, ErpPull), Failure> {
    let (mut records, pull) = pull_erp_records(config, root, progress)?;
    erp::price_list::apply(&config.price_lists, root, &mut records).map_err(Failure::Erp)?;
    Ok((records, pull))
}

fn pull_erp_records(
    config: &Config,
    root: &Path,
    progress: &crate::ui::Progress,
) -> Result<(Vec<ErpRecord>, ErpPull), Failure> {
    let pulled_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let records = match &config.erp {
        ErpConfig::File(file) => {
            let checked = erp::file::load_with_warnings(file, root)
                .map_err(|err| Failure::Erp(err.to_string()))?;
            let warnings = erp_warnings(&checked.warnings, &file.path);
            let source = format!("file:{}", file.path.display());
            (checked.records, source, None, warnings)
        }
        ErpConfig::Http(http) => match erp::http::pull(http, progress) {
            Ok(pull) => {
                let last = erp::last_pull::LastPull {
                    pulled_at: pulled_at.clone(),
                    source: http.url.clone(),
                    records: pull.records,
                };
                // Keeping it is a convenience for later builds; failing to is not this one's.
                let _ = erp::last_pull::save(root, &last);
                let warnings = erp_warnings(&pull.warnings, Path::new(&http.url));
                (last.records, http.url.clone(), None, warnings)
            }
            Err(err) => {
                let Some(max_age) = http.max_age_minutes else {
                    return Err(Failure::Erp(err.with_server_text()));
                };
                match erp::last_pull::fallback(root, &http.url, max_age) {
                    Ok((last, age_minutes)) => {
                        let stale = Stale {
                            age_minutes,
                            because: err.to_string(),
                            server_said: err.server_said().map(str::to_string),
                        };
                        let pull = ErpPull {
                            source: last.source,
                            pulled_at: last.pulled_at,
                            records: last.records.len(),
                            stale: Some(stale),
                            warnings: Vec::new(),
                        };
                        return Ok((last.records, pull));
                    }
                    Err(why_not) => {
                        return Err(Failure::Erp(format!(
                            "{}; {why_not}",
                            err.with_server_text()
                        )));
                    }
                }
            }
        },
    };
    let (records, source, stale, warnings) = records;
    if records.is_empty() {
        // An export cut off before its first row would otherwise empty every feed.
        return Err(Failure::Erp(format!(
            "{source} has no records; refusing to publish empty feeds"
        )));
    }
    let pull = ErpPull {
        source,
        pulled_at,
        records: records.len(),
        stale,
        warnings,
    };
    Ok((records, pull))
}

fn erp_warnings(rows: &[erp::record_check::RowProblem], source: &Path) -> Vec<Diagnostic> {
    rows.iter()
        .map(|row| row.warning("negative-stock", source))
        .collect()
}

/// The gate's verdict on a product in one channel, and its feed item when it is in.
pub(crate) type Gated = (Verdict, Option<Vec<u8>>);

/// Merges, gates and renders one product for every channel.
fn process_product(
    product: &Product,
    channels: &[Channel],
    renderers: &[ChannelRenderer<'_>],
    by_sku: &HashMap<&str, &ErpRecord>,
    ctx: &MergeContext<'_>,
    render_items: bool,
) -> Result<Vec<Gated>, RenderError> {
    let record = by_sku.get(product.sku.as_str()).copied();
    // One view per locale for the channels without overrides for this product; the view (and
    // its Markdown and template context) is the costly part, the gate and render are cheap.
    // Channels in another currency see other prices: one view per locale and currency, the
    // second currency of a locale a copy of the first with its own ERP numbers (the Markdown,
    // the costly part, is the same).
    fn key(channel: &Channel) -> (&str, &str) {
        (channel.locale.as_str(), channel.currency.as_str())
    }
    let mut shared: Vec<((&str, &str), Item)> = Vec::new();
    if let Some(record) = record {
        for (channel, _) in channels.iter().zip(renderers) {
            let (locale, currency) = key(channel);
            if product.channels.contains_key(&channel.name)
                || shared.iter().any(|(k, _)| *k == (locale, currency))
            {
                continue;
            }
            if let Some((_, item)) = shared.iter().find(|((l, _), _)| *l == locale) {
                let mut view = item.view.clone();
                view.erp = merge::ErpView::new(record, &ctx.catalog.currency, currency);
                shared.push(((locale, currency), Item::new(view)));
                continue;
            }
            let needs = channels
                .iter()
                .zip(renderers)
                .filter(|(c, _)| c.locale == locale)
                .fold(MarkdownNeeds::default(), |all, (_, r)| {
                    all.union(r.markdown_needs())
                });
            shared.push((
                (locale, currency),
                Item::new(merge::view(product, record, channel, ctx, needs)),
            ));
        }
    }
    let mut gated = channels
        .iter()
        .zip(renderers)
        .map(|(channel, renderer)| {
            let own;
            let item = match record {
                Some(record) if product.channels.contains_key(&channel.name) => {
                    own = Item::new(merge::view(
                        product,
                        record,
                        channel,
                        ctx,
                        renderer.markdown_needs(),
                    ));
                    Some(&own)
                }
                Some(_) => shared
                    .iter()
                    .find(|(l, _)| *l == key(channel))
                    .map(|(_, item)| item),
                None => None,
            };
            gate_and_render_item(product, record, item, channel, renderer, ctx, render_items)
        })
        .collect::<Result<Vec<Gated>, RenderError>>()?;
    validate::follow_primaries(channels, &mut gated);
    Ok(gated)
}

/// Merges, gates and renders one product for one channel (for `pimfeed diff`, which renders a
/// channel at a time).
pub(crate) fn gate_and_render(
    product: &Product,
    channel: &Channel,
    renderer: &ChannelRenderer<'_>,
    by_sku: &HashMap<&str, &ErpRecord>,
    ctx: &MergeContext<'_>,
    render_item: bool,
) -> Result<Gated, RenderError> {
    let record = by_sku.get(product.sku.as_str()).copied();
    let item = record.map(|record| {
        Item::new(merge::view(
            product,
            record,
            channel,
            ctx,
            renderer.markdown_needs(),
        ))
    });
    gate_and_render_item(
        product,
        record,
        item.as_ref(),
        channel,
        renderer,
        ctx,
        render_item,
    )
}

fn gate_and_render_item(
    product: &Product,
    record: Option<&ErpRecord>,
    item: Option<&Item>,
    channel: &Channel,
    renderer: &ChannelRenderer<'_>,
    ctx: &MergeContext<'_>,
    render_item: bool,
) -> Result<Gated, RenderError> {
    let mut verdict = validate::decide(product, record, item.map(|i| &i.view), channel, ctx.schema);
    let Some(item) = item.filter(|_| verdict.included) else {
        return Ok((verdict, None));
    };
    if !renderer.passes_filter(item)? {
        verdict.included = false;
        verdict.reasons.push(Reason::new(
            "filter",
            format!(
                "left out by the channel filter `{}`",
                channel.filter.as_deref().unwrap_or_default()
            ),
        ));
        return Ok((verdict, None));
    }
    let bytes = if render_item {
        Some(renderer.item(product, item, ctx)?)
    } else {
        None
    };
    Ok((verdict, bytes))
}

fn write_report_and_manifest(
    dir: &Path,
    report: &Report,
    manifest: &Manifest,
    output: &Path,
) -> Result<(), Failure> {
    let report_dir = dir.join("report");
    std::fs::create_dir_all(&report_dir).map_err(Failure::io("cannot create the report folder"))?;
    let create = |name: &str| -> Result<BufWriter<File>, Failure> {
        let path = dir.join(name);
        File::create(&path)
            .map(BufWriter::new)
            .map_err(Failure::io(format!("cannot write {}", path.display())))
    };
    let mut json = create("report/report.json")?;
    report
        .write_json(&mut json)
        .map_err(|err| Failure::io("cannot write report.json")(err.into()))?;
    json.flush()
        .map_err(Failure::io("cannot write report.json"))?;
    let mut html = create("report/index.html")?;
    report.write_html(&mut html, output).map_err(|err| {
        Failure::io("cannot write the HTML report")(std::io::Error::other(
            crate::render::tera_message(&err),
        ))
    })?;
    html.flush()
        .map_err(Failure::io("cannot write the HTML report"))?;
    let mut file = create("manifest.json")?;
    serde_json::to_writer_pretty(&mut file, manifest)
        .map_err(|err| Failure::io("cannot write manifest.json")(err.into()))?;
    file.write_all(b"\n")
        .and_then(|()| file.flush())
        .map_err(Failure::io("cannot write manifest.json"))
}
