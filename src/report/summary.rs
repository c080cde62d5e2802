//! The check's Markdown summary for a CI run page (GitHub's `$GITHUB_STEP_SUMMARY`): per
//! channel what is live and what is left out and why, then every warning and error.

use std::fmt::Write;

use super::markdown::{md, md_code};
use super::{ChannelReport, Report};
use crate::diagnostics::Diagnostic;
use crate::wording::count;

/// At most this many rows per table, so a catalog with thousands of gaps still fits GitHub's
/// 1 MiB summary limit.
const ROWS_MAX: usize = 200;

pub fn markdown(report: &Report, failed: bool) -> String {
    let mut out = String::new();
    let summary = &report.summary;
    let _ = writeln!(out, "### pimfeed check: {}\n", md(&report.catalog));
    let verdict = if failed { "❌ failed" } else { "✅ passed" };
    let _ = writeln!(
        out,
        "{verdict} · {} · {} · {}, {}, {}\n",
        count(summary.errors, "error"),
        count(summary.warnings, "warning"),
        count(summary.content_files, "file"),
        count(summary.products, "product"),
        count(summary.erp_records, "ERP item")
    );
    let _ = writeln!(
        out,
        "| Channel | Live | Left out | Feed |\n|---|--:|--:|---|"
    );
    for channel in &report.channels {
        let _ = writeln!(
            out,
            "| {} | {} | {} | `{}` |",
            md(&channel.name),
            channel.items,
            channel.excluded,
            md_code(&channel.output)
        );
    }
    for channel in &report.channels {
        channel_details(&mut out, channel);
    }
    let (errors, warnings): (Vec<&Diagnostic>, Vec<&Diagnostic>) =
        report.diagnostics.iter().partition(|d| d.is_error());
    diagnostics(&mut out, "Errors", &errors);
    diagnostics(&mut out, "Warnings", &warnings);
    if !report.erp_without_content.is_empty() {
        let _ = writeln!(
            out,
            "\n{} ERP items have no content yet; `pimfeed new --missing` writes a stub for each.",
            report.erp_without_content.len()
        );
    }
    out
}

fn channel_details(out: &mut String, channel: &ChannelReport) {
    if channel.left_out.is_empty() && channel.warnings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n<details><summary>{}: {} left out, {} with warnings</summary>\n",
        md(&channel.name),
        channel.left_out.len(),
        channel.warnings.len()
    );
    let _ = writeln!(
        out,
        "| Product | | Why | Where | Last change |\n|---|---|---|---|---|"
    );
    let rows = channel
        .left_out
        .iter()
        .map(|p| ("left out", p))
        .chain(channel.warnings.iter().map(|p| ("warning", p)));
    let mut count = 0;
    for (kind, product) in rows {
        for reason in &product.reasons {
            count += 1;
            if count > ROWS_MAX {
                continue;
            }
            let _ = writeln!(
                out,
                "| `{}` | {kind} | {} | `{}:{}` | {} |",
                md_code(&product.sku),
                md(&reason.message),
                md_code(&product.file),
                reason.line.unwrap_or(product.line),
                blame_cell(reason)
            );
        }
    }
    if count > ROWS_MAX {
        let _ = writeln!(out, "\n…and {} more", count - ROWS_MAX);
    }
    let _ = writeln!(out, "\n</details>");
}

fn blame_cell(reason: &crate::verdict::Reason) -> String {
    reason
        .blame
        .as_ref()
        .map(|b| md(&b.to_string()))
        .unwrap_or_default()
}

fn diagnostics(out: &mut String, title: &str, list: &[&Diagnostic]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n#### {title} ({})\n\n| Where | Problem | Fix | Last change |\n|---|---|---|---|",
        list.len()
    );
    for d in list.iter().take(ROWS_MAX) {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            md_code(&d.location()),
            md(&d.message),
            md(d.help.as_deref().unwrap_or("")),
            d.blame
                .as_ref()
                .map(|b| md(&b.to_string()))
                .unwrap_or_default()
        );
    }
    if list.len() > ROWS_MAX {
        let _ = writeln!(out, "\n…and {} more", list.len() - ROWS_MAX);
    }
}
