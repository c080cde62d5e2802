//! Blame's findings kept between builds (the catalog's [`KEPT_BLAME`] file), so a file that
//! did not change is not blamed again: blame walks the file's history, and a build from the
//! cache would otherwise blame each of the (up to [`super::blame::MAX_FILES`]) files with a
//! reason again, every time, even when nothing changed.
//!
//! What blame finds for a working-tree file is decided by the commit checked out, the
//! commits a shallow clone stops at, and the file's bytes. The kept file says which commit and
//! boundary its entries were blamed from, and is thrown away whole when either differs; each
//! entry holds the git blob id of the bytes it was blamed from and is used only for the same
//! bytes.
//!
//! Each entry also holds the file's [`FileStamp`] when its bytes were read, so a file whose
//! stamp is unchanged is taken as is, neither read nor hashed again: up to two thousand reads
//! and SHA-1s a build from the cache would otherwise do only to learn that nothing changed.
//!
//! [`KEPT_BLAME`]: crate::pimfeed_folder::KEPT_BLAME

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use git2::Oid;
use serde::{Deserialize, Serialize};

use super::blame::Hunk;

/// Bumped when the stored shape changes, so an older file is blamed anew, never misread.
const FORMAT: u32 = 2;

/// What is kept: the commit and boundary blame started from, and per file its hunks.
#[derive(Serialize, Deserialize, Default)]
pub(super) struct Stored {
    format: u32,
    newest: Vec<u8>,
    shallow_boundary: Vec<Vec<u8>>,
    pub(super) files: Vec<StoredFile>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredFile {
    /// Catalog-relative, `/`-separated.
    path: String,
    /// The git blob id of the bytes blamed.
    pub(super) blob: Vec<u8>,
    /// The file's stamp when those bytes were read; absent when it could not vouch for them.
    stamp: Option<FileStamp>,
    /// (first line, last line, commit; zero for uncommitted lines).
    pub(super) hunks: Vec<(u32, u32, Vec<u8>)>,
}

/// The kept findings of the last build for one commit and boundary, and those of this run.
pub(super) struct KeptBlame {
    newest: Oid,
    shallow_boundary: BTreeSet<Oid>,
    kept: HashMap<PathBuf, Entry>,
    /// What this run found or used, which is what the next run keeps.
    this_run: HashMap<PathBuf, Entry>,
    /// Whether this run found anything the kept file did not have (hunks or stamps).
    blamed_anew: bool,
}

/// One file's kept findings: the blob id of the bytes blamed, their stamp, the hunks.
#[derive(Clone)]
struct Entry {
    blob: Oid,
    stamp: Option<FileStamp>,
    hunks: Vec<Hunk>,
}

/// What identifies a file's bytes without reading them: if size, modification and change
/// times and inode are all the same, so are the bytes (an edit gets a new modification time,
/// a file renamed over it a new inode, and a tool that puts the old time back a new change
/// time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct FileStamp {
    len: u64,
    modified_ns: i64,
    changed_ns: i64,
    inode: u64,
}

/// A file written this close to when it is stamped may be written again within the same tick
/// of the file system's clock, keeping its stamp with other bytes: such a stamp vouches for
/// nothing (git's "racily clean" entries), and the file is read again next time.
const RACY_NS: i64 = 2_000_000_000;

impl FileStamp {
    /// The stamp of the file at `path` as it is now, `None` when it cannot vouch for the
    /// bytes read right after (see [`RACY_NS`]).
    pub(super) fn of(path: &Path) -> Option<FileStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        let nanos = |time: std::time::SystemTime| {
            time.duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_nanos() as i64)
        };
        let modified_ns = nanos(metadata.modified().ok()?)?;
        #[cfg(unix)]
        let (changed_ns, inode) = {
            use std::os::unix::fs::MetadataExt;
            (
                metadata.ctime() * 1_000_000_000 + metadata.ctime_nsec(),
                metadata.ino(),
            )
        };
        #[cfg(not(unix))]
        let (changed_ns, inode) = (0, 0);
        let now = nanos(std::time::SystemTime::now())?;
        // Only the modification time: bytes written after the stamp within the same tick keep
        // it, while a change time is new with every write (and with a reset modification
        // time), so it never hides one.
        if now - modified_ns < RACY_NS {
            return None;
        }
        Some(FileStamp {
            len: metadata.len(),
            modified_ns,
            changed_ns,
            inode,
        })
    }
}

