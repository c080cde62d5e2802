//! The product files listed with what the last build's listing kept: a folder whose stamp is
//! the one it had then is not read again.
//!
//! Listing `content/products/` reads every folder's entries: at 100,000 products (57,000
//! files in 237 folders) that took 30–50 ms on one core at the start of every build, the
//! other core idle, in a build after a one-line edit that took 0.4 s. A folder's
//! modification and change times move whenever an entry is created, removed or renamed in it
//! (POSIX), and its change time cannot be set back, so a folder with the same stamp has the
//! same entries; a stamp is only trusted when it is older by more than a second than the read
//! of the entries kept with it, which rules out a change within the same clock tick (as the
//! build cache does for files, see [`crate::cache::Previous::trusts`]). Only the
//! folders themselves are stamped (one call each), and only those that changed are read.
//!
//! The kept listing lives in `.pimfeed/listing.bin` (see [`crate::pimfeed_folder`]). It is an
//! optimisation only: a file that is missing, unreadable or in another format makes the
//! walk read every folder, and the listing is the same either way.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::source::{SourceError, has_suffix};

/// Bumped whenever what is stored changes meaning.
const FORMAT: u32 = 1;

/// What a listing found in each folder it walked.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KeptListing {
    format: u32,
    /// The file names listed (`.toml`): a listing for another suffix keeps nothing.
    suffix: String,
    /// Catalog-relative folder → its stamp and entries.
    folders: HashMap<String, KeptFolder>,
}

#[derive(Debug, Serialize, Deserialize)]
struct KeptFolder {
    stamp: FolderStamp,
    /// When its entries were read (ns since the epoch), just before it was stamped.
    read_ns: i64,
    /// The sub-folders and the files with the suffix, in the byte order of their names.
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    name: String,
    is_folder: bool,
}

/// What changes whenever a folder's entries do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct FolderStamp {
    modified_ns: i64,
    changed_ns: i64,
    inode: u64,
}

impl FolderStamp {
    /// `None` where the system has no change time (not Unix): there every folder is read.
    fn of(path: &Path) -> std::io::Result<Option<FolderStamp>> {
        let metadata = std::fs::metadata(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            Ok(Some(FolderStamp {
                modified_ns: metadata.mtime() * 1_000_000_000 + metadata.mtime_nsec(),
                changed_ns: metadata.ctime() * 1_000_000_000 + metadata.ctime_nsec(),
                inode: metadata.ino(),
            }))
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            Ok(None)
        }
    }

    /// Whether the stamp is old enough, against entries read at `read_ns`, that no change
    /// after the read can have left it as it was (within the same clock tick).
    fn trusted_at(&self, read_ns: i64) -> bool {
        self.modified_ns.max(self.changed_ns) < read_ns - 1_000_000_000
    }
}

impl KeptListing {
    /// The listing kept in `path`, or an empty one.
    pub fn read(path: &Path) -> KeptListing {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| postcard::from_bytes::<KeptListing>(&bytes).ok())
            .filter(|kept| kept.format == FORMAT)
            .unwrap_or_default()
    }

    /// Replaces the listing kept in `path` with this one (whole, or not at all).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let bytes = postcard::to_stdvec(self).map_err(std::io::Error::other)?;
        crate::pimfeed_folder::replace(path, |mut file| {
            std::io::Write::write_all(&mut file, &bytes)
        })
    }
}

/// What a walk found: the files, the listing to keep for the next walk, and how many folders
/// it read rather than took from the kept listing.
pub struct Listed {
    pub files: Vec<PathBuf>,
    pub next: KeptListing,
    pub folders_read: usize,
    /// How many folders it walked.
    pub folders: usize,
    /// Whether a folder of the kept listing was not found again.
    folders_gone: bool,
}

impl Listed {
    /// Whether the listing to keep differs from the one the walk was given: a folder was read
    /// again, or one it held is gone.
    pub fn changed(&self) -> bool {
        self.folders_read > 0 || self.folders_gone
    }
}

