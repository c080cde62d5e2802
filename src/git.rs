//! What the catalog's git repository says about the content a build used.

use std::path::{Path, PathBuf};

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitState {
    /// The commit checked out, absent in a repository without commits.
    pub commit: Option<String>,
    /// Whether content differs from that commit (untracked files count, build output not).
    pub dirty: bool,
}

/// The most files [`state`] asks git about one by one before it walks the whole tree.
pub const MAX_WITNESSES: usize = 16;

/// The git state of the repository containing `root`, or `None` outside a repository.
/// `output` (the feeds folder) is ignored when deciding whether the tree is dirty.
///
/// `changed` are catalog files (relative to `root`) the build found changed since the last
/// one: usually the few a user just edited. If git says one of them differs from the commit
/// (or is untracked), the tree is dirty, and the status of the whole working tree (a stat of
/// every file and a walk of every folder: a tenth of a rebuild at 100k products) is not
/// needed. Only when none of them does is the whole tree walked.
pub fn state(root: &Path, output: &Path, changed: &[&Path]) -> Option<GitState> {
    state_in(&Opened::open(root, false)?, root, output, changed, None)
}

/// [`state`], asked of a repository opened ahead (see [`Opening`]), whose loaded index
/// spares reading it again.
///
/// With a `witness` file, the file that made the tree dirty last time is asked about too,
/// before the walk, and the one that makes it dirty now is kept there for next time (the
/// file is removed when the tree is clean). A build after a local edit that changed nothing
/// since the build before has no `changed` files to go by, and the edit it would otherwise
/// find by walking the whole tree is usually still there. The file only ever spares a walk:
/// what it names is asked of git again, and a witness that no longer differs (or is not a
/// path any more) is walked past.
pub fn state_in(
    opened: &Opened,
    root: &Path,
    output: &Path,
    changed: &[&Path],
    witness: Option<&Path>,
) -> Option<GitState> {
    let repo = opened.repository();
    let commit = repo
        .head()
        .ok()
        .and_then(|head| head.peel_to_commit().ok())
        .map(|commit| commit.id().to_string());
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let output = output
        .canonicalize()
        .unwrap_or_else(|_| output.to_path_buf());
    let counts =
        |absolute: &Path| !absolute.starts_with(&output) && !is_build_artifact(absolute, &output);
    let last_witness = witness.and_then(read_witness);
    let prefix = root
        .canonicalize()
        .ok()
        .and_then(|root| Some(root.strip_prefix(&workdir).ok()?.to_path_buf()));
    let asked = prefix
        .iter()
        .flat_map(|prefix| {
            changed
                .iter()
                .take(MAX_WITNESSES)
                .map(|file| prefix.join(file))
        })
        .chain(last_witness.clone());
    let found = match asked
        .into_iter()
        .find(|file| differs(repo, &workdir, file, &counts))
    {
        Some(file) => Some(file),
        // A status git cannot give leaves the manifest without a git state, as before.
        None => first_difference(repo, &workdir, &counts)?,
    };
    if let Some(witness) = witness
        && found != last_witness
    {
        // Only ever a shortcut for the next build: failing to keep it costs that build a walk.
        let _ = keep_witness(witness, found.as_deref());
    }
    Some(GitState {
        commit,
        dirty: found.is_some(),
    })
}

/// Whether git's status of `file` (relative to the working tree) makes the tree dirty as
/// [`state`] counts it: changed, staged, untracked or deleted, but not ignored. Asked alone,
/// so git reads only its index entry and the file.
fn differs(
    repo: &git2::Repository,
    workdir: &Path,
    file: &Path,
    counts: &dyn Fn(&Path) -> bool,
) -> bool {
    if !counts(&workdir.join(file)) {
        return false;
    }
    let status = repo.status_file(file);
    status.is_ok_and(|status| {
        status != git2::Status::CURRENT && !status.contains(git2::Status::IGNORED)
    })
}

/// The status of the whole working tree: the first file (relative to it) that makes it
/// dirty, if any; `None` when git cannot give the status. An untracked folder is named as a
/// folder: the tree is dirty, with no file to ask about alone next time.
fn first_difference(
    repo: &git2::Repository,
    workdir: &Path,
    counts: &dyn Fn(&Path) -> bool,
) -> Option<Option<PathBuf>> {
    let mut options = git2::StatusOptions::new();
    options.include_untracked(true).include_ignored(false);
    let statuses = repo.statuses(Some(&mut options)).ok()?;
    let first = statuses.iter().find_map(|entry| match entry.path() {
        Ok(path) => counts(&workdir.join(path)).then(|| PathBuf::from(path)),
        // A path git cannot give as UTF-8 still makes the tree dirty.
        Err(_) => Some(PathBuf::from(
            String::from_utf8_lossy(entry.path_bytes()).into_owned(),
        )),
    });
    Some(first)
}

/// Keeps `found` in the witness file; removes the file when the tree is clean.
fn keep_witness(file: &Path, found: Option<&Path>) -> std::io::Result<()> {
    use std::io::Write;
    match found {
        Some(found) => crate::pimfeed_folder::replace(file, |mut out| {
            out.write_all(found.to_string_lossy().as_bytes())
        }),
        None => std::fs::remove_file(file),
    }
}

/// The path kept in a witness file, if there is one to read.
fn read_witness(file: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(file).ok()?;
    (!text.is_empty()).then(|| PathBuf::from(text))
}

