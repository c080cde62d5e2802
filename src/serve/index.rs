//! What `serve`'s pages need of a build, small enough for a catalog of a million products:
//! per product its SKU, title, family, file and line, and per channel its status and
//! completeness. Everything bigger is read from the build's files when a page asks for it:
//! the product's content from the last build's product lines, where its items sit from its
//! file's entry in the build cache, the items themselves from the feeds. The reasons a
//! channel gives and the ERP numbers are kept packed ([`Verdicts`], [`ErpNumbers`]).
//!
//! Indexing is incremental: a file whose bytes did not change since the last build keeps the
//! rows the last index read of it; only changed files are read again.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::erp_numbers::ErpNumbers;
use super::report_view::ReportView;
use super::verdicts::{self, ShownReason, Verdicts, VerdictsBuilder};
use crate::cache::{self, Digest32, EntriesFile, EntryAt};
use crate::config::Config;
use crate::content::Product;
use crate::last_build::ProductLines;
use crate::pimfeed_folder;
use crate::pipeline::{Manifest, Outcome};
use crate::report::Report;
use crate::report::html::Links;

/// One build, indexed.
pub struct Index {
    pub report: ReportView,
    pub manifest: Option<Manifest>,
    pub output_dir: PathBuf,
    /// Per channel (in the report's order), its feed files, catalog output-relative.
    pub feed_files: Vec<Vec<String>>,
    files: Vec<FileRow>,
    products: Vec<ProductRow>,
    /// Per product, one per channel (in the report's order).
    statuses: Vec<Status>,
    channels: usize,
    /// Shared with the index before when no product came, went or moved.
    by_sku: Arc<HashMap<Arc<str>, u32>>,
    /// Every family name seen by this index or the ones it was made from, by id.
    family_names: Vec<Arc<str>>,
    /// The families of this build's products, sorted.
    pub families: Vec<String>,
    verdicts: Verdicts,
    erp: Arc<ErpNumbers>,
    /// The build cache's entries, open (a newer build replaces the file, never changes it).
    entries: Option<EntriesFile>,
    /// The build's product lines, every file open for the same reason.
    last_build: ProductLines,
    /// What this build changed against the one before.
    pub changes: Changes,
    /// SKUs the build before had and this one has not, with their file (a file that no longer
    /// parses loses its products until it is fixed).
    pub gone: HashMap<String, Arc<str>>,
}

/// A content file as the build left it.
struct FileRow {
    path: Arc<str>,
    /// Its bytes' digest, to tell what a save changed.
    content: Digest32,
    /// Where its products' lines are in the last build: start and length in bytes.
    last_build: (u64, u64),
    /// Its entry in the build cache, when the build kept one.
    entry: Option<EntryAt>,
    products: Range<u32>,
}

#[derive(Clone)]
struct ProductRow {
    sku: Arc<str>,
    title: Arc<str>,
    family: u32,
    file: u32,
    line: u32,
}

/// A product of the index, as the pages read it.
pub struct ProductView<'a> {
    position: usize,
    pub sku: &'a str,
    pub title: &'a str,
    pub family: &'a str,
    pub file: &'a str,
    pub line: u32,
    /// One per channel, in the report's order.
    pub channels: &'a [Status],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Live,
    /// Live, with warnings.
    Warned,
    /// Left out for something to fix.
    LeftOut,
    /// Left out by the channel's filter or `enabled = false`.
    Skipped,
}

impl State {
    pub fn word(self) -> &'static str {
        match self {
            State::Live => "live",
            State::Warned => "live, with warnings",
            State::LeftOut => "left out",
            State::Skipped => "left out by choice",
        }
    }

    pub fn is_live(self) -> bool {
        matches!(self, State::Live | State::Warned)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    pub completeness: u8,
}

const BLANK: Status = Status {
    state: State::Live,
    completeness: 100,
};

/// How long each stage of a build's indexing took, for `--timings`.
pub struct Laps {
    started: std::time::Instant,
    last: std::time::Instant,
    pub laps: Vec<(&'static str, std::time::Duration)>,
}

impl Laps {
    pub fn start() -> Laps {
        let now = std::time::Instant::now();
        Laps {
            started: now,
            last: now,
            laps: Vec::new(),
        }
    }

