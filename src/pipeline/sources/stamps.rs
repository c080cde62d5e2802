//! Stamps of content files, taken relative to their folder.
//!
//! A build from the cache takes the stamp of every content file (see [`cache::Stamp`]). By
//! full path, the kernel walks every folder of the path again for each file: at 100k products
//! that walk was most of the time the stamps took. Files come in catalog order, so the files
//! of a folder come one after the other: the folder is opened once, and each file is looked
//! up in it by name.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::cache;

/// The folder of the files stamped last, open.
#[derive(Default)]
pub(crate) struct FolderStamps {
    folder: Option<(PathBuf, File)>,
}

impl FolderStamps {
    /// The stamp of the file at `path`: the same as [`cache::Stamp::of`] gives.
    pub(crate) fn stamp(&mut self, path: &Path) -> io::Result<cache::Stamp> {
        #[cfg(unix)]
        if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
            let folder = self.open(parent)?;
            return stamp_in(folder, name);
        }
        cache::Stamp::of(path)
    }

    fn open(&mut self, parent: &Path) -> io::Result<&File> {
        if self
            .folder
            .as_ref()
            .is_none_or(|(open, _)| open.as_path() != parent)
        {
            // An empty parent is the current folder, as for a relative path.
            let folder = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            self.folder = Some((parent.to_path_buf(), File::open(folder)?));
        }
        Ok(&self.folder.as_ref().expect("opened above").1)
    }
}

#[cfg(unix)]
fn stamp_in(folder: &File, name: &std::ffi::OsStr) -> io::Result<cache::Stamp> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::AsRawFd;
    let name = CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a file name with a NUL"))?;
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `folder` is an open descriptor, `name` a NUL-terminated string, and `stat` is
    // written whole by a call that returns 0; it is read only then. Flags 0 follow a symbolic
    // link, as `fs::metadata` does.
    let stat = unsafe {
        if libc::fstatat(folder.as_raw_fd(), name.as_ptr(), stat.as_mut_ptr(), 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        stat.assume_init()
    };
    // As `Stamp::of` counts it: nanoseconds since the epoch, 0 for a time before it.
    let modified_ns = match stat.st_mtime {
        seconds if seconds < 0 => 0,
        seconds => seconds * 1_000_000_000 + stat.st_mtime_nsec,
    };
    Ok(cache::Stamp::new(
        stat.st_size as u64,
        modified_ns,
        stat.st_ino as u64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Taken by folder or by full path, a file's stamp is the same, and a change to the file
    /// shows in it.
    #[test]
    fn a_stamp_by_folder_is_the_stamp_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<PathBuf> = ["a/x.toml", "a/y.toml", "b/c/z.toml"]
            .iter()
            .map(|name| dir.path().join(name))
            .collect();
        for file in &files {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, "sku = \"A\"\n").unwrap();
        }
        let mut stamps = FolderStamps::default();
        for file in &files {
            assert_eq!(stamps.stamp(file).unwrap(), cache::Stamp::of(file).unwrap());
        }
        let before = stamps.stamp(&files[0]).unwrap();
        std::fs::write(&files[0], "sku = \"AB\"\n").unwrap();
        let after = stamps.stamp(&files[0]).unwrap();
        assert_ne!(before, after);
        assert_eq!(after, cache::Stamp::of(&files[0]).unwrap());
        assert_eq!(
            stamps
                .stamp(&dir.path().join("a/gone.toml"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
    }
}
