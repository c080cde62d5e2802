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

use crate::content::CatalogSource;
use crate::diagnostics::Blame;

/// At most this many files are blamed in one run.
pub const MAX_FILES: usize = 2000;

/// Blames lines of catalog files, in the working tree or at a revision.
pub struct Blamer {
    repo: Repository,
    /// The catalog's folder inside the repository.
    prefix: PathBuf,
    /// Blame as of this commit; `None` for the working tree (uncommitted edits included).
    at: Option<Oid>,
    /// The commit blame starts from (`at`, or the working tree's HEAD), looked up once: `None`
    /// in a repository without commits.
    newest: Option<Oid>,
    /// The catalog folder on disk, for working-tree files.
    root: Option<PathBuf>,
    files: HashMap<PathBuf, Option<Vec<Hunk>>>,
    commits: HashMap<Oid, Blame>,
    /// In a shallow clone, the commits whose parents were cut off: blame gives every line
    /// older than them to them, which would name the wrong author.
    shallow_boundary: std::collections::HashSet<Oid>,
}

struct Hunk {
    /// 1-based, inclusive.
    first: u32,
    last: u32,
    /// Zero for lines not committed yet.
    commit: Oid,
}

impl Blamer {
    /// A blamer for `source`, whose working-tree root is `root`; `None` outside a git
    /// repository, where there is no history to tell.
    pub fn new(source: &CatalogSource, root: &Path) -> Option<Blamer> {
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
        Some(Blamer {
            repo,
            prefix,
            at,
            newest,
            root: source.root().map(Path::to_path_buf),
            files: HashMap::new(),
            commits: HashMap::new(),
            shallow_boundary,
        })
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
    fn blame_file(&self, file: &Path) -> Option<Vec<Hunk>> {
        let path = self.prefix.join(file);
        let mut options = BlameOptions::new();
        let Some(head) = self.newest else {
            return Some(Vec::new());
        };
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
        let blame = match (&self.at, &self.root) {
            // The working tree: lines edited since the last commit have a zero commit id.
            // A file as committed has none, and blaming it against itself (a diff that
            // looks up the file's attributes first) would change nothing.
            (None, Some(root)) => {
                let text = std::fs::read(root.join(file)).ok()?;
                match Oid::hash_object(git2::ObjectType::Blob, &text) {
                    Ok(id) if id == committed => blame,
                    _ => blame.blame_buffer(&text).ok()?,
                }
            }
            _ => blame,
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