    pub fn lap(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        self.laps.push((stage, now - self.last));
        self.last = now;
    }

    pub fn total(&self) -> std::time::Duration {
        self.last - self.started
    }
}

/// A product's item in one channel's feed.
pub struct Item {
    /// The feed file it is in, output-relative.
    pub file: String,
    pub text: String,
}

/// What a build changed against the one before it.
#[derive(Debug, Default, PartialEq, serde::Serialize)]
pub struct Changes {
    pub first_build: bool,
    pub files_changed: usize,
    /// At most [`CHANGES_SHOWN`] lines, one per product.
    pub products: Vec<ChangedProduct>,
    pub more: usize,
}

#[derive(Debug, PartialEq, serde::Serialize)]
pub struct ChangedProduct {
    pub sku: String,
    pub what: String,
}

const CHANGES_SHOWN: usize = 50;

/// A product line of the last build, read for what the index keeps.
#[derive(Deserialize)]
struct LightProduct {
    sku: String,
    family: String,
    #[serde(default)]
    values: LightValues,
}

#[derive(Deserialize, Default)]
struct LightValues {
    title: Option<LightValue>,
}

#[derive(Deserialize)]
struct LightValue {
    value: serde_json::Value,
}

impl Index {
    /// Indexes the build that produced `outcome`, reusing what `previous` read of files that
    /// did not change. `links` are the report page's. Gives back the build's report, for the
    /// caller to let go of once the pages show the index (freeing it takes a while).
    pub fn build(
        root: &Path,
        config: &Config,
        outcome: Outcome,
        previous: Option<&Index>,
        links: &Links,
        laps: &mut Laps,
    ) -> std::io::Result<(Index, Report)> {
        // Every line file opened now: the index reads products from this build's files
        // while later builds swap theirs in.
        let last_build = ProductLines::open(&root.join(pimfeed_folder::LAST_BUILD))?.opened()?;
        let entries = EntriesFile::open(root).ok();
        let locale = config.catalog.locales.first().cloned().unwrap_or_default();
        let mut rows = RowsBuilder::new(previous, locale, &last_build);
        match &entries {
            Some(entries) => entries.for_each(|at, bytes| rows.add_entry(at, bytes))?,
            // A build keeps no cache when it could not keep a whole one: index the products
            // without where their items sit.
            None => rows.add_last_build()?,
        }
        let RowsBuilder {
            files,
            products,
            families,
            ..
        } = rows;
        laps.lap("rows");
        // A save that adds, removes or renames no product keeps every product where it was.
        let same_products = previous.is_some_and(|previous| {
            previous.products.len() == products.len()
                && previous
                    .products
                    .iter()
                    .zip(&products)
                    .all(|(old, new)| Arc::ptr_eq(&old.sku, &new.sku) || old.sku == new.sku)
        });
        let by_sku = match previous {
            Some(previous) if same_products => previous.by_sku.clone(),
            _ => Arc::new(positions(&products)),
        };
        laps.lap("SKUs");
        let report = outcome.report;
        let channels = report.channels.len();
        let (statuses, verdicts) = statuses(&report, &products, &by_sku);
        laps.lap("statuses");
        let erp = ErpNumbers::load(root, config, previous.map(|p| &p.erp));
        laps.lap("ERP numbers");
        let report_view = ReportView::new(&report, links);
        laps.lap("report page");
        let mut index = Index {
            feed_files: feed_files(outcome.manifest.as_ref(), &report),
            families: families.present(&products),
            family_names: families.names,
            files,
            products,
            statuses,
            channels,
            by_sku,
            verdicts,
            erp,
            entries,
            last_build,
            changes: Changes::default(),
            gone: HashMap::new(),
            report: report_view,
            manifest: outcome.manifest,
            output_dir: outcome.output_dir,
        };
        index.changes = index.changes_since(previous, same_products);
        index.gone = match previous {
            Some(previous) if same_products => previous.gone.clone(),
            _ => index.gone_since(previous),
        };
        laps.lap("changes");
        Ok((index, report))
    }

