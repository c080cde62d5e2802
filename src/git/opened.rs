//! The catalog's repository, opened once per build (ahead, on a thread of its own) and, for
//! a `watch` or `serve`, kept from one rebuild to the next.
//!
//! Asking git whether one edited file differs from the commit is a lookup of one index entry,
//! but libgit2 loads the whole index first: at 100k products 57,000 entries parsed, hashed
//! into a map and checksummed, 50 ms, nearly all of what the manifest's `git` field cost a
//! rebuild after a one-line edit. A repository keeps its loaded index, and libgit2 reads the
//! index file again only when its trailing checksum (the SHA-1 of its bytes, which git
//! writes with every change to the index: `git add`, a commit, a checkout) differs from the
//! one it loaded, so a kept repository answers with the same entries a fresh one would read.
//!
//! What libgit2 keeps that it would not notice changing is checked before a kept repository
//! is used again (see [`Opened::still_holds`]): that discovery from the catalog still finds
//! the same repository, and that no git configuration file changed (libgit2 reads settings
//! such as `core.autocrlf`, `core.filemode` or `core.ignorecase` once per repository).
//! Ignore and attribute files, references and objects libgit2 checks or reads anew itself.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;

use git2::Repository;

/// The repository holding a catalog, opened, with its index loaded when a build asks for it.
pub struct Opened {
    repo: Repository,
    /// Where discovery from the catalog found it (its `.git` folder).
    git_dir: PathBuf,
    /// The git configuration files and their stamps when it was opened.
    settings: Vec<(PathBuf, Option<SettingsStamp>)>,
}

/// What identifies a configuration file's bytes without reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SettingsStamp {
    len: u64,
    modified_ns: i128,
    changed_ns: i128,
    inode: u64,
}

impl SettingsStamp {
    fn of(path: &Path) -> Option<SettingsStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        let nanos = |time: std::io::Result<std::time::SystemTime>| {
            time.ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128)
        };
        #[cfg(unix)]
        let (changed_ns, inode) = {
            use std::os::unix::fs::MetadataExt;
            (
                i128::from(metadata.ctime()) * 1_000_000_000 + i128::from(metadata.ctime_nsec()),
                metadata.ino(),
            )
        };
        #[cfg(not(unix))]
        let (changed_ns, inode) = (0, 0);
        Some(SettingsStamp {
            len: metadata.len(),
            modified_ns: nanos(metadata.modified()),
            changed_ns,
            inode,
        })
    }
}

impl Opened {
    /// The repository holding `root`, or `None` outside one (or in a bare one). With
    /// `load_index`, its index is loaded now, so that a status asked later finds it loaded.
    pub fn open(root: &Path, load_index: bool) -> Option<Opened> {
        let git_dir = Repository::discover_path(root, std::iter::empty::<&Path>()).ok()?;
        // Stamped before the repository reads them, so a change while it opens is noticed.
        let stamped = |files: Vec<PathBuf>| -> Vec<(PathBuf, Option<SettingsStamp>)> {
            files
                .into_iter()
                .map(|path| {
                    let stamp = SettingsStamp::of(&path);
                    (path, stamp)
                })
                .collect()
        };
        let mut settings = stamped(settings_files(&git_dir));
        let repo = Repository::open(&git_dir).ok()?;
        repo.workdir()?;
        if repo.commondir() != repo.path() {
            // A linked worktree also reads its main repository's configuration.
            settings.extend(stamped(vec![repo.commondir().join("config")]));
        }
        if load_index {
            // An index that cannot be read now is read (or fails) again when status asks.
            let _ = repo.index();
        }
        Some(Opened {
            repo,
            git_dir,
            settings,
        })
    }

    /// Whether this repository, opened for an earlier build, answers for the catalog at
    /// `root` as one opened now would: discovery from `root` finds the same `.git` folder,
    /// and no git configuration file changed since it was opened.
    pub fn still_holds(&self, root: &Path) -> bool {
        let found = Repository::discover_path(root, std::iter::empty::<&Path>());
        found.is_ok_and(|found| found == self.git_dir)
            && self
                .settings
                .iter()
                .all(|(path, stamp)| SettingsStamp::of(path) == *stamp)
    }

    pub fn repository(&self) -> &Repository {
        &self.repo
    }
}

