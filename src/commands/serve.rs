//! `serve`: a live preview. Builds like `watch` (on a thread of its own, rebuilding on every
//! save) and serves pages of each build on a local port; open pages refresh themselves.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::exit;
use super::watch::SourceWatcher;
use crate::cli::{Cli, ServeArgs};
use crate::diagnostics::render_human;
use crate::lock::CatalogLock;
use crate::pipeline::{self, Mode};
use crate::report::html::Links;
use crate::serve::Shared;
use crate::serve::index::{Index, Laps};
use crate::serve::memory::GiveBackAtOnce;
use crate::ui::Progress;

pub fn run(root: &Path, args: &ServeArgs, cli: &Cli) -> u8 {
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: serving on {}: anyone who can reach this machine on that address sees \
             the catalog, its ERP numbers and its feeds (there is no login); the default, \
             127.0.0.1, is this machine only",
            args.bind
        );
    }
    let address = SocketAddr::new(args.bind, args.port);
    let listener = match TcpListener::bind(address) {
        Ok(listener) => listener,
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
            eprintln!(
                "error: port {} on {} is in use (another pimfeed serve?): pass --port with \
                 another number, or --port 0 for any free one",
                args.port, args.bind
            );
            return exit::OPERATIONAL;
        }
        Err(err) => {
            eprintln!("error: cannot listen on {address}: {err}");
            return exit::OPERATIONAL;
        }
    };
    let watcher = match SourceWatcher::start(root) {
        Ok(watcher) => watcher,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::OPERATIONAL;
        }
    };
    let shared = match Shared::new(watcher.root().to_path_buf(), &args.editor) {
        Ok(shared) => shared,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::OPERATIONAL;
        }
    };
    let url = match listener.local_addr() {
        Ok(local) => format!("http://{}", display_address(local)),
        Err(_) => format!("http://{address}"),
    };
    eprintln!("serving {} on {url} (Ctrl-C to stop)", root.display());
    if args.open {
        open_browser(&url);
    }
    let debounce = Duration::from_millis(args.debounce_ms);
    let builder = shared.clone();
    let options = BuildOptions {
        quiet: cli.quiet,
        allow_drop: args.allow_drop,
        timings: cli.timings,
    };
    std::thread::spawn(move || {
        build_and_index(&builder, options, &watcher);
        while watcher.next_change(debounce).is_some() {
            build_and_index(&builder, options, &watcher);
        }
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the server: {err}");
            return exit::OPERATIONAL;
        }
    };
    let served = runtime.block_on(async {
        tokio::select! {
            served = crate::serve::serve(shared, listener) => served,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    });
    match served {
        Ok(()) => exit::OK,
        Err(err) => {
            eprintln!("error: the server stopped: {err}");
            exit::OPERATIONAL
        }
    }
}

/// How each of `serve`'s builds runs.
#[derive(Clone, Copy)]
struct BuildOptions {
    /// No progress bar.
    quiet: bool,
    /// Let a build through the guard (see `pimfeed build --allow-drop`).
    allow_drop: bool,
    /// Print each build's stages, its indexing stages and the peak memory of both.
    timings: bool,
}

/// One build, indexed for the pages; a build that fails (or panics) leaves the last good
/// one on the pages, with the reason.
fn build_and_index(shared: &Arc<Shared>, options: BuildOptions, watcher: &SourceWatcher) {
    let quiet = options.quiet;
    shared.building();
    let started = std::time::Instant::now();
    let root = shared.root.clone();
    let previous = shared.index();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        build_index(&root, previous.as_deref(), &shared.links, options, watcher)
    }))
    .unwrap_or_else(|_| Err("pimfeed crashed while building; see the terminal".to_string()));
    // The pages first, then the terminal: whoever reads the line finds the pages updated.
    match result {
        Ok(Built {
            index,
            indexing,
            report,
            timings,
        }) => {
            let products = index.report.summary.products;
            let problems = match index.report.summary.errors {
                0 => String::new(),
                n => format!(", {n} content errors (on the pages)"),
            };
            shared.built(index);
            if !quiet {
                eprintln!(
                    "built {products} products in {:.2?} (pages indexed in {indexing:.2?}){problems}",
                    started.elapsed()
                );
            }
            for line in timings {
                eprintln!("{line}");
            }
            // Let go of the build's report and the index before it only now: freeing a
            // catalog's worth of small strings takes a while, and the page is waiting.
            drop(report);
        }
        Err(problem) => {
            shared.failed(problem.clone());
            eprintln!("error: {problem}");
        }
    }
    drop(previous);
}