    fn view(&self, position: usize) -> ProductView<'_> {
        let row = &self.products[position];
        let start = position * self.channels;
        ProductView {
            position,
            sku: &row.sku,
            title: &row.title,
            family: &self.family_names[row.family as usize],
            file: &self.files[row.file as usize].path,
            line: row.line,
            channels: &self.statuses[start..start + self.channels],
        }
    }

    pub fn product(&self, sku: &str) -> Option<ProductView<'_>> {
        self.by_sku
            .get(sku)
            .map(|&position| self.view(position as usize))
    }

    /// The ERP record of `sku` as label and value pairs, if the ERP has one.
    pub fn erp(&self, sku: &str) -> Option<Vec<(String, String)>> {
        self.erp.facts(sku)
    }

    /// Why `product` is left out of, or warned about in, `channel`.
    pub fn reasons(&self, product: &ProductView, channel: usize) -> Vec<ShownReason<'_>> {
        self.verdicts.of(product.position, channel)
    }

    /// What changed since `previous`; `same_products` when every product is where it was.
    fn changes_since(&self, previous: Option<&Index>, same_products: bool) -> Changes {
        let Some(previous) = previous else {
            return Changes {
                first_build: true,
                ..Changes::default()
            };
        };
        let mut changes = Changes::default();
        let mut files = HashSet::new();
        let mut note = |sku: &str, what: String| {
            if changes.products.len() < CHANGES_SHOWN {
                changes.products.push(ChangedProduct {
                    sku: sku.to_string(),
                    what,
                });
            } else {
                changes.more += 1;
            }
        };
        for position in 0..self.products.len() {
            let row = self.view(position);
            let old = match same_products {
                true => Some(previous.view(position)),
                false => previous.product(row.sku),
            };
            let Some(old) = old else {
                files.insert(row.file);
                note(row.sku, format!("new, in {}", row.file));
                continue;
            };
            let content_changed = self.files[self.products[position].file as usize].content
                != previous.files[previous.products[old.position].file as usize].content;
            if content_changed {
                files.insert(row.file);
            }
            let mut moves = Vec::new();
            for (channel, (now, then)) in row.channels.iter().zip(old.channels).enumerate() {
                let name = &self.report.channels[channel].name;
                match (then.state.is_live(), now.state.is_live()) {
                    (false, true) => moves.push(format!("now live in {name}")),
                    (true, false) => moves.push(format!("dropped out of {name}")),
                    _ => {}
                }
            }
            if !moves.is_empty() {
                note(row.sku, moves.join(", "));
            } else if content_changed {
                note(row.sku, "content changed".to_string());
            }
        }
        for old in previous.products.iter().filter(|_| !same_products) {
            if !self.by_sku.contains_key(&old.sku) {
                let file = &previous.files[old.file as usize].path;
                files.insert(file);
                note(&old.sku, format!("gone from the catalog ({file})"));
            }
        }
        changes.files_changed = files.len();
        changes
    }

    fn gone_since(&self, previous: Option<&Index>) -> HashMap<String, Arc<str>> {
        let Some(previous) = previous else {
            return HashMap::new();
        };
        let mut gone: HashMap<String, Arc<str>> = previous
            .gone
            .iter()
            .filter(|(sku, _)| !self.by_sku.contains_key(sku.as_str()))
            .map(|(sku, file)| (sku.clone(), file.clone()))
            .collect();
        for old in &previous.products {
            if !self.by_sku.contains_key(&old.sku) {
                let file = previous.files[old.file as usize].path.clone();
                gone.insert(old.sku.to_string(), file);
            }
        }
        gone
    }

    /// The products matching `query`, in catalog order: a page of them, and how many match.
    pub fn search(
        &self,
        query: &Query,
        offset: usize,
        limit: usize,
    ) -> (Vec<ProductView<'_>>, usize) {
        let words: Vec<String> = query
            .text
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let channel = query
            .channel
            .as_deref()
            .and_then(|name| self.report.channels.iter().position(|c| c.name == name));
        let family = query
            .family
            .as_deref()
            .map(|wanted| self.family_names.iter().position(|f| **f == *wanted));
        let mut total = 0;
        let mut page = Vec::new();
        for (position, row) in self.products.iter().enumerate() {
            let family_matches = match family {
                None => true,
                Some(wanted) => wanted == Some(row.family as usize),
            };
            let statuses = &self.statuses[position * self.channels..][..self.channels];
            let matches = family_matches
                && words.iter().all(|word| {
                    contains_folded(&row.sku, word)
                        || contains_folded(&row.title, word)
                        || contains_folded(&self.family_names[row.family as usize], word)
                })
                && query.status.is_none_or(|wanted| {
                    let states: &[Status] = match channel {
                        Some(channel) => &statuses[channel..=channel],
                        None => statuses,
                    };
                    match wanted {
                        Wanted::Live => states.iter().any(|s| s.state.is_live()),
                        Wanted::LeftOut => states.iter().any(|s| !s.state.is_live()),
                        Wanted::Warned => states.iter().any(|s| s.state == State::Warned),
                    }
                });
            if matches {
                if total >= offset && page.len() < limit {
                    page.push(self.view(position));
                }
                total += 1;
            }
        }
        (page, total)
    }

    /// The product's item in every channel it is live in, as the feed has it (from where the
    /// build cache says it sits).
    pub fn items(&self, product: &ProductView) -> std::io::Result<Vec<Option<Item>>> {
        let mut items: Vec<Option<Item>> = (0..self.channels).map(|_| None).collect();
        let file = &self.files[self.products[product.position].file as usize];
        let (Some(entries), Some(at)) = (&self.entries, file.entry) else {
            return Ok(items);
        };
        let entry = entries.read(at)?;
        let Some(cached) = entry.products.iter().find(|p| *p.sku == *product.sku) else {
            return Ok(items);
        };
        for (channel, verdict) in cached.channels.iter().enumerate().take(self.channels) {
            // The report has the last word: the cache keeps no verdict for files with
            // cross-file warnings.
            if !product.channels[channel].state.is_live() {
                continue;
            }
            let Some(span) = verdict.item else {
                continue;
            };
            let Some(feed) = self.feed_files[channel].get(span.part as usize) else {
                continue;
            };
            let text = read_at(&self.output_dir.join(feed), span.offset, span.len as u64)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_else(|err| format!("(cannot read the item: {err})"));
            items[channel] = Some(Item {
                file: feed.clone(),
                text,
            });
        }
        Ok(items)
    }

    /// The product's content as the build read it.
    pub fn content(&self, product: &ProductView) -> std::io::Result<Option<Product>> {
        let file = &self.files[self.products[product.position].file as usize];
        let (start, len) = file.last_build;
        let lines = self.last_build.read(start, len)?;
        for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let content: Product = serde_json::from_slice(line).map_err(std::io::Error::other)?;
            if *content.sku == *product.sku {
                return Ok(Some(content));
            }
        }
        Ok(None)
    }
}