/// The git configuration files libgit2 reads for the repository at `git_dir`, whether they
/// exist or not (one created later changes the settings too): its own, and the global, XDG
/// and system ones where libgit2 finds them and where they are by default.
fn settings_files(git_dir: &Path) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|home| home.join(".config")));
    let mut files = vec![git_dir.join("config"), git_dir.join("config.worktree")];
    files.extend(home.map(|home| home.join(".gitconfig")));
    files.extend(xdg.map(|xdg| xdg.join("git").join("config")));
    files.push(PathBuf::from("/etc/gitconfig"));
    let found = [
        git2::Config::find_global(),
        git2::Config::find_xdg(),
        git2::Config::find_system(),
    ];
    for file in found.into_iter().filter_map(Result::ok) {
        if !files.contains(&file) {
            files.push(file);
        }
    }
    files
}

/// The repository of a build: being opened on a thread of its own since the build started,
/// then opened (or found not to be there), and at the end of a rebuild kept for the next.
pub struct Opening {
    root: PathBuf,
    load_index: bool,
    progress: Mutex<Progress>,
}

enum Progress {
    Thread(JoinHandle<Option<Opened>>),
    /// No thread could be had (or it panicked): opened when asked.
    WhenAsked,
    Done(Option<Opened>),
}

impl Opening {
    /// Starts opening the repository holding `root` (loading its index with `load_index`)
    /// on a thread of its own; `kept` is what an earlier rebuild opened, used when it still
    /// holds (see [`Opened::still_holds`]).
    pub fn start(root: &Path, load_index: bool, kept: Option<Opened>) -> Opening {
        let on_thread = root.to_path_buf();
        let open = move || match kept {
            Some(kept) if kept.still_holds(&on_thread) => Some(kept),
            _ => Opened::open(&on_thread, load_index),
        };
        let thread = std::thread::Builder::new()
            .name("git-open".to_string())
            .spawn(open);
        Opening {
            root: root.to_path_buf(),
            load_index,
            progress: Mutex::new(thread.map_or(Progress::WhenAsked, Progress::Thread)),
        }
    }

    /// Nothing opened: a run that does not ask git (a `refresh`).
    pub fn none() -> Opening {
        Opening {
            root: PathBuf::new(),
            load_index: false,
            progress: Mutex::new(Progress::Done(None)),
        }
    }

    /// Calls `ask` with the repository, once it is open; `None` outside a repository.
    pub fn with<T>(&self, ask: impl FnOnce(Option<&Opened>) -> T) -> T {
        let mut progress = self
            .progress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !matches!(*progress, Progress::Done(_)) {
            let taken = std::mem::replace(&mut *progress, Progress::Done(None));
            *progress = Progress::Done(self.opened(taken));
        }
        match &*progress {
            Progress::Done(opened) => ask(opened.as_ref()),
            _ => unreachable!("done above"),
        }
    }

    /// The repository opened, for the next rebuild of a `watch` or `serve`.
    pub fn into_kept(self) -> Option<Opened> {
        let progress = self
            .progress
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match progress {
            Progress::Done(opened) => opened,
            // Never asked: what the thread opened is still good for the next rebuild.
            Progress::Thread(thread) => thread.join().ok().flatten(),
            Progress::WhenAsked => None,
        }
    }

