//! What was pushed: per EAN the marketplace's offer id and the hash of the body it accepted.
//!
//! Kept as a journal, `.pimfeed/push/<channel>.jsonl`, one JSON line per accepted call,
//! appended and flushed the moment the marketplace answers. A push that is killed or loses the
//! network therefore leaves a journal of everything that was accepted, and the next push sends
//! only the rest: no offer is created twice. A successful push rewrites the journal compactly.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub ean: String,
    /// The SKU (`reference`), so a removed product is reported by its SKU.
    #[serde(default)]
    pub sku: String,
    /// Absent once the offer is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// SHA-256 of the body the marketplace accepted; absent when the offer was read back
    /// from the marketplace, so its body is not known and the next push updates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Put on hold because the product left the channel.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
    /// Written just before a create is sent: until its answer is recorded, nobody knows
    /// whether the marketplace has the offer (a kill may come while the call is in flight).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

impl Entry {
    /// The line that records `ean` has no offer (deleted, refused or never created).
    pub fn gone(ean: &str, sku: &str) -> Entry {
        Entry {
            ean: ean.to_string(),
            sku: sku.to_string(),
            offer_id: None,
            hash: None,
            held: false,
            pending: false,
        }
    }
}

/// An offer the marketplace has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedOffer {
    pub sku: String,
    pub offer_id: String,
    pub hash: Option<String>,
    pub held: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the pushed state {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: not a pushed-state line ({message}); delete the file to read the offers back from the marketplace", .path.display())]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot write the pushed state {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another pimfeed push of this channel is running (it holds {})", .path.display())]
    Busy { path: PathBuf },
}

/// The offers a channel's marketplace has, as far as pimfeed knows.
#[derive(Debug, Default)]
pub struct PushState {
    pub offers: BTreeMap<String, PushedOffer>,
    /// EANs whose create was sent but whose answer was never recorded: the next push asks
    /// the marketplace before creating them again.
    pub pending: BTreeMap<String, String>,
}

impl PushState {
    /// The journal's file for a channel.
    pub fn path(root: &Path, channel: &str) -> PathBuf {
        crate::pimfeed_folder::push_journal(root, channel)
    }

    /// The state in `path`, or `None` when nothing was pushed from this catalog yet (or the
    /// file was deleted). A last line cut short by a kill is ignored: its call's answer was
    /// never recorded, exactly as if the kill had come a moment earlier.
    pub fn load(path: &Path) -> Result<Option<PushState>, StateError> {
        let Some(text) = read_optional(path)? else {
            return Ok(None);
        };
        let complete = text.ends_with('\n');
        let lines: Vec<&str> = text.lines().collect();
        let mut state = PushState::default();
        for (index, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Entry>(line) {
                Ok(entry) => state.apply(entry),
                Err(_) if !complete && index + 1 == lines.len() => {}
                Err(err) => {
                    return Err(StateError::Line {
                        path: path.to_path_buf(),
                        line: index + 1,
                        message: err.to_string(),
                    });
                }
            }
        }
        Ok(Some(state))
    }

    pub fn apply(&mut self, entry: Entry) {
        if entry.pending {
            self.pending.insert(entry.ean, entry.sku);
            return;
        }
        self.pending.remove(&entry.ean);
        match entry.offer_id {
            Some(offer_id) => {
                self.offers.insert(
                    entry.ean,
                    PushedOffer {
                        sku: entry.sku,
                        offer_id,
                        hash: entry.hash,
                        held: entry.held,
                    },
                );
            }
            None => {
                self.offers.remove(&entry.ean);
            }
        }
    }

    /// Rewrites the journal with one line per offer (in a temporary file, then renamed).
    /// Resolve [`PushState::pending`] first: it is not written.
    pub fn compact(&self, path: &Path) -> Result<(), StateError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StateError::Write {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let error = |source| StateError::Write {
            path: path.to_path_buf(),
            source,
        };
        let temporary = path.with_extension("jsonl.tmp");
        let mut out = BufWriter::new(File::create(&temporary).map_err(error)?);
        for (ean, offer) in &self.offers {
            let entry = Entry {
                ean: ean.clone(),
                sku: offer.sku.clone(),
                offer_id: Some(offer.offer_id.clone()),
                hash: offer.hash.clone(),
                held: offer.held,
                pending: false,
            };
            writeln!(out, "{}", serde_json::to_string(&entry).expect("entry")).map_err(error)?;
        }
        let file = out.into_inner().map_err(|err| error(err.into_error()))?;
        file.sync_all().map_err(error)?;
        std::fs::rename(&temporary, path).map_err(error)
    }
}

/// Held for a whole push of one channel: a second push at the same time would send the same
/// calls. The operating system releases it when the process ends, however it ends.
#[derive(Debug)]
pub struct PushLock {
    _file: File,
}

impl PushLock {
    pub fn acquire(state_path: &Path) -> Result<PushLock, StateError> {
        let path = state_path.with_extension("lock");
        let error = |source| StateError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(error)?;
        match file.try_lock() {
            Ok(()) => Ok(PushLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StateError::Busy { path }),
            Err(std::fs::TryLockError::Error(source)) => Err(error(source)),
        }
    }
}

/// The open journal: each accepted call is appended and flushed at once.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens the journal for appending; open it only after [`PushState::compact`], which
    /// replaces the file.
    pub fn open(path: &Path) -> Result<Journal, StateError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| StateError::Write {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends one line. A kill can cut only this line short, which `load` ignores.
    pub fn record(&mut self, entry: &Entry) -> Result<(), StateError> {
        let mut line = serde_json::to_string(entry).expect("entry");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|source| StateError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

/// The text of `path`, or `None` when it does not exist (nothing was pushed yet, or the file
/// was deleted).
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, StateError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StateError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}
