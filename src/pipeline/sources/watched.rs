//! What a file watcher saw change, so that a build it starts checks only those content files
//! against the build cache instead of taking the stamp of every file (57,000 at 100k
//! products).
//!
//! The watcher logs every path an event names, with the wall-clock time it took the event
//! off its queue, which is never earlier than the change itself. A cache made by a build the
//! same watcher ran, which started at `B`, vouches for every file no event has named since
//! `B` (less a second, for good measure): the build read or checked each file after `B`, so
//! a later change would have sent an event. A change whose event is still on its way when a
//! build starts is built by the build that event triggers, as a change a moment later would
//! be. Whenever the log cannot vouch for that, every file is checked, as without a watcher:
//! the cache was written by anyone else (another `build`, a `refresh`), events were lost
//! (the kernel's queue overflowed), the clock jumped, or a folder was created, moved or
//! removed (the watcher adds watches for new folders only after it reports them, so a file
//! written into a new folder at once might send no event: everything under such a folder is
//! checked for as long as the watcher runs).

use std::path::{Path, PathBuf};

/// How far back of a build's start an event still counts as after it.
const MARGIN_NS: i64 = 1_000_000_000;

/// So that a long session's log stays small: past this many events it is dropped, and the
/// caches of the builds so far no longer vouch for anything.
const MAX_EVENTS: usize = 100_000;

/// A watcher's log of changes, since it started.
#[derive(Debug, Clone, Default)]
pub struct WatchedChanges {
    /// Catalog-relative paths events named, with when each was seen (ns since the epoch).
    seen: Vec<(i64, PathBuf)>,
    /// Folders created, moved or removed: everything under them is always checked.
    folders: Vec<PathBuf>,
    /// When each build the watcher ran started, by its cache (see
    /// [`crate::cache::Previous::started_ns`]): only those caches are vouched for.
    builds: Vec<i64>,
    /// Events were lost at this time (or the clock jumped): caches from builds before it
    /// vouch for nothing.
    lost_after: Option<i64>,
}

impl WatchedChanges {
    /// Notes a change to `path` (catalog-relative) seen at `now_ns`; `folder` when the path
    /// is a folder created, moved or removed.
    pub fn saw(&mut self, path: PathBuf, folder: bool, now_ns: i64) {
        if folder {
            if !self.folders.contains(&path) {
                self.folders.push(path);
            }
            return;
        }
        if self.seen.len() >= MAX_EVENTS {
            self.seen.clear();
            self.lost(now_ns);
        }
        self.seen.push((now_ns, path));
    }

    /// Events may have been lost up to `now_ns`: no cache made before vouches for a file.
    pub fn lost(&mut self, now_ns: i64) {
        self.lost_after = Some(now_ns);
    }

    /// Events can no longer be trusted at all (the content folder itself was replaced, or
    /// the clock jumped): every build checks every file from now on.
    pub fn lost_for_good(&mut self) {
        self.lost_after = Some(i64::MAX);
    }

    /// A build this watcher ran has left a cache made from a build that started at
    /// `started_ns`.
    pub fn built(&mut self, started_ns: i64) {
        if !self.builds.contains(&started_ns) {
            self.builds.push(started_ns);
        }
        // Events from before the oldest build that may still matter are of no more use:
        // only the latest cache is ever read.
        let oldest = started_ns - MARGIN_NS;
        self.seen.retain(|(at, _)| *at >= oldest);
        self.builds.retain(|build| *build >= started_ns);
    }

    /// What the log says about the files of a cache whose build started at `started_ns`:
    /// `None` when it cannot vouch for any file.
    pub(crate) fn since(&self, started_ns: i64) -> Option<Unchanged> {
        if !self.builds.contains(&started_ns) {
            return None;
        }
        if self.lost_after.is_some_and(|lost| lost >= started_ns) {
            return None;
        }
        let from = started_ns - MARGIN_NS;
        let mut changed: Vec<Vec<u8>> = self
            .seen
            .iter()
            .filter(|(at, _)| *at >= from)
            .map(|(_, path)| path.as_path())
            .chain(self.folders.iter().map(PathBuf::as_path))
            .map(|path| normal_bytes(path).into_owned())
            .filter(|bytes| !bytes.is_empty())
            .collect();
        changed.sort();
        changed.dedup();
        Some(Unchanged { changed })
    }
}

