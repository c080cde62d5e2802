//! The ERP stage: every record, all or nothing, with what the pull is worth a warning about.

use std::path::Path;

use serde::Serialize;

use super::Failure;
use crate::config::{Config, ErpConfig};
use crate::diagnostics::Diagnostic;
use crate::erp::http::HttpError;
use crate::erp::last_pull::NoFallback;
use crate::erp::price_list::PriceListError;
use crate::erp::record_check::{ErpFileError, RowProblem};
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
    /// [`crate::cache::records_digest`] of the records, price lists applied: a build whose
    /// cache was made with the same records takes its entries' ERP digests as they are.
    #[serde(skip)]
    pub records_digest: Option<crate::cache::Digest32>,
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

/// Why the ERP numbers could not be had. Each keeps what it is about, so the failure can
/// point at the export's file and line, or the API's URL and record.
#[derive(Debug, thiserror::Error)]
pub enum ErpFailure {
    #[error(transparent)]
    File(#[from] ErpFileError),
    /// The API failed and no last good pull could stand in. The message has what the server
    /// said: it is for the terminal, never for published files.
    #[error("{}", http_message(.error, .no_fallback.as_ref()))]
    Http {
        error: HttpError,
        /// Why the last good pull could not stand in, when `max_age_minutes` allows one.
        no_fallback: Option<NoFallback>,
    },
    /// An export cut off before its first row would otherwise empty every feed.
    #[error("{origin} has no records; refusing to publish empty feeds")]
    Empty { origin: String },
    #[error(transparent)]
    PriceList(#[from] PriceListError),
}

impl From<super::parsed_export::LoadError> for ErpFailure {
    fn from(error: super::parsed_export::LoadError) -> Self {
        use super::parsed_export::LoadError;
        match error {
            LoadError::Export(error) => ErpFailure::File(error),
            LoadError::PriceList(error) => ErpFailure::PriceList(error),
        }
    }
}

fn http_message(error: &HttpError, no_fallback: Option<&NoFallback>) -> String {
    match no_fallback {
        Some(why_not) => format!("{}; {why_not}", error.with_server_text()),
        None => error.with_server_text(),
    }
}

impl ErpFailure {
    /// The message without the list of bad rows or records, which the diagnostics carry.
    pub fn summary(&self) -> String {
        let count = |problems: &[RowProblem]| crate::wording::count(problems.len(), "problem");
        match self {
            ErpFailure::File(ErpFileError::Rows { path, problems }) => {
                format!("ERP export {} has {}", path.display(), count(problems))
            }
            ErpFailure::Http {
                error: HttpError::Records(records),
                no_fallback,
            } => {
                let summary = format!(
                    "ERP source {} has {}",
                    records.url,
                    count(&records.problems)
                );
                match no_fallback {
                    Some(why_not) => format!("{summary}; {why_not}"),
                    None => summary,
                }
            }
            _ => self.to_string(),
        }
    }

    /// Where the failure is, as diagnostics: every bad row of an export at its file and
    /// line, every bad record of an API at its URL and number, a bad price list row at its
    /// line. `export` is the export's path as configured (catalog-relative).
    pub(crate) fn diagnostics(&self, export: Option<&Path>) -> Vec<Diagnostic> {
        let rows = |problems: &[RowProblem], file: &Path| {
            problems
                .iter()
                .map(|problem| problem.error("erp-row", file))
                .collect()
        };
        match self {
            ErpFailure::File(ErpFileError::Rows { path, problems }) => {
                rows(problems, export.unwrap_or(path))
            }
            ErpFailure::File(ErpFileError::Format { path, message }) => {
                let file = export.unwrap_or(path);
                vec![Diagnostic::file_error("erp-export", file, message.clone())]
            }
            ErpFailure::Http {
                error: HttpError::Records(records),
                ..
            } => rows(&records.problems, Path::new(&records.url)),
            ErpFailure::PriceList(error) => error.diagnostic().into_iter().collect(),
            ErpFailure::File(ErpFileError::Io { .. })
            | ErpFailure::Http { .. }
            | ErpFailure::Empty { .. } => Vec::new(),
        }
    }
}

pub(crate) fn pull_erp(config: &Config, root: &Path) -> Result<(Vec<ErpRecord>, ErpPull), Failure> {
    pull_erp_with(config, root, &crate::ui::Progress::hidden(), false)
}

/// The ERP records, all or nothing: from the export, from the API, or (when the API is down
/// and the catalog allows it) from the last good pull. `writes` is false for a run that
/// writes nothing (a `check`): it may use the parsed export a build kept, but keeps none.
pub(crate) fn pull_erp_with(
    config: &Config,
    root: &Path,
    progress: &crate::ui::Progress,
    writes: bool,
) -> Result<(Vec<ErpRecord>, ErpPull), Failure> {
    let export = match &config.erp {
        ErpConfig::File(file) => Some(file.path.as_path()),
        ErpConfig::Http(_) => None,
    };
    let pulled = pull_erp_records(config, root, progress, writes).map(|(records, pull)| {
        let records_digest = pull
            .records_digest
            .unwrap_or_else(|| crate::cache::records_digest(&records));
        let pull = ErpPull {
            records_digest: Some(records_digest),
            ..pull
        };
        (records, pull)
    });
    pulled.map_err(|error| Failure::Erp {
        diagnostics: error.diagnostics(export),
        error: Box::new(error),
    })
}

/// The records with the price lists' prices: an export's come with them from its parse
/// (see `parsed_export`, which keeps them together); the API's get them here.
fn pull_erp_records(
    config: &Config,
    root: &Path,
    progress: &crate::ui::Progress,
    writes: bool,
) -> Result<(Vec<ErpRecord>, ErpPull), ErpFailure> {
    let pulled_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match &config.erp {
        ErpConfig::File(file) => {
            let lists = erp::price_list::read_lists(&config.price_lists, root)?;
            let loaded = super::parsed_export::load(file, &lists, root, writes)?;
            let warnings = erp_warnings(&loaded.checked.warnings, &file.path);
            let source = format!("file:{}", file.path.display());
            let pull = Pulled {
                source,
                pulled_at,
                warnings,
                // Kept with the parsed export's records, prices included.
                records_digest: loaded.records_digest,
            };
            pull.of(loaded.checked.records)
        }
        ErpConfig::Http(http) => {
            let (mut records, pull) = match erp::http::pull(http, progress) {
                Ok(pull) => {
                    let last = erp::last_pull::LastPull {
                        pulled_at: pulled_at.clone(),
                        source: http.url.clone(),
                        records: pull.records,
                    };
                    // Keeping it is a convenience for later builds; failing to is not this
                    // one's.
                    let _ = erp::last_pull::save(root, &last);
                    let warnings = erp_warnings(&pull.warnings, Path::new(&http.url));
                    let pull = Pulled {
                        source: http.url.clone(),
                        pulled_at,
                        warnings,
                        records_digest: None,
                    };
                    pull.of(last.records)?
                }
                Err(error) => last_good_pull(root, http, error)?,
            };
            erp::price_list::apply(&config.price_lists, root, &mut records)?;
            Ok((records, pull))
        }
    }
}

/// What is known of a pull besides its records.
struct Pulled {
    source: String,
    pulled_at: String,
    warnings: Vec<Diagnostic>,
    records_digest: Option<crate::cache::Digest32>,
}

impl Pulled {
    /// The pull of `records`; none at all fails it.
    fn of(self, records: Vec<ErpRecord>) -> Result<(Vec<ErpRecord>, ErpPull), ErpFailure> {
        if records.is_empty() {
            return Err(ErpFailure::Empty {
                origin: self.source,
            });
        }
        let pull = ErpPull {
            source: self.source,
            pulled_at: self.pulled_at,
            records: records.len(),
            stale: None,
            warnings: self.warnings,
            records_digest: self.records_digest,
        };
        Ok((records, pull))
    }
}

/// After a failed API pull: the last good pull, when the catalog allows one that old.
fn last_good_pull(
    root: &Path,
    http: &crate::config::ErpHttpConfig,
    error: HttpError,
) -> Result<(Vec<ErpRecord>, ErpPull), ErpFailure> {
    let Some(max_age) = http.max_age_minutes else {
        return Err(ErpFailure::Http {
            error,
            no_fallback: None,
        });
    };
    match erp::last_pull::fallback(root, &http.url, max_age) {
        Ok((last, age_minutes)) => {
            let stale = Stale {
                age_minutes,
                because: error.to_string(),
                server_said: error.server_said().map(str::to_string),
            };
            let pull = ErpPull {
                source: last.source,
                pulled_at: last.pulled_at,
                records: last.records.len(),
                stale: Some(stale),
                warnings: Vec::new(),
                records_digest: None,
            };
            Ok((last.records, pull))
        }
        Err(why_not) => Err(ErpFailure::Http {
            error,
            no_fallback: Some(why_not),
        }),
    }
}

fn erp_warnings(rows: &[RowProblem], source: &Path) -> Vec<Diagnostic> {
    rows.iter()
        .map(|row| row.warning("negative-stock", source))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::record_check::RowNoun;

    fn problem(row: usize, line: Option<usize>, noun: RowNoun) -> RowProblem {
        RowProblem {
            row,
            line,
            sku: Some("DR-2".to_string()),
            message: "price `12.5x` is not a decimal number".to_string(),
            noun,
        }
    }

    #[test]
    fn bad_export_rows_are_diagnostics_at_the_configured_path_and_line() {
        let failure = ErpFailure::File(ErpFileError::Rows {
            path: "/catalog/erp/items.csv".into(),
            problems: vec![problem(2, Some(3), RowNoun::Row)],
        });
        let diagnostics = failure.diagnostics(Some(Path::new("erp/items.csv")));
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].file, Path::new("erp/items.csv"));
        assert_eq!(diagnostics[0].line, 3);
        assert!(diagnostics[0].is_error());
        assert!(
            diagnostics[0]
                .message
                .starts_with("row 2, line 3, SKU `DR-2`")
        );
        assert_eq!(
            failure.summary(),
            "ERP export /catalog/erp/items.csv has 1 problem"
        );
    }

    #[test]
    fn bad_api_records_are_named_by_url_and_record() {
        let url = "https://erp.example/api/items";
        let failure = ErpFailure::Http {
            error: HttpError::Records(crate::erp::record_check::RecordsError {
                url: url.to_string(),
                problems: vec![problem(7, None, RowNoun::Record)],
            }),
            no_fallback: None,
        };
        let diagnostics = failure.diagnostics(None);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].file, Path::new(url));
        assert_eq!(diagnostics[0].line, 0);
        assert!(diagnostics[0].message.starts_with("record 7, SKU `DR-2`"));
        let message = failure.to_string();
        assert!(
            message.starts_with(&format!("ERP source {url} has 1 problem:")),
            "{message}"
        );
        assert!(!message.contains("ERP export"), "{message}");
    }
}
