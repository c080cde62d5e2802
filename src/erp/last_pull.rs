//! The last good ERP pull, kept so a build can fall back to it while the ERP is down, within
//! the `max_age_minutes` the catalog allows; the report and manifest then say the numbers are
//! stale and how old they are.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ErpRecord;
use crate::pimfeed_folder::LAST_PULL;

#[derive(Debug, Serialize, Deserialize)]
pub struct LastPull {
    /// RFC 3339.
    pub pulled_at: String,
    pub source: String,
    pub records: Vec<ErpRecord>,
}

/// Replaces the kept pull; written beside and renamed, so a crash never leaves half a file.
pub fn save(root: &Path, pull: &LastPull) -> io::Result<()> {
    let path = root.join(LAST_PULL);
    let dir = path.parent().unwrap_or(root);
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{name}.{}", std::process::id()));
    let file = io::BufWriter::new(std::fs::File::create(&temporary)?);
    serde_json::to_writer(file, pull).map_err(io::Error::other)?;
    std::fs::rename(&temporary, &path)
}

/// The kept pull, if there is one that can be read.
pub fn load(root: &Path) -> Option<LastPull> {
    let file = std::fs::File::open(root.join(LAST_PULL)).ok()?;
    serde_json::from_reader(io::BufReader::new(file)).ok()
}

/// The kept pull a build may use instead of a failed one: taken from the same `url` (a pull
/// from another ERP or company would publish the wrong numbers) and at most `max_age`
/// minutes old. `Err` says why there is none, for the pull's error.
pub fn fallback(root: &Path, url: &str, max_age: u64) -> Result<(LastPull, u64), NoFallback> {
    let Some(last) = load(root) else {
        return Err(NoFallback::Missing);
    };
    if last.source != url {
        return Err(NoFallback::OtherSource(last.source));
    }
    let then =
        chrono::DateTime::parse_from_rfc3339(&last.pulled_at).map_err(|_| NoFallback::NoTime)?;
    let age = (chrono::Utc::now() - then.with_timezone(&chrono::Utc)).num_minutes();
    if age < 0 || age as u64 > max_age {
        return Err(NoFallback::TooOld {
            pulled_at: last.pulled_at,
            age_minutes: age.max(0) as u64,
            max_age,
        });
    }
    Ok((last, age as u64))
}

/// Why a failed pull has no last pull to fall back to.
#[derive(Debug, thiserror::Error)]
pub enum NoFallback {
    #[error("there is no earlier pull to fall back to in {LAST_PULL}")]
    Missing,
    /// A pull from another ERP or company would publish the wrong numbers.
    #[error("the last good pull came from another url ({0}), so it was not used")]
    OtherSource(String),
    #[error("the last good pull in {LAST_PULL} has no valid time")]
    NoTime,
    #[error(
        "the last good pull, at {pulled_at}, is {} old, more than max_age_minutes = {max_age} allows",
        crate::wording::minutes(*age_minutes)
    )]
    TooOld {
        pulled_at: String,
        age_minutes: u64,
        max_age: u64,
    },
}
