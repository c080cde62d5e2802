//! The completeness report: per channel what went in, what was left out and why, per
//! product how complete it is everywhere; as `report.json` and a browsable `index.html`.

use std::io::Write;

use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::validate::Reason;

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
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Default, Serialize)]
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
    pub sku: String,
    pub file: String,
    pub line: u32,
    pub completeness: u8,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Serialize)]
pub struct ProductCompleteness {
    pub sku: String,
    pub file: String,
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
    pub fn write_json(&self, out: impl Write) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }

    /// A self-contained HTML page (no scripts, no external assets) that a person can browse.
    pub fn write_html(&self, out: impl Write) -> Result<(), tera::Error> {
        let mut tera = tera::Tera::new();
        tera.add_raw_template("report.html", include_str!("index.html"))?;
        let mut context = tera::Context::new();
        context.insert("report", &HtmlPage::new(self));
        tera.render_to("report.html", &context, out)
    }
}

/// At most this many rows per list on the HTML page; report.json has every one. A page for a
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
    incomplete_products: Vec<&'a ProductCompleteness>,
    content_without_erp: Shown<'a, ProductRef>,
    erp_without_content: Shown<'a, String>,
    diagnostics: Shown<'a, Diagnostic>,
}

#[derive(Serialize)]
struct HtmlChannel<'a> {
    name: &'a str,
    kind: &'a str,
    locale: &'a str,
    output: &'a str,
    items: usize,
    excluded: usize,
    left_out: Shown<'a, ProductVerdict>,
    warnings: Shown<'a, ProductVerdict>,
    notes: &'a [String],
}

/// The first rows of a list, and how many more there are.
#[derive(Serialize)]
struct Shown<'a, T> {
    rows: &'a [T],
    more: usize,
}

fn shown<T>(all: &[T]) -> Shown<'_, T> {
    let rows = &all[..all.len().min(HTML_ROWS)];
    Shown {
        rows,
        more: all.len() - rows.len(),
    }
}

impl<'a> HtmlPage<'a> {
    fn new(report: &'a Report) -> Self {
        Self {
            generated_at: &report.generated_at,
            catalog: &report.catalog,
            summary: &report.summary,
            erp_stale: report.erp_stale.as_deref(),
            channels: report
                .channels
                .iter()
                .map(|c| HtmlChannel {
                    name: &c.name,
                    kind: &c.kind,
                    locale: &c.locale,
                    output: &c.output,
                    items: c.items,
                    excluded: c.excluded,
                    left_out: shown(&c.left_out),
                    warnings: shown(&c.warnings),
                    notes: &c.notes,
                })
                .collect(),
            // Products that miss something; a million complete ones would bury them.
            incomplete_products: report
                .products
                .iter()
                .filter(|p| p.completeness.iter().any(|c| *c < 100))
                .take(HTML_ROWS)
                .collect(),
            content_without_erp: shown(&report.content_without_erp),
            erp_without_content: shown(&report.erp_without_content),
            diagnostics: shown(&report.diagnostics),
        }
    }
}
