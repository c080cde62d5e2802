//! One writer per catalog at a time.
//!
//! `build` and `refresh` both swap a staging folder in place of `feeds/` (see
//! [`crate::swap`]); `build` does the same with `.pimfeed/last-build/`, and both replace the
//! build cache in `.pimfeed/cache/`. `refresh` runs from cron every few minutes and `build`
//! on merge, so two runs can overlap; interleaved renames could then fail halfway, or leave
//! one run's feeds beside the other's last build and cache. Every writing run therefore holds an
//! exclusive lock on `.pimfeed/lock` for its whole length, from before it reads the last
//! last build until after its last swap.
//!
//! The lock is an OS file lock (`flock` on Unix, `LockFileEx` on Windows) taken with std's
//! [`File::try_lock`], not the existence of a file: the OS releases it when the process ends,
//! however it ends, so a crashed or killed run never leaves a stale lock behind and there is
//! nothing to clean up. The file itself stays; deleting it while a run holds it would let the
//! next run lock a new file beside the old one, so it is never deleted.
//!
//! Waiting is a `try_lock` loop with short sleeps, so it is bounded by the caller's limit and
//! needs no thread.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::pimfeed_folder;

/// How long to sleep between two attempts while another run holds the lock.
const POLL: Duration = Duration::from_millis(100);

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another pimfeed build or refresh of this catalog is running (it holds {}); \
         not waiting because of --wait 0",
        .path.display()
    )]
    Busy { path: PathBuf },
    #[error(
        "another pimfeed build or refresh of this catalog still holds {} after {}s; \
         try again later or raise --wait",
        .path.display(),
        .waited.as_secs()
    )]
    TimedOut { path: PathBuf, waited: Duration },
    #[error("cannot lock {}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// The exclusive right to write the catalog's output, until dropped.
#[derive(Debug)]
pub struct CatalogLock {
    /// Closing the file releases the lock; if the process dies first, the OS closes it, so a
    /// crashed run never leaves a stale lock.
    _file: File,
}

impl CatalogLock {
    /// Locks the catalog at `root`, waiting at most `wait` for another run to finish.
    /// `on_wait` is called once, before waiting, when another run holds the lock and `wait`
    /// is not zero.
    pub fn acquire(
        root: &Path,
        wait: Duration,
        on_wait: impl FnOnce(),
    ) -> Result<CatalogLock, LockError> {
        let path = root.join(pimfeed_folder::LOCK);
        let io_error = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_error)?;
        }
        // Never truncated: the file's contents mean nothing, only the lock on it does.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error)?;
        if try_lock(&file).map_err(io_error)? {
            return Ok(CatalogLock { _file: file });
        }
        if wait.is_zero() {
            return Err(LockError::Busy { path });
        }
        on_wait();
        let started = Instant::now();
        loop {
            let left = wait.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(LockError::TimedOut { path, waited: wait });
            }
            std::thread::sleep(left.min(POLL));
            if try_lock(&file).map_err(io_error)? {
                return Ok(CatalogLock { _file: file });
            }
        }
    }
}

/// Whether the lock was taken; `false` when another open file holds it.
fn try_lock(file: &File) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(err)) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_folder_and_the_file_and_keeps_the_file() {
        let root = tempfile::tempdir().unwrap();
        let lock = CatalogLock::acquire(root.path(), Duration::ZERO, || {}).unwrap();
        assert!(root.path().join(pimfeed_folder::LOCK).is_file());
        drop(lock);
        assert!(
            root.path().join(pimfeed_folder::LOCK).is_file(),
            "the lock file is never deleted"
        );
    }

    #[test]
    fn a_second_lock_fails_at_once_with_wait_zero_and_names_the_file() {
        let root = tempfile::tempdir().unwrap();
        let _first = CatalogLock::acquire(root.path(), Duration::ZERO, || {}).unwrap();
        let mut waited = false;
        let err = CatalogLock::acquire(root.path(), Duration::ZERO, || waited = true).unwrap_err();
        assert!(matches!(err, LockError::Busy { .. }), "{err:?}");
        assert!(!waited, "no waiting notice when not waiting");
        assert!(err.to_string().contains(pimfeed_folder::LOCK), "{err}");
    }

    #[test]
    fn gives_up_after_the_wait() {
        let root = tempfile::tempdir().unwrap();
        let _first = CatalogLock::acquire(root.path(), Duration::ZERO, || {}).unwrap();
        let mut notices = 0;
        let started = Instant::now();
        let err = CatalogLock::acquire(root.path(), Duration::from_millis(250), || notices += 1)
            .unwrap_err();
        assert!(matches!(err, LockError::TimedOut { .. }), "{err:?}");
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert_eq!(notices, 1);
    }

    #[test]
    fn takes_the_lock_once_it_is_released() {
        let root = tempfile::tempdir().unwrap();
        let first = CatalogLock::acquire(root.path(), Duration::ZERO, || {}).unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(first);
        });
        let mut notices = 0;
        CatalogLock::acquire(root.path(), Duration::from_secs(5), || notices += 1).unwrap();
        assert_eq!(notices, 1);
        release.join().unwrap();
    }
}