/// A build, indexed.
struct Built {
    index: Index,
    /// From the end of the build to the index being ready.
    indexing: Duration,
    /// The build's report, to let go of once the pages show the index.
    report: crate::report::Report,
    /// `--timings` lines: the build's stages, the indexing stages, the peak memory of each.
    timings: Vec<String>,
}

/// The build's index. A progress bar on a terminal (not in CI) unless `quiet`.
fn build_index(
    root: &Path,
    previous: Option<&Index>,
    links: &Links,
    options: BuildOptions,
    watcher: &SourceWatcher,
) -> Result<Built, String> {
    // Held while indexing too: the index reads the feeds and cache this build left.
    let _lock = CatalogLock::acquire(root, Duration::from_secs(600), || {
        eprintln!("waiting for another pimfeed build or refresh of this catalog to finish");
    })
    .map_err(|err| err.to_string())?;
    let progress = Progress::new(!options.quiet);
    if options.timings {
        peak_memory::reset();
    }
    let giving_back = GiveBackAtOnce::start();
    let began_ns = crate::cache::now_ns();
    let watched = watcher.log();
    let log = super::build::lock_log(watched).clone();
    let allow_drop = options.allow_drop;
    let mut kept = watcher.kept();
    let with_watcher = pipeline::Watched {
        log: &log,
        kept: &mut kept,
    };
    let outcome = pipeline::run_watched(
        root,
        Mode::Build,
        true,
        allow_drop,
        &progress,
        Some(with_watcher),
    );
    drop(kept);
    if let Some(cache_started) = crate::cache::started_ns(root)
        // Under the lock, so no other run replaced it: the cache this build made, if any.
        && cache_started >= began_ns
    {
        super::build::lock_log(watched).built(cache_started);
    }
    drop(giving_back);
    let outcome = outcome.map_err(|failure| match failure.diagnostics() {
        [] => failure.to_string(),
        diagnostics => render_human(diagnostics, root, false)
            .trim_end()
            .to_string(),
    })?;
    let mut timings = Vec::new();
    if options.timings {
        for (stage, duration) in &outcome.timings {
            timings.push(format!("timing  {stage}  {:.3}s", duration.as_secs_f64()));
        }
        let cache = outcome.cache;
        timings.push(format!(
            "cache   {} files reused ({} on the watcher's word), {} read again",
            cache.files_reused, cache.files_vouched_by_watch, cache.files_checked
        ));
        timings.extend(peak_memory::line("building"));
        peak_memory::reset();
    }
    let mut laps = Laps::start();
    let config = pipeline::load_config(root).map_err(|failure| failure.to_string())?;
    laps.lap("configuration");
    let (index, report) = Index::build(root, &config, outcome, previous, links, &mut laps)
        .map_err(|err| format!("cannot index the build for the pages: {err}"))?;
    let indexing = laps.total();
    if options.timings {
        for (stage, duration) in &laps.laps {
            timings.push(format!(
                "timing  index: {stage}  {:.3}s",
                duration.as_secs_f64()
            ));
        }
        timings.extend(peak_memory::line("indexing"));
    }
    Ok(Built {
        index,
        indexing,
        report,
        timings,
    })
}

/// The process's peak resident memory (Linux `VmHWM`), per build for `--timings`.
mod peak_memory {
    /// Starts a new peak from what is resident now (Linux `clear_refs`; elsewhere a no-op).
    pub fn reset() {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }

    /// `peak RSS  building  312.4 MiB`.
    pub fn line(during: &str) -> Option<String> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(format!("peak RSS  {during}  {:.1} MiB", kib / 1024.0))
    }
}

/// `127.0.0.1:8080`, with a v6 address in brackets.
fn display_address(address: SocketAddr) -> String {
    match address.ip() {
        IpAddr::V6(ip) => format!("[{ip}]:{}", address.port()),
        IpAddr::V4(ip) => format!("{ip}:{}", address.port()),
    }
}

/// Opens `url` in the desktop's browser; saying so when there is none is enough.
fn open_browser(url: &str) {
    let command = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    let mut opener = std::process::Command::new(command.0);
    opener
        .args(&command.1)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // pimfeed turns transparent huge pages off for itself (`src/main.rs`), and a process
        // it starts would keep that: the browser it may start gets the system's setting back.
        // SAFETY: prctl is a plain system call, safe between fork and exec.
        unsafe {
            opener.pre_exec(|| {
                libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0);
                Ok(())
            });
        }
    }
    let opened = opener.spawn();
    if opened.is_err() {
        eprintln!(
            "could not open a browser ({} is missing): open {url} yourself",
            command.0
        );
    }
}
