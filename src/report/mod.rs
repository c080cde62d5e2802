//! The completeness report: per channel what went in, what was left out and why, per
//! product how complete it is everywhere; as `report.json` and a browsable `index.html`.

use std::collections::BTreeMap;
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
    pub channels: Vec<ChannelReport>,
    /// Every product with its completeness per channel (0–100).
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
    pub completeness: BTreeMap<String, u8>,
}

#[derive(Debug, Serialize)]
pub struct ProductRef {
    pub sku: String,
    pub file: String,
    pub line: u32,
}

impl Report {
    pub fn write_json(&self, out: impl Write) -> serde_json::Result<()> {
        serde_json::to_writer_pretty(out, self)
    }

    /// A self-contained HTML page (no scripts, no external assets) that a person can browse.
    pub fn write_html(&self, out: impl Write) -> Result<(), tera::Error> {
        let mut tera = tera::Tera::new();
        tera.add_raw_template("report.html", include_str!("index.html"))?;
        let mut context = tera::Context::new();
        context.insert("report", self);
        tera.render_to("report.html", &context, out)
    }
}
