//! What a long-running `watch` or `serve` keeps in memory from one rebuild to the next
//! instead of reading it from disk again: the list of product files (57,000 at 100k
//! products, a walk of every folder) and the ERP records of a file export (parsed, or read
//! back from the parsed export a build kept, with its price lists applied).
//!
//! Each is dropped exactly when what it was made from may have changed. The watcher notes
//! every path its events name ([`KeptInputs::note`]); a build takes those notes and
//!
//! - brings the kept listing up to date with each path named under `content/products/`:
//!   stat it, and add or remove it. A folder created, moved or removed there (its files
//!   never each send an event), lost events or a watch that could not be added make the
//!   build walk the folders again, as a build without a watcher does;
//! - uses the kept ERP records only while the `[erp]` and `[price_lists]` settings are the
//!   same, no event named the export or a price list since they were pulled, and those files'
//!   stamps (length, modification time, inode) are the same. An API is pulled again every
//!   build: only the server knows whether its numbers changed.
//!
//! It also keeps the entries of the build cache its last build committed (see
//! [`crate::cache::KeptEntries`]), which the next build takes only while that cache is the
//! one on disk.
//!
//! Nothing is kept from a build that failed, nor from a `--no-cache` build; the records
//! kept are those of a successful pull only, so an export with bad rows is read (and its
//! rows reported at their lines) every time. A `pimfeed build` run by another process between
//! two rebuilds changes neither the content nor the ERP files, so neither kept input goes
//! stale by it (the build cache it leaves is checked by its own stamps, see
//! [`crate::cache`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{ErpPull, Failure, Mode, Prepared};
use crate::cache::Stamp;
use crate::config::{Config, ErpConfig};
use crate::content::PRODUCTS_DIR;
use crate::erp::ErpRecord;

/// The inputs a watcher's builds keep, and the changes seen since the last build took them.
#[derive(Default)]
pub struct KeptInputs {
    /// The catalog folder, as the watcher's events spell it.
    root: PathBuf,
    /// The ERP files the watcher watches: numbers read from others are never kept, as no
    /// event would say they changed.
    watched_erp_files: Vec<PathBuf>,
    pending: Pending,
    /// The product files, catalog-relative, in catalog order (sorted as paths).
    listing: Option<Vec<PathBuf>>,
    erp: Option<KeptErp>,
    /// The entries of the build cache the last build committed.
    cache: Option<crate::cache::KeptEntries>,
    /// Events cannot be trusted any more (a watch could not be added): every build walks.
    untrusted: bool,
    /// The catalog's git repository with its index loaded, checked before each use (see
    /// [`crate::git::Opened::still_holds`]): events say nothing about it.
    git: Option<crate::git::Opened>,
}

/// What events said since the last build took them.
#[derive(Default)]
struct Pending {
    /// Paths events named, as they named them (under the root, or an ERP file elsewhere).
    paths: BTreeSet<PathBuf>,
    /// The listing must be walked again: events were lost, or a folder changed.
    walk: bool,
}

/// The ERP numbers of a file export, as a build pulled them.
struct KeptErp {
    /// The `[erp]` and `[price_lists]` settings they were pulled with.
    settings: String,
    /// The export and price lists with their stamps when pulled.
    files: ErpFiles,
    records: Vec<ErpRecord>,
    pull: ErpPull,
    /// When the cache of the build that used them started (see
    /// [`crate::cache::Previous::started_ns`]): every entry of that cache was checked or
    /// made against exactly these records.
    cache_started: Option<i64>,
}

/// The files of a file export and its price lists (catalog-relative), with their stamps.
pub(crate) type ErpFiles = Vec<(PathBuf, Option<Stamp>)>;

/// How a build used the kept inputs, for `--timings`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeptUse {
    /// The listing was brought up to date from events, not walked.
    pub listing: bool,
    /// The ERP records were the ones kept.
    pub erp: bool,
}

impl KeptInputs {
    /// Kept inputs for the catalog at `root` (as the watcher's events spell it), whose
    /// watcher watches the ERP files `watched_erp_files`.
    pub fn new(root: &Path, watched_erp_files: Vec<PathBuf>) -> Self {
        KeptInputs {
            root: root.to_path_buf(),
            watched_erp_files,
            ..KeptInputs::default()
        }
    }

    /// Notes a `path` an event named; `folder` when a folder was created, moved or removed.
    pub fn note(&mut self, path: &Path, folder: bool) {
        if let Ok(relative) = path.strip_prefix(&self.root)
            && (folder && relative.starts_with(PRODUCTS_DIR)
                || Path::new(PRODUCTS_DIR).starts_with(relative))
        {
            // A folder in the products' folder, or that folder (or one above it) itself:
            // files moved in with a folder send no events of their own.
            self.pending.walk = true;
        }
        self.pending.paths.insert(path.to_path_buf());
    }

    /// Events may have been lost (the kernel's queue overflowed): the next build walks.
    pub fn lost(&mut self) {
        self.pending.walk = true;
        self.erp = None;
    }

    /// A watch could not be added: from now on every build walks and pulls again.
    pub fn lost_for_good(&mut self) {
        self.untrusted = true;
        self.forget();
    }

