//! The stages in order: config → content → ERP → merge → gate → render → verify → swap.
//! Content streams through merge, gate and render in batches (see [`FILES_PER_BATCH`]).
//!
//! `check` runs the same stages as `build` up to the gate (templates and filters included),
//! so a pull request sees exactly what a build on merge would publish.

mod erp_pull;
mod manifest;
mod product_step;
mod sources;
mod verify;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub(crate) use erp_pull::pull_erp;
pub use erp_pull::{ErpPull, Stale};
pub use manifest::{Manifest, ManifestChannel, ManifestPart};
pub(crate) use product_step::{Gated, gate_and_render};

use erp_pull::pull_erp_with;
use manifest::write_report_and_manifest;
use product_step::process_product;
use sources::{
    BusyTime, ContentChecks, FileWork, Reading, ReadingTime, read_content_batch, refresh_works,
    refresh_works_without_cache,
};
use verify::verify_feeds;
use writer::{BatchWriter, Feed, Tally};

use rayon::prelude::*;
use serde::Serialize;

use crate::cache;
use crate::channels;
use crate::config::Config;
use crate::content;
use crate::diagnostics::Diagnostic;
use crate::erp::ErpRecord;
use crate::last_build::{self, LastBuildReader, LastBuildWriter};
use crate::merge::MergeContext;
use crate::output::{self, Staging};
use crate::pimfeed_folder;
use crate::render::{BuildView, ChannelRenderer, RenderError};
use crate::report::{self, ProductRef, Report};
use crate::validate;

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

/// Reads `pim.toml` under `root`.
pub fn load_config(root: &Path) -> Result<Config, Failure> {
    let path = root.join(crate::config::CONFIG_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(Failure::io(format!("cannot read {}", path.display())))?;
    Config::parse(&text, Path::new(crate::config::CONFIG_FILE)).map_err(Failure::Config)
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
    Config::parse(&text, file).map_err(Failure::Config)
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
            crate::git::blame::annotate(&mut report, &source, root);
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
        swap_warnings = crate::swap::publish(staging, last_build_writer)?.warnings;
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