/// Every product's status per channel (in the report's order) and the reasons behind it, from
/// the report (which also covers files the cache keeps no verdicts for: those with errors or
/// cross-file warnings).
fn statuses(
    report: &Report,
    products: &[ProductRow],
    by_sku: &HashMap<Arc<str>, u32>,
) -> (Vec<Status>, Verdicts) {
    let channels = report.channels.len();
    let mut statuses = vec![BLANK; products.len() * channels];
    for (at, product) in report.products.iter().enumerate() {
        // The report lists products in catalog order, as the index does.
        let at = match products.get(at) {
            Some(row) if *row.sku == *product.sku => Some(at as u32),
            _ => by_sku.get(&*product.sku).copied(),
        };
        if let Some(at) = at {
            let row = &mut statuses[at as usize * channels..][..channels];
            for (status, completeness) in row.iter_mut().zip(&product.completeness) {
                status.completeness = *completeness;
            }
        }
    }
    let mut reasons = VerdictsBuilder::default();
    for (channel, left_out, verdict) in verdicts::all(report) {
        let Some(&at) = by_sku.get(&*verdict.sku) else {
            continue;
        };
        statuses[at as usize * channels + channel].state =
            match (left_out, verdicts::by_choice(verdict)) {
                (false, _) => State::Warned,
                (true, true) => State::Skipped,
                (true, false) => State::LeftOut,
            };
        reasons.add(at, channel, verdict);
    }
    (statuses, reasons.finish())
}

