//! What `serve`'s pages need of a build, small enough for a catalog of a million products:
//! per product its SKU, title, family, file and status in every channel, and where its item
//! sits in each feed (from the build cache). Everything bigger (the product's content, the
//! items themselves) is read from the build's files when a page asks for it.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::cache::{self, Digest32};
use crate::config::{Config, ErpConfig};
use crate::content::Product;
use crate::erp::ErpRecord;
use crate::last_build;
use crate::pimfeed_folder;
use crate::pipeline::{Manifest, Outcome};
use crate::render::ItemSpan;
use crate::report::Report;

/// One build, indexed.
pub struct Index {
    pub report: Report,
    pub manifest: Option<Manifest>,
    pub output_dir: PathBuf,
    /// Per channel (in the report's order), its feed files, catalog output-relative.
    pub feed_files: Vec<Vec<String>>,
    pub products: Vec<ProductRow>,
    by_sku: HashMap<Arc<str>, usize>,
    pub families: Vec<String>,
    erp: HashMap<String, ErpRecord>,
    last_build: PathBuf,
    /// What this build changed against the one before.
    pub changes: Changes,
    /// SKUs the build before had and this one has not, with their file (a file that no longer
    /// parses loses its products until it is fixed).
    pub gone: HashMap<String, Arc<str>>,
}

pub struct ProductRow {
    pub sku: Arc<str>,
    pub title: Box<str>,
    pub family: Box<str>,
    pub file: Arc<str>,
    pub line: u32,
    /// The bytes of its file, to tell what a save changed.
    content: Digest32,
    /// Its file's lines in the build's `products.jsonl`.
    last_build: (u64, u64),
    /// One per channel, in the report's order.
    pub channels: Box<[Status]>,
    /// SKU, title and family in lower case, for search.
    haystack: Box<str>,
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

#[derive(Debug, Clone, Copy)]
pub struct Status {
    pub state: State,
    pub completeness: u8,
    /// Index into the channel's `left_out` or `warnings` in the report.
    pub verdict: Option<u32>,
    /// Where its item sits in the channel's feed, when the build cache recorded it.
    pub item: Option<ItemSpan>,
}

/// What a build changed against the one before it.
#[derive(Debug, Default, serde::Serialize)]
pub struct Changes {
    pub first_build: bool,
    pub files_changed: usize,
    /// At most [`CHANGES_SHOWN`] lines, one per product.
    pub products: Vec<ChangedProduct>,
    pub more: usize,
}

#[derive(Debug, serde::Serialize)]
pub struct ChangedProduct {
    pub sku: String,
    pub what: String,
}

const CHANGES_SHOWN: usize = 50;

/// Per SKU of a file, its title and family.
type TitlesAndFamilies = HashMap<String, (Box<str>, Box<str>)>;

/// A product line of `products.jsonl`, read for what the index keeps.
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
    /// did not change.
    pub fn build(
        root: &Path,
        config: &Config,
        outcome: Outcome,
        previous: Option<&Index>,
    ) -> std::io::Result<Index> {
        let last_build = root
            .join(pimfeed_folder::LAST_BUILD)
            .join(last_build::PRODUCTS);
        let locale = config.catalog.locales.first().cloned().unwrap_or_default();
        let mut reader = LastBuildLines::open(&last_build)?;
        let mut products = Vec::new();
        let entries: Box<dyn Iterator<Item = std::io::Result<cache::FileEntry>>> =
            match cache::entries(root) {
                Ok(entries) => Box::new(entries),
                // A build keeps no cache when it could not keep a whole one: index the
                // products without where their items sit.
                Err(_) => Box::new(entries_from_last_build(&last_build)?.into_iter().map(Ok)),
            };
        for entry in entries {
            let entry = entry?;
            let reused = previous.and_then(|previous| previous.rows_of(&entry));
            let light: TitlesAndFamilies = match reused {
                Some(rows) => rows,
                None => reader
                    .products(entry.last_build)?
                    .into_iter()
                    .map(|p| {
                        let title = title_of(&p, &locale).into();
                        (p.sku, (title, p.family.into()))
                    })
                    .collect(),
            };
            for product in &entry.products {
                let (title, family) = light
                    .get(&product.sku)
                    .cloned()
                    .unwrap_or_else(|| ("".into(), "".into()));
                let channels = product
                    .channels
                    .iter()
                    .map(|verdict| Status {
                        state: State::Live,
                        completeness: verdict.completeness,
                        verdict: None,
                        item: verdict.item,
                    })
                    .collect();
                products.push(ProductRow {
                    haystack: format!("{} {} {}", product.sku, title, family)
                        .to_lowercase()
                        .into(),
                    sku: product.sku.as_str().into(),
                    title,
                    family,
                    file: entry.path.clone(),
                    line: product.line,
                    content: entry.content,
                    last_build: entry.last_build,
                    channels,
                });
            }
        }
        let mut index = Index {
            feed_files: feed_files(&outcome),
            by_sku: HashMap::new(),
            families: Vec::new(),
            erp: erp_records(root, config),
            last_build,
            changes: Changes::default(),
            gone: HashMap::new(),
            products,
            report: outcome.report,
            manifest: outcome.manifest,
            output_dir: outcome.output_dir,
        };
        index.apply_report();
        index.changes = index.changes_since(previous);
        index.gone = index.gone_since(previous);
        Ok(index)
    }

