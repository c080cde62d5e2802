//! `watch`: build, then build again whenever the catalog's sources change.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};

use super::{build, exit};
use crate::cli::{Cli, WatchArgs};
use crate::config::ErpConfig;
use crate::pipeline::{self, KeptInputs, Mode, WatchedChanges};

pub fn run(root: &Path, args: &WatchArgs, cli: &Cli) -> u8 {
    let watcher = match SourceWatcher::start(root) {
        Ok(watcher) => watcher,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::OPERATIONAL;
        }
    };
    let root = watcher.root().to_path_buf();
    build::run_watched(&root, &args.build, cli, Mode::Build, Some(&watcher));
    let debounce = Duration::from_millis(args.debounce_ms);
    loop {
        eprintln!("watching pim.toml, content/ and templates/ for changes (Ctrl-C to stop)");
        let Some(changed) = watcher.next_change(debounce) else {
            return exit::OK;
        };
        eprintln!("{}", changed_line(&changed, chrono::Local::now()));
        build::run_watched(&root, &args.build, cli, Mode::Build, Some(&watcher));
    }
}

/// Watches what a build of the catalog reads (also for `serve`, which rebuilds the same way).
pub(crate) struct SourceWatcher {
    // Kept alive: dropping it stops the events.
    _watcher: notify::RecommendedWatcher,
    received: mpsc::Receiver<notify::Result<notify::Event>>,
    sources: Sources,
    /// Every change seen under `content/`, for the builds it starts (see [`WatchedChanges`]).
    log: Mutex<WatchedChanges>,
    /// What its builds keep from one to the next, and what changed since (see
    /// [`KeptInputs`]).
    kept: Mutex<KeptInputs>,
    /// The wall clock when watching began, beside a monotonic one: a jump of the wall clock
    /// would make the log's times lie.
    clock: (Instant, i64),
}

/// A folder or file of the catalog that cannot be watched.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {}: {source}", path.display())]
pub(crate) struct WatchError {
    path: PathBuf,
    source: notify::Error,
}

impl SourceWatcher {
    /// Starts watching the catalog at `root`; the error says what could not be watched.
    pub(crate) fn start(root: &Path) -> Result<SourceWatcher, WatchError> {
        let (events, received) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(events).map_err(|source| WatchError {
            path: root.to_path_buf(),
            source,
        })?;
        // Events name paths under what was watched; one spelling of the root keeps them
        // comparable.
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let clock = (Instant::now(), crate::cache::now_ns());
        let sources = Sources::of(&root);
        for (path, mode) in sources.watched() {
            watcher.watch(&path, mode).map_err(|source| WatchError {
                path: path.clone(),
                source,
            })?;
        }
        let mut log = WatchedChanges::default();
        let mut kept = KeptInputs::new(&sources.root, sources.erp_files.clone());
        if !sources.root.join(CONTENT).is_dir() {
            // Nothing under it is watched, so no build can skip a file's stamp.
            log.lost_for_good();
            kept.lost_for_good();
        }
        Ok(SourceWatcher {
            _watcher: watcher,
            received,
            sources,
            log: Mutex::new(log),
            kept: Mutex::new(kept),
            clock,
        })
    }

    /// What the watcher saw change, for the builds it starts.
    pub(crate) fn log(&self) -> &Mutex<WatchedChanges> {
        &self.log
    }

    /// What its builds keep from one to the next. A build that panicked while holding it
    /// may have left it half-updated: then it is all dropped.
    pub(crate) fn kept(&self) -> MutexGuard<'_, KeptInputs> {
        self.kept.lock().unwrap_or_else(|poisoned| {
            let mut kept = poisoned.into_inner();
            kept.forget();
            self.kept.clear_poison();
            kept
        })
    }

    /// Notes in the log what `event` changed under `content/`: a file, or a whole folder;
    /// and for the kept inputs, every path it names.
    fn note_in_log(&self, event: &notify::Result<notify::Event>) {
        let mut kept = self.kept();
        match event {
            Err(_) => kept.lost_for_good(),
            Ok(event) if event.need_rescan() => kept.lost(),
            Ok(event) if matches!(event.kind, EventKind::Access(_)) => {}
            Ok(event) => {
                for path in &event.paths {
                    kept.note(path, is_folder_event(event, path));
                }
            }
        }
        drop(kept);
        let now = crate::cache::now_ns();
        let mut log = super::build::lock_log(&self.log);
        let since_start = i64::try_from(self.clock.0.elapsed().as_nanos()).unwrap_or(i64::MAX);
        if (now - self.clock.1 - since_start).abs() > 1_000_000_000 {
            log.lost_for_good();
        }
        let event = match event {
            Ok(event) => event,
            // A watch that could not be added (too many folders) stays missing.
            Err(_) => return log.lost_for_good(),
        };
        if event.need_rescan() {
            return log.lost(now);
        }
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let content = self.sources.root.join(CONTENT);
        for path in &event.paths {
            if content.starts_with(path) {
                // The content folder itself (or the catalog's) created, moved or removed:
                // its watch may be gone.
                if !matches!(
                    event.kind,
                    EventKind::Modify(notify::event::ModifyKind::Data(_))
                ) {
                    log.lost_for_good();
                }
                continue;
            }
            let Ok(relative) = path.strip_prefix(&self.sources.root) else {
                continue;
            };
            if !path.starts_with(&content) {
                continue;
            }
            log.saw(relative.to_path_buf(), is_folder_event(event, path), now);
        }
    }

    /// The catalog folder, as the events spell it.
    pub(crate) fn root(&self) -> &Path {
        &self.sources.root
    }

    /// Waits for a change to a source, then for the save to settle (no change to a source
    /// for `debounce`), and names the files that changed, relative to the root. None when
    /// the watcher stopped.
    pub(crate) fn next_change(&self, debounce: Duration) -> Option<Vec<PathBuf>> {
        let mut changed: Vec<PathBuf> = Vec::new();
        while changed.is_empty() {
            let received = self.received.recv().ok()?;
            self.note_in_log(&received);
            if let Ok(event) = received {
                self.sources.note_changes(&event, &mut changed);
            }
        }
        // Only changes to sources restart the wait: a log file being read in the catalog
        // folder sends events all the time, and would otherwise put the build off forever.
        let mut quiet_from = Instant::now() + debounce;
        loop {
            let left = quiet_from.saturating_duration_since(Instant::now());
            let received = self.received.recv_timeout(left);
            if let Ok(received) = &received {
                self.note_in_log(received);
            }
            match received {
                Ok(Ok(event)) if self.sources.changed_by(&event) => {
                    self.sources.note_changes(&event, &mut changed);
                    quiet_from = Instant::now() + debounce;
                }
                Ok(_) => continue,
                Err(_) => break,
            }
        }
        // An editor's temporary file (written, then renamed over the real one) is gone by
        // now and has no extension: not worth naming.
        let named: Vec<PathBuf> = changed
            .iter()
            .filter(|path| self.root().join(path).exists() || path.extension().is_some())
            .cloned()
            .collect();
        Some(if named.is_empty() { changed } else { named })
    }
}

