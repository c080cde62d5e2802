//! What Amazon accepted, per SKU: a hash of the whole listing and of each attribute, so the
//! next push sends only the listings that changed, and a `PATCH` of just the changed
//! attributes where a full `UPDATE` is not needed. Also the feed that was sent and not yet
//! read back, so a push that stops while Amazon processes it picks it up next time instead of
//! sending it again.
//!
//! One JSON file, `.pimfeed/push/<channel>.json`, replaced atomically at each step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::plan::json_hash;
use super::state::{StateError, read_optional};

/// A listing as Amazon accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingHashes {
    /// The whole message but its `messageId`.
    pub hash: String,
    /// `productType` and `requirements`: a change of either needs a full `UPDATE`.
    pub kind: String,
    pub attributes: BTreeMap<String, String>,
}

impl ListingHashes {
    /// The hashes of one feed message (without its `messageId`).
    pub fn of(message: &serde_json::Map<String, Value>) -> ListingHashes {
        let kind = format!(
            "{}/{}",
            message
                .get("productType")
                .and_then(Value::as_str)
                .unwrap_or(""),
            message
                .get("requirements")
                .and_then(Value::as_str)
                .unwrap_or("LISTING")
        );
        let attributes = message
            .get("attributes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, value)| (name.clone(), json_hash(value)))
            .collect();
        ListingHashes {
            hash: json_hash(&Value::Object(message.clone())),
            kind,
            attributes,
        }
    }
}

/// A feed handed to Amazon whose processing report was not read yet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingFeed {
    pub feed_id: String,
    /// What each SKU becomes once Amazon accepts its message; `None`: a deletion.
    pub listings: BTreeMap<String, Option<ListingHashes>>,
    /// Each message's SKU by `messageId`, for report issues that name only the message.
    pub message_skus: BTreeMap<u64, String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AmazonState {
    pub listings: BTreeMap<String, ListingHashes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingFeed>,
}

impl AmazonState {
    pub fn path(root: &Path, channel: &str) -> PathBuf {
        crate::pimfeed_folder::amazon_push_state(root, channel)
    }

    pub fn load(path: &Path) -> Result<Option<AmazonState>, StateError> {
        let Some(text) = read_optional(path)? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|err| StateError::Line {
                path: path.to_path_buf(),
                line: err.line(),
                message: err.to_string(),
            })
    }

    /// Written beside and renamed: a kill leaves the old state or the new one.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let error = |source| StateError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let temporary = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).expect("state serialises");
        std::fs::write(&temporary, text).map_err(error)?;
        std::fs::rename(&temporary, path).map_err(error)
    }
}