/// The files no event has named since a cache's build started.
pub(crate) struct Unchanged {
    /// Files and folders events named, each as the bytes of its components joined by `/`
    /// (as a walk spells paths), sorted.
    changed: Vec<Vec<u8>>,
}

impl Unchanged {
    /// Whether the catalog-relative `file` is vouched for: neither it nor a folder above it
    /// was named by an event.
    ///
    /// Asked of every file of a rebuild (57,000 at 100k products) on the thread that checks
    /// them in order: the file and each folder above it are looked up as byte prefixes of
    /// its path, not compared component by component.
    pub(crate) fn vouches_for(&self, file: &Path) -> bool {
        if self.changed.is_empty() {
            return true;
        }
        let bytes = normal_bytes(file);
        if self.changed.len() <= FEW_CHANGED {
            // A save or two: is any of them the file or a folder above it.
            return !self.changed.iter().any(|changed| {
                bytes.starts_with(changed)
                    && (bytes.len() == changed.len() || bytes[changed.len()] == b'/')
            });
        }
        let named = |prefix: &[u8]| {
            self.changed
                .binary_search_by(|changed| changed.as_slice().cmp(prefix))
                .is_ok()
        };
        let folder_named = bytes
            .iter()
            .enumerate()
            .any(|(at, byte)| *byte == b'/' && at > 0 && named(&bytes[..at]));
        !folder_named && !named(&bytes)
    }
}

/// Up to this many paths named, each file is compared with each of them; past it, the file
/// and each folder above it are looked up.
const FEW_CHANGED: usize = 8;

