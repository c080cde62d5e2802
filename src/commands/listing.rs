//! What `check` lists under its channel table: per product, everything that keeps it out of a
//! channel or is worth fixing, each problem once with the channels it affects. A marketer fixes
//! products, not channels, so this reads as a to-do list.

use std::collections::BTreeMap;
use std::io::Write;

use crate::report::{ProductVerdict, Report};
use crate::verdict::Reason;

/// One problem of one product: what it does, the message, where, and who last changed it.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Problem {
    left_out: bool,
    message: String,
    place: String,
}

#[derive(Default)]
struct ProductProblems {
    place: String,
    /// How complete it is in each channel it is left out of.
    completeness: Vec<String>,
    /// Problem → the channels it affects, in the report's channel order.
    problems: BTreeMap<Problem, Vec<String>>,
}

pub fn write(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    // Keyed by (file, line, SKU) so products come in catalog order.
    let mut products: BTreeMap<(String, u32, String), ProductProblems> = BTreeMap::new();
    // SKU → the channels it is disabled in, in order of first appearance.
    let mut disabled: Vec<(&str, Vec<&str>)> = Vec::new();
    for channel in &report.channels {
        let verdicts = channel
            .left_out
            .iter()
            .map(|p| (true, p))
            .chain(channel.warnings.iter().map(|p| (false, p)));
        for (left_out, verdict) in verdicts {
            // `enabled = false` is a choice, not a problem (and what else the product lacks
            // there does not matter while it is off): said once below.
            if verdict.reasons.iter().any(|r| r.code == "disabled") {
                match disabled.iter_mut().find(|(sku, _)| **sku == *verdict.sku) {
                    Some((_, channels)) => channels.push(&channel.name),
                    None => disabled.push((&verdict.sku, vec![&channel.name])),
                }
                continue;
            }
            let key = (
                verdict.file.to_string(),
                verdict.line,
                verdict.sku.to_string(),
            );
            let entry = products.entry(key).or_default();
            entry.place = format!("{}:{}", verdict.file, verdict.line);
            if left_out {
                entry
                    .completeness
                    .push(format!("{} {}%", channel.name, verdict.completeness));
            }
            for reason in &verdict.reasons {
                let problem = Problem {
                    left_out,
                    message: reason.message.clone(),
                    place: place(verdict, reason),
                };
                entry
                    .problems
                    .entry(problem)
                    .or_default()
                    .push(channel.name.clone());
            }
        }
    }
    for ((_, _, sku), product) in &products {
        // A SKU with control or bidi characters would garble the terminal: show it escaped.
        let sku = crate::text::clean::shown(sku);
        match product.completeness.is_empty() {
            true => writeln!(out, "{sku} ({})", product.place)?,
            false => writeln!(
                out,
                "{sku} ({}), complete: {}",
                product.place,
                product.completeness.join(", ")
            )?,
        }
        // Left out first: those cost sales.
        let mut problems: Vec<_> = product.problems.iter().collect();
        problems.sort_by_key(|(problem, _)| !problem.left_out);
        for (problem, channels) in problems {
            let what = match problem.left_out {
                true => "left out of",
                false => "warning in",
            };
            writeln!(
                out,
                "  {what} {}: {} ({})",
                channels.join(", "),
                problem.message,
                problem.place
            )?;
        }
    }
    if !disabled.is_empty() {
        let products: Vec<String> = disabled
            .iter()
            .map(|(sku, channels)| format!("{sku} ({})", channels.join(", ")))
            .collect();
        writeln!(
            out,
            "disabled (`enabled = false`), not published: {}",
            products.join(", ")
        )?;
    }
    Ok(())
}

/// `line N` of the product's file, and who last changed it.
fn place(verdict: &ProductVerdict, reason: &Reason) -> String {
    let line = reason.line.unwrap_or(verdict.line);
    match &reason.blame {
        Some(blame) => format!("line {line}, {}", blame.sentence()),
        None => format!("line {line}"),
    }
}
