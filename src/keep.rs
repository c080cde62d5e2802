//! Keep-last-good: a typo never delists a product.
//!
//! When a content file that published products now has an error (it no longer parses, an
//! attribute breaks its rule), its products are taken from the last good build's content
//! (`.pimfeed/last-build/`) and go through the gate again with today's ERP numbers, for up to
//! `[guard] keep_last_good_days` days. So the gate still has its say (out of stock by a
//! filter, inactive or gone from the ERP), only the broken edit does not reach the feeds; each
//! kept item carries a warning saying so, in the report, `check` and the annotations.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::verdict::Reason;

/// The reason code of a kept item's warning.
pub const CODE: &str = "kept-last-good";

/// Products of one broken file that a run keeps from the last good build.
#[derive(Debug, Clone)]
pub struct Kept {
    /// When the file first had the error, RFC 3339.
    pub since: String,
    pub skus: HashSet<String>,
    /// How many days they are kept in all.
    pub days: u32,
}

impl Kept {
    /// The warning on each kept item.
    pub fn reason(&self) -> Reason {
        Reason::new(
            CODE,
            format!(
                "kept as in the last good build: its content file has an error since {}; \
                 fix it within {} days of then, or the product leaves this channel",
                self.since, self.days
            ),
        )
    }
}

/// How many products a run kept from the last good build.
pub fn kept_products(report: &crate::report::Report) -> usize {
    let skus: HashSet<&str> = report
        .channels
        .iter()
        .flat_map(|c| &c.warnings)
        .filter(|p| p.reasons.iter().any(|r| r.code == CODE))
        .map(|p| &*p.sku)
        .collect();
    skus.len()
}

/// One GitHub Actions warning per kept product, naming every channel it is kept in: a
/// reviewer sees that the broken file is still published as it was.
pub fn annotations(report: &crate::report::Report) -> String {
    use crate::diagnostics::github_escape;
    let mut kept: std::collections::BTreeMap<(&str, u32, &str), (Vec<&str>, &str)> =
        std::collections::BTreeMap::new();
    for channel in &report.channels {
        for product in &channel.warnings {
            for reason in product.reasons.iter().filter(|r| r.code == CODE) {
                let entry = kept
                    .entry((&*product.file, product.line, &*product.sku))
                    .or_insert((Vec::new(), reason.message.as_str()));
                entry.0.push(&channel.name);
            }
        }
    }
    let mut out = String::new();
    for ((file, line, sku), (channels, message)) in kept {
        let title = format!("kept in {}", channels.join(", "));
        out.push_str(&format!(
            "::warning file={},line={line},title={}::{}\n",
            github_escape(file, true),
            github_escape(&title, true),
            github_escape(&format!("{sku}: {message}"), false)
        ));
    }
    out
}

/// When a file's products were first kept, if they may still be: `None` once `days` have
/// passed since `first_kept` (or with `days` = 0, which turns keeping off).
pub fn since(first_kept: Option<&str>, now: DateTime<Utc>, days: u32) -> Option<String> {
    if days == 0 {
        return None;
    }
    let first = first_kept
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let limit = chrono::Duration::days(i64::from(days));
    (now.signed_duration_since(first) <= limit)
        .then(|| first.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_from_the_first_error_for_the_given_days_then_not() {
        let now: DateTime<Utc> = "2026-11-30T10:00:00Z".parse().unwrap();
        assert_eq!(since(None, now, 7).as_deref(), Some("2026-11-30T10:00:00Z"));
        assert_eq!(
            since(Some("2026-11-24T10:00:00Z"), now, 7).as_deref(),
            Some("2026-11-24T10:00:00Z")
        );
        assert_eq!(since(Some("2026-11-23T09:59:59Z"), now, 7), None);
        assert_eq!(since(None, now, 0), None);
    }
}
