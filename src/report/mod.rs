//! The completeness report: per channel what went in, what was left out and why, per
//! product how complete it is everywhere; as `report.json` and a browsable `index.html`.

use std::io::Write;
use std::sync::Arc;

use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::verdict::Reason;

pub mod blame;
pub mod content_errors;
pub mod html;
mod html_rows;
mod json;
pub mod markdown;
pub mod sku_case;
pub mod summary;

#[derive(Debug, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub catalog: String,
    pub summary: Summary,
    /// Set when the ERP could not be read and the last good pull's numbers were used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erp_stale: Option<String>,
    pub channels: Vec<ChannelReport>,
    /// Every product with its completeness per channel (0–100), in the order of `channels`.
    pub products: Vec<ProductCompleteness>,
    /// Content files whose SKU the ERP does not know.
    pub content_without_erp: Vec<ProductRef>,
    /// ERP items that no content file describes.
    pub erp_without_content: Vec<String>,
    /// Products whose file has an error: left out of every channel until it is fixed.
    pub content_with_errors: Vec<ProductRef>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub content_files: usize,
    pub products: usize,
    pub erp_records: usize,
    pub errors: usize,
    pub warnings: usize,
}

#[derive(Debug, Serialize)]
pub struct ChannelReport {
    pub name: String,
    /// The preset's name, or the custom channel's format.
    pub kind: String,
    pub locale: String,
    pub output: String,
    pub items: usize,
    pub excluded: usize,
    /// Products left out, with every reason.
    pub left_out: Vec<ProductVerdict>,
    /// Products in the feed with something worth fixing.
    pub warnings: Vec<ProductVerdict>,
    /// About the channel as a whole: a setting the marketplace needs, rules that were not
    /// checked, a document that was not written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ProductVerdict {
    pub sku: Arc<str>,
    /// Shared by the file's products and channels: a million products make a million rows.
    pub file: Arc<str>,
    pub line: u32,
    pub completeness: u8,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Serialize)]
pub struct ProductCompleteness {
    pub sku: Arc<str>,
    /// Shared by the file's products (see [`ProductVerdict::file`]).
    pub file: Arc<str>,
    /// One percentage per channel, in the order of the report's `channels`.
    pub completeness: Vec<u8>,
}

#[derive(Debug, Serialize)]
pub struct ProductRef {
    pub sku: String,
    pub file: String,
    pub line: u32,
}

impl Report {
    /// `report.json`: the bytes serde_json writes for the report, written faster.
    pub fn write_json(&self, out: impl Write) -> serde_json::Result<()> {
        json::write(self, out)
    }

    /// A self-contained HTML page (no scripts, no external assets) that a person can browse,
    /// for the output folder `output` (its links to feeds and sources are relative).
    pub fn write_html(&self, out: impl Write, output: &std::path::Path) -> Result<(), tera::Error> {
        self.write_html_with(out, &html::Links::beside_feeds(output), "", HTML_ROWS)
    }

    /// The HTML page with `links`, `chrome` (trusted HTML: `serve`'s navigation and reload
    /// script) at the top of the body, and at most `rows` rows per list.
    pub fn write_html_with(
        &self,
        out: impl Write,
        links: &html::Links,
        chrome: &str,
        rows: usize,
    ) -> Result<(), tera::Error> {
        let mut tera = tera::Tera::new();
        html::register_filters(&mut tera, links);
        tera.add_raw_template("report.html", include_str!("index.html"))?;
        let mut context = tera::Context::new();
        context.insert("report", &HtmlPage::new(self, rows));
        context.insert("links", links);
        context.insert("style", STYLE);
        context.insert("chrome", chrome);
        let page = html_rows::Splicer {
            out,
            report: self,
            links,
            rows,
        };
        tera.render_to("report.html", &context, page)
    }
}

/// The style sheet of the report and of `serve`'s pages.
pub const STYLE: &str = include_str!("style.css");

/// At most this many rows per list on the published HTML page; report.json has every one. A page for a
/// million products must stay something a browser opens (and a build must not hold a copy of
/// the whole report as template values).
const HTML_ROWS: usize = 2000;

/// The report as the HTML page shows it: every list cut at [`HTML_ROWS`], with the rest counted.
#[derive(Serialize)]
struct HtmlPage<'a> {
    generated_at: &'a str,
    catalog: &'a str,
    summary: &'a Summary,
    erp_stale: Option<&'a str>,
    channels: Vec<HtmlChannel<'a>>,
    incomplete_products: html_rows::RowsHtml,
    content_without_erp: Shown<&'a ProductRef>,
    erp_without_content: Shown<&'a String>,
    diagnostics: Shown<&'a Diagnostic>,
}

