//! What the pages show of a build's report: its head (summary, channels and their counts, the
//! first problems) and the report page, rendered once per build. The report itself, with a
//! verdict for every product, is let go as soon as the pages show the build.

use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::report::html::Links;
use crate::report::{Report, Summary};

/// Problems listed on the overview; the rest are counted.
pub const PROBLEMS_SHOWN: usize = 100;
/// Content errors named in the banner on every page; the rest are counted.
pub const BANNER_ERRORS: usize = 10;
/// Rows per list on the report page.
const REPORT_ROWS: usize = 200;
/// Where each request puts its navigation and reload script into the report page.
const CHROME: &str = "<!-- pimfeed serve: chrome -->";

pub struct ReportView {
    pub generated_at: String,
    pub catalog: String,
    pub summary: Summary,
    pub erp_stale: Option<String>,
    pub channels: Vec<ChannelHead>,
    /// The first [`PROBLEMS_SHOWN`] diagnostics, and how many there are.
    pub problems: Vec<Diagnostic>,
    pub problems_total: usize,
    /// The first [`BANNER_ERRORS`] content errors, and how many there are.
    pub errors: Vec<Diagnostic>,
    pub error_count: usize,
    /// The report page, or why it could not be rendered.
    page: Result<String, String>,
}

#[derive(Serialize)]
pub struct ChannelHead {
    pub name: String,
    pub kind: String,
    pub locale: String,
    pub output: String,
    pub items: usize,
    pub excluded: usize,
}

impl ReportView {
    pub fn new(report: &Report, links: &Links) -> ReportView {
        let mut out = Vec::new();
        let page = report
            .write_html_with(&mut out, links, CHROME, REPORT_ROWS)
            .map(|()| String::from_utf8_lossy(&out).into_owned())
            .map_err(|err| crate::diagnostics::error_chain(&err));
        let errors = report.diagnostics.iter().filter(|d| d.is_error());
        ReportView {
            generated_at: report.generated_at.clone(),
            catalog: report.catalog.clone(),
            summary: report.summary.clone(),
            erp_stale: report.erp_stale.clone(),
            channels: report
                .channels
                .iter()
                .map(|c| ChannelHead {
                    name: c.name.clone(),
                    kind: c.kind.clone(),
                    locale: c.locale.clone(),
                    output: c.output.clone(),
                    items: c.items,
                    excluded: c.excluded,
                })
                .collect(),
            problems: report
                .diagnostics
                .iter()
                .take(PROBLEMS_SHOWN)
                .cloned()
                .collect(),
            problems_total: report.diagnostics.len(),
            errors: errors.clone().take(BANNER_ERRORS).cloned().collect(),
            error_count: errors.count(),
            page,
        }
    }

    /// The report page with `chrome` (trusted HTML) at the top of its body, or why it could
    /// not be rendered.
    pub fn page(&self, chrome: &str) -> Result<String, String> {
        self.page
            .as_ref()
            .map(|page| page.replacen(CHROME, chrome, 1))
            .map_err(Clone::clone)
    }
}
