//! One function per command: arguments in, an exit code out. Only this layer prints.

mod build;
mod check;
mod diff;
mod init;
mod listing;
mod new;
mod publish;
pub mod push;
mod rollback;
mod schema;
mod serve;
mod watch;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::{Cli, Command, Format};
use crate::config::find_root;
use crate::diagnostics::{Diagnostic, render_github, render_human};
use crate::pipeline::{Failure, Mode, Outcome};
use crate::wording::first_few;

/// The exit codes CI can rely on (`docs/src/reference/exit-codes.md`).
pub mod exit {
    pub const OK: u8 = 0;
    pub const CONTENT: u8 = 1;
    pub const OPERATIONAL: u8 = 2;
}

pub fn run(cli: Cli) -> ExitCode {
    // `init` makes a catalog, so it cannot start from one.
    if let Command::Init(args) = &cli.command {
        return ExitCode::from(init::run(args));
    }
    let root = match catalog_root(&cli) {
        Ok(root) => root,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(exit::OPERATIONAL);
        }
    };
    if matches!(
        cli.command,
        Command::Check(_) | Command::Build(_) | Command::Refresh(_)
    ) {
        crate::one_shot::process_ends_with_command();
    }
    let started = std::time::Instant::now();
    let code = match &cli.command {
        Command::Check(args) => check::run(&root, args, &cli),
        Command::Build(args) => build::run(&root, args, &cli, Mode::Build),
        Command::Refresh(args) => build::run(&root, args, &cli, Mode::Refresh),
        Command::Watch(args) => watch::run(&root, args, &cli),
        Command::Serve(args) => serve::run(&root, args, &cli),
        Command::Diff(args) => diff::run(&root, args),
        Command::New(args) => new::run(&root, args),
        Command::Schema(args) => schema::run(&root, args),
        Command::Publish(args) => publish::run(&root, args, &cli),
        Command::Rollback(args) => rollback::run(&root, args),
        Command::Push(args) => push::run(&root, args, &cli),
        Command::Init(_) => unreachable!("handled above"),
    };
    if cli.timings {
        eprintln!("timing  total  {:.3}s", started.elapsed().as_secs_f64());
        if let Some(peak) = peak_rss_kib() {
            eprintln!("peak RSS  {:.1} MiB", peak as f64 / 1024.0);
        }
    }
    ExitCode::from(code)
}

/// The process's peak resident memory (Linux `VmHWM`), for `--timings`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Per-stage wall times, when `--timings` asked for them.
fn show_timings(outcome: &Outcome, cli: &Cli) {
    if cli.timings {
        for (stage, duration) in &outcome.timings {
            eprintln!("timing  {stage}  {:.3}s", duration.as_secs_f64());
        }
    }
}

fn catalog_root(cli: &Cli) -> Result<PathBuf, String> {
    let start = match &cli.root {
        Some(root) => root.clone(),
        None => std::env::current_dir()
            .map_err(|err| format!("cannot read the current folder: {err}"))?,
    };
    find_root(&start).ok_or_else(|| {
        format!(
            "no pim.toml in {} or any folder above it; run pimfeed inside a catalog or pass --root",
            start.display()
        )
    })
}

/// Shows content diagnostics in the chosen format.
fn show_diagnostics(diagnostics: &[Diagnostic], root: &std::path::Path, format: Format) {
    match format {
        Format::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", render_human(diagnostics, root, color));
        }
        Format::Github => write_stdout(&render_github(diagnostics)),
        Format::Json => {}
    }
}