/// Each SKU's position (its first, should a build ever have one twice).
fn positions(products: &[ProductRow]) -> HashMap<Arc<str>, u32> {
    let mut by_sku = HashMap::with_capacity(products.len());
    for (position, row) in products.iter().enumerate() {
        by_sku.entry(row.sku.clone()).or_insert(position as u32);
    }
    by_sku
}

/// Whether `text` contains `word` (in lower case), ignoring case.
fn contains_folded(text: &str, word: &str) -> bool {
    if !text.is_ascii() {
        return text.to_lowercase().contains(word);
    }
    if !word.is_ascii() {
        return false;
    }
    let (text, word) = (text.as_bytes(), word.as_bytes());
    word.is_empty()
        || text
            .windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word))
}

fn read_at(path: &Path, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; len as usize];
    crate::positioned::read_exact_at(&File::open(path)?, &mut bytes, offset)?;
    Ok(bytes)
}

/// The rows of a new index, reusing those of the last one for files whose bytes did not
/// change.
struct RowsBuilder<'p> {
    previous: Option<PreviousFiles<'p>>,
    locale: String,
    last_build: &'p ProductLines,
    files: Vec<FileRow>,
    products: Vec<ProductRow>,
    families: Families,
}

impl<'p> RowsBuilder<'p> {
    fn new(previous: Option<&'p Index>, locale: String, last_build: &'p ProductLines) -> Self {
        RowsBuilder {
            families: Families::new(previous.map_or(&[][..], |p| &p.family_names)),
            previous: previous.map(|index| PreviousFiles { index, next: 0 }),
            locale,
            last_build,
            files: Vec::new(),
            products: Vec::new(),
        }
    }

    /// One content file's entry in the build cache.
    fn add_entry(&mut self, at: EntryAt, bytes: &[u8]) -> std::io::Result<()> {
        let head = cache::decode_head(bytes)?;
        let file = self.files.len() as u32;
        let first = self.products.len() as u32;
        let unchanged = match &mut self.previous {
            Some(previous) if head.content != cache::UNKNOWN_CONTENT => {
                previous.unchanged(&head.path, &head.content)
            }
            _ => None,
        };
        match unchanged {
            Some(rows) => self.products.extend(rows.iter().map(|row| ProductRow {
                file,
                ..row.clone()
            })),
            None => {
                let entry = cache::decode_entry(bytes)?;
                let mut read: HashMap<String, LightProduct> = self
                    .light_products(head.last_build)?
                    .into_iter()
                    .map(|product| (product.sku.clone(), product))
                    .collect();
                for product in &entry.products {
                    let (title, family) = match read.remove(&*product.sku) {
                        Some(light) => (title_of(&light, &self.locale), light.family),
                        None => (String::new(), String::new()),
                    };
                    self.products.push(ProductRow {
                        sku: (*product.sku).into(),
                        title: title.into(),
                        family: self.families.id(&family),
                        file,
                        line: product.line,
                    });
                }
            }
        }
        self.files.push(FileRow {
            path: head.path,
            content: head.content,
            last_build: head.last_build,
            entry: Some(at),
            products: first..self.products.len() as u32,
        });
        Ok(())
    }

