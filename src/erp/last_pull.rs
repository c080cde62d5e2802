//! The last good ERP pull, kept so a build can fall back to it while the ERP is down, within
//! the `max_age_minutes` the catalog allows; the report and manifest then say the numbers are
//! stale and how old they are.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ErpRecord;

pub const FILE: &str = ".pimfeed/erp-snapshot.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct LastPull {
    /// RFC 3339.
    pub pulled_at: String,
    pub source: String,
    pub records: Vec<ErpRecord>,
}

/// Replaces the kept pull; written beside and renamed, so a crash never leaves half a file.
pub fn save(root: &Path, pull: &LastPull) -> io::Result<()> {
    let path = root.join(FILE);
    let dir = path.parent().unwrap_or(root);
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".erp-snapshot.{}.json", std::process::id()));
    let file = io::BufWriter::new(std::fs::File::create(&temporary)?);
    serde_json::to_writer(file, pull).map_err(io::Error::other)?;
    std::fs::rename(&temporary, &path)
}

/// The kept pull, if there is one that can be read.
pub fn load(root: &Path) -> Option<LastPull> {
    let file = std::fs::File::open(root.join(FILE)).ok()?;
    serde_json::from_reader(io::BufReader::new(file)).ok()
}
