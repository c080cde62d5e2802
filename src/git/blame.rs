//! Who last touched a line: the commit, author and date behind each reason a product is left
//! out or warned about, so a reviewer knows whom to ask.
//!
//! Blame walks history, so it is only asked for lines that have something to say (reasons
//! and diagnostics, not every product), is cached per file, and stops after
//! [`MAX_FILES`] files: a catalog with thousands of broken products gets its reasons
//! without waiting for thousands of blames.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{BlameOptions, Oid, Repository};

use super::kept_blame::{FileStamp, KeptBlame};
use crate::content::CatalogSource;
use crate::diagnostics::Blame;

/// At most this many files are blamed in one run.
pub const MAX_FILES: usize = 2000;

/// Whether a [`Blamer`] uses and keeps what earlier builds blamed (see [`KeptBlame`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptUse {
    /// Blames everything, keeps nothing: a run that writes nothing.
    Neither,
    /// Blames only what was not kept, and keeps what it found: a build.
    UseAndKeep,
    /// Blames everything and keeps it: a build without the build cache.
    KeepOnly,
}

/// Blames lines of catalog files, in the working tree or at a revision.
pub struct Blamer {
    repo: Repository,
    /// The catalog's folder inside the repository.
    prefix: PathBuf,
    /// The commit blame starts from (`at`, or the working tree's HEAD), looked up once: `None`
    /// in a repository without commits.
    newest: Option<Oid>,
    /// The catalog folder on disk, for working-tree files; `None` at a revision.
    root: Option<PathBuf>,
    files: HashMap<PathBuf, Option<Vec<Hunk>>>,
    /// What earlier builds found in working-tree files, for the same commit (see
    /// [`KeptBlame`]); `None` at a revision, or without commits.
    kept: Option<KeptBlame>,
    commits: HashMap<Oid, Blame>,
    /// In a shallow clone, the commits whose parents were cut off: blame gives every line
    /// older than them to them, which would name the wrong author.
    shallow_boundary: std::collections::HashSet<Oid>,
}

#[derive(Clone)]
pub(super) struct Hunk {
    /// 1-based, inclusive.
    pub(super) first: u32,
    pub(super) last: u32,
    /// Zero for lines not committed yet.
    pub(super) commit: Oid,
}

impl Blamer {
    /// A blamer for `source`, whose working-tree root is `root`; `None` outside a git
    /// repository, where there is no history to tell.
    pub fn new(source: &CatalogSource, root: &Path) -> Option<Blamer> {
        Blamer::with_kept(source, root, KeptUse::Neither)
    }

    /// [`Blamer::new`], which for working-tree files uses and keeps what earlier builds found
    /// as `kept` says (see [`KeptBlame`]).
    pub fn with_kept(source: &CatalogSource, root: &Path, kept: KeptUse) -> Option<Blamer> {
        let (repo, prefix) = super::revision::open(root).ok()?;
        let at = match source {
            CatalogSource::Dir(_) => None,
            CatalogSource::Revision(revision) => Some(Oid::from_str(&revision.commit).ok()?),
        };
        let shallow_boundary = shallow_boundary(&repo);
        let newest = match at {
            Some(commit) => Some(commit),
            None => repo
                .head()
                .ok()
                .and_then(|h| h.peel_to_commit().ok())
                .map(|c| c.id()),
        };
        let root = source.root().map(Path::to_path_buf);
        let kept = match (at, newest, &root, kept) {
            (_, _, _, KeptUse::Neither) => None,
            (None, Some(newest), Some(root), kept) => {
                let boundary = shallow_boundary.iter().copied().collect();
                Some(match kept {
                    KeptUse::UseAndKeep => KeptBlame::load(root, newest, boundary),
                    _ => KeptBlame::empty(newest, boundary),
                })
            }
            _ => None,
        };
        Some(Blamer {
            repo,
            prefix,
            newest,
            root,
            files: HashMap::new(),
            kept,
            commits: HashMap::new(),
            shallow_boundary,
        })
    }

    /// Keeps what this blamer found in working-tree files for the next build (see
    /// [`KeptBlame`]); only a run that may write to the catalog's folder calls it.
    pub fn keep(self) {
        if let (Some(kept), Some(root)) = (self.kept, &self.root) {
            kept.keep(root);
        }
    }

