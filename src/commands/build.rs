use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use super::watch::SourceWatcher;
use super::{channel_summary, exit, fail, show_diagnostics, show_timings};
use crate::cli::{BuildArgs, Cli, Format};
use crate::lock::CatalogLock;
use crate::pipeline::{self, Failure, Mode, WatchedChanges};
use crate::ui::Progress;
use crate::wording::count;

/// `build`, and `refresh` (the same run over the last build's content).
pub fn run(root: &Path, args: &BuildArgs, cli: &Cli, mode: Mode) -> u8 {
    run_watched(root, args, cli, mode, None)
}

/// [`run`], for a build `watch` or `serve` started: `watcher` has the log of what it saw
/// change, which learns here which cache this build made, and the inputs its builds keep.
pub(crate) fn run_watched(
    root: &Path,
    args: &BuildArgs,
    cli: &Cli,
    mode: Mode,
    watcher: Option<&SourceWatcher>,
) -> u8 {
    // Held until this function returns, so past the last swap (see `crate::lock`).
    let _lock = match lock(root, args) {
        Ok(lock) => lock,
        Err(failure) => return failed(&failure, root, args.format),
    };
    let progress = Progress::new(!cli.quiet && args.format == Format::Human);
    let started = std::time::Instant::now();
    let began_ns = crate::cache::now_ns();
    let watched = watcher.map(SourceWatcher::log);
    let log = watched.map(|log| lock_log(log).clone());
    let mut kept = watcher.map(SourceWatcher::kept);
    let with_watcher = log.as_ref().zip(kept.as_deref_mut());
    let with_watcher = with_watcher.map(|(log, kept)| pipeline::Watched { log, kept });
    let (use_cache, allow_drop) = (!args.no_cache, args.allow_drop);
    let run = pipeline::run_watched(root, mode, use_cache, allow_drop, &progress, with_watcher);
    drop(kept);
    if let Some(watched) = watched
        && let Some(cache_started) = crate::cache::started_ns(root)
        // Under the lock, so no other run replaced it: the cache this build made, if any.
        && cache_started >= began_ns
    {
        lock_log(watched).built(cache_started);
    }
    let outcome = match run {
        Ok(outcome) => outcome,
        Err(failure) => return failed(&failure, root, args.format),
    };
    show_timings(&outcome, cli);
    let report = &outcome.report;
    let errors = report.summary.errors;
    let failed = errors > 0 || (args.strict && outcome.incomplete_count() > 0);
    match args.format {
        Format::Json => {
            let document = serde_json::json!({
                "ok": !failed,
                "errors": errors,
                "output": outcome.output_dir,
                "manifest": outcome.manifest,
                "cache": outcome.cache,
                "swap_warnings": outcome.swap_warnings,
            });
            super::write_stdout(&format!(
                "{document}
"
            ));
        }
        Format::Human | Format::Github => {
            // Errors in full; warnings are for `check` and the report, a build only counts them.
            let errors_only: Vec<_> = report
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .cloned()
                .collect();
            show_diagnostics(&errors_only, root, args.format);
            let _ = channel_summary(&outcome, false, &mut std::io::stderr());
            if let Some(stale) = &report.erp_stale {
                eprintln!("warning: {stale}");
            }
            if let Some(said) = outcome.erp_server_said() {
                eprintln!("  the ERP server said: {said}");
            }
            for warning in &outcome.swap_warnings {
                eprintln!("warning: {warning}");
            }
            let warnings = report.summary.warnings;
            if warnings > 0 {
                eprintln!(
                    "{}: run `pimfeed check` to see them",
                    count(warnings, "warning")
                );
            }
            let html = outcome.output_dir.join("report/index.html");
            eprintln!("what was left out and why: {}", html.display());
            if errors > 0 {
                let kept = match crate::keep::kept_products(report) {
                    0 => String::new(),
                    n => format!(
                        ", but {n} that were published are kept as in the last good build (see `pimfeed check`)"
                    ),
                };
                eprintln!(
                    "{}: the products in those files were left out of every channel{kept}",
                    count(errors, "content error")
                );
            }
            let done = if mode == Mode::Refresh {
                "refreshed"
            } else {
                "built"
            };
            let cache = outcome.cache;
            // A refresh reads no content: it renders again what the ERP changed.
            let from_cache = match (cache.files_reused, mode) {
                (0, _) => String::new(),
                (reused, Mode::Refresh) => format!(
                    " ({} unchanged, {} rendered again with new ERP numbers)",
                    count(reused, "file"),
                    cache.files_checked
                ),
                (reused, _) => format!(
                    " ({} from the build cache, {} read again)",
                    count(reused, "file"),
                    cache.files_checked
                ),
            };
            eprintln!(
                "{done} {} into {} in {:.2?}{from_cache}",
                count(report.channels.len(), "channel"),
                outcome.output_dir.display(),
                started.elapsed()
            );
        }
    }
    crate::one_shot::release(outcome);
    if failed { exit::CONTENT } else { exit::OK }
}

/// Takes the catalog's lock, waiting at most `--wait` seconds for another build or refresh.
fn lock(root: &Path, args: &BuildArgs) -> Result<CatalogLock, Failure> {
    CatalogLock::acquire(root, Duration::from_secs(args.wait), || {
        // Said before the progress bar exists, so the line cannot tear it.
        if args.format != Format::Json {
            eprintln!(
                "waiting for another pimfeed build or refresh of this catalog to finish \
                 (at most {}s, see --wait)",
                args.wait
            );
        }
    })
    .map_err(Failure::from)
}

/// Reports a run that wrote nothing, and returns its exit code.
fn failed(failure: &Failure, root: &Path, format: Format) -> u8 {
    let code = fail(failure, root, format);
    if format != Format::Json {
        eprintln!("the previous feeds were left untouched");
    }
    code
}

/// The watcher's log; one a panicking thread left is still whole (every change to it is one
/// push or assignment).
pub(crate) fn lock_log(log: &Mutex<WatchedChanges>) -> std::sync::MutexGuard<'_, WatchedChanges> {
    log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
