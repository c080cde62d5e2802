//! Stamps and bytes of content files, taken relative to their folder.
//!
//! A build from the cache takes the stamp of every content file (see [`cache::Stamp`]). By
//! full path, the kernel walks every folder of the path again for each file: at 100k products
//! that walk was most of the time the stamps took. Files come in catalog order, so the files
//! of a folder come one after the other: the folder is opened once, and each file is looked
//! up in it by name.
//!
//! A file that is read is opened in the same open folder, and read into a buffer one byte
//! larger than the size its stamp gave: a stat, an open, one read and a close, where opening
//! by full path and `fs::read` walked the path again, took a second stat and a second read to
//! find the end. The stamp is taken before the bytes are read, as before: when an editor saves
//! in between, the stamp is the older one, and the next build reads the file again.

#[cfg(unix)]
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::cache;

/// The folder of the files stamped last, open.
#[derive(Default)]
pub(crate) struct FolderStamps {
    /// Unused where there is no `openat` (not Unix): files are opened by their paths.
    #[cfg_attr(not(unix), allow(dead_code))]
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

    /// The bytes of the file at `path`, as [`std::fs::read`] gives them (and the same errors):
    /// `size` is the size its stamp, taken just before, gave.
    pub(crate) fn read(&mut self, path: &Path, size: Option<u64>) -> io::Result<Vec<u8>> {
        #[cfg(unix)]
        if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
            let folder = self.open(parent)?;
            let mut file = open_in(folder, name)?;
            return read_whole(&mut file, size);
        }
        #[cfg(not(unix))]
        let _ = size;
        std::fs::read(path)
    }

    #[cfg_attr(not(unix), allow(dead_code))]
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

