//! The stream step: batches from the run's source, through the per-product step, into the
//! sinks on the writer thread; a batch at a time, so memory stays bounded by a batch.

use std::time::Duration;

use rayon::prelude::*;

use super::sources::{
    BatchSource, ContentSoFar, FileWork, LastBuild, LastBuildThroughCache, ReadingTime, Rendered,
    WorkingTree,
};
use super::timings::Stopwatch;
use super::writer::{Feed, Sinks, Tally, Written, write_batches};
use super::{Build, ErpPull, Failure, Mode, product_step};
use crate::cache;
use crate::last_build::{LastBuildReader, LastBuildWriter};
use crate::pimfeed_folder;
use crate::render::{FeedPart, RenderError};
use crate::report::ChannelReport;
use crate::staging::Staging;

/// What the stream step leaves for the finish step.
pub(crate) struct Streamed {
    /// Per channel, its report so far and every file of its feed.
    pub(crate) channels: Vec<(ChannelReport, Vec<FeedPart>)>,
    pub(crate) tally: Tally,
    pub(crate) content: ContentSoFar,
    /// The new feeds, before the swap (none for a check).
    pub(crate) staging: Option<Staging>,
    pub(crate) last_build: Option<LastBuildWriter>,
    pub(crate) cache: Option<cache::Writer>,
    pub(crate) cache_complete: bool,
}