    /// Drops everything kept (after a build that failed, or when something else could have
    /// changed what was kept).
    pub fn forget(&mut self) {
        self.listing = None;
        self.erp = None;
        self.git = None;
        self.cache = None;
    }

    /// Takes for the build starting now what is kept and the changes noted since the last
    /// build: what a build takes it only gives back when it succeeds (see
    /// [`KeptInputs::keep`]), so a build that fails leaves nothing kept.
    pub(crate) fn take(&mut self) -> Taken {
        Taken {
            root: self.root.clone(),
            changes: std::mem::take(&mut self.pending),
            listing: self.listing.take().filter(|_| !self.untrusted),
            erp: self.erp.take().filter(|_| !self.untrusted),
            cache: self.cache.take(),
            used: KeptUse::default(),
            records_of_cache: None,
            git: self.git.take(),
        }
    }

    /// Keeps the git repository a build that succeeded opened, for the next one.
    pub(crate) fn keep_git(&mut self, opened: Option<crate::git::Opened>) {
        self.git = opened;
    }

    /// Keeps the entries of the build cache a build that succeeded committed.
    pub(crate) fn keep_cache(&mut self, entries: Option<crate::cache::KeptEntries>) {
        self.cache = entries;
    }

    /// Keeps what a build that succeeded used: its listing, and its ERP numbers when they
    /// come from a file export. `stamps_before` are the ERP files' stamps taken before the
    /// pull: a file rewritten while it was read is not kept.
    pub(crate) fn keep(
        &mut self,
        config: &Config,
        listing: Vec<PathBuf>,
        erp: (Vec<ErpRecord>, ErpPull),
        stamps_before: Option<ErpFiles>,
        root: &Path,
        cache_started: Option<i64>,
    ) {
        if self.untrusted {
            return;
        }
        self.listing = Some(listing);
        let watched = |file: &Path| self.watched_erp_files.iter().any(|w| *w == root.join(file));
        self.erp = stamps_before
            .filter(|files| {
                files.iter().all(|(file, stamp)| {
                    watched(file) && stamp.is_some() && Stamp::of(&root.join(file)).ok() == *stamp
                })
            })
            .map(|files| {
                let (records, pull) = erp;
                KeptErp {
                    settings: erp_settings(config),
                    files,
                    records,
                    pull,
                    cache_started,
                }
            });
    }
}

/// What one build took of the kept inputs (see [`KeptInputs::take`]).
pub(crate) struct Taken {
    /// The catalog folder as the events spell it.
    root: PathBuf,
    changes: Pending,
    listing: Option<Vec<PathBuf>>,
    erp: Option<KeptErp>,
    /// The entries of the cache the last build committed, for the start-up to take.
    pub(crate) cache: Option<crate::cache::KeptEntries>,
    pub(crate) used: KeptUse,
    /// With the kept records, the cache made with the same records (see [`KeptErp`]).
    pub(crate) records_of_cache: Option<i64>,
    git: Option<crate::git::Opened>,
}

impl Taken {
    /// The git repository the last build opened, to be used again if it still holds.
    pub(crate) fn take_git(&mut self) -> Option<crate::git::Opened> {
        self.git.take()
    }

    /// How the product files were listed, for `--timings`.
    pub(crate) fn listing_said(&self) -> &'static str {
        if self.used.listing {
            "of which listing the product files (kept, brought up to date from the watcher's events)"
        } else {
            "of which listing the product files (a walk of content/products)"
        }
    }

    /// For `--timings`, when the ERP numbers were not pulled again.
    pub(crate) fn erp_said(&self) -> &'static str {
        "of which the numbers kept from the last build (the export and price lists unchanged)"
    }

    /// The product files of a build: the kept listing brought up to date with the paths
    /// events named, or a walk when it cannot be.
    pub(crate) fn product_files(&mut self, prepared: &Prepared) -> Result<Vec<PathBuf>, Failure> {
        if let Some(mut listing) = self.listing.take()
            && prepared.mode == Mode::Build
            // Events name paths under the root as the watcher spells it.
            && prepared.root == self.root
            && !self.changes.walk
            && !update_listing(&mut listing, &prepared.root, &self.changes.paths)
        {
            self.used.listing = true;
            return Ok(listing);
        }
        prepared.product_files(true).map(|(files, _)| files)
    }

    /// The ERP numbers of a build: the kept ones when they still hold, or a pull.
    pub(crate) fn pull_erp(
        &mut self,
        prepared: &Prepared,
        progress: &crate::ui::Progress,
    ) -> Result<(Vec<ErpRecord>, ErpPull), Failure> {
        let config = &prepared.config;
        let changed = &self.changes.paths;
        let kept = self.erp.take().filter(|kept| {
            kept.settings == erp_settings(config)
                && kept.files.iter().all(|(file, stamp)| {
                    let path = prepared.root.join(file);
                    !changed.contains(&path) && Stamp::of(&path).ok() == *stamp
                })
        });
        if let Some(KeptErp {
            records,
            mut pull,
            cache_started,
            ..
        }) = kept
        {
            self.used.erp = true;
            self.records_of_cache = cache_started;
            // As a pull of the same export now would say.
            pull.pulled_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            return Ok((records, pull));
        }
        super::erp_pull::pull_erp_with(config, &prepared.root, progress, true)
    }
}