/// The bytes of `path` with its components joined by single `/`: as they are when the path
/// is spelled that way already (as a walk and the watcher's events spell them), or rebuilt
/// from its components (`a//b`, `a/./b`, `a/b/`), which compare equal as paths.
fn normal_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    if let Some(bytes) = crate::cache::plain_path_bytes(path) {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let rebuilt: PathBuf = path.components().collect();
    std::borrow::Cow::Owned(rebuilt.into_os_string().into_encoded_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    fn file(path: &str) -> &Path {
        Path::new(path)
    }

    #[test]
    fn only_a_cache_from_a_build_of_this_watch_vouches() {
        let mut log = WatchedChanges::default();
        assert!(
            log.since(100 * SECOND).is_none(),
            "the first build checks all"
        );
        log.built(100 * SECOND);
        let unchanged = log.since(100 * SECOND).unwrap();
        assert!(unchanged.vouches_for(file("content/products/a.toml")));
        // Another build or a refresh replaced the cache.
        assert!(log.since(101 * SECOND).is_none());
    }

    #[test]
    fn a_file_changed_while_a_build_ran_is_checked_by_the_next() {
        let mut log = WatchedChanges::default();
        log.built(100 * SECOND);
        // Seen during that build, or after it, before the next started.
        log.saw("content/products/a.toml".into(), false, 100 * SECOND + 5);
        log.saw("content/products/b.toml".into(), false, 103 * SECOND);
        // Seen well before that build started: it read the change.
        log.saw("content/products/c.toml".into(), false, 90 * SECOND);
        let unchanged = log.since(100 * SECOND).unwrap();
        assert!(!unchanged.vouches_for(file("content/products/a.toml")));
        assert!(!unchanged.vouches_for(file("content/products/b.toml")));
        assert!(unchanged.vouches_for(file("content/products/c.toml")));
        assert!(unchanged.vouches_for(file("content/products/d.toml")));
        // Within the margin of the build's start: still checked.
        log.saw("content/products/e.toml".into(), false, 99 * SECOND + 5);
        let unchanged = log.since(100 * SECOND).unwrap();
        assert!(!unchanged.vouches_for(file("content/products/e.toml")));
    }

    #[test]
    fn events_keep_counting_until_a_build_leaves_a_cache() {
        let mut log = WatchedChanges::default();
        log.built(100 * SECOND);
        log.saw("content/products/a.toml".into(), false, 101 * SECOND);
        // A build at 102 failed before its cache: the cache is still the one from 100.
        log.saw("content/products/b.toml".into(), false, 103 * SECOND);
        let unchanged = log.since(100 * SECOND).unwrap();
        assert!(!unchanged.vouches_for(file("content/products/a.toml")));
        assert!(!unchanged.vouches_for(file("content/products/b.toml")));
        log.built(104 * SECOND);
        let unchanged = log.since(104 * SECOND).unwrap();
        assert!(unchanged.vouches_for(file("content/products/a.toml")));
        assert!(log.since(100 * SECOND).is_none(), "an older cache is gone");
    }

    #[test]
    fn folders_are_checked_whole_for_good() {
        let mut log = WatchedChanges::default();
        log.saw("content/products/new".into(), true, 50 * SECOND);
        log.built(100 * SECOND);
        let unchanged = log.since(100 * SECOND).unwrap();
        assert!(!unchanged.vouches_for(file("content/products/new/a.toml")));
        assert!(!unchanged.vouches_for(file("content/products/new/deep/a.toml")));
        assert!(unchanged.vouches_for(file("content/products/newer.toml")));
        assert!(unchanged.vouches_for(file("content/products/a.toml")));
    }

    #[test]
    fn lost_events_vouch_for_nothing_before_them() {
        let mut log = WatchedChanges::default();
        log.built(100 * SECOND);
        log.lost(101 * SECOND);
        assert!(log.since(100 * SECOND).is_none());
        log.built(102 * SECOND);
        assert!(log.since(102 * SECOND).is_some());
        log.lost_for_good();
        log.built(103 * SECOND);
        assert!(log.since(103 * SECOND).is_none());
    }

    #[test]
    fn a_long_session_forgets_but_never_vouches_wrongly() {
        let mut log = WatchedChanges::default();
        log.built(100 * SECOND);
        for n in 0..=MAX_EVENTS as i64 {
            log.saw(
                format!("content/products/{n}.toml").into(),
                false,
                101 * SECOND + n,
            );
        }
        assert!(log.since(100 * SECOND).is_none());
        assert!(log.seen.len() <= MAX_EVENTS);
    }

    /// The lookup by byte prefixes answers as comparing paths component by component does,
    /// on names that share a prefix without being a folder of one another, and on paths
    /// spelled with doubled or trailing slashes and `.`.
    #[test]
    fn vouching_by_bytes_is_vouching_by_components() {
        let named = [
            "content/products/new",
            "content/products/a.toml",
            "content/products//odd/./x.toml",
            "content/products/tools/",
        ];
        let files = [
            "content/products/new",
            "content/products/new/a.toml",
            "content/products/new/deep/a.toml",
            "content/products/newer.toml",
            "content/products/new-2/a.toml",
            "content/products/new.toml",
            "content/products/ne",
            "content/products/a.toml",
            "content/products/a.toml.bak",
            "content/products/a",
            "content/products/odd/x.toml",
            "content/products/odd//x.toml",
            "content/products/odd/x.tom",
            "content/products/tools/hammer.toml",
            "content/products/tools",
            "content/products/toolshed/saw.toml",
            "content/products//new/./b.toml",
            "content/products/new/.",
            "content/products/b.toml",
        ];
        let by_components = |file: &Path| {
            !file.ancestors().any(|ancestor| {
                !ancestor.as_os_str().is_empty()
                    && named.iter().any(|named| Path::new(named) == ancestor)
            })
        };
        // A few saves are compared one by one, many looked up: both ways give one answer.
        for others in [0, 2 * FEW_CHANGED] {
            let mut log = WatchedChanges::default();
            log.built(100 * SECOND);
            for (n, path) in named.iter().enumerate() {
                log.saw(path.into(), n == 0, 101 * SECOND);
            }
            for n in 0..others {
                log.saw(
                    format!("content/other/{n}.toml").into(),
                    false,
                    101 * SECOND,
                );
            }
            let unchanged = log.since(100 * SECOND).unwrap();
            for file in files {
                assert_eq!(
                    unchanged.vouches_for(file.as_ref()),
                    by_components(file.as_ref()),
                    "{file}, {others} other paths named"
                );
            }
            assert!(!unchanged.vouches_for(file("content/products/new/a.toml")));
            assert!(unchanged.vouches_for(file("content/products/newer.toml")));
        }
    }
}