    fn opened(&self, progress: Progress) -> Option<Opened> {
        match progress {
            Progress::Done(opened) => opened,
            Progress::Thread(thread) => match thread.join() {
                Ok(opened) => opened,
                Err(_) => Opened::open(&self.root, self.load_index),
            },
            Progress::WhenAsked => Opened::open(&self.root, self.load_index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::tests::{commit_all, committed_catalog};
    use crate::git::{GitState, state, state_in};

    /// The state a repository kept from the last rebuild gives (as `watch` keeps it: opened
    /// again when it no longer holds), after checking it is what a fresh one gives.
    fn kept_and_fresh(kept: &mut Option<Opened>, root: &Path, changed: &[&str]) -> GitState {
        let changed: Vec<&Path> = changed.iter().map(Path::new).collect();
        let output = root.join("feeds");
        let opening = Opening::start(root, true, kept.take());
        let answer =
            opening.with(|opened| state_in(opened.unwrap(), root, &output, &changed, None));
        *kept = opening.into_kept();
        let fresh = state(root, &output, &changed);
        assert_eq!(answer, fresh, "kept and fresh repositories disagree");
        answer.unwrap()
    }

    fn head(root: &Path) -> Option<String> {
        let repo = Repository::discover(root).unwrap();
        Some(
            repo.head()
                .unwrap()
                .peel_to_commit()
                .unwrap()
                .id()
                .to_string(),
        )
    }

    fn clean(root: &Path) -> GitState {
        GitState {
            commit: head(root),
            dirty: false,
        }
    }

    fn dirty(root: &Path) -> GitState {
        GitState {
            commit: head(root),
            dirty: true,
        }
    }

    #[test]
    fn a_kept_repository_answers_as_a_fresh_one_through_adds_commits_checkouts_and_ignores() {
        let (dir, root) = committed_catalog();
        let repo = Repository::open(dir.path()).unwrap();
        let a = "content/a.toml";
        let mut kept = Opened::open(&root, true);
        assert_eq!(kept_and_fresh(&mut kept, &root, &[]), clean(&root));

        // An edit, witnessed by the file the build read again.
        std::fs::write(root.join(a), "sku = \"A2\"\n").unwrap();
        assert_eq!(kept_and_fresh(&mut kept, &root, &[a]), dirty(&root));
        // Staged, then put back as committed: the index (read again) still differs.
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("catalog/content/a.toml")).unwrap();
        index.write().unwrap();
        std::fs::write(root.join(a), "sku = \"A\"\n").unwrap();
        assert_eq!(kept_and_fresh(&mut kept, &root, &[a]), dirty(&root));
        // Committed as it is in the working tree: a new commit, clean again.
        commit_all(&repo, "Test");
        assert_eq!(kept_and_fresh(&mut kept, &root, &[a]), clean(&root));

        // Edited, then checked out again (which rewrites the index's stamps for it).
        std::fs::write(root.join(a), "sku = \"A3\"\n").unwrap();
        assert_eq!(kept_and_fresh(&mut kept, &root, &[a]), dirty(&root));
        let mut checkout = git2::build::CheckoutBuilder::new();
        checkout.force().path("catalog/content/a.toml");
        repo.checkout_head(Some(&mut checkout)).unwrap();
        assert_eq!(kept_and_fresh(&mut kept, &root, &[a]), clean(&root));
        // Bytes of the same length written within the same tick as the checkout.
        std::fs::write(root.join(a), "sku = \"Z\"\n").unwrap();
        assert_eq!(kept_and_fresh(&mut kept, &root, &[]), dirty(&root));
        std::fs::write(root.join(a), "sku = \"A\"\n").unwrap();
        assert_eq!(kept_and_fresh(&mut kept, &root, &[a]), clean(&root));

        // Untracked: as a file the build read, and elsewhere (found by the walk).
        std::fs::write(root.join("content/c.toml"), "sku = \"C\"\n").unwrap();
        assert_eq!(
            kept_and_fresh(&mut kept, &root, &["content/c.toml"]),
            dirty(&root)
        );
        std::fs::remove_file(root.join("content/c.toml")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "later").unwrap();
        assert_eq!(kept_and_fresh(&mut kept, &root, &[a]), dirty(&root));
        // Ignored by a rule added since: libgit2 reads the changed exclude file again.
        let exclude = repo.path().join("info/exclude");
        std::fs::create_dir_all(exclude.parent().unwrap()).unwrap();
        std::fs::write(&exclude, "notes.txt\n").unwrap();
        assert_eq!(kept_and_fresh(&mut kept, &root, &[a]), clean(&root));
        // Ignored by the rules committed, whether the build read it or not.
        std::fs::write(root.join("content/x.local"), "ignored").unwrap();
        assert_eq!(
            kept_and_fresh(&mut kept, &root, &["content/x.local"]),
            clean(&root)
        );
        // Deleted, and restored by the next commit's checkout.
        std::fs::remove_file(root.join("content/b.toml")).unwrap();
        assert_eq!(kept_and_fresh(&mut kept, &root, &[]), dirty(&root));
        repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .unwrap();
        assert_eq!(kept_and_fresh(&mut kept, &root, &[]), clean(&root));
    }

    #[test]
    fn a_kept_repository_is_opened_again_when_its_settings_or_its_place_change() {
        let (dir, root) = committed_catalog();
        let kept = Opened::open(&root, true).unwrap();
        assert!(kept.still_holds(&root));
        let repo = Repository::open(dir.path()).unwrap();
        repo.config()
            .unwrap()
            .set_bool("core.filemode", false)
            .unwrap();
        assert!(!kept.still_holds(&root), "its configuration changed");
        let kept = Opened::open(&root, true).unwrap();
        assert!(kept.still_holds(&root));
        // A repository made for the catalog folder itself: discovery finds that one now.
        Repository::init(&root).unwrap();
        assert!(
            !kept.still_holds(&root),
            "another repository holds the catalog"
        );
        let opening = Opening::start(&root, true, Some(kept));
        let found = opening.with(|opened| opened.unwrap().repository().path().to_path_buf());
        assert_eq!(
            found.canonicalize().unwrap(),
            root.join(".git").canonicalize().unwrap()
        );
    }
}