/// The ERP files a build reads with their stamps now, when its ERP is a file export (an
/// API is never kept).
pub(crate) fn erp_file_stamps(config: &Config, root: &Path) -> Option<ErpFiles> {
    let ErpConfig::File(export) = &config.erp else {
        return None;
    };
    let files = std::iter::once(export.path.clone())
        .chain(config.price_lists.values().map(|list| list.path.clone()));
    Some(
        files
            .map(|file| {
                let stamp = Stamp::of(&root.join(&file)).ok();
                (file, stamp)
            })
            .collect(),
    )
}

/// What the ERP numbers depend on in `pim.toml`.
fn erp_settings(config: &Config) -> String {
    format!("{:?} {:?}", config.erp, config.price_lists)
}

/// Brings `listing` (catalog-relative) up to date with the `paths` events named under
/// `root`; true when it cannot be (a folder appeared), and the folders must be walked.
fn update_listing(listing: &mut Vec<PathBuf>, root: &Path, paths: &BTreeSet<PathBuf>) -> bool {
    let relative = paths
        .iter()
        .filter_map(|path| path.strip_prefix(root).ok())
        .filter(|path| path.starts_with(PRODUCTS_DIR));
    for path in relative {
        match std::fs::symlink_metadata(root.join(path)) {
            // What a walk lists: regular files named *.toml (not links, not folders).
            Ok(metadata) if metadata.is_file() => {
                if path.extension().is_some_and(|e| e == "toml")
                    && let Err(at) = listing.binary_search_by(|listed| listed.as_path().cmp(path))
                {
                    listing.insert(at, path.to_path_buf());
                }
            }
            // A folder may have files no event named.
            Ok(metadata) if metadata.is_dir() => return true,
            // Gone (or a link): so is everything that was under it, which sorts right after
            // it (an editor's temporary file is gone by now too: no pass over every file).
            _ => {
                let start = listing.partition_point(|listed| listed.as_path() < path);
                let under = listing[start..]
                    .iter()
                    .take_while(|listed| listed.starts_with(path))
                    .count();
                listing.drain(start..start + under);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(root: &Path) -> Vec<PathBuf> {
        crate::content::product_files(&crate::content::CatalogSource::dir(root)).unwrap()
    }

    fn write(root: &Path, path: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "sku = \"X\"\n").unwrap();
    }

    fn named(root: &Path, paths: &[&str]) -> BTreeSet<PathBuf> {
        paths.iter().map(|path| root.join(path)).collect()
    }

    #[test]
    fn a_listing_brought_up_to_date_is_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = [
            "a/1.toml",
            "a/2.toml",
            "a-b.toml",
            "b/3.toml",
            "b/c/4.toml",
            "b/c-d.toml",
        ];
        for file in files {
            write(root, &format!("{PRODUCTS_DIR}/{file}"));
        }
        let mut listing = walk(root);
        // A new file, one removed, one that is not a product file, a folder moved away.
        write(root, &format!("{PRODUCTS_DIR}/a/10.toml"));
        write(root, &format!("{PRODUCTS_DIR}/a/notes.txt"));
        std::fs::remove_file(root.join(PRODUCTS_DIR).join("a/2.toml")).unwrap();
        std::fs::rename(root.join(PRODUCTS_DIR).join("b/c"), root.join("elsewhere")).unwrap();
        let changed = named(
            root,
            &[
                "content/products/a/10.toml",
                "content/products/a/notes.txt",
                "content/products/a/2.toml",
                "content/products/b/c",
                "content/schema.toml",
            ],
        );
        assert!(!update_listing(&mut listing, root, &changed));
        assert_eq!(listing, walk(root));
        assert!(
            !listing
                .iter()
                .any(|p| p.starts_with("content/products/b/c"))
        );
    }

    #[test]
    fn a_folder_that_appeared_is_walked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, &format!("{PRODUCTS_DIR}/a/1.toml"));
        let mut listing = walk(root);
        write(root, &format!("{PRODUCTS_DIR}/new/1.toml"));
        assert!(update_listing(
            &mut listing,
            root,
            &named(root, &["content/products/new"])
        ));
    }

    #[test]
    fn a_folder_event_or_lost_events_make_the_next_build_walk() {
        let root = Path::new("/catalog");
        let mut kept = KeptInputs::new(root, Vec::new());
        kept.note(&root.join("content/products/a/1.toml"), false);
        assert!(!kept.pending.walk);
        kept.note(&root.join("content/products/new"), true);
        assert!(kept.pending.walk);
        let mut kept = KeptInputs::new(root, Vec::new());
        kept.note(&root.join("content"), false);
        assert!(kept.pending.walk, "the content folder itself replaced");
        let mut kept = KeptInputs::new(root, Vec::new());
        kept.lost();
        assert!(kept.pending.walk);
    }
}
