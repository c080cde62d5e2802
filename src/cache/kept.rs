//! The entries of a build cache kept in memory by a long-running `watch` or `serve`, so its
//! next rebuild takes them as they are instead of decoding `entries.bin` again (57,000
//! entries, 14 MB, at 100k products: most of what reading the cache costs).
//!
//! A build that keeps them gets a [`KeptSlot`] for its cache writer. The writer collects
//! every entry it writes, in order, and only once the cache is committed (its entries and
//! head renamed into place) puts them in the slot, with the build id and the stamp of the
//! `entries.bin` it committed. The next build takes them only for exactly that cache: the
//! head on disk has the same build id and `entries.bin` the same stamp (size, modification
//! time, inode). A build or refresh by another process in between writes a new cache, a new
//! file with its own build id, and the entries are decoded from it as without a watcher.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{FileEntry, Stamp};

/// The entries of the cache a build committed, in catalog order, and what identifies that
/// cache on disk.
pub struct KeptEntries {
    pub(super) build_id: u64,
    /// The stamp of `entries.bin` as the build committed it.
    pub(super) entries_stamp: Stamp,
    pub(super) entries: Vec<FileEntry>,
    /// How many products the entries have, all told.
    pub(super) products: usize,
}

impl KeptEntries {
    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether these are the entries of the cache whose head says `build_id` and whose
    /// entries file is at `entries_path` now.
    pub(super) fn are_of(&self, build_id: u64, entries_path: &Path) -> bool {
        self.build_id == build_id
            && Stamp::of(entries_path).is_ok_and(|now| now == self.entries_stamp)
    }
}

/// Where a cache writer puts its entries once its cache is committed; empty until then, and
/// for good when the build fails or its cache is not kept.
pub type KeptSlot = Arc<Mutex<Option<KeptEntries>>>;

/// What a writer collects for its slot while the build runs.
pub(super) struct Collecting {
    pub(super) entries: Vec<FileEntry>,
    pub(super) slot: KeptSlot,
}

impl Collecting {
    /// Hands the entries to the slot, for the committed cache `build_id` whose entries file
    /// is now at `entries_path`; none when that file cannot be stamped (the cache itself is
    /// fine: the next build decodes it).
    pub(super) fn committed(self, build_id: u64, entries_path: &Path) {
        let Ok(entries_stamp) = Stamp::of(entries_path) else {
            return;
        };
        let products = self.entries.iter().map(|entry| entry.products.len()).sum();
        let kept = KeptEntries {
            build_id,
            entries_stamp,
            entries: self.entries,
            products,
        };
        *self
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(kept);
    }
}

/// The entries a committed cache left in `slot`, if any.
pub fn take_from(slot: &KeptSlot) -> Option<KeptEntries> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}