    /// Every product of the last build, for a build that kept no cache.
    fn add_last_build(&mut self) -> std::io::Result<()> {
        #[derive(Deserialize)]
        struct Placed {
            file: Arc<str>,
            line: u32,
            #[serde(flatten)]
            light: LightProduct,
        }
        let bytes = self.last_build.read(0, self.last_build.len())?;
        let mut start = 0u64;
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            let placed: Placed = serde_json::from_slice(line).map_err(std::io::Error::other)?;
            let range = (start, line.len() as u64);
            start += line.len() as u64;
            let title = title_of(&placed.light, &self.locale);
            let family = self.families.id(&placed.light.family);
            let file = match self.files.last_mut() {
                Some(last) if last.path == placed.file => {
                    last.last_build.1 = range.0 + range.1 - last.last_build.0;
                    last.products.end += 1;
                    self.files.len() as u32 - 1
                }
                _ => {
                    let at = self.products.len() as u32;
                    self.files.push(FileRow {
                        path: placed.file,
                        content: cache::UNKNOWN_CONTENT,
                        last_build: range,
                        entry: None,
                        products: at..at + 1,
                    });
                    self.files.len() as u32 - 1
                }
            };
            self.products.push(ProductRow {
                sku: placed.light.sku.as_str().into(),
                title: title.into(),
                family,
                file,
                line: placed.line,
            });
        }
        Ok(())
    }

    fn light_products(&self, range: (u64, u64)) -> std::io::Result<Vec<LightProduct>> {
        self.last_build
            .read(range.0, range.1)?
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).map_err(std::io::Error::other))
            .collect()
    }
}

/// The last index's files, walked in catalog order alongside the new build's.
struct PreviousFiles<'p> {
    index: &'p Index,
    next: usize,
}

impl<'p> PreviousFiles<'p> {
    /// The rows the last index has of the file at `path`, if its bytes were `content` then.
    fn unchanged(&mut self, path: &str, content: &Digest32) -> Option<&'p [ProductRow]> {
        let files = &self.index.files;
        // Mostly the next one; else skip the files that are gone.
        while files
            .get(self.next)
            .is_some_and(|file| *file.path != *path && Path::new(&*file.path) < Path::new(path))
        {
            self.next += 1;
        }
        let file = files.get(self.next)?;
        if *file.path != *path || file.content != *content {
            return None;
        }
        let rows = &self.index.products[file.products.start as usize..file.products.end as usize];
        Some(rows)
    }
}

/// Family names by id; ids stay the same from one index to the next.
struct Families {
    names: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
}

impl Families {
    fn new(known: &[Arc<str>]) -> Self {
        Families {
            names: known.to_vec(),
            ids: known
                .iter()
                .enumerate()
                .map(|(id, name)| (name.clone(), id as u32))
                .collect(),
        }
    }

    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        let name: Arc<str> = name.into();
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    /// The names of the families `products` have, sorted.
    fn present(&self, products: &[ProductRow]) -> Vec<String> {
        let mut used = vec![false; self.names.len()];
        for product in products {
            used[product.family as usize] = true;
        }
        let mut names: Vec<String> = self
            .names
            .iter()
            .zip(used)
            .filter(|(_, used)| *used)
            .map(|(name, _)| name.to_string())
            .collect();
        names.sort();
        names
    }
}

/// What `/products` asks for.
#[derive(Debug, Default)]
pub struct Query {
    pub text: String,
    pub channel: Option<String>,
    pub family: Option<String>,
    pub status: Option<Wanted>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Live,
    LeftOut,
    Warned,
}

