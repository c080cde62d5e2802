//! `watch`: build, then build again whenever the catalog's sources change.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use super::{build, exit};
use crate::cli::{Cli, WatchArgs};
use crate::config::ErpConfig;
use crate::pipeline::{self, Mode};

pub fn run(root: &Path, args: &WatchArgs, cli: &Cli) -> u8 {
    let watcher = match SourceWatcher::start(root) {
        Ok(watcher) => watcher,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::OPERATIONAL;
        }
    };
    let root = watcher.root().to_path_buf();
    build::run(&root, &args.build, cli, Mode::Build);
    let debounce = Duration::from_millis(args.debounce_ms);
    loop {
        eprintln!("watching pim.toml, content/ and templates/ for changes (Ctrl-C to stop)");
        if !watcher.next_change(debounce) {
            return exit::OK;
        }
        build::run(&root, &args.build, cli, Mode::Build);
    }
}

/// Watches what a build of the catalog reads (also for `serve`, which rebuilds the same way).
pub(crate) struct SourceWatcher {
    // Kept alive: dropping it stops the events.
    _watcher: notify::RecommendedWatcher,
    received: mpsc::Receiver<notify::Result<notify::Event>>,
    sources: Sources,
}

impl SourceWatcher {
    /// Starts watching the catalog at `root`; the error says what could not be watched.
    pub(crate) fn start(root: &Path) -> Result<SourceWatcher, String> {
        let (events, received) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(events)
            .map_err(|err| format!("cannot watch {}: {err}", root.display()))?;
        // Events name paths under what was watched; one spelling of the root keeps them
        // comparable.
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let sources = Sources::of(&root);
        for (path, mode) in sources.watched() {
            watcher
                .watch(&path, mode)
                .map_err(|err| format!("cannot watch {}: {err}", path.display()))?;
        }
        Ok(SourceWatcher {
            _watcher: watcher,
            received,
            sources,
        })
    }

    /// The catalog folder, as the events spell it.
    pub(crate) fn root(&self) -> &Path {
        &self.sources.root
    }

    /// Waits for a change to a source, then for the save to settle (no event for
    /// `debounce`). False when the watcher stopped.
    pub(crate) fn next_change(&self, debounce: Duration) -> bool {
        loop {
            match self.received.recv() {
                Ok(Ok(event)) if self.sources.changed_by(&event) => break,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
        while self.received.recv_timeout(debounce).is_ok() {}
        true
    }
}

/// What a build reads, to watch.
struct Sources {
    root: PathBuf,
    /// A file ERP export, when there is one.
    erp_file: Option<PathBuf>,
}

impl Sources {
    fn of(root: &Path) -> Sources {
        let erp_file = pipeline::load_config(root)
            .ok()
            .and_then(|config| match config.erp {
                ErpConfig::File(file) => Some(root.join(file.path)),
                ErpConfig::Http(_) => None,
            });
        Sources {
            root: root.to_path_buf(),
            erp_file,
        }
    }

    /// Folders, not single files: editors save by writing a new file and renaming it over
    /// the old one, which a watch on the old file would miss.
    fn watched(&self) -> Vec<(PathBuf, RecursiveMode)> {
        let mut watched = vec![(self.root.clone(), RecursiveMode::NonRecursive)];
        for folder in ["content", "templates"] {
            let path = self.root.join(folder);
            if path.is_dir() {
                watched.push((path, RecursiveMode::Recursive));
            }
        }
        if let Some(folder) = self.erp_file.as_ref().and_then(|file| file.parent())
            && folder != self.root
        {
            watched.push((folder.to_path_buf(), RecursiveMode::NonRecursive));
        }
        watched
    }

    /// Whether an event touches something a build reads (not its own output, not an
    /// editor's swap or backup file).
    fn changed_by(&self, event: &notify::Event) -> bool {
        if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
            return false;
        }
        event.paths.iter().any(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") {
                return false;
            }
            let in_folder = |folder: &str| path.starts_with(self.root.join(folder));
            in_folder("content")
                || in_folder("templates")
                || *path == self.root.join(crate::config::CONFIG_FILE)
                || self.erp_file.as_deref() == Some(path.as_path())
        })
    }
}