/// Catalog-relative paths of the files under `folder` whose names end in `suffix`, in the
/// order of [`super::source::CatalogSource::files_under`], reading only the folders whose
/// entries may have changed since `kept` was made.
pub fn walk_with(
    root: &Path,
    folder: &Path,
    suffix: &str,
    kept: KeptListing,
) -> Result<Listed, SourceError> {
    let mut walk = Walk {
        root,
        suffix,
        kept: match kept.suffix == suffix {
            true => kept,
            false => KeptListing::default(),
        },
        listed: Listed {
            files: Vec::new(),
            next: KeptListing {
                format: FORMAT,
                suffix: suffix.to_string(),
                folders: HashMap::new(),
            },
            folders_read: 0,
            folders: 0,
            folders_gone: false,
        },
    };
    if root.join(folder).exists() {
        walk.folder(folder)?;
    }
    walk.listed.folders_gone = !walk.kept.folders.is_empty();
    Ok(walk.listed)
}

struct Walk<'a> {
    root: &'a Path,
    suffix: &'a str,
    kept: KeptListing,
    listed: Listed,
}

impl Walk<'_> {
    fn folder(&mut self, folder: &Path) -> Result<(), SourceError> {
        let cannot_list = |err: std::io::Error| SourceError {
            path: folder.to_path_buf(),
            message: err.to_string(),
        };
        self.listed.folders += 1;
        let full = self.root.join(folder);
        // Stamped before it is read: an entry made while it is read moves the stamp past it.
        let now_ns = now_ns();
        let stamp = FolderStamp::of(&full).map_err(cannot_list)?;
        let key = folder.to_str();
        let kept = key
            .and_then(|key| self.kept.folders.remove(key))
            .filter(|kept| Some(kept.stamp) == stamp && kept.stamp.trusted_at(kept.read_ns));
        let (entries, read_ns): (Vec<(OsString, bool)>, i64) = match kept {
            Some(kept) => {
                let entries = kept.entries.into_iter();
                let entries = entries.map(|entry| (entry.name.into(), entry.is_folder));
                (entries.collect(), kept.read_ns)
            }
            None => {
                self.listed.folders_read += 1;
                let entries = read_folder(&full, self.suffix).map_err(cannot_list)?;
                (entries, now_ns)
            }
        };
        for (name, is_folder) in &entries {
            let path = folder.join(name);
            match is_folder {
                true => self.folder(&path)?,
                false => self.listed.files.push(path),
            }
        }
        if let (Some(key), Some(stamp), Some(entries)) = (key, stamp, keepable(entries)) {
            let kept = KeptFolder {
                stamp,
                read_ns,
                entries,
            };
            self.listed.next.folders.insert(key.to_string(), kept);
        }
        Ok(())
    }
}

/// The time now, in ns since the epoch, as file stamps count it.
fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as i64)
}

/// A folder's sub-folders and files named `*{suffix}` (whether each is a folder), in the byte
/// order of their names. Symbolic links are not followed.
fn read_folder(full: &Path, suffix: &str) -> std::io::Result<Vec<(OsString, bool)>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(full)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let name = entry.file_name();
        if kind.is_dir() || kind.is_file() && has_suffix(&name, suffix) {
            entries.push((name, kind.is_dir()));
        }
    }
    entries.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
    Ok(entries)
}

