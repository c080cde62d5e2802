//! Putting a build live: its feeds and its last build change together, at one point.
//!
//! A build writes `feeds/` and `.pimfeed/last-build/` into staging folders beside them. Going
//! live takes three steps:
//!
//! 1. The staged last build is moved to `.pimfeed/last-build.next`, tagged with the SHA-256 of
//!    the staged `feeds/manifest.json`.
//! 2. The staged feeds are exchanged with the live ones in one `renameat2(RENAME_EXCHANGE)`.
//!    This is the commit point: `feeds/` is never absent, and from here on the live manifest
//!    matches the pending last build's tag.
//! 3. The pending last build is exchanged with `.pimfeed/last-build`, and the previous feeds and
//!    last build are renamed to `.feeds.trash-PID` and `.pimfeed/.last-build.trash-PID`, which
//!    a thread of their own removes: deleting a feed of a hundred megabytes and the previous
//!    product lines took a tenth of a second or more, which the swap no longer waits for.
//!    A trash folder is never put live or read; a killed run's is removed by the next run.
//!
//! A crash before step 2 leaves the previous feeds with the previous last build; one after it
//! leaves the new feeds, and the next run (which takes the catalog lock first) sees that the
//! live manifest matches the pending last build and finishes step 3 before it reads anything. So
//! a `refresh` never renders the previous build's content over the new build's feeds.
//!
//! Where the exchange is not available (not Linux, or a file system without it) the feeds are
//! swapped with two renames; a crash between them leaves the previous feeds under
//! `.feeds.old-PID`, and the next run puts them back before anything else.
//!
//! Staging folders of runs that were killed are removed by the next run, under the lock.
//!
//! `feeds` may be a symbolic link (to a web server's folder, say): the link stays, and the
//! folder it points at is swapped, with its staging folder beside it on the same file system.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::pimfeed_folder;
use crate::staging::{
    Staging, live_folder, move_to_trash, named, remove_dead_leftovers, remove_in_background,
    restore_aside, wait_for_removals,
};

/// Why the swap did not happen: the live feeds and last build are the previous ones.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct SwapError {
    context: String,
    source: io::Error,
}

/// What went wrong after the new feeds went live: nothing that makes them less live.
#[derive(Debug, Default)]
pub struct Swapped {
    /// Each a sentence for the user: what was left behind, and what happens to it.
    pub warnings: Vec<String>,
}

/// Puts a build's (or, without a last build, a refresh's) staged feeds live, with its
/// last build, at one commit point (see the module documentation).
pub fn publish(feeds: Staging, last_build: Option<Staging>) -> Result<Swapped, SwapError> {
    // A long-running `watch` or `serve` swaps again and again: the previous swap's folders are
    // gone before this one names its own alike.
    wait_for_removals();
    let fail = |context: String| move |source| SwapError { context, source };
    let pending = match last_build {
        Some(last_build) => Some(
            stage_pending_last_build(&feeds, last_build)
                .map_err(fail("cannot keep this build's content".into()))?,
        ),
        None => None,
    };
    let previous_feeds = failpoint("before-commit")
        .and_then(|()| exchange_or_replace(feeds.path(), feeds.target()))
        .map_err(|err| {
            if let Some((pending, _)) = &pending {
                let _ = fs::remove_dir_all(pending);
            }
            fail(format!(
                "cannot move the new feeds into {}",
                feeds.target().display()
            ))(err)
        })?;
    let mut feeds = feeds;
    feeds.keep();
    let _ = failpoint("after-feeds");

    let mut swapped = Swapped::default();
    let mut leftovers: Vec<(PathBuf, PathBuf)> = previous_feeds
        .into_iter()
        .map(|previous| (previous, feeds.target().to_path_buf()))
        .collect();
    if let Some((pending, live)) = pending {
        match exchange_or_replace(&pending, &live) {
            Ok(previous) => leftovers.extend(previous.map(|previous| (previous, live.clone()))),
            Err(err) => swapped.warnings.push(format!(
                "the new feeds are live, but {} could not be replaced yet ({err}); the next \
                 build or refresh finishes that before it reads it",
                live.display()
            )),
        }
    }
    let _ = failpoint("after-last-build");
    let mut trash = Vec::new();
    for (leftover, live) in leftovers {
        let moved = failpoint("cleanup").and_then(|()| move_to_trash(&leftover, &live));
        match moved {
            Ok(moved) => trash.push(moved),
            Err(err) => swapped.warnings.push(format!(
                "the new feeds are live, but the previous build's folder {} could not be \
                 removed ({err}); the next build or refresh removes it",
                leftover.display()
            )),
        }
    }
    let _ = failpoint("before-removal");
    remove_in_background(trash);
    Ok(swapped)
}

/// Finishes or abandons a swap a crash interrupted, so the last build is the one
/// whose feeds are live. Run first by every build and refresh, under the catalog lock.
pub fn recover(root: &Path) -> io::Result<()> {
    let live = root.join(pimfeed_folder::LAST_BUILD);
    // A refresh never stages a last build, so a killed build's would otherwise stay until the
    // next build.
    remove_dead_leftovers(&live);
    let pending = pimfeed_folder::pending_last_build(&live);
    if fs::symlink_metadata(&pending).is_err() {
        return Ok(());
    }
    let Some((manifest_sha256, feeds)) = read_tag(&pending) else {
        // Killed before the tag was complete: the swap never started.
        return fs::remove_dir_all(&pending);
    };
    let feeds = live_folder(&feeds)?;
    restore_aside(&feeds)?;
    let live_sha256 = fs::read(feeds.join("manifest.json"))
        .ok()
        .map(|bytes| crate::output::hex(&Sha256::digest(bytes)));
    if live_sha256.as_deref() == Some(manifest_sha256.as_str()) {
        if let Some(previous) = exchange_or_replace(&pending, &live)? {
            fs::remove_dir_all(previous)?;
        }
        Ok(())
    } else {
        fs::remove_dir_all(&pending)
    }
}

