//! A [`Diff`] for people: plain text for a terminal, Markdown for a pull-request comment.

use std::fmt::Write;

use super::{ChannelDiff, Diff, FieldChange, ProductChange};
use crate::report::markdown::{html, md, md_code};
use crate::verdict::Reason;

/// Values longer than this are shortened around their first difference.
const VALUE_WIDTH: usize = 80;
/// At most this many products per list in Markdown, so a big change still fits a comment.
const MARKDOWN_LIST_MAX: usize = 50;

/// Plain text, one line per product and field.
pub fn human(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "feed changes from {} to {} (ERP numbers: {}, {} items)",
        diff.base.label, diff.head.label, diff.erp.source, diff.erp.records
    );
    for channel in &diff.channels {
        let _ = writeln!(out);
        let status = match channel.status {
            "added" => " (new channel)",
            "removed" => " (channel removed)",
            _ => "",
        };
        let counts = if channel.is_empty() {
            "no changes".to_string()
        } else {
            format!("{} → {} items", channel.items_before, channel.items_after)
        };
        let _ = writeln!(
            out,
            "{} ({}){status}: {counts}",
            channel.name, channel.output
        );
        for product in &channel.becomes_live {
            let _ = writeln!(
                out,
                "  + {} becomes live{}",
                product.sku,
                was_left_out(product)
            );
        }
        for product in &channel.drops_out {
            for reason in &product.reasons {
                let _ = writeln!(
                    out,
                    "  - {} drops out: {} ({})",
                    product.sku,
                    reason.message,
                    location(product, reason)
                );
            }
        }
        for item in &channel.changed {
            let names: Vec<&str> = item.fields.iter().map(|f| f.field.as_str()).collect();
            let _ = writeln!(out, "  ~ {} changes {}", item.sku, names.join(", "));
            for field in &item.fields {
                let (before, after) = values(field);
                let _ = writeln!(out, "      {}: {before} → {after}", field.field);
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", totals(diff));
    if !diff.head_errors.is_empty() {
        let _ = writeln!(
            out,
            "{} content errors in {}: run `pimfeed check` to see them",
            diff.head_errors.len(),
            diff.head.label
        );
    }
    out
}

/// GitHub-flavoured Markdown, for a pull-request comment.
pub fn markdown(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### pimfeed: what this change does to the feeds\n");
    let _ = writeln!(
        out,
        "Compared {} with {}; both merged with the same ERP numbers ({}, {} items).\n",
        md_side(&diff.base.label),
        md_side(&diff.head.label),
        md(&diff.erp.source),
        diff.erp.records
    );
    if !diff.head_errors.is_empty() {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> {} content errors: the products in those files drop out of every channel.\n",
            diff.head_errors.len()
        );
        for error in diff.head_errors.iter().take(MARKDOWN_LIST_MAX) {
            let _ = writeln!(out, "- `{}`: {}", error.location(), md(&error.message));
        }
        let _ = writeln!(out);
    }
    if diff.is_empty() {
        let _ = writeln!(
            out,
            "No feed changes: every channel gets exactly the same items."
        );
        return out;
    }
    let _ = writeln!(
        out,
        "| Channel | Feed | Items | Becomes live | Drops out | Changed |\n|---|---|--:|--:|--:|--:|"
    );
    for channel in &diff.channels {
        let status = match channel.status {
            "added" => " (new)",
            "removed" => " (removed)",
            _ => "",
        };
        let _ = writeln!(
            out,
            "| {}{status} | `{}` | {} → {} | {} | {} | {} |",
            md(&channel.name),
            md(&channel.output),
            channel.items_before,
            channel.items_after,
            channel.becomes_live.len(),
            channel.drops_out.len(),
            channel.changed.len()
        );
    }
    for channel in diff.channels.iter().filter(|c| !c.is_empty()) {
        markdown_channel(&mut out, channel);
    }
    let _ = writeln!(out, "\n{}", totals(diff));
    out
}

fn markdown_channel(out: &mut String, channel: &ChannelDiff) {
    let _ = writeln!(out, "\n#### {}\n", md(&channel.name));
    if !channel.becomes_live.is_empty() {
        let _ = writeln!(out, "**Becomes live** ({})\n", channel.becomes_live.len());
        for product in channel.becomes_live.iter().take(MARKDOWN_LIST_MAX) {
            let _ = writeln!(
                out,
                "- `{}`{} · `{}:{}`",
                md_code(&product.sku),
                md(&was_left_out(product)),
                md_code(&product.file),
                product.line
            );
        }
        more(out, channel.becomes_live.len());
        let _ = writeln!(out);
    }
    if !channel.drops_out.is_empty() {
        let _ = writeln!(out, "**Drops out** ({})\n", channel.drops_out.len());
        for product in channel.drops_out.iter().take(MARKDOWN_LIST_MAX) {
            for reason in &product.reasons {
                let line = reason.line.unwrap_or(product.line);
                let blame = reason
                    .blame
                    .as_ref()
                    .map(|b| format!(" ({})", md(&b.sentence())))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- `{}`: {} · `{}:{line}`{blame}",
                    md_code(&product.sku),
                    md(&reason.message),
                    md_code(&product.file)
                );
            }
        }
        more(out, channel.drops_out.len());
        let _ = writeln!(out);
    }
    if !channel.changed.is_empty() {
        let _ = writeln!(out, "**Changed** ({})\n", channel.changed.len());
        for item in channel.changed.iter().take(MARKDOWN_LIST_MAX) {
            let names: Vec<String> = item
                .fields
                .iter()
                .map(|f| format!("<code>{}</code>", html(&f.field)))
                .collect();
            let _ = writeln!(
                out,
                "<details><summary><code>{}</code>: {}</summary>\n\n| Field | Before | After |\n|---|---|---|",
                html(&item.sku),
                names.join(", ")
            );
            for field in &item.fields {
                let (before, after) = values(field);
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    md_code(&field.field),
                    md(&before),
                    md(&after)
                );
            }
            let _ = writeln!(out, "\n</details>");
        }
        more(out, channel.changed.len());
    }
}