/// Reports a run that could not finish, and returns its exit code.
fn fail(failure: &Failure, root: &std::path::Path, format: Format) -> u8 {
    let code = match failure {
        Failure::Schema(_) | Failure::Guard(_) => exit::CONTENT,
        _ => exit::OPERATIONAL,
    };
    match format {
        Format::Json => {
            let document = serde_json::json!({
                "ok": false,
                "error": failure.to_string(),
                "diagnostics": failure.diagnostics(),
            });
            write_stdout(&format!(
                "{document}
"
            ));
        }
        _ => {
            show_diagnostics(failure.diagnostics(), root, format);
            if failure.diagnostics().is_empty() {
                eprintln!("error: {failure}");
            } else {
                eprintln!("error: {}; nothing was built", failure.summary());
            }
        }
    }
    code
}

/// A table of channels with their counts, and every product left out with its reasons.
/// With `detailed`, also every product left out or warned about, with its reasons (what
/// `check` shows a marketer; `build` points at the report instead).
fn channel_summary(outcome: &Outcome, detailed: bool, out: &mut impl Write) -> std::io::Result<()> {
    let report = &outcome.report;
    let width = report
        .channels
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(7)
        .max(7);
    writeln!(
        out,
        "{:<width$}  {:>8}  {:>8}  file",
        "channel", "in feed", "left out"
    )?;
    for channel in &report.channels {
        writeln!(
            out,
            "{:<width$}  {:>8}  {:>8}  {}",
            channel.name, channel.items, channel.excluded, channel.output
        )?;
    }
    for channel in &report.channels {
        for note in &channel.notes {
            writeln!(out, "note: channel `{}`: {note}", channel.name)?;
        }
    }
    if detailed {
        listing::write(report, out)?;
    }
    // An ERP often holds thousands of items no one has enriched yet, and a broken
    // generator can break as many files: the summary names the first few of each.
    const SHOWN: usize = 20;
    if !report.content_with_errors.is_empty() {
        let products = first_few(&report.content_with_errors, SHOWN, |p| {
            format!("{} ({}:{})", p.sku, p.file, p.line)
        });
        let kept = match crate::keep::kept_products(report) {
            0 => String::new(),
            _ => " (those already published keep their last good item for a while: see `pimfeed check`)".to_string(),
        };
        writeln!(
            out,
            "left out of every channel until their file's errors are fixed{kept}: {products}"
        )?;
    }
    if !report.erp_without_content.is_empty() {
        writeln!(
            out,
            "{}",
            erp_without_content_line(&report.erp_without_content, SHOWN)
        )?;
    }
    Ok(())
}

/// The summary's line of ERP items without content: the first `shown`, and where the rest are.
fn erp_without_content_line(skus: &[String], shown: usize) -> String {
    let mut line = format!(
        "ERP items without content: {}",
        first_few(skus, shown, String::clone)
    );
    if skus.len() > shown {
        line.push_str(
            " (the report lists them all; `pimfeed new --missing` writes a stub for each)",
        );
    }
    line
}

/// Writes to stdout where a command's exit code is already decided: a closed pipe
/// (`pimfeed check --format json | head -c 200`) ends the writing quietly, never a panic.
fn write_stdout(text: &str) {
    let _ = print_stdout(text);
}

/// Writes a command's result to stdout. A closed pipe (`pimfeed diff main | head`) is not an
/// error: the reader has what it wanted.
fn print_stdout(text: &str) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => exit::OK,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(err) => {
            eprintln!("error: cannot write to stdout: {err}");
            exit::OPERATIONAL
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_twenty_erp_items_without_content_and_counts_the_rest() {
        let few: Vec<String> = ["A-1", "B-1"].map(String::from).to_vec();
        assert_eq!(
            erp_without_content_line(&few, 20),
            "ERP items without content: A-1, B-1"
        );
        let many: Vec<String> = (0..2500).map(|n| format!("Z-{n}")).collect();
        let line = erp_without_content_line(&many, 20);
        assert!(
            line.starts_with("ERP items without content: Z-0, Z-1, "),
            "{line}"
        );
        assert!(
            line.contains("Z-19, and 2480 more (the report lists them all;"),
            "{line}"
        );
        assert!(!line.contains("Z-20,"), "{line}");
    }
}