/// Staging, previous-build and trash folders sit next to the output folder while a build runs, and
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
            || c.starts_with(&format!(".{name}.trash-"))
    })
}

pub mod blame;
mod kept_blame;
mod opened;
pub mod revision;

pub use opened::{Opened, Opening};

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// A repository with the catalog in `catalog/`, everything committed, the feeds ignored.
    pub(super) fn committed_catalog() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("catalog");
        std::fs::create_dir_all(root.join("content")).unwrap();
        std::fs::write(root.join("content/a.toml"), "sku = \"A\"\n").unwrap();
        std::fs::write(root.join("content/b.toml"), "sku = \"B\"\n").unwrap();
        std::fs::write(dir.path().join(".gitignore"), "/catalog/feeds\n*.local\n").unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        commit_all(&repo, "Test");
        (dir, root)
    }

    /// Commits every file of the working tree as `author`, on top of HEAD if there is one.
    pub(super) fn commit_all(repo: &git2::Repository, author: &str) -> git2::Oid {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let signature = git2::Signature::now(author, "someone@example.com").unwrap();
        let parent = repo.head().ok().map(|h| h.peel_to_commit().unwrap());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        repo.commit(Some("HEAD"), &signature, &signature, "c", &tree, &parents)
            .unwrap()
    }

    fn witnesses(root: &Path, files: &[&str]) -> bool {
        let repo = git2::Repository::discover(root).unwrap();
        let workdir = repo.workdir().unwrap().canonicalize().unwrap();
        let prefix = root.canonicalize().unwrap();
        let prefix = prefix.strip_prefix(&workdir).unwrap();
        let output = root.join("feeds");
        let counts = |absolute: &Path| !absolute.starts_with(&output);
        files
            .iter()
            .any(|file| differs(&repo, &workdir, &prefix.join(file), &counts))
    }

    #[test]
    fn an_edited_or_new_file_the_build_read_makes_the_tree_dirty_without_a_walk() {
        let (_dir, root) = committed_catalog();
        std::fs::write(root.join("content/a.toml"), "sku = \"A2\"\n").unwrap();
        std::fs::write(root.join("content/c.toml"), "sku = \"C\"\n").unwrap();
        assert!(witnesses(&root, &["content/b.toml", "content/a.toml"]));
        assert!(witnesses(&root, &["content/c.toml"]));
        let state = state(&root, &root.join("feeds"), &[Path::new("content/a.toml")]).unwrap();
        assert!(state.dirty);
    }

    #[test]
    fn files_as_committed_ignored_or_in_the_output_witness_nothing_and_the_tree_is_walked() {
        let (_dir, root) = committed_catalog();
        // Touched, same bytes: git says current.
        std::fs::write(root.join("content/a.toml"), "sku = \"A\"\n").unwrap();
        std::fs::write(root.join("content/x.local"), "ignored").unwrap();
        std::fs::create_dir_all(root.join("feeds")).unwrap();
        std::fs::write(root.join("feeds/google.xml"), "<rss/>").unwrap();
        let read = ["content/a.toml", "content/x.local", "feeds/google.xml"];
        assert!(!witnesses(&root, &read));
        let read: Vec<&Path> = read.iter().map(Path::new).collect();
        assert!(!state(&root, &root.join("feeds"), &read).unwrap().dirty);
        // An edit the build did not read (say, `pim.toml`) is still found by the walk.
        std::fs::write(root.join("content/b.toml"), "sku = \"B2\"\n").unwrap();
        assert!(state(&root, &root.join("feeds"), &read).unwrap().dirty);
    }

    #[test]
    fn the_file_that_made_the_tree_dirty_is_kept_and_asked_about_first_next_time() {
        let (dir, root) = committed_catalog();
        let (_dir, witness) = (dir, root.join(crate::pimfeed_folder::GIT_DIRTY));
        std::fs::create_dir_all(witness.parent().unwrap()).unwrap();
        let output = root.join("feeds");
        let ask = |changed: &[&Path]| {
            let opened = Opened::open(&root, false).unwrap();
            state_in(&opened, &root, &output, changed, Some(&witness)).unwrap()
        };
        assert!(!ask(&[]).dirty);
        assert!(!witness.exists(), "a clean tree keeps no witness");

        // Found by the walk (nothing changed for the build to go by), and kept.
        std::fs::write(root.join("content/b.toml"), "sku = \"B2\"\n").unwrap();
        assert!(ask(&[]).dirty);
        assert_eq!(
            std::fs::read_to_string(&witness).unwrap(),
            "catalog/content/b.toml"
        );

        // The walk is what would find another edit; with the witness still differing, the
        // tree is dirty without it. A witness that no longer differs is walked past.
        assert!(ask(&[]).dirty);
        std::fs::write(root.join("content/b.toml"), "sku = \"B\"\n").unwrap();
        assert!(!ask(&[]).dirty);
        assert!(!witness.exists());

        // A changed file the build read is kept as the witness; one that is gone (or a
        // witness file naming nothing) only costs a walk.
        std::fs::write(root.join("content/a.toml"), "sku = \"A2\"\n").unwrap();
        assert!(ask(&[Path::new("content/a.toml")]).dirty);
        assert_eq!(
            std::fs::read_to_string(&witness).unwrap(),
            "catalog/content/a.toml"
        );
        std::fs::write(&witness, "catalog/content/gone.toml").unwrap();
        assert!(ask(&[]).dirty);
        assert_eq!(
            std::fs::read_to_string(&witness).unwrap(),
            "catalog/content/a.toml"
        );
    }
}
