//! What the catalog's git repository says about the content a build used.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Lets libgit2 keep parsed trees of any size. It keeps only trees under 4 KiB by default; a
/// catalog folder of a few hundred product files has a larger tree, which blame would
/// otherwise read, inflate and parse again for every file it blames (a third of a build from
/// the cache at 100k products went there).
///
/// Call it first thing in `main`, before any thread starts: libgit2 reads the setting
/// without a lock.
pub fn keep_large_trees() {
    // SAFETY: called before any thread exists, as the function's contract asks.
    let _ = unsafe { git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 64 << 20) };
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GitState {
    /// The commit checked out, absent in a repository without commits.
    pub commit: Option<String>,
    /// Whether content differs from that commit (untracked files count, build output not).
    pub dirty: bool,
}

/// The git state of the repository containing `root`, or `None` outside a repository.
/// `output` (the feeds folder) is ignored when deciding whether the tree is dirty.
pub fn state(root: &Path, output: &Path) -> Option<GitState> {
    let repo = git2::Repository::discover(root).ok()?;
    let commit = repo
        .head()
        .ok()
        .and_then(|head| head.peel_to_commit().ok())
        .map(|commit| commit.id().to_string());
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let output = output
        .canonicalize()
        .unwrap_or_else(|_| output.to_path_buf());
    let mut options = git2::StatusOptions::new();
    options.include_untracked(true).include_ignored(false);
    let dirty = repo.statuses(Some(&mut options)).ok()?.iter().any(|entry| {
        let Ok(path) = entry.path() else {
            return true;
        };
        let absolute = workdir.join(path);
        !absolute.starts_with(&output) && !is_build_artifact(&absolute, &output)
    });
    Some(GitState { commit, dirty })
}

/// Staging and previous-build folders sit next to the output folder while a build runs, and
/// `.pimfeed/` holds what pimfeed keeps between runs: neither is content.
fn is_build_artifact(path: &Path, output: &Path) -> bool {
    let Some(name) = output.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return false;
    };
    path.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        crate::pimfeed_folder::is_folder(&c)
            || c.starts_with(&format!(".{name}.staging-"))
            || c.starts_with(&format!(".{name}.old-"))
    })
}

pub mod blame;
pub mod revision;
