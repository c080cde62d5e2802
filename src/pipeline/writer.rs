//! The writing end of the stream: each batch's items into the feeds, its products into the
//! last build, and its files' entries into the next build cache.

use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use super::Failure;
use super::sources::FileWork;
use super::timings::BusyTime;
use crate::cache::{self, FileEntry};
use crate::channels::Channel;
use crate::erp::RecordsBySku;
use crate::last_build::LastBuildWriter;
use crate::merge::MergeContext;
use crate::presets::Preset;
use crate::render::{ChannelRenderer, FeedPart, FeedWriter, ItemSpan};
use crate::report::{ChannelReport, ProductCompleteness, ProductRef, ProductVerdict};
use crate::staging::Staging;
use crate::verdict::{Reason, Verdict};

/// Where a run writes: the feeds, the last build and the next build cache, with what the
/// build cache lets it copy from (the last build's feeds and products).
pub(crate) struct Sinks<'a> {
    pub(crate) feeds: Vec<Feed<'a>>,
    /// Per channel, the last build's feed (empty without the cache).
    pub(crate) old_feeds: Vec<cache::OldFeed>,
    pub(crate) last_build: Option<LastBuildWriter>,
    pub(crate) cache: Option<cache::Writer>,
    /// How many products the run expects: room for the tally's rows at once.
    pub(crate) expected_products: usize,
}

/// The sinks after the last batch, and what went through them.
pub(crate) struct Written<'a> {
    pub(crate) sinks: Sinks<'a>,
    pub(crate) tally: Tally,
    /// Whether every file with products got its cache entry.
    pub(crate) cache_complete: bool,
    /// The writer thread's busy time.
    pub(crate) busy: Duration,
}

/// Writes every batch received, in order; runs on its own thread, so appending one batch
/// overlaps with reading and rendering the next.
pub(crate) fn write_batches<'a>(
    mut sinks: Sinks<'a>,
    received: Receiver<Vec<FileWork>>,
    by_sku: &RecordsBySku<'_>,
) -> Result<Written<'a>, Failure> {
    let mut tally = Tally::for_records(by_sku.records().len());
    // A row per product: reserved at once rather than grown (and copied) step by step.
    tally.products.reserve(sinks.expected_products);
    let mut complete = true;
    let busy = BusyTime::default();
    for (feed, old) in sinks.feeds.iter_mut().zip(&sinks.old_feeds) {
        if let Some(writer) = feed.writer.as_mut().filter(|_| old.exists()) {
            writer.splice_from_last_build();
        }
    }
    // Kept from batch to batch: its queues keep their room, so a batch does not grow them
    // again item by item.
    let mut batch = BatchWriter::new(sinks.feeds.len());
    for works in received {
        let started = Instant::now();
        for work in works {
            complete &= batch
                .add(work, sinks.last_build.as_mut(), &mut tally, by_sku)
                .map_err(Failure::io("cannot keep this build's content"))?;
        }
        let entries = batch.write(&mut sinks.feeds, &mut sinks.old_feeds)?;
        if let Some(writer) = sinks.cache.as_mut() {
            for entry in entries {
                if writer.add_owned(entry).is_err() {
                    complete = false;
                }
            }
        }
        busy.add(started.elapsed());
    }
    Ok(Written {
        sinks,
        tally,
        cache_complete: complete,
        busy: busy.total(),
    })
}

/// What the report keeps of every product: small, because there may be a million.
pub(crate) struct Tally {
    pub(crate) products: Vec<ProductCompleteness>,
    pub(crate) without_erp: Vec<ProductRef>,
    /// Per ERP record, by its position, whether a product has its SKU: the report lists the
    /// records none has from this, where looking each record's SKU up among the products
    /// again took a lookup per record on one core at the end of every build.
    pub(crate) records_with_content: Vec<bool>,
    /// Files with at least one product (a refresh has no file list of its own).
    pub(crate) files_with_products: usize,
}

impl Tally {
    /// A tally for a run with `records` ERP records.
    pub(crate) fn for_records(records: usize) -> Tally {
        Tally {
            products: Vec::new(),
            without_erp: Vec::new(),
            records_with_content: vec![false; records],
            files_with_products: 0,
        }
    }