    /// The last change to `line` (1-based) of the catalog-relative `file`.
    pub fn line(&mut self, file: &Path, line: u32) -> Option<Blame> {
        if line == 0 {
            return None;
        }
        if !self.files.contains_key(file) {
            let hunks = if self.files.len() < MAX_FILES {
                self.blame_file(file)
            } else {
                None
            };
            self.files.insert(file.to_path_buf(), hunks);
        }
        let hunks = self.files.get(file)?.as_ref()?;
        let hunk = hunks.iter().find(|h| h.first <= line && line <= h.last);
        let commit = hunk.map_or(Oid::ZERO_SHA1, |h| h.commit);
        if commit.is_zero() {
            return Some(Blame::uncommitted());
        }
        if self.shallow_boundary.contains(&commit) {
            return Some(Blame::cut_off(&commit.to_string()));
        }
        if let Some(blame) = self.commits.get(&commit) {
            return Some(blame.clone());
        }
        let found = self.repo.find_commit(commit).ok()?;
        let author = found.author();
        let time = author.when();
        let date = chrono::DateTime::from_timestamp(
            time.seconds() + i64::from(time.offset_minutes()) * 60,
            0,
        )
        .map(|t| t.format("%Y-%m-%d").to_string());
        let blame = Blame {
            committed: true,
            commit: Some(commit.to_string()),
            // Always set for committed lines, so templates can show them without checks.
            author: Some(author.name().unwrap_or("?").to_string()),
            date: Some(date.unwrap_or_else(|| "?".to_string())),
            summary: found.summary().ok().flatten().map(str::to_string),
            history_cut_off: false,
        };
        self.commits.insert(commit, blame.clone());
        Some(blame)
    }

    /// Hunks of `file`; an empty list (everything uncommitted) for a file git does not know
    /// yet, `None` when blame fails.
    fn blame_file(&mut self, file: &Path) -> Option<Vec<Hunk>> {
        let Some(head) = self.newest else {
            return Some(Vec::new());
        };
        // A working-tree file (only a directory source has a root) is blamed with its bytes.
        let Some(root) = &self.root else {
            return self.blame_from(head, file, None);
        };
        let path = root.join(file);
        // Stamped before reading, so bytes written after the stamp never go with it.
        let stamp = self.kept.as_ref().and_then(|_| FileStamp::of(&path));
        if let (Some(kept), Some(stamp)) = (self.kept.as_mut(), stamp)
            && let Some(hunks) = kept.get_stamped(file, stamp)
        {
            return Some(hunks);
        }
        let text = std::fs::read(&path).ok()?;
        let blob = Oid::hash_object(git2::ObjectType::Blob, &text).ok()?;
        if let Some(hunks) = self
            .kept
            .as_mut()
            .and_then(|kept| kept.get(file, blob, stamp))
        {
            return Some(hunks);
        }
        let hunks = self.blame_from(head, file, Some((&text, blob)))?;
        if let Some(kept) = self.kept.as_mut() {
            kept.insert(file, blob, stamp, &hunks);
        }
        Some(hunks)
    }

    /// Blames `file` from the commit `head`; for a working-tree file, `working` holds its bytes
    /// and their blob id.
    fn blame_from(
        &self,
        head: Oid,
        file: &Path,
        working: Option<(&[u8], Oid)>,
    ) -> Option<Vec<Hunk>> {
        let path = self.prefix.join(file);
        let mut options = BlameOptions::new();
        options.newest_commit(head);
        let committed = self
            .repo
            .find_commit(head)
            .and_then(|c| c.tree())
            .and_then(|t| t.get_path(&path))
            .map(|entry| entry.id());
        let Ok(committed) = committed else {
            return Some(Vec::new());
        };
        let blame = self.repo.blame_file(&path, Some(&mut options)).ok()?;
        let blame = match working {
            // The working tree: lines edited since the last commit have a zero commit id.
            // A file as committed has none, and blaming it against itself (a diff that
            // looks up the file's attributes first) would change nothing.
            Some((_, blob)) if blob == committed => blame,
            Some((text, _)) => blame.blame_buffer(text).ok()?,
            None => blame,
        };
        Some(
            blame
                .iter()
                .filter(|h| h.lines_in_hunk() > 0)
                .map(|h| {
                    let first = h.final_start_line() as u32;
                    Hunk {
                        first,
                        last: first + h.lines_in_hunk() as u32 - 1,
                        commit: h.final_commit_id(),
                    }
                })
                .collect(),
        )
    }
}