/// The pending last build's tag: which feeds it belongs to.
const TAG: &str = "feeds-manifest.sha256";

/// Moves the finished last build to `.pimfeed/last-build.next`, tagged with the digest of the
/// staged manifest and the feeds folder; returns it and the live last build folder.
fn stage_pending_last_build(
    feeds: &Staging,
    mut staged: Staging,
) -> io::Result<(PathBuf, PathBuf)> {
    let manifest = fs::read(feeds.path().join("manifest.json"))?;
    let tag = format!(
        "{}\n{}\n",
        crate::output::hex(&Sha256::digest(manifest)),
        feeds.target().display()
    );
    fs::write(staged.path().join(TAG), tag)?;
    let pending = pimfeed_folder::pending_last_build(staged.target());
    if fs::symlink_metadata(&pending).is_ok() {
        fs::remove_dir_all(&pending)?;
    }
    fs::rename(staged.path(), &pending)?;
    staged.keep();
    Ok((pending, staged.target().to_path_buf()))
}

fn read_tag(pending: &Path) -> Option<(String, PathBuf)> {
    let text = fs::read_to_string(pending.join(TAG)).ok()?;
    let mut lines = text.lines();
    let sha256 = lines.next()?.to_string();
    let feeds = PathBuf::from(lines.next()?);
    (sha256.len() == 64).then_some((sha256, feeds))
}

/// Puts `new` at `target`. Where the previous folder went (to be removed), if there was one.
fn exchange_or_replace(new: &Path, target: &Path) -> io::Result<Option<PathBuf>> {
    if fs::symlink_metadata(target).is_err() {
        fs::rename(new, target)?;
        return Ok(None);
    }
    if exchange(new, target)? {
        return Ok(Some(new.to_path_buf()));
    }
    let aside = named(target, "old", std::process::id());
    if fs::symlink_metadata(&aside).is_ok() {
        fs::remove_dir_all(&aside)?;
    }
    fs::rename(target, &aside)?;
    let _ = failpoint("between-renames");
    if let Err(err) = fs::rename(new, target) {
        let _ = fs::rename(&aside, target);
        return Err(err);
    }
    Ok(Some(aside))
}

/// Swaps two paths in one step; false where the system or file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    if failpoint("exchange").is_err() {
        return Ok(false);
    }
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are NUL-terminated C strings that outlive the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(false),
        _ => Err(err),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<bool> {
    Ok(false)
}

/// A point where the tests make a run crash or fail: `PIMFEED_FAILPOINT=NAME=kill` kills the
/// process there (as `kill -9` would) and `NAME=error` makes the step fail, every time the run
/// passes it; `NAME@2=kill` only the second time (the feeds and the last build pass the same
/// points).
/// Compiled into debug builds only; a release build has no such points.
fn failpoint(name: &str) -> io::Result<()> {
    #[cfg(debug_assertions)]
    if let Ok(spec) = std::env::var("PIMFEED_FAILPOINT") {
        static HITS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        let hits = {
            let mut hits = HITS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            hits.push(name.to_string());
            hits.iter().filter(|hit| *hit == name).count()
        };
        for point in spec.split(',') {
            let Some((point, action)) = point.split_once('=') else {
                continue;
            };
            let (point, nth) = match point.split_once('@') {
                Some((point, nth)) => (point, nth.parse().ok()),
                None => (point, None),
            };
            if point != name || nth.is_some_and(|nth: usize| nth != hits) {
                continue;
            }
            match action {
                "kill" => {
                    // SAFETY: sending SIGKILL to this process; it does not return.
                    #[cfg(unix)]
                    unsafe {
                        libc::kill(libc::getpid(), libc::SIGKILL);
                    }
                    std::process::abort();
                }
                "error" => {
                    return Err(io::Error::other(format!("injected failure at `{name}`")));
                }
                _ => {}
            }
        }
    }
    let _ = name;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_staging_leaves_the_target_alone_and_commit_swaps() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("feeds");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("a.xml"), "old").unwrap();
        {
            let staging = Staging::create(&target).unwrap();
            fs::write(staging.path().join("a.xml"), "new").unwrap();
        }
        assert_eq!(fs::read_to_string(target.join("a.xml")).unwrap(), "old");
        let staging = Staging::create(&target).unwrap();
        fs::write(staging.path().join("a.xml"), "new").unwrap();
        let swapped = publish(staging, None).unwrap();
        assert!(swapped.warnings.is_empty());
        assert_eq!(fs::read_to_string(target.join("a.xml")).unwrap(), "new");
        wait_for_removals();
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn a_file_in_place_of_the_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("feeds");
        fs::write(&target, "not a folder").unwrap();
        let err = Staging::create(&target).err().unwrap();
        assert!(err.to_string().contains("is not a folder"), "{err}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "not a folder");
    }

    #[test]
    fn the_folder_set_aside_by_a_crash_between_renames_is_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("feeds");
        let dead = dead_pid();
        let aside = named(&target, "old", dead);
        fs::create_dir(&aside).unwrap();
        fs::write(aside.join("a.xml"), "old").unwrap();
        let stale = named(&target, "staging", dead);
        fs::create_dir(&stale).unwrap();
        let staging = Staging::create(&target).unwrap();
        assert_eq!(fs::read_to_string(target.join("a.xml")).unwrap(), "old");
        assert!(!stale.exists(), "a dead run's staging folder is removed");
        drop(staging);
    }

    /// The id of a process that has ended.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }
}
