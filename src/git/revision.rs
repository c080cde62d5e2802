//! A catalog as it was at a git revision, read straight from git objects (no checkout).
//!
//! CI checkouts are often shallow: the base branch's commit may simply not be there. That
//! is not a user's typo, so the error says how to fetch the history instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};

use crate::content::source::Revision;

/// The folders and files of a catalog that a revision's build depends on. The ERP export
/// is not among them: both sides of a diff merge with the same, current ERP numbers.
const CATALOG_PATHS: &[&str] = &["pim.toml", "content", "templates"];

#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    #[error(
        "{} is not inside a git repository; `pimfeed diff` compares git revisions (run `git init` and commit, or use `pimfeed check`)",
        .0.display()
    )]
    NotARepository(PathBuf),
    #[error(
        "revision `{name}` is not in this clone, which is shallow (its history was cut off); fetch the full history with `git fetch --unshallow`, or in GitHub Actions give actions/checkout `fetch-depth: 0`"
    )]
    Shallow { name: String },
    #[error(
        "unknown revision `{name}`: give a branch, tag or commit id, e.g. `main`, `origin/main` or `HEAD~1`{hint}"
    )]
    Unknown { name: String, hint: String },
    #[error("cannot read revision `{name}`: {message}")]
    Git { name: String, message: String },
}

/// The repository holding `root`, and `root`'s path inside its working tree.
pub fn open(root: &Path) -> Result<(Repository, PathBuf), RevisionError> {
    let not_a_repo = || RevisionError::NotARepository(root.to_path_buf());
    let repo = Repository::discover(root).map_err(|_| not_a_repo())?;
    let workdir = repo.workdir().ok_or_else(not_a_repo)?;
    let workdir = workdir.canonicalize().map_err(|_| not_a_repo())?;
    let root = root.canonicalize().map_err(|_| not_a_repo())?;
    let prefix = root
        .strip_prefix(&workdir)
        .map_err(|_| not_a_repo())?
        .to_path_buf();
    Ok((repo, prefix))
}

/// Reads the catalog files of revision `name` of the repository holding `root`.
pub fn load(root: &Path, name: &str) -> Result<Revision, RevisionError> {
    let (repo, prefix) = open(root)?;
    let git_error = |err: git2::Error| RevisionError::Git {
        name: name.to_string(),
        message: err.message().to_string(),
    };
    let commit = match repo
        .revparse_single(name)
        .and_then(|object| object.peel_to_commit())
    {
        Ok(commit) => commit,
        Err(err) => return Err(missing(&repo, name, &err)),
    };
    let tree = commit.tree().map_err(|err| missing(&repo, name, &err))?;
    let mut files = BTreeMap::new();
    for top in CATALOG_PATHS {
        let path = prefix.join(top);
        let entry = match tree.get_path(&path) {
            Ok(entry) => entry,
            Err(err) if err.code() == git2::ErrorCode::NotFound => continue,
            Err(err) => return Err(git_error(err)),
        };
        match entry.kind() {
            Some(ObjectType::Blob) => {
                let blob = repo
                    .find_blob(entry.id())
                    .map_err(|err| missing(&repo, name, &err))?;
                files.insert(PathBuf::from(top), blob.content().to_vec());
            }
            Some(ObjectType::Tree) => {
                let subtree = repo
                    .find_tree(entry.id())
                    .map_err(|err| missing(&repo, name, &err))?;
                let mut blobs = Vec::new();
                subtree
                    .walk(TreeWalkMode::PreOrder, |dir, entry| {
                        // Symbolic links and submodules are not catalog files.
                        if entry.kind() == Some(ObjectType::Blob)
                            && entry.filemode() != 0o120000
                            && let Ok(file) = entry.name()
                        {
                            blobs.push((Path::new(top).join(dir).join(file), entry.id()));
                        }
                        TreeWalkResult::Ok
                    })
                    .map_err(git_error)?;
                for (path, id) in blobs {
                    let blob = repo
                        .find_blob(id)
                        .map_err(|err| missing(&repo, name, &err))?;
                    files.insert(path, blob.content().to_vec());
                }
            }
            _ => {}
        }
    }
    Ok(Revision {
        name: name.to_string(),
        commit: commit.id().to_string(),
        files,
    })
}

/// The error for a revision or object that cannot be found: in a shallow clone the history
/// is most likely cut off, otherwise the name is probably wrong.
fn missing(repo: &Repository, name: &str, err: &git2::Error) -> RevisionError {
    if repo.is_shallow() {
        return RevisionError::Shallow {
            name: name.to_string(),
        };
    }
    if err.code() != git2::ErrorCode::NotFound && err.class() != git2::ErrorClass::Odb {
        return RevisionError::Git {
            name: name.to_string(),
            message: err.message().to_string(),
        };
    }
    let hint = match name.split_once('/') {
        Some((remote, _)) if repo.find_remote(remote).is_ok() => {
            format!("; if the branch exists on `{remote}`, run `git fetch {remote}` first")
        }
        _ => String::new(),
    };
    RevisionError::Unknown {
        name: name.to_string(),
        hint,
    }
}