/// The entries as a kept listing holds them, unless a name is not UTF-8 (then the folder is
/// read every time).
fn keepable(entries: Vec<(OsString, bool)>) -> Option<Vec<Entry>> {
    entries
        .into_iter()
        .map(|(name, is_folder)| {
            Some(Entry {
                name: name.into_string().ok()?,
                is_folder,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::CatalogSource;

    const PRODUCTS: &str = "content/products";

    fn catalog(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        dir
    }

    fn walk(root: &Path, kept: KeptListing) -> Listed {
        walk_with(root, Path::new(PRODUCTS), ".toml", kept).unwrap()
    }

    /// The listing as if its folders had been read two seconds later than they were: their
    /// stamps are then old enough to be trusted, without the test waiting for the clock.
    fn aged(mut listing: KeptListing) -> KeptListing {
        for folder in listing.folders.values_mut() {
            folder.read_ns += 2_000_000_000;
        }
        listing
    }

    #[test]
    fn a_walk_lists_what_files_under_lists_in_the_same_order() {
        let dir = catalog(&[
            "content/products/b.toml",
            "content/products/b/c.toml",
            "content/products/b/notes.txt",
            "content/products/a.toml",
            "content/products/b-x.toml",
            "content/products/.toml",
            "content/schema.toml",
        ]);
        let expected = CatalogSource::dir(dir.path())
            .files_under(Path::new(PRODUCTS), "toml")
            .unwrap();
        let first = walk(dir.path(), KeptListing::default());
        assert_eq!(first.files, expected);
        assert_eq!(first.folders_read, 2);
        let again = walk(dir.path(), aged(first.next));
        assert_eq!(again.files, expected);
        assert_eq!(again.folders_read, 0, "nothing changed: no folder is read");
        assert!(!again.changed());
    }

    #[test]
    fn a_folder_whose_entries_changed_is_read_again() {
        let dir = catalog(&["content/products/a/1.toml", "content/products/b/2.toml"]);
        let kept = aged(walk(dir.path(), KeptListing::default()).next);
        std::fs::write(dir.path().join("content/products/b/3.toml"), "").unwrap();
        let listed = walk(dir.path(), kept);
        let files: Vec<&str> = listed.files.iter().map(|f| f.to_str().unwrap()).collect();
        assert_eq!(
            files,
            [
                "content/products/a/1.toml",
                "content/products/b/2.toml",
                "content/products/b/3.toml"
            ]
        );
        assert_eq!(listed.folders_read, 1, "only b/ is read again");

        let kept = aged(listed.next);
        std::fs::remove_dir_all(dir.path().join("content/products/a")).unwrap();
        let listed = walk(dir.path(), kept);
        assert_eq!(listed.files.len(), 2);
        assert_eq!(
            listed.folders_read, 1,
            "only the folder above a/ is read again"
        );
        assert!(listed.changed());
    }

    #[test]
    fn a_stamp_too_close_to_the_read_is_not_trusted() {
        let dir = catalog(&["content/products/a/1.toml"]);
        // Read just now, so a change within the same clock tick could hide behind the stamps.
        let kept = walk(dir.path(), KeptListing::default()).next;
        let listed = walk(dir.path(), kept);
        assert_eq!(listed.folders_read, 2);
    }

    #[test]
    fn a_kept_listing_survives_the_file_and_a_bad_one_keeps_nothing() {
        let dir = catalog(&["content/products/a/1.toml"]);
        let path = dir.path().join(crate::pimfeed_folder::KEPT_LISTING);
        let first = walk(dir.path(), KeptListing::default());
        aged(first.next).write(&path).unwrap();
        assert_eq!(walk(dir.path(), KeptListing::read(&path)).folders_read, 0);
        std::fs::write(&path, b"not a listing").unwrap();
        let listed = walk(dir.path(), KeptListing::read(&path));
        assert_eq!(listed.files, [PathBuf::from("content/products/a/1.toml")]);
        assert_eq!(listed.folders_read, 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_with_a_name_that_is_not_utf8_is_listed_but_not_kept() {
        use std::os::unix::ffi::OsStrExt as _;
        let dir = catalog(&["content/products/a/1.toml"]);
        let odd = std::ffi::OsStr::from_bytes(b"\xff.toml");
        std::fs::write(dir.path().join("content/products/a").join(odd), "").unwrap();
        let first = walk(dir.path(), KeptListing::default());
        assert_eq!(first.files.len(), 2);
        let again = walk(dir.path(), aged(first.next));
        assert_eq!(again.files.len(), 2);
        assert_eq!(again.folders_read, 1, "a/ is read every time");
    }
}