/// Whether `event` created or removed the folder `path`, or `path` is a folder now.
fn is_folder_event(event: &notify::Event, path: &Path) -> bool {
    matches!(
        event.kind,
        EventKind::Create(notify::event::CreateKind::Folder)
            | EventKind::Remove(notify::event::RemoveKind::Folder)
    ) || path.is_dir()
}

/// The folder of the content files.
const CONTENT: &str = "content";

/// The folders a build reads every file of.
const SOURCE_FOLDERS: [&str; 3] = [
    CONTENT,
    "templates",
    crate::presets::AMAZON_PRODUCT_TYPES_DIR,
];

/// What a build reads, to watch.
struct Sources {
    root: PathBuf,
    /// The ERP files a build reads: a file export, when there is one, and the price lists.
    erp_files: Vec<PathBuf>,
}

impl Sources {
    fn of(root: &Path) -> Sources {
        let mut erp_files = Vec::new();
        if let Ok(config) = pipeline::load_config(root) {
            if let ErpConfig::File(file) = &config.erp {
                erp_files.push(root.join(&file.path));
            }
            erp_files.extend(
                config
                    .price_lists
                    .values()
                    .map(|list| root.join(&list.path)),
            );
        }
        Sources {
            root: root.to_path_buf(),
            erp_files,
        }
    }

    /// Folders, not single files: editors save by writing a new file and renaming it over
    /// the old one, which a watch on the old file would miss.
    fn watched(&self) -> Vec<(PathBuf, RecursiveMode)> {
        let mut watched = vec![(self.root.clone(), RecursiveMode::NonRecursive)];
        for folder in SOURCE_FOLDERS {
            let path = self.root.join(folder);
            if path.is_dir() {
                watched.push((path, RecursiveMode::Recursive));
            }
        }
        for folder in self.erp_files.iter().filter_map(|file| file.parent()) {
            let folder = (folder.to_path_buf(), RecursiveMode::NonRecursive);
            if !watched.iter().any(|(path, _)| *path == folder.0) {
                watched.push(folder);
            }
        }
        watched
    }

    /// Adds to `changed` (once each, relative to the root) the files of `event` that a build
    /// reads.
    fn note_changes(&self, event: &notify::Event, changed: &mut Vec<PathBuf>) {
        if !self.changed_by(event) {
            return;
        }
        for path in &event.paths {
            let relative = path.strip_prefix(&self.root).unwrap_or(path).to_path_buf();
            if self.reads(path) && !changed.contains(&relative) {
                changed.push(relative);
            }
        }
    }

    /// Whether an event touches something a build reads (not its own output, not an
    /// editor's swap or backup file).
    fn changed_by(&self, event: &notify::Event) -> bool {
        if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
            return false;
        }
        event.paths.iter().any(|path| self.reads(path))
    }

    /// Whether a build reads `path`.
    fn reads(&self, path: &Path) -> bool {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") {
            return false;
        }
        SOURCE_FOLDERS
            .iter()
            .any(|folder| path.starts_with(self.root.join(folder)))
            || *path == self.root.join(crate::config::CONFIG_FILE)
            || self.erp_files.iter().any(|file| file == path)
    }
}

/// `12:04:31 content/products/tools/DR-1.toml changed: building again`.
fn changed_line(changed: &[PathBuf], now: chrono::DateTime<chrono::Local>) -> String {
    const SHOWN: usize = 3;
    let mut names: Vec<String> = changed
        .iter()
        .take(SHOWN)
        .map(|path| path.display().to_string())
        .collect();
    if changed.len() > SHOWN {
        names.push(format!("{} more", changed.len() - SHOWN));
    }
    format!(
        "{} {} changed: building again",
        now.format("%H:%M:%S"),
        names.join(", ")
    )
}