#[derive(Serialize)]
struct HtmlChannel<'a> {
    name: &'a str,
    kind: &'a str,
    locale: &'a str,
    output: &'a str,
    items: usize,
    excluded: usize,
    left_out: html_rows::RowsHtml,
    warnings: html_rows::RowsHtml,
    notes: &'a [String],
}

/// A product left out or warned about, as a row: who changed what is said once per run of
/// reasons with the same author and commit, not on every reason.
#[derive(Serialize)]
struct HtmlVerdict<'a> {
    sku: &'a str,
    file: &'a str,
    line: u32,
    completeness: u8,
    /// Left out by the channel's filter or `enabled = false`, not for something missing.
    by_choice: bool,
    reasons: Vec<HtmlReason<'a>>,
}

#[derive(Serialize)]
struct HtmlReason<'a> {
    message: &'a str,
    line: Option<u32>,
    /// `last changed by Jane Doe on 2 Mar 2026 (3f2a1bc)`, when it differs from the reason
    /// before.
    blame: Option<String>,
}

impl<'a> HtmlVerdict<'a> {
    fn new(verdict: &'a ProductVerdict) -> Self {
        let mut previous = None;
        let reasons = verdict
            .reasons
            .iter()
            .map(|reason| {
                let same = reason.blame.as_ref().map(ToString::to_string) == previous;
                previous = reason.blame.as_ref().map(ToString::to_string);
                HtmlReason {
                    message: &reason.message,
                    line: reason.line,
                    blame: reason
                        .blame
                        .as_deref()
                        .filter(|_| !same)
                        .map(blame_sentence),
                }
            })
            .collect();
        HtmlVerdict {
            sku: &verdict.sku,
            file: &verdict.file,
            line: verdict.line,
            completeness: verdict.completeness,
            by_choice: verdict
                .reasons
                .iter()
                .all(|r| matches!(r.code, "filter" | "disabled")),
            reasons,
        }
    }
}

/// Who last changed a line, for a person: `last changed by Jane Doe on 2 Mar 2026`.
pub fn blame_sentence(blame: &crate::diagnostics::Blame) -> String {
    if blame.history_cut_off {
        return "last change unknown (shallow clone)".to_string();
    }
    match (blame.committed, &blame.author, &blame.date) {
        (false, _, _) => "not committed yet".to_string(),
        (true, author, date) => {
            let mut out = format!("last changed by {}", author.as_deref().unwrap_or("someone"));
            if let Some(date) = date {
                out.push_str(&format!(" on {}", html::human_date(date)));
            }
            if let Some(commit) = &blame.commit {
                out.push_str(&format!(
                    " ({})",
                    crate::diagnostics::short_commit_id(commit)
                ));
            }
            out
        }
    }
}

/// The first rows of a list, and how many more there are.
#[derive(Serialize)]
struct Shown<T> {
    rows: Vec<T>,
    more: usize,
}

fn shown<T>(all: &[T], rows: usize) -> Shown<&T> {
    let rows: Vec<&T> = all.iter().take(rows).collect();
    Shown {
        more: all.len() - rows.len(),
        rows,
    }
}

fn shown_verdicts(
    all: &[ProductVerdict],
    rows: usize,
    list: html_rows::List,
) -> html_rows::RowsHtml {
    let shown = all.len().min(rows);
    list.rows(shown, all.len() - shown)
}

/// Products that miss something, the first `rows` of them; a million complete ones would
/// bury them.
fn incomplete_products(report: &Report, rows: usize) -> Vec<&ProductCompleteness> {
    report
        .products
        .iter()
        .filter(|p| p.completeness.iter().any(|c| *c < 100))
        .take(rows)
        .collect()
}

impl<'a> HtmlPage<'a> {
    fn new(report: &'a Report, rows: usize) -> Self {
        use html_rows::List;
        Self {
            generated_at: &report.generated_at,
            catalog: &report.catalog,
            summary: &report.summary,
            erp_stale: report.erp_stale.as_deref(),
            channels: report
                .channels
                .iter()
                .enumerate()
                .map(|(index, c)| HtmlChannel {
                    name: &c.name,
                    kind: &c.kind,
                    locale: &c.locale,
                    output: &c.output,
                    items: c.items,
                    excluded: c.excluded,
                    left_out: shown_verdicts(&c.left_out, rows, List::LeftOut(index)),
                    warnings: shown_verdicts(&c.warnings, rows, List::Warnings(index)),
                    notes: &c.notes,
                })
                .collect(),
            incomplete_products: List::Incomplete.rows(incomplete_products(report, rows).len(), 0),
            content_without_erp: shown(&report.content_without_erp, rows),
            erp_without_content: shown(&report.erp_without_content, rows),
            diagnostics: shown(&report.diagnostics, rows),
        }
    }
}

#[cfg(test)]
mod tests;