fn more(out: &mut String, count: usize) {
    if count > MARKDOWN_LIST_MAX {
        let _ = writeln!(
            out,
            "\n…and {} more (run `pimfeed diff` locally for all)",
            count - MARKDOWN_LIST_MAX
        );
    }
}

fn totals(diff: &Diff) -> String {
    let changed_channels = diff.channels.iter().filter(|c| !c.is_empty()).count();
    if changed_channels == 0 {
        return "no feed changes".to_string();
    }
    let sum = |f: fn(&ChannelDiff) -> usize| diff.channels.iter().map(f).sum::<usize>();
    format!(
        "{changed_channels} of {} channels change: {} products become live, {} drop out, {} items change",
        diff.channels.len(),
        sum(|c| c.becomes_live.len()),
        sum(|c| c.drops_out.len()),
        sum(|c| c.changed.len())
    )
}

/// ` (new product)`, ` (was left out: …)` or nothing.
fn was_left_out(product: &ProductChange) -> String {
    if product.new {
        return " (new product)".to_string();
    }
    if product.reasons.is_empty() {
        return String::new();
    }
    let reasons: Vec<&str> = product.reasons.iter().map(|r| r.message.as_str()).collect();
    format!(" (was left out: {})", reasons.join("; "))
}

/// `file:line, last changed in … by … on …`.
fn location(product: &ProductChange, reason: &Reason) -> String {
    let line = reason.line.unwrap_or(product.line);
    let mut text = format!("{}:{line}", product.file);
    if let Some(blame) = &reason.blame {
        text.push_str(", ");
        text.push_str(&blame.sentence());
    }
    text
}

/// Before and after, shortened and quoted; `(none)` for a field that is new or gone.
fn values(field: &FieldChange) -> (String, String) {
    let quote = |value: &str| format!("\"{}\"", value.replace('\n', "⏎"));
    match (&field.before, &field.after) {
        (Some(before), Some(after)) => {
            let (before, after) = super::fields::shorten_pair(before, after, VALUE_WIDTH);
            (quote(&before), quote(&after))
        }
        (Some(before), None) => (
            quote(&super::fields::shorten(before, VALUE_WIDTH)),
            "(none)".into(),
        ),
        (None, Some(after)) => (
            "(none)".into(),
            quote(&super::fields::shorten(after, VALUE_WIDTH)),
        ),
        (None, None) => ("(none)".into(), "(none)".into()),
    }
}

/// `main (3f2a1bc)` → `` `main` (3f2a1bc) ``; `3f2a1bc` → `` `3f2a1bc` ``.
fn md_side(label: &str) -> String {
    match label.split_once(" (") {
        _ if label == "working tree" => "the working tree".to_string(),
        Some((name, rest)) => format!("`{}` ({rest}", md_code(name)),
        None => format!("`{}`", md_code(label)),
    }
}