    pub(crate) fn product(
        &mut self,
        sku: &Arc<str>,
        file: &Arc<str>,
        line: u32,
        completeness: impl Iterator<Item = u8>,
        by_sku: &RecordsBySku<'_>,
    ) {
        // Products come in file order, so a file's variants are next to each other.
        if self.products.last().is_none_or(|last| last.file != *file) {
            self.files_with_products += 1;
        }
        self.products.push(ProductCompleteness {
            sku: sku.clone(),
            file: file.clone(),
            completeness: completeness.collect(),
        });
        match by_sku.position(sku) {
            Some(position) => self.records_with_content[position] = true,
            None => self.without_erp.push(ProductRef {
                sku: sku.to_string(),
                file: file.to_string(),
                line,
            }),
        }
    }
}

/// One product's item for one channel, on its way into the feed.
struct Pending {
    /// Shared by the product's channels: only a product left out or warned about needs a
    /// copy of its own, for the report.
    pub(crate) sku: Arc<str>,
    pub(crate) file: Arc<str>,
    pub(crate) line: u32,
    pub(crate) verdict: Verdict,
    pub(crate) item: Option<PendingItem>,
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
    /// The bytes of the items rendered now that the batch holds.
    rendered_bytes: usize,
}

/// A batch holding at most this many bytes of items rendered now has its channels written
/// in parallel (see [`BatchWriter::write`]).
const PARALLEL_WRITE_MAX_RENDERED: usize = 4 << 20;

impl BatchWriter {
    pub(crate) fn new(channels: usize) -> Self {
        BatchWriter {
            queues: (0..channels).map(|_| Vec::new()).collect(),
            entries: Vec::new(),
            rendered_bytes: 0,
        }
    }