impl Build<'_> {
    /// Streams every batch of the run's source through merge, gate and render into the feeds.
    pub(crate) fn stream(
        &self,
        last_cache: Option<cache::Previous>,
        last_build: Option<LastBuildReader>,
        pull: &ErpPull,
        stopwatch: &mut Stopwatch,
        progress: &crate::ui::Progress,
    ) -> Result<Streamed, Failure> {
        let staging = self.create_staging()?;
        let last_build_writer = match self.mode() {
            Mode::Build => {
                // A build from the cache copies the lines of unchanged files from the last build.
                let previous = last_cache
                    .as_ref()
                    .and_then(cache::Previous::last_build_lines);
                let folder = self.prepared.root.join(pimfeed_folder::LAST_BUILD);
                let cannot = format!("cannot keep this build's content in {}", folder.display());
                let writer = LastBuildWriter::create(&self.prepared.root, previous);
                Some(writer.map_err(Failure::io(cannot))?)
            }
            Mode::Check | Mode::Refresh => None,
        };
        let feeds = self
            .prepared
            .channels
            .iter()
            .zip(self.renderers)
            .map(|(channel, renderer)| {
                let gzip = self.prepared.config.build.gzip;
                Feed::open(channel, renderer, staging.as_ref(), &self.merge, gzip)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cache_writer = self.cache_writer(pull);
        let sinks = self.sinks(feeds, last_build_writer, last_cache.as_ref(), cache_writer);

        progress.set_length(self.files.len());
        let mut content = ContentSoFar {
            diagnostics: self.prepared.model.diagnostics.clone(),
            ..ContentSoFar::default()
        };
        content.diagnostics.extend(pull.warnings.iter().cloned());
        let reading_time = ReadingTime::default();
        let channel_names: Vec<String> = self
            .prepared
            .channels
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let mut source = self.source(last_build, last_cache, &reading_time, &channel_names)?;
        let written = self.pump(
            source.as_mut(),
            sinks,
            staging.is_some(),
            &mut content,
            stopwatch,
            progress,
        )?;
        stopwatch.lap("wait for the feed writer");
        record_busy_time(stopwatch, &reading_time, written.busy);

        // A feed's last run of unchanged items is copied when it closes: with nothing changed
        // that is the whole feed, so the channels' copies run on both cores.
        let channels = written
            .sinks
            .feeds
            .into_par_iter()
            .map(Feed::finish)
            .collect::<Result<Vec<_>, _>>()?;
        stopwatch.lap("close the feeds (copying their last unchanged runs)");
        Ok(Streamed {
            channels,
            tally: written.tally,
            content,
            staging,
            last_build: written.sinks.last_build,
            cache: written.sinks.cache,
            cache_complete: written.cache_complete,
        })
    }

    /// The folder a build or refresh writes its feeds into, before the swap.
    fn create_staging(&self) -> Result<Option<Staging>, Failure> {
        match self.mode() {
            Mode::Check => Ok(None),
            Mode::Build | Mode::Refresh => {
                let output_dir = &self.prepared.output_dir;
                Staging::create(output_dir)
                    .map(Some)
                    .map_err(Failure::io(format!(
                        "cannot create a staging folder next to {}",
                        output_dir.display()
                    )))
            }
        }
    }

    /// The writer of this run's cache (the last build's was opened at the start, see
    /// [`super::start_up`]).
    fn cache_writer(&self, pull: &ErpPull) -> Option<cache::Writer> {
        let prepared = self.prepared;
        match self.mode() {
            // A refresh without a usable cache makes one for the refreshes after it.
            Mode::Build | Mode::Refresh => {
                let fingerprint =
                    cache::fingerprint(&prepared.source, self.renderers, &prepared.generated_at);
                let writer = cache::Writer::create(&prepared.root, fingerprint).ok()?;
                let writer = writer.made_with_records(pull.records_digest);
                Some(match &self.keep_cache {
                    Some(slot) => writer.keeping_entries(slot.clone(), self.files.len()),
                    None => writer,
                })
            }
            Mode::Check => None,
        }
    }

    /// The sinks, with what the last build's cache lets a build copy: a build copies reused
    /// products' lines into its new last build, and their items from the old feeds.
    fn sinks<'f>(
        &self,
        feeds: Vec<Feed<'f>>,
        last_build: Option<LastBuildWriter>,
        last_cache: Option<&cache::Previous>,
        cache: Option<cache::Writer>,
    ) -> Sinks<'f> {
        let mut old_feeds = match last_cache {
            Some(last_cache) if self.mode() != Mode::Check => last_cache.feed_readers(),
            _ => Vec::new(),
        };
        old_feeds.resize_with(feeds.len(), cache::OldFeed::empty);
        // A file has a product or more; the last build's count, when its cache knows it.
        let last_products = last_cache.and_then(cache::Previous::products);
        Sinks {
            feeds,
            old_feeds,
            last_build,
            cache,
            expected_products: self.files.len().max(last_products.unwrap_or(0)),
        }
    }

    /// Where the batches come from: a refresh reads the last build (through the cache when
    /// it has one, which says which products to read again), a check or build the working
    /// tree.
    pub(super) fn source<'s>(
        &'s self,
        last_build: Option<LastBuildReader>,
        last_cache: Option<cache::Previous>,
        reading_time: &'s ReadingTime,
        channel_names: &'s [String],
    ) -> Result<Box<dyn BatchSource + 's>, Failure> {
        let prepared = self.prepared;
        let keep_days = prepared.config.guard.keep_last_good_days;
        Ok(match (self.mode(), last_cache) {
            (Mode::Refresh, Some(cache)) => {
                let last_build = cache.last_build_lines().ok_or(Failure::NoLastBuild)?;
                Box::new(LastBuildThroughCache {
                    cache,
                    last_build,
                    by_sku: &self.by_sku,
                    keep_days,
                })
            }
            (Mode::Refresh, None) => Box::new(LastBuild {
                reader: last_build.ok_or(Failure::NoLastBuild)?,
            }),
            (Mode::Check | Mode::Build, last_cache) => Box::new(WorkingTree {
                files: self.files,
                next: 0,
                last_cache,
                source: &prepared.source,
                parse: prepared.parse_context(channel_names),
                by_sku: &self.by_sku,
                model: &prepared.model,
                channels: &prepared.channels,
                busy: reading_time,
                keep_days,
                now: prepared.started,
                watched: self.watched,
                records_of_cache: self.records_of_cache,
                records_digest: self.records_digest,
                prefetched: None,
            }),
        })
    }

    /// Moves every batch from the source through the per-product step to the writer thread.
    /// The bounded channel keeps at most one batch waiting.
    fn pump<'f>(
        &self,
        source: &mut dyn BatchSource,
        sinks: Sinks<'f>,
        render_items: bool,
        content: &mut ContentSoFar,
        stopwatch: &mut Stopwatch,
        progress: &crate::ui::Progress,
    ) -> Result<Written<'f>, Failure> {
        let (batches, received) = std::sync::mpsc::sync_channel::<Vec<FileWork>>(1);
        let by_sku = &self.by_sku;
        let keep_lines = sinks.last_build.is_some();
        std::thread::scope(|scope| {
            let writer = scope.spawn(move || write_batches(sinks, received, by_sku));
            loop {
                progress.stage("reading content");
                let Some(mut batch) = source.next_batch(content, stopwatch)? else {
                    break;
                };
                stopwatch.lap("read, parse and validate content");

                progress.stage("gating and rendering");
                self.render_batch(&mut batch.works, render_items, keep_lines)?;
                stopwatch.lap("merge, gate and render");
                if batches.send(batch.works).is_err() {
                    break; // The writer failed; its error is reported below.
                }
                stopwatch.lap("wait for the feed writer");
                progress.advance(batch.progressed);
            }
            drop(batches);
            writer.join().expect("the feed writer does not panic")
        })
    }

    /// Runs the per-product step on every product read anew, in parallel, and leaves of each
    /// file what the writer thread needs (see [`Rendered`]), with the products' lines for the
    /// last build when `keep_lines`.
    fn render_batch(
        &self,
        works: &mut [FileWork],
        render_items: bool,
        keep_lines: bool,
    ) -> Result<(), RenderError> {
        let channels = &self.prepared.channels;
        let shared_needs =
            product_step::SharedNeeds::new(channels, self.renderers, self.merge.schema);
        let rendered: Vec<Result<(), RenderError>> = works
            .par_iter_mut()
            .map(|work| {
                let FileWork::Fresh(fresh) = work else {
                    return Ok(());
                };
                fresh.results = fresh
                    .products
                    .par_iter()
                    .map(|product| {
                        product_step::process_product(
                            product,
                            channels,
                            self.renderers,
                            &shared_needs,
                            &self.by_sku,
                            &self.merge,
                            render_items,
                        )
                    })
                    .collect::<Vec<_>>()
                    .into_iter()
                    .collect::<Result<_, _>>()?;
                fresh.rendered = Rendered::of(&fresh.products, keep_lines);
                fresh.products = Vec::new();
                Ok(())
            })
            .collect();
        // The first error in catalog order, not whichever thread failed first.
        rendered.into_iter().collect()
    }
}

/// Where reading and writing spent their time, for `--timings`.
fn record_busy_time(stopwatch: &mut Stopwatch, reading: &ReadingTime, writing: Duration) {
    stopwatch.detail(
        "of which reading and hashing files (busy, all cores)",
        reading.reading.total(),
    );
    stopwatch.detail(
        "of which parsing and checking them (busy, all cores)",
        reading.parsing.total(),
    );
    stopwatch.detail(
        "of which writing feeds, last build and cache (writer thread busy)",
        writing,
    );
}
