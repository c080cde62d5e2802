//! The folders a build writes beside the ones it replaces: `.feeds.staging-PID` while it
//! writes, `.feeds.old-PID` for a previous folder set aside during a swap without exchange
//! (see [`crate::swap`], which puts a staging folder live), and `.feeds.trash-PID` for a
//! previous folder the swap replaced, being removed. Each is named for the process that made
//! it, so the next run can tell a dead run's leftovers from a running one's.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A folder being filled by a build; removed on drop unless it went live.
pub struct Staging {
    dir: PathBuf,
    /// The live folder it replaces (with a symbolic link followed).
    target: PathBuf,
    committed: bool,
}

impl Staging {
    /// A fresh staging folder next to `target`, on the same file system so the swap is a
    /// rename. Puts back a previous folder a crashed swap left aside, and removes the staging
    /// folders of runs that are gone.
    pub fn create(target: &Path) -> io::Result<Staging> {
        let target = live_folder(target)?;
        // Named, since a symbolic link may have led somewhere the user did not expect.
        let at = |path: &Path| {
            let path = path.display().to_string();
            move |err: io::Error| io::Error::new(err.kind(), format!("{path}: {err}"))
        };
        let parent = parent_of(&target);
        fs::create_dir_all(&parent).map_err(at(&parent))?;
        restore_aside(&target).map_err(at(&target))?;
        remove_dead_leftovers(&target);
        let dir = named(&target, "staging", std::process::id());
        if fs::symlink_metadata(&dir).is_ok() {
            fs::remove_dir_all(&dir).map_err(at(&dir))?;
        }
        fs::create_dir_all(&dir).map_err(at(&dir))?;
        Ok(Staging {
            dir,
            target,
            committed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The live folder this one replaces when it goes live.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Keeps the folder on drop: it went live, or moved on to be put live.
    pub(crate) fn keep(&mut self) {
        self.committed = true;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// The folder a build replaces: `target` itself, or the folder a symbolic link at `target`
/// points at. Anything else at `target` (a file, a link to a file) is refused, so a build
/// never replaces what is not a folder of feeds.
pub(crate) fn live_folder(target: &Path) -> io::Result<PathBuf> {
    let metadata = match fs::symlink_metadata(target) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(target.to_path_buf()),
        other => other?,
    };
    if metadata.is_dir() {
        return Ok(target.to_path_buf());
    }
    if metadata.file_type().is_symlink() {
        match fs::metadata(target) {
            Ok(followed) if followed.is_dir() => return fs::canonicalize(target),
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                // A link to a folder not made yet: the first build makes it.
                let link = fs::read_link(target)?;
                return Ok(parent_of(target).join(link));
            }
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{} is not a folder; pimfeed replaces that path with a folder of feeds, so move \
             it away (or point `[build] output` elsewhere)",
            target.display()
        ),
    ))
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `.NAME.KIND-PID` beside `target`.
pub(crate) fn named(target: &Path, kind: &str, pid: u32) -> PathBuf {
    let name = target.file_name().map_or_else(
        || "feeds".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    parent_of(target).join(format!(".{name}.{kind}-{pid}"))
}

/// The folders beside `target` named `.NAME.KIND-PID` for a `KIND`, with their process ids.
fn siblings(target: &Path, kind: &str) -> Vec<(PathBuf, u32)> {
    let Some(name) = target.file_name() else {
        return Vec::new();
    };
    let prefix = format!(".{}.{kind}-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(parent_of(target)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let file_name = entry.file_name();
            let pid = file_name.to_str()?.strip_prefix(&prefix)?.parse().ok()?;
            Some((entry.path(), pid))
        })
        .collect()
}

/// A crash between the two renames of a swap without exchange left no `target` and the
/// previous folder aside: put it back.
pub(crate) fn restore_aside(target: &Path) -> io::Result<()> {
    if fs::symlink_metadata(target).is_ok() {
        return Ok(());
    }
    let gone = siblings(target, "old")
        .into_iter()
        .find(|(_, pid)| !process_is_running(*pid));
    match gone {
        Some((aside, _)) => fs::rename(aside, target),
        None => Ok(()),
    }
}

/// Removes the staging and set-aside folders of runs whose process is gone. Best effort: a
/// folder that cannot be removed now is tried again by the next run.
pub(crate) fn remove_dead_leftovers(target: &Path) {
    for kind in ["staging", "old", TRASH] {
        for (dir, pid) in siblings(target, kind) {
            if pid != std::process::id() && !process_is_running(pid) {
                let _ = fs::remove_dir_all(dir);
            }
        }
    }
}

#[cfg(unix)]
fn process_is_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let status = unsafe { libc::kill(pid, 0) };
    status == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_is_running(pid: u32) -> bool {
    // Without a cheap check, only this process counts as running; the catalog lock means no
    // other pimfeed run is writing these folders anyway.
    pid == std::process::id()
}

/// The kind of folder a swap is done with: removed, never put back or read.
const TRASH: &str = "trash";

/// This process's removals of trash folders still running.
static REMOVALS: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>> =
    std::sync::Mutex::new(Vec::new());

/// Renames `leftover`, a previous folder a swap replaced at `live`, to `.NAME.trash-PID` beside
/// `live`, for [`remove_in_background`], and unlinks there the files that are also live.
pub(crate) fn move_to_trash(leftover: &Path, live: &Path) -> io::Result<PathBuf> {
    let trash = named(live, TRASH, std::process::id());
    if fs::symlink_metadata(&trash).is_ok() {
        // Left by a removal of this process that failed.
        fs::remove_dir_all(&trash)?;
    }
    fs::rename(leftover, &trash)?;
    unlink_shared_files(&trash)?;
    Ok(trash)
}

/// Unlinks the files under `dir` that have another link: an unchanged feed is kept by a hard
/// link into the new folder, and removing the old link changes the live file's change time,
/// which the build cache's stamp of a published feed includes. Done now, before the cache
/// records the stamps, rather than by the removal after it (which would make the next build
/// find every kept feed changed). Cheap: no data is freed, and a feed folder holds a few files.
fn unlink_shared_files(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        if metadata.is_dir() {
            unlink_shared_files(&entry.path())?;
        } else if links(&metadata) > 1 {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn links(metadata: &fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(metadata)
}

#[cfg(not(unix))]
fn links(_: &fs::Metadata) -> u64 {
    1
}

/// Removes the trash folders `trash` on a thread of their own, so that a build is done when
/// its feeds are live, not when the previous ones are deleted. [`wait_for_removals`] waits
/// for it; a folder whose removal fails or is cut short is removed by the next run.
pub(crate) fn remove_in_background(trash: Vec<PathBuf>) {
    if trash.is_empty() {
        return;
    }
    let removal = std::thread::spawn(move || {
        for folder in trash {
            let _ = fs::remove_dir_all(folder);
        }
    });
    REMOVALS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(removal);
}

/// Waits until this process's trash folders are removed: before a swap names its own, and
/// before the process exits, so a finished run leaves nothing behind.
pub fn wait_for_removals() {
    let removals = std::mem::take(
        &mut *REMOVALS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for removal in removals {
        let _ = removal.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_live_file_linked_from_the_trash_keeps_its_stamp_while_the_trash_is_removed() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("feeds");
        let previous = dir.path().join(".feeds.staging-1");
        fs::create_dir_all(&live).unwrap();
        fs::create_dir_all(previous.join("report")).unwrap();
        fs::write(previous.join("report/index.html"), "old report").unwrap();
        fs::write(previous.join("google.xml"), "kept feed").unwrap();
        fs::hard_link(previous.join("google.xml"), live.join("google.xml")).unwrap();

        let trash = move_to_trash(&previous, &live).unwrap();
        // The link from the trash is gone already: removing the rest cannot touch the live
        // file's change time, which a published feed's stamp includes.
        let kept = fs::metadata(live.join("google.xml")).unwrap();
        assert_eq!(kept.nlink(), 1);
        assert!(!trash.join("google.xml").exists());
        assert_eq!(
            fs::read_to_string(trash.join("report/index.html")).unwrap(),
            "old report"
        );
        let stamp = (kept.ctime(), kept.ctime_nsec(), kept.ino(), kept.len());
        std::thread::sleep(std::time::Duration::from_millis(20));
        remove_in_background(vec![trash.clone()]);
        wait_for_removals();
        assert!(!trash.exists());
        let after = fs::metadata(live.join("google.xml")).unwrap();
        assert_eq!(
            stamp,
            (after.ctime(), after.ctime_nsec(), after.ino(), after.len())
        );
        assert_eq!(
            fs::read_to_string(live.join("google.xml")).unwrap(),
            "kept feed"
        );
    }
}
