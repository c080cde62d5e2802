//! What a build says it published: `manifest.json`, and the report beside it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use super::{ErpPull, Failure};
use crate::output::FileStats;
use crate::report::Report;

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub generated_at: String,
    pub pimfeed_version: &'static str,
    pub catalog: String,
    pub git: Option<crate::git::GitState>,
    pub erp: ErpPull,
    pub channels: Vec<ManifestChannel>,
}

#[derive(Debug, Serialize)]
pub struct ManifestChannel {
    pub name: String,
    pub file: String,
    pub format: crate::config::ChannelFormat,
    pub items: usize,
    pub excluded: usize,
    /// Absent when no file was written (an Amazon channel no product reached).
    #[serde(flatten)]
    pub stats: Option<FileStats>,
    /// `<file>.gz`, when `[build] gzip = true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gzip: Option<FileStats>,
    /// Every file of a feed split over several (Amazon's 10,000 messages per document), the
    /// first being `file` itself; absent when the feed is one file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<ManifestPart>,
    /// Why `file` was not written, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ManifestPart {
    pub file: String,
    pub items: usize,
    #[serde(flatten)]
    pub stats: FileStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gzip: Option<FileStats>,
}

/// Writes `report/report.json` and `report/index.html` into the staging folder `dir`, the two
/// at once: with nine channels at 100k products they take a few tenths of a second between
/// them, which is why a build writes them while its feeds are still being parsed back (see
/// [`crate::pipeline::finish`]). The HTML page gets a thread of its own rather than one of
/// rayon's, which the parse-back keeps busy.
pub(crate) fn write_report(dir: &Path, report: &Report, output: &Path) -> Result<(), Failure> {
    let report_dir = dir.join("report");
    std::fs::create_dir_all(&report_dir).map_err(Failure::io("cannot create the report folder"))?;
    std::thread::scope(|scope| {
        let html = scope.spawn(|| {
            let mut html = create(dir, "report/index.html")?;
            report.write_html(&mut html, output).map_err(|err| {
                Failure::io("cannot write the HTML report")(std::io::Error::other(
                    crate::diagnostics::error_chain(&err),
                ))
            })?;
            html.flush()
                .map_err(Failure::io("cannot write the HTML report"))
        });
        let mut json = create(dir, "report/report.json")?;
        report
            .write_json(&mut json)
            .map_err(|err| Failure::io("cannot write report.json")(err.into()))?;
        json.flush()
            .map_err(Failure::io("cannot write report.json"))?;
        html.join().expect("writing the HTML report does not panic")
    })
}

/// Writes `manifest.json` into the staging folder `dir`.
pub(crate) fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), Failure> {
    let mut file = create(dir, "manifest.json")?;
    serde_json::to_writer_pretty(&mut file, manifest)
        .map_err(|err| Failure::io("cannot write manifest.json")(err.into()))?;
    file.write_all(b"\n")
        .and_then(|()| file.flush())
        .map_err(Failure::io("cannot write manifest.json"))
}

fn create(dir: &Path, name: &str) -> Result<BufWriter<File>, Failure> {
    let path = dir.join(name);
    File::create(&path)
        .map(BufWriter::new)
        .map_err(Failure::io(format!("cannot write {}", path.display())))
}