    /// Keeps the file's products in the last build and queues its items; false when a file
    /// with products gets no cache entry (so the cache would not be whole).
    pub(crate) fn add(
        &mut self,
        work: FileWork,
        last_build: Option<&mut LastBuildWriter>,
        tally: &mut Tally,
        by_sku: &RecordsBySku<'_>,
    ) -> std::io::Result<bool> {
        match work {
            FileWork::Cached(mut entry) => {
                if let Some(last_build) = last_build {
                    let (start, len) = entry.last_build;
                    entry.last_build.0 = last_build.copy_lines(start, len)?;
                }
                for product in &entry.products {
                    let sku = product.sku.clone();
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
                            sku: sku.clone(),
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
                let mut rendered = fresh.rendered;
                let mut range = fresh.last_build;
                if let Some(last_build) = last_build {
                    let start = last_build.written();
                    for line in rendered.lines() {
                        last_build.add_line(line)?;
                    }
                    range = Some((start, last_build.written() - start));
                }
                let count = rendered.products.len();
                let entry = match (fresh.key, range) {
                    (Some(key), Some(last_build)) => Some(FileEntry {
                        path: fresh.path.clone(),
                        stamp: key.stamp,
                        content: key.content,
                        erp: cache::erp_digest(rendered.products.iter().map(|p| &*p.sku), by_sku),
                        last_build,
                        reusable: fresh.reusable,
                        diagnostics: fresh.diagnostics,
                        kept_since: fresh.kept.as_ref().map(|kept| kept.since.clone()),
                        // The titles go to the cache entry alone: taken, not copied.
                        products: rendered
                            .products
                            .iter_mut()
                            .zip(&fresh.results)
                            .map(|(product, per_channel)| cache::CachedProduct {
                                sku: product.sku.clone(),
                                line: product.line,
                                titles: std::mem::take(&mut product.titles),
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
                for (product, per_channel) in rendered.products.into_iter().zip(fresh.results) {
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
                        .filter(|k| k.skus.contains(&*product.sku));
                    for (queue, (mut verdict, bytes)) in self.queues.iter_mut().zip(per_channel) {
                        if let Some(kept) = kept.filter(|_| verdict.included) {
                            verdict.warnings.push(kept.reason());
                        }
                        self.rendered_bytes += bytes.as_ref().map_or(0, Vec::len);
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

    /// Writes every channel's items; the batch's new cache entries, with where their items
    /// are now.
    ///
    /// A batch taken mostly from the build cache (a `refresh`, a build after an edit) is
    /// mostly runs of the last build's items, copied in the kernel, and holds few rendered
    /// bytes: its channels are written in parallel, so copying ten feeds takes both cores.
    /// A batch mostly rendered now (a cold build) is written one channel after the other:
    /// rendering the next batch needs the cores, and writing in parallel kept more batches'
    /// items in memory at once.
    ///
    /// The batch is left empty, ready for the next one.
    pub(crate) fn write(
        &mut self,
        feeds: &mut [Feed<'_>],
        old_feeds: &mut [cache::OldFeed],
    ) -> Result<Vec<FileEntry>, Failure> {
        let write_channel =
            |((feed, old), queue): ((&mut Feed<'_>, &mut cache::OldFeed), &mut Vec<Pending>)| {
                queue
                    .drain(..)
                    .map(|pending| feed.add(pending, old))
                    .collect::<Result<Vec<_>, Failure>>()
            };
        // One channel stays on this thread: handing it to rayon would only queue it behind
        // the rendering of the next batch, and free its items on another thread.
        let parallel = std::mem::take(&mut self.rendered_bytes) <= PARALLEL_WRITE_MAX_RENDERED
            && self.queues.len() > 1;
        let channels = feeds
            .iter_mut()
            .zip(old_feeds.iter_mut())
            .zip(self.queues.iter_mut());
        let spans: Vec<Vec<Option<ItemSpan>>> = if parallel {
            use rayon::prelude::*;
            channels
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(write_channel)
                .collect::<Result<_, _>>()?
        } else {
            channels.map(write_channel).collect::<Result<_, _>>()?
        };
        let mut entries = Vec::with_capacity(self.entries.len());
        let mut next = 0;
        for (entry, count) in self.entries.drain(..) {
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
pub(crate) struct Feed<'a> {
    pub(crate) writer: Option<FeedWriter<'a, 'a, 'a>>,
    pub(crate) report: ChannelReport,
}

impl<'a> Feed<'a> {
    pub(crate) fn open(
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
                kind: match Preset::of(channel) {
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
            (Some(out), Some(PendingItem::Copied(span))) => Some(out.copy_item(span, old)?),
            _ => None,
        };
        let verdict = pending.verdict;
        let entry = |reasons: Vec<Reason>| ProductVerdict {
            sku: pending.sku,
            file: pending.file,
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
    pub(crate) fn finish(self) -> Result<(ChannelReport, Vec<FeedPart>), Failure> {
        let parts = match self.writer {
            Some(writer) => writer.finish()?,
            None => Vec::new(),
        };
        Ok((self.report, parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A million report rows must not each hold a copy of their file's path.
    #[test]
    fn a_files_report_rows_share_its_path() {
        let mut tally = Tally::for_records(0);
        let file: Arc<str> = Arc::from("content/products/a.toml");
        let by_sku = RecordsBySku::new(&[]);
        tally.product(&"A-1".into(), &file, 1, [100u8].into_iter(), &by_sku);
        tally.product(&"A-2".into(), &file, 9, [90u8].into_iter(), &by_sku);
        assert!(Arc::ptr_eq(&tally.products[0].file, &file));
        assert!(Arc::ptr_eq(&tally.products[1].file, &file));
        assert_eq!(tally.files_with_products, 1);
        assert_eq!(tally.without_erp.len(), 2);
    }

    /// The report's ERP items without content come from what the tally marks: every record
    /// some product has, by its position, and none other.
    #[test]
    fn the_tally_marks_each_record_a_product_has() {
        let price = rust_decimal::Decimal::new(1250, 2);
        let records =
            ["A-1", "B-1", "C-1"].map(|sku| crate::erp::ErpRecord::example(sku, price, 1));
        let by_sku = RecordsBySku::new(&records);
        let mut tally = Tally::for_records(records.len());
        let file: Arc<str> = Arc::from("content/products/a.toml");
        for sku in ["C-1", "X-1", "A-1"] {
            tally.product(&sku.into(), &file, 1, [100u8].into_iter(), &by_sku);
        }
        assert_eq!(tally.records_with_content, [true, false, true]);
        assert_eq!(tally.without_erp.len(), 1);
        assert_eq!(tally.without_erp[0].sku, "X-1");
    }
}
