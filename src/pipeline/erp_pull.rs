//! The ERP stage: every record, all or nothing, with what the pull is worth a warning about.

use std::path::Path;

use serde::Serialize;

use super::Failure;
use crate::config::{Config, ErpConfig};
use crate::diagnostics::Diagnostic;
use crate::erp::{self, ErpRecord};

#[derive(Debug, Clone, Serialize)]
pub struct ErpPull {
    pub source: String,
    pub pulled_at: String,
    pub records: usize,
    /// Set when the ERP could not be read and the last good pull was used instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<Stale>,
    /// Records taken as meant, worth a warning (a negative stock counted as 0); they go into
    /// the report's diagnostics.
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stale {
    pub age_minutes: u64,
    /// Why the ERP could not be read: the source, page and status, never the server's words.
    pub because: String,
    /// The start of the server's answer (secrets masked), for the terminal only: an error page
    /// may echo the request, so it never goes into the manifest or the report.
    #[serde(skip)]
    pub server_said: Option<String>,
}

pub(crate) fn pull_erp(config: &Config, root: &Path) -> Result<(Vec<ErpRecord>, ErpPull), Failure> {
    pull_erp_with(config, root, &crate::ui::Progress::hidden())
}

/// The ERP records, all or nothing: from the export, from the API, or (when the API is down
/// and the catalog allows it) from the last good pull.
pub(crate) fn pull_erp_with(
    config: &Config,
    root: &Path,
    progress: &crate::ui::Progress,
) -> Result<(Vec<ErpRecord>, ErpPull), Failure> {
    let (mut records, pull) = pull_erp_records(config, root, progress)?;
    erp::price_list::apply(&config.price_lists, root, &mut records).map_err(Failure::Erp)?;
    Ok((records, pull))
}

pub(crate) fn pull_erp_records(
    config: &Config,
    root: &Path,
    progress: &crate::ui::Progress,
) -> Result<(Vec<ErpRecord>, ErpPull), Failure> {
    let pulled_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let records = match &config.erp {
        ErpConfig::File(file) => {
            let checked = erp::file::load_with_warnings(file, root)
                .map_err(|err| Failure::Erp(err.to_string()))?;
            let warnings = erp_warnings(&checked.warnings, &file.path);
            let source = format!("file:{}", file.path.display());
            (checked.records, source, None, warnings)
        }
        ErpConfig::Http(http) => match erp::http::pull(http, progress) {
            Ok(pull) => {
                let last = erp::last_pull::LastPull {
                    pulled_at: pulled_at.clone(),
                    source: http.url.clone(),
                    records: pull.records,
                };
                // Keeping it is a convenience for later builds; failing to is not this one's.
                let _ = erp::last_pull::save(root, &last);
                let warnings = erp_warnings(&pull.warnings, Path::new(&http.url));
                (last.records, http.url.clone(), None, warnings)
            }
            Err(err) => {
                let Some(max_age) = http.max_age_minutes else {
                    return Err(Failure::Erp(err.with_server_text()));
                };
                match erp::last_pull::fallback(root, &http.url, max_age) {
                    Ok((last, age_minutes)) => {
                        let stale = Stale {
                            age_minutes,
                            because: err.to_string(),
                            server_said: err.server_said().map(str::to_string),
                        };
                        let pull = ErpPull {
                            source: last.source,
                            pulled_at: last.pulled_at,
                            records: last.records.len(),
                            stale: Some(stale),
                            warnings: Vec::new(),
                        };
                        return Ok((last.records, pull));
                    }
                    Err(why_not) => {
                        return Err(Failure::Erp(format!(
                            "{}; {why_not}",
                            err.with_server_text()
                        )));
                    }
                }
            }
        },
    };
    let (records, source, stale, warnings) = records;
    if records.is_empty() {
        // An export cut off before its first row would otherwise empty every feed.
        return Err(Failure::Erp(format!(
            "{source} has no records; refusing to publish empty feeds"
        )));
    }
    let pull = ErpPull {
        source,
        pulled_at,
        records: records.len(),
        stale,
        warnings,
    };
    Ok((records, pull))
}

pub(crate) fn erp_warnings(
    rows: &[erp::record_check::RowProblem],
    source: &Path,
) -> Vec<Diagnostic> {
    rows.iter()
        .map(|row| row.warning("negative-stock", source))
        .collect()
}