/// The commits a shallow clone's history stops at (git's `shallow` file); empty for a full
/// clone.
fn shallow_boundary(repo: &Repository) -> std::collections::HashSet<Oid> {
    if !repo.is_shallow() {
        return Default::default();
    }
    std::fs::read_to_string(repo.path().join("shallow"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| Oid::from_str(line.trim()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::tests::commit_all;

    fn author(root: &Path, kept: KeptUse) -> Option<String> {
        let source = CatalogSource::Dir(root.to_path_buf());
        let mut blamer = Blamer::with_kept(&source, root, kept).unwrap();
        let blame = blamer.line(Path::new("a.toml"), 1).unwrap();
        if kept != KeptUse::Neither {
            blamer.keep();
        }
        blame.author
    }

    /// Points every kept hunk of `a.toml` at `commit`, as if blame had found it.
    fn tamper(root: &Path, commit: Oid) {
        let path = root.join(crate::pimfeed_folder::KEPT_BLAME);
        let mut stored: super::super::kept_blame::Stored =
            postcard::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
        for file in &mut stored.files {
            for hunk in &mut file.hunks {
                hunk.2 = commit.as_bytes().to_vec();
            }
        }
        std::fs::write(&path, postcard::to_stdvec(&stored).unwrap()).unwrap();
    }

    /// Points every kept entry at bytes no file has, so only its stamp can vouch for it.
    fn forget_bytes(root: &Path) {
        let path = root.join(crate::pimfeed_folder::KEPT_BLAME);
        let mut stored: super::super::kept_blame::Stored =
            postcard::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
        for file in &mut stored.files {
            file.blob = vec![0; 20];
        }
        std::fs::write(&path, postcard::to_stdvec(&stored).unwrap()).unwrap();
    }

    /// Writes `text` to `path` and dates it an hour back, as a file not touched lately.
    fn write_an_hour_ago(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }

    #[test]
    fn an_unchanged_stamp_is_trusted_without_reading_and_a_changed_one_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let repo = Repository::init(root).unwrap();
        write_an_hour_ago(&root.join("a.toml"), "sku = \"A\"\n");
        commit_all(&repo, "Alice");
        std::fs::write(root.join("b.toml"), "sku = \"B\"\n").unwrap();
        let bobs = commit_all(&repo, "Bob");
        assert_eq!(author(root, KeptUse::UseAndKeep).as_deref(), Some("Alice"));

        // Same stamp: the kept hunks are taken without reading the file, so kept hunks naming
        // Bob say Bob even though no bytes have the kept blob id.
        tamper(root, bobs);
        forget_bytes(root);
        assert_eq!(author(root, KeptUse::UseAndKeep).as_deref(), Some("Bob"));

        // Other bytes of the same length dated back to the same time: the change time and
        // inode differ, so the file is read, and its new line is nobody's yet.
        tamper(root, bobs);
        forget_bytes(root);
        let _ = std::fs::remove_file(root.join("a.toml"));
        // Past the coarse tick of the kernel's file clock, so the change time moves.
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_an_hour_ago(&root.join("a.toml"), "sku = \"Z\"\n");
        assert_eq!(author(root, KeptUse::UseAndKeep), None);
        // Its bytes put back, just now: a stamp this fresh vouches for nothing, so the file is
        // read and blamed again rather than trusted.
        std::fs::write(root.join("a.toml"), "sku = \"A\"\n").unwrap();
        assert_eq!(author(root, KeptUse::UseAndKeep).as_deref(), Some("Alice"));
        tamper(root, bobs);
        forget_bytes(root);
        assert_eq!(author(root, KeptUse::UseAndKeep).as_deref(), Some("Alice"));
    }

    #[test]
    fn a_build_takes_an_unchanged_files_blame_from_what_the_last_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let repo = Repository::init(root).unwrap();
        std::fs::write(root.join("a.toml"), "sku = \"A\"\n").unwrap();
        commit_all(&repo, "Alice");
        std::fs::write(root.join("b.toml"), "sku = \"B\"\n").unwrap();
        let bobs = commit_all(&repo, "Bob");

        assert_eq!(author(root, KeptUse::UseAndKeep).as_deref(), Some("Alice"));
        // What is kept is used, not blamed again: a kept hunk pointing at Bob's commit says Bob.
        tamper(root, bobs);
        assert_eq!(author(root, KeptUse::UseAndKeep).as_deref(), Some("Bob"));
        // A check neither uses nor keeps it; a build without the cache blames again and keeps.
        assert_eq!(author(root, KeptUse::Neither).as_deref(), Some("Alice"));
        tamper(root, bobs);
        assert_eq!(author(root, KeptUse::KeepOnly).as_deref(), Some("Alice"));
        assert_eq!(author(root, KeptUse::UseAndKeep).as_deref(), Some("Alice"));

        // Other bytes are blamed again: the edited line is nobody's yet.
        tamper(root, bobs);
        std::fs::write(root.join("a.toml"), "sku = \"A2\"\n").unwrap();
        assert_eq!(author(root, KeptUse::Neither), None);
        assert_eq!(author(root, KeptUse::UseAndKeep), None);
        std::fs::write(root.join("a.toml"), "sku = \"A\"\n").unwrap();
        assert_eq!(author(root, KeptUse::UseAndKeep).as_deref(), Some("Alice"));

        // Another commit checked out, the same bytes: blamed again.
        tamper(root, bobs);
        std::fs::write(root.join("c.toml"), "sku = \"C\"\n").unwrap();
        commit_all(&repo, "Carol");
        assert_eq!(author(root, KeptUse::UseAndKeep).as_deref(), Some("Alice"));
    }
}