    /// The titles and families of `entry`'s products as the last index read them, when the
    /// file's bytes did not change.
    fn rows_of(&self, entry: &cache::FileEntry) -> Option<TitlesAndFamilies> {
        if entry.content == cache::UNKNOWN_CONTENT {
            return None;
        }
        entry
            .products
            .iter()
            .map(|product| {
                let row = &self.products[*self.by_sku.get(product.sku.as_str())?];
                (row.content == entry.content && *row.file == *entry.path)
                    .then(|| (product.sku.clone(), (row.title.clone(), row.family.clone())))
            })
            .collect()
    }

    /// Fills in every product's state per channel from the report, which also covers the
    /// files the cache keeps no verdicts for (those with errors or cross-file warnings).
    fn apply_report(&mut self) {
        let channels = self.report.channels.len();
        for (position, row) in self.products.iter_mut().enumerate() {
            self.by_sku.entry(row.sku.clone()).or_insert(position);
            if row.channels.len() != channels {
                let blank = Status {
                    state: State::Live,
                    completeness: 100,
                    verdict: None,
                    item: None,
                };
                row.channels = vec![blank; channels].into();
            }
        }
        for product in &self.report.products {
            if let Some(&position) = self.by_sku.get(product.sku.as_str()) {
                let row = &mut self.products[position];
                for (status, completeness) in row.channels.iter_mut().zip(&product.completeness) {
                    status.completeness = *completeness;
                }
            }
        }
        for (channel, report) in self.report.channels.iter().enumerate() {
            for (verdicts, left_out) in [(&report.warnings, false), (&report.left_out, true)] {
                for (at, verdict) in verdicts.iter().enumerate() {
                    let Some(&position) = self.by_sku.get(verdict.sku.as_str()) else {
                        continue;
                    };
                    let by_choice = verdict
                        .reasons
                        .iter()
                        .all(|r| matches!(r.code, "filter" | "disabled"));
                    let status = &mut self.products[position].channels[channel];
                    status.verdict = Some(at as u32);
                    status.state = match (left_out, by_choice) {
                        (false, _) => State::Warned,
                        (true, true) => State::Skipped,
                        (true, false) => State::LeftOut,
                    };
                    if left_out {
                        status.item = None;
                    }
                }
            }
        }
        let families: HashSet<&str> = self.products.iter().map(|p| &*p.family).collect();
        let mut families: Vec<String> = families.into_iter().map(String::from).collect();
        families.sort();
        self.families = families;
    }

    fn changes_since(&self, previous: Option<&Index>) -> Changes {
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
        for row in &self.products {
            let Some(old) = previous.product(&row.sku) else {
                files.insert(row.file.clone());
                note(&row.sku, format!("new, in {}", row.file));
                continue;
            };
            if old.content != row.content {
                files.insert(row.file.clone());
            }
            let mut moves = Vec::new();
            for (channel, (now, then)) in row.channels.iter().zip(old.channels.iter()).enumerate() {
                let name = &self.report.channels[channel].name;
                match (then.state.is_live(), now.state.is_live()) {
                    (false, true) => moves.push(format!("now live in {name}")),
                    (true, false) => moves.push(format!("dropped out of {name}")),
                    _ => {}
                }
            }
            if !moves.is_empty() {
                note(&row.sku, moves.join(", "));
            } else if old.content != row.content {
                note(&row.sku, "content changed".to_string());
            }
        }
        for old in &previous.products {
            if !self.by_sku.contains_key(&old.sku) {
                files.insert(old.file.clone());
                note(&old.sku, format!("gone from the catalog ({})", old.file));
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
                gone.insert(old.sku.to_string(), old.file.clone());
            }
        }
        gone
    }

    pub fn product(&self, sku: &str) -> Option<&ProductRow> {
        self.by_sku
            .get(sku)
            .map(|&position| &self.products[position])
    }

    pub fn erp(&self, sku: &str) -> Option<&ErpRecord> {
        self.erp.get(sku)
    }