impl KeptBlame {
    /// What the catalog at `root` kept from blaming from `newest` with `shallow_boundary`;
    /// empty when nothing was kept, or it was blamed from another commit or boundary.
    pub(super) fn load(root: &Path, newest: Oid, shallow_boundary: BTreeSet<Oid>) -> KeptBlame {
        let kept = std::fs::read(root.join(crate::pimfeed_folder::KEPT_BLAME))
            .ok()
            .and_then(|bytes| postcard::from_bytes::<Stored>(&bytes).ok())
            .filter(|stored| {
                stored.format == FORMAT
                    && stored.newest == newest.as_bytes()
                    && stored
                        .shallow_boundary
                        .iter()
                        .map(Vec::as_slice)
                        .eq(shallow_boundary.iter().map(Oid::as_bytes))
            })
            .map(|stored| stored.files.into_iter().filter_map(from_stored).collect())
            .unwrap_or_default();
        KeptBlame {
            kept,
            ..KeptBlame::empty(newest, shallow_boundary)
        }
    }

    /// Nothing kept yet, for blaming from `newest` with `shallow_boundary`.
    pub(super) fn empty(newest: Oid, shallow_boundary: BTreeSet<Oid>) -> KeptBlame {
        KeptBlame {
            newest,
            shallow_boundary,
            kept: HashMap::new(),
            this_run: HashMap::new(),
            blamed_anew: false,
        }
    }

    /// The hunks kept for `file` when its stamp is still `stamp`: its bytes were not read.
    pub(super) fn get_stamped(&mut self, file: &Path, stamp: FileStamp) -> Option<Vec<Hunk>> {
        let entry = self.kept.get(file)?;
        if entry.stamp != Some(stamp) {
            return None;
        }
        self.this_run.insert(file.to_path_buf(), entry.clone());
        Some(entry.hunks.clone())
    }

    /// The hunks kept for `file` when they were blamed from the bytes whose blob id is `blob`,
    /// read when the file's stamp was `stamp`.
    pub(super) fn get(
        &mut self,
        file: &Path,
        blob: Oid,
        stamp: Option<FileStamp>,
    ) -> Option<Vec<Hunk>> {
        let entry = self.kept.get(file)?;
        if entry.blob != blob {
            return None;
        }
        if entry.stamp != stamp {
            // Kept with the new stamp, so the next run need not read the file.
            self.blamed_anew = true;
        }
        let hunks = entry.hunks.clone();
        self.this_run.insert(
            file.to_path_buf(),
            Entry {
                blob,
                stamp,
                hunks: hunks.clone(),
            },
        );
        Some(hunks)
    }

    /// Records what blaming `file`, whose bytes have the blob id `blob` and were read when its
    /// stamp was `stamp`, found.
    pub(super) fn insert(
        &mut self,
        file: &Path,
        blob: Oid,
        stamp: Option<FileStamp>,
        hunks: &[Hunk],
    ) {
        self.blamed_anew = true;
        let hunks = hunks.to_vec();
        self.this_run
            .insert(file.to_path_buf(), Entry { blob, stamp, hunks });
    }

    /// Replaces the kept file with what this run used and found, when that differs from
    /// what was kept. Written beside and renamed, so a crash never leaves half a file (and one
    /// that cannot be decoded is only blamed again). Failing to keep it fails nothing.
    pub(super) fn keep(self, root: &Path) {
        if !self.blamed_anew {
            return;
        }
        let mut files: Vec<StoredFile> = self
            .this_run
            .into_iter()
            .map(|(path, entry)| StoredFile {
                path: path.to_string_lossy().replace('\\', "/"),
                blob: entry.blob.as_bytes().to_vec(),
                stamp: entry.stamp,
                hunks: entry
                    .hunks
                    .iter()
                    .map(|h| (h.first, h.last, h.commit.as_bytes().to_vec()))
                    .collect(),
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let stored = Stored {
            format: FORMAT,
            newest: self.newest.as_bytes().to_vec(),
            shallow_boundary: self
                .shallow_boundary
                .iter()
                .map(|oid| oid.as_bytes().to_vec())
                .collect(),
            files,
        };
        let Ok(bytes) = postcard::to_stdvec(&stored) else {
            return;
        };
        let kept = root.join(crate::pimfeed_folder::KEPT_BLAME);
        let _ = crate::pimfeed_folder::replace(&kept, |mut file| {
            std::io::Write::write_all(&mut file, &bytes)
        });
    }
}

fn from_stored(file: StoredFile) -> Option<(PathBuf, Entry)> {
    let blob = Oid::from_bytes(&file.blob).ok()?;
    let hunks = file
        .hunks
        .into_iter()
        .map(|(first, last, commit)| {
            Some(Hunk {
                first,
                last,
                commit: Oid::from_bytes(&commit).ok()?,
            })
        })
        .collect::<Option<Vec<Hunk>>>()?;
    let stamp = file.stamp;
    Some((PathBuf::from(file.path), Entry { blob, stamp, hunks }))
}