/// The title in the catalog's first locale (or any, or the only one).
fn title_of(product: &LightProduct, locale: &str) -> String {
    match product.values.title.as_ref().map(|t| &t.value) {
        Some(serde_json::Value::String(title)) => title.clone(),
        Some(serde_json::Value::Object(titles)) => titles
            .get(locale)
            .or_else(|| titles.values().next())
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

/// Each channel's feed files, in the report's channel order.
fn feed_files(manifest: Option<&Manifest>, report: &Report) -> Vec<Vec<String>> {
    let Some(manifest) = manifest else {
        return vec![Vec::new(); report.channels.len()];
    };
    report
        .channels
        .iter()
        .map(|channel| {
            let Some(entry) = manifest.channels.iter().find(|m| m.name == channel.name) else {
                return Vec::new();
            };
            match entry.parts.is_empty() {
                true => vec![entry.file.clone()],
                false => entry.parts.iter().map(|p| p.file.clone()).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::pipeline::{self, Mode};

    fn copy_example(to: &Path) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(root.join("pim.toml"), to.join("pim.toml")).unwrap();
        for folder in ["content", "templates", "erp"] {
            for entry in walkdir::WalkDir::new(root.join(folder)) {
                let entry = entry.unwrap();
                let target = to.join(entry.path().strip_prefix(root).unwrap());
                if entry.file_type().is_dir() {
                    std::fs::create_dir_all(&target).unwrap();
                } else {
                    std::fs::copy(entry.path(), &target).unwrap();
                }
            }
        }
    }

    fn build(root: &Path, previous: Option<&Index>) -> Index {
        let progress = crate::ui::Progress::new(false);
        let outcome = pipeline::run(root, Mode::Build, true, true, &progress)
            .unwrap_or_else(|failure| panic!("{failure}"));
        let config = pipeline::load_config(root).unwrap_or_else(|failure| panic!("{failure}"));
        let links = Links {
            product: "/products/".to_string(),
            feed: "/feeds/".to_string(),
            source: "vscode://file/{path}:{line}".to_string(),
            root: root.display().to_string(),
        };
        Index::build(root, &config, outcome, previous, &links, &mut Laps::start())
            .unwrap()
            .0
    }

    /// Everything a page can read of the index, one line per fact.
    fn facts(index: &Index) -> Vec<String> {
        let mut facts = vec![format!("families {:?}", index.families)];
        for position in 0..index.products.len() {
            let product = index.view(position);
            facts.push(format!(
                "{} {:?} {} {} {} {:?}",
                product.sku,
                product.title,
                product.family,
                product.file,
                product.line,
                product.channels
            ));
            for channel in 0..index.channels {
                for reason in index.reasons(&product, channel) {
                    facts.push(format!(
                        "  {channel}: {} {:?} {:?}",
                        reason.message, reason.line, reason.blame
                    ));
                }
            }
            for item in index.items(&product).unwrap().into_iter().flatten() {
                facts.push(format!("  {} {}", item.file, item.text));
            }
            let content = index.content(&product).unwrap().unwrap();
            facts.push(format!("  {}", serde_json::to_string(&content).unwrap()));
            facts.push(format!("  {:?}", index.erp(product.sku)));
        }
        facts
    }

    #[test]
    fn an_index_made_from_the_last_one_is_the_index_made_afresh() {
        let catalog = tempfile::tempdir().unwrap();
        let root = catalog.path();
        copy_example(root);
        let first = build(root, None);

        // A save to one file (its title, so its row must be read again), one file moved and
        // one removed.
        let products = root.join("content/products");
        let mut files: Vec<_> = walkdir::WalkDir::new(&products)
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        let edited = &files[0];
        let text = std::fs::read_to_string(edited).unwrap();
        let title = text
            .lines()
            .find(|l| l.trim_start().starts_with("title"))
            .expect("a title line");
        let renamed = title.replacen('"', "\"Renamed ", 1);
        std::fs::write(edited, text.replacen(title, &renamed, 1)).unwrap();
        std::fs::rename(&files[1], files[1].with_file_name("ZZ-moved.toml")).unwrap();
        std::fs::remove_file(&files[2]).unwrap();

        let incremental = build(root, Some(&first));
        let afresh = build(root, None);
        assert!(
            facts(&incremental)
                .iter()
                .any(|fact| fact.contains("Renamed ")),
            "the edit is not in the index"
        );
        let (incremental_facts, afresh_facts) = (facts(&incremental), facts(&afresh));
        let first_difference = incremental_facts
            .iter()
            .zip(&afresh_facts)
            .find(|(a, b)| a != b);
        assert_eq!(first_difference, None, "incremental, then afresh");
        assert_eq!(incremental_facts.len(), afresh_facts.len());
        let changes: Vec<&str> = incremental
            .changes
            .products
            .iter()
            .map(|c| c.what.as_str())
            .collect();
        assert!(changes.contains(&"content changed"), "{changes:?}");
        assert!(
            changes
                .iter()
                .any(|c| c.starts_with("gone from the catalog")),
            "{changes:?}"
        );
    }
}
