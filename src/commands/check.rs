use std::path::Path;

use super::{channel_summary, exit, fail, show_diagnostics, show_timings};
use crate::cli::{CheckArgs, Cli, Format};
use crate::pipeline::{self, Mode};
use crate::ui::Progress;

pub fn run(root: &Path, args: &CheckArgs, cli: &Cli) -> u8 {
    let progress = Progress::new(!cli.quiet && args.format == Format::Human);
    let outcome = match pipeline::run(root, Mode::Check, &progress) {
        Ok(outcome) => outcome,
        Err(failure) => return fail(&failure, root, args.format),
    };
    show_timings(&outcome, cli);
    let report = &outcome.report;
    let errors = report.summary.errors;
    let incomplete = outcome.incomplete_count();
    let failed = errors > 0 || (args.strict && incomplete > 0);
    match args.format {
        Format::Json => {
            let document = serde_json::json!({
                "ok": !failed,
                "errors": errors,
                "warnings": report.summary.warnings,
                "report": report,
            });
            println!("{document}");
        }
        Format::Human | Format::Github => {
            show_diagnostics(&report.diagnostics, root, args.format);
            let _ = channel_summary(&outcome, &mut std::io::stderr());
            eprintln!(
                "{} files, {} products: {} errors, {} warnings",
                report.summary.content_files,
                report.summary.products,
                errors,
                report.summary.warnings
            );
        }
    }
    if failed { exit::CONTENT } else { exit::OK }
}