/// The file `name` in `folder`, open for reading.
#[cfg(unix)]
fn open_in(folder: &File, name: &std::ffi::OsStr) -> io::Result<File> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::{AsRawFd, FromRawFd};
    let name = CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a file name with a NUL"))?;
    // SAFETY: `folder` is an open descriptor and `name` a NUL-terminated string; flags as
    // `File::open` gives them (which follows a symbolic link, as the stamp does).
    let fd = unsafe {
        libc::openat(
            folder.as_raw_fd(),
            name.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened, and nothing else owns it.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Everything `file` has to read, when its size was `size` a moment ago: normally one read.
#[cfg_attr(not(unix), allow(dead_code))]
fn read_whole(file: &mut impl Read, size: Option<u64>) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let Some(size) = size.and_then(|size| usize::try_from(size).ok()) else {
        file.read_to_end(&mut bytes)?;
        return Ok(bytes);
    };
    // One byte more than the size, so that a file that grew since fills the buffer. As
    // `fs::read` does, a size too large to hold is an error, not an abort.
    let room = size.saturating_add(1);
    bytes
        .try_reserve_exact(room)
        .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
    bytes.resize(room, 0);
    let first = loop {
        match file.read(&mut bytes) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            read => break read?,
        }
    };
    bytes.truncate(first);
    // A regular file reads short only at its end: as many bytes as the size is all of it.
    // More (it grew since its stamp), or fewer (it shrank, or the read was cut short): read
    // on to the end.
    if first != size {
        file.read_to_end(&mut bytes)?;
    }
    Ok(bytes)
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

    /// What a file's read gives, with the size its stamp gave, and the stamp itself.
    fn stamp_and_read(folders: &mut FolderStamps, path: &Path) -> io::Result<Vec<u8>> {
        let size = folders.stamp(path).ok().map(|stamp| stamp.size());
        folders.read(path, size)
    }

    /// Read through its folder, a file's bytes are those `fs::read` gives: empty, not UTF-8,
    /// larger than any buffer a read starts with.
    #[test]
    fn a_file_read_by_folder_is_the_file_read_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let large: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
        let files: [(&str, &[u8]); 4] = [
            ("a/x.toml", b"sku = \"A\"\n"),
            ("a/empty.toml", b""),
            ("a/latin1.toml", b"brand = \"\xe9\"\n"),
            ("b/large.toml", &large),
        ];
        let mut folders = FolderStamps::default();
        for (name, bytes) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(
                stamp_and_read(&mut folders, &path).unwrap(),
                bytes,
                "{name}"
            );
            // Without a stamp (it could not be taken), the same bytes.
            assert_eq!(folders.read(&path, None).unwrap(), bytes, "{name}");
        }
    }

    /// A file that grew, shrank or was replaced between its stamp and its read is read whole,
    /// as it is when it is read.
    #[test]
    fn a_file_changed_since_its_stamp_is_read_as_it_is_now() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/x.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "sku = \"A\"\n").unwrap();
        let mut folders = FolderStamps::default();
        let stamp = folders.stamp(&path).unwrap();

        let grown = "sku = \"A\"\ntitle = \"a title longer than the file was\"\n".repeat(500);
        std::fs::write(&path, &grown).unwrap();
        let read = folders.read(&path, Some(stamp.size())).unwrap();
        assert_eq!(String::from_utf8(read).unwrap(), grown);

        let stamp = folders.stamp(&path).unwrap();
        std::fs::write(&path, "sku = \"B\"\n").unwrap();
        let read = folders.read(&path, Some(stamp.size())).unwrap();
        assert_eq!(read, b"sku = \"B\"\n");

        // One byte more, exactly: the byte the buffer has beyond the size.
        let stamp = folders.stamp(&path).unwrap();
        std::fs::write(&path, "sku = \"BC\"\n").unwrap();
        let read = folders.read(&path, Some(stamp.size())).unwrap();
        assert_eq!(read, b"sku = \"BC\"\n");

        // An editor's save: a new file renamed over the old one.
        let stamp = folders.stamp(&path).unwrap();
        let saved = dir.path().join("a/.x.toml.swp");
        std::fs::write(&saved, "sku = \"C\"\n").unwrap();
        std::fs::rename(&saved, &path).unwrap();
        let read = folders.read(&path, Some(stamp.size())).unwrap();
        assert_eq!(read, b"sku = \"C\"\n");
    }

    /// A reader that gives at most three bytes a read, as a read cut short would.
    struct Trickle<'b>(&'b [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// A read that returns fewer bytes than the size is not taken for the end.
    #[test]
    fn a_read_cut_short_is_read_on_to_the_end() {
        let bytes = b"sku = \"A\"\ntitle = \"A\"\n";
        for size in [Some(bytes.len() as u64), Some(7), Some(1), Some(0), None] {
            let read = read_whole(&mut Trickle(bytes), size).unwrap();
            assert_eq!(read, bytes, "{size:?}");
        }
    }

    /// The errors of a file that cannot be read are those `fs::read` gives: the user reads
    /// them in the file's diagnostic.
    #[test]
    #[cfg(unix)]
    fn a_file_that_cannot_be_read_gives_the_error_fs_read_gives() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "sku = \"A\"\n").unwrap();
            path
        };
        let same_error = |folders: &mut FolderStamps, path: &Path| {
            let by_folder = stamp_and_read(folders, path).unwrap_err();
            let by_path = std::fs::read(path).unwrap_err();
            assert_eq!(by_folder.kind(), by_path.kind(), "{}", path.display());
            assert_eq!(by_folder.to_string(), by_path.to_string());
        };
        let mut folders = FolderStamps::default();

        // Removed between the listing and the read, before its stamp or after it.
        let removed = write("a/removed.toml");
        std::fs::remove_file(&removed).unwrap();
        same_error(&mut folders, &removed);
        let removed = write("a/removed-after-stamp.toml");
        let stamp = folders.stamp(&removed).unwrap();
        std::fs::remove_file(&removed).unwrap();
        let by_folder = folders.read(&removed, Some(stamp.size())).unwrap_err();
        assert_eq!(by_folder.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            by_folder.to_string(),
            std::fs::read(&removed).unwrap_err().to_string()
        );

        // A folder where the file was.
        let folder = dir.path().join("a/folder.toml");
        std::fs::create_dir(&folder).unwrap();
        same_error(&mut folders, &folder);

        // Its folder removed, or replaced by a file.
        let gone = write("b/x.toml");
        std::fs::remove_dir_all(dir.path().join("b")).unwrap();
        same_error(&mut folders, &gone);
        let replaced = write("c/x.toml");
        std::fs::remove_dir_all(dir.path().join("c")).unwrap();
        std::fs::write(dir.path().join("c"), "not a folder").unwrap();
        same_error(&mut folders, &replaced);

        // Not readable: only for a user the permission stops (not root).
        use std::os::unix::fs::PermissionsExt;
        let locked = write("d/locked.toml");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_err() {
            same_error(&mut folders, &locked);
        }
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    /// A folder replaced after the first of its files was stamped: the files after it are
    /// stamped and read in the folder that was open, so a stamp and the bytes read with it
    /// always describe the same file.
    #[test]
    fn the_stamp_and_the_bytes_come_from_the_same_folder() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("x.toml"), "sku = \"X\"\n").unwrap();
        std::fs::write(folder.join("y.toml"), "sku = \"OLD\"\n").unwrap();
        let mut folders = FolderStamps::default();
        folders.stamp(&folder.join("x.toml")).unwrap();
        std::fs::rename(&folder, dir.path().join("a-old")).unwrap();
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("y.toml"), "sku = \"NEW, LONGER\"\n").unwrap();

        let stamp = folders.stamp(&folder.join("y.toml")).unwrap();
        let read = folders
            .read(&folder.join("y.toml"), Some(stamp.size()))
            .unwrap();
        assert_eq!(read, b"sku = \"OLD\"\n");
        assert_eq!(
            stamp,
            cache::Stamp::of(&dir.path().join("a-old/y.toml")).unwrap()
        );
    }
}
