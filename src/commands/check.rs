use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::{channel_summary, exit, fail, show_diagnostics, show_timings};
use crate::cli::{CheckArgs, Cli, Format};
use crate::diagnostics::github_escape;
use crate::pipeline::{self, Mode};
use crate::report::Report;
use crate::ui::Progress;
use crate::wording::count;

pub fn run(root: &Path, args: &CheckArgs, cli: &Cli) -> u8 {
    let progress = Progress::new(!cli.quiet && args.format == Format::Human);
    let outcome = match pipeline::run(root, Mode::Check, !args.no_cache, false, &progress) {
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
            super::write_stdout(&format!(
                "{document}
"
            ));
        }
        Format::Human | Format::Github => {
            show_diagnostics(&report.diagnostics, root, args.format);
            if args.format == Format::Github {
                super::write_stdout(&left_out_annotations(report, args.strict));
                super::write_stdout(&crate::keep::annotations(report));
                write_step_summary(&crate::report::summary::markdown(report, failed));
            }
            let _ = channel_summary(&outcome, true, &mut std::io::stderr());
            eprintln!(
                "{}, {}: {}, {}",
                count(report.summary.content_files, "file"),
                count(report.summary.products, "product"),
                count(errors, "error"),
                count(report.summary.warnings, "warning")
            );
        }
    }
    crate::one_shot::release(outcome);
    if failed { exit::CONTENT } else { exit::OK }
}

/// One annotation per reason a product is left out, on the line it is about, naming every
/// channel it is left out of. Notices, or errors with `--strict` (where they fail the run).
/// Left out by choice (a channel filter, `enabled = false`) is not worth an annotation.
fn left_out_annotations(report: &Report, strict: bool) -> String {
    // (file, line, message) → (channels, blame): one annotation per problem, not per channel.
    type Key = (String, u32, String);
    let mut grouped: BTreeMap<Key, (Vec<&str>, Option<String>)> = BTreeMap::new();
    for channel in &report.channels {
        for product in &channel.left_out {
            for reason in &product.reasons {
                if matches!(reason.code, "filter" | "disabled") {
                    continue;
                }
                let line = reason.line.unwrap_or(product.line);
                let message = format!("{}: {}", product.sku, reason.message);
                let entry = grouped
                    .entry((product.file.to_string(), line, message))
                    .or_insert_with(|| (Vec::new(), reason.blame.as_ref().map(|b| b.sentence())));
                entry.0.push(&channel.name);
            }
        }
    }
    let level = if strict { "error" } else { "notice" };
    let mut out = String::new();
    for ((file, line, message), (channels, blame)) in grouped {
        let title = format!("left out of {}", channels.join(", "));
        let mut text = message;
        if let Some(blame) = blame {
            text.push_str(&format!("\n({blame})"));
        }
        out.push_str(&format!(
            "::{level} file={},line={line},title={}::{}\n",
            github_escape(&file, true),
            github_escape(&title, true),
            github_escape(&text, false)
        ));
    }
    out
}

/// Appends the Markdown summary to `$GITHUB_STEP_SUMMARY`, when GitHub Actions set it.
fn write_step_summary(markdown: &str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return;
    };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(markdown.as_bytes()));
    if let Err(err) = written {
        eprintln!(
            "warning: cannot write the step summary to {}: {err}",
            Path::new(&path).display()
        );
    }
}