    /// The products matching `query`, in catalog order: a page of them, and how many match.
    pub fn search(&self, query: &Query, offset: usize, limit: usize) -> (Vec<&ProductRow>, usize) {
        let words: Vec<String> = query
            .text
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let channel = query
            .channel
            .as_deref()
            .and_then(|name| self.report.channels.iter().position(|c| c.name == name));
        let mut total = 0;
        let mut page = Vec::new();
        for row in &self.products {
            let matches = words
                .iter()
                .all(|word| row.haystack.contains(word.as_str()))
                && query.family.as_deref().is_none_or(|f| &*row.family == f)
                && query.status.is_none_or(|wanted| {
                    let states: Vec<State> = match channel {
                        Some(channel) => vec![row.channels[channel].state],
                        None => row.channels.iter().map(|s| s.state).collect(),
                    };
                    match wanted {
                        Wanted::Live => states.iter().any(|s| s.is_live()),
                        Wanted::LeftOut => states.iter().any(|s| !s.is_live()),
                        Wanted::Warned => states.contains(&State::Warned),
                    }
                });
            if matches {
                if total >= offset && page.len() < limit {
                    page.push(row);
                }
                total += 1;
            }
        }
        (page, total)
    }

    /// The item of `row` in `channel`'s feed, as the feed has it.
    pub fn item(&self, row: &ProductRow, channel: usize) -> std::io::Result<Option<String>> {
        let Some(span) = row.channels[channel].item else {
            return Ok(None);
        };
        let Some(file) = self.feed_files[channel].get(span.part as usize) else {
            return Ok(None);
        };
        let mut bytes = vec![0; span.len as usize];
        File::open(self.output_dir.join(file))?.read_exact_at(&mut bytes, span.offset)?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// The product's content as the build read it.
    pub fn content(&self, row: &ProductRow) -> std::io::Result<Option<Product>> {
        let mut reader = LastBuildLines::open(&self.last_build)?;
        let lines = reader.read(row.last_build)?;
        for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let product: Product = serde_json::from_slice(line).map_err(std::io::Error::other)?;
            if *product.sku == *row.sku {
                return Ok(Some(product));
            }
        }
        Ok(None)
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
fn feed_files(outcome: &Outcome) -> Vec<Vec<String>> {
    let Some(manifest) = &outcome.manifest else {
        return vec![Vec::new(); outcome.report.channels.len()];
    };
    outcome
        .report
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

/// The ERP numbers the build used: the export again (cheap) or the kept last pull of an HTTP
/// source (never a new pull).
fn erp_records(root: &Path, config: &Config) -> HashMap<String, ErpRecord> {
    let records = match &config.erp {
        ErpConfig::File(file) => crate::erp::file::load(file, root).unwrap_or_default(),
        ErpConfig::Http(_) => crate::erp::last_pull::load(root)
            .map(|pull| pull.records)
            .unwrap_or_default(),
    };
    records.into_iter().map(|r| (r.sku.clone(), r)).collect()
}

/// One entry per product of `products.jsonl`, for a build that kept no cache.
fn entries_from_last_build(path: &Path) -> std::io::Result<Vec<cache::FileEntry>> {
    #[derive(Deserialize)]
    struct Placed {
        sku: String,
        file: Arc<str>,
        line: u32,
    }
    let bytes = std::fs::read(path)?;
    let mut entries = Vec::new();
    let mut start = 0u64;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        let placed: Placed = serde_json::from_slice(line).map_err(std::io::Error::other)?;
        entries.push(cache::FileEntry {
            path: placed.file,
            stamp: cache::Stamp::UNKNOWN,
            content: cache::UNKNOWN_CONTENT,
            erp: cache::UNKNOWN_CONTENT,
            last_build: (start, line.len() as u64),
            reusable: false,
            kept_since: None,
            diagnostics: Vec::new(),
            products: vec![cache::CachedProduct {
                sku: placed.sku,
                line: placed.line,
                titles: Vec::new(),
                channels: Vec::new(),
            }],
        });
        start += line.len() as u64;
    }
    Ok(entries)
}

/// Lines of `products.jsonl` by byte range.
struct LastBuildLines {
    file: File,
}

impl LastBuildLines {
    fn open(path: &Path) -> std::io::Result<LastBuildLines> {
        let file = File::open(path)
            .map_err(|err| std::io::Error::new(err.kind(), format!("{}: {err}", path.display())))?;
        Ok(LastBuildLines { file })
    }

    fn read(&mut self, (start, len): (u64, u64)) -> std::io::Result<Vec<u8>> {
        let mut bytes = vec![0; len as usize];
        self.file.read_exact_at(&mut bytes, start)?;
        Ok(bytes)
    }

    fn products(&mut self, range: (u64, u64)) -> std::io::Result<Vec<LightProduct>> {
        let bytes = self.read(range)?;
        bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).map_err(std::io::Error::other))
            .collect()
    }
}
