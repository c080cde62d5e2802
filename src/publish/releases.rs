//! The releases a target keeps for `rollback`: `releases/index.json` lists them, oldest
//! first, each with its files and, per file, the release folder that holds its bytes.
//!
//! A release folder holds only the files that release changed; a file it did not change is
//! held by an earlier release. When the oldest release is dropped, the files later releases
//! still use are first copied into the oldest of those, so every kept release can be put
//! back whole.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::target::Target;
use super::{PublishError, served};
use crate::config::PublishConfig;

pub const INDEX: &str = "releases/index.json";

/// The key of `file` in release `id`'s folder.
pub fn key(id: &str, file: &str) -> String {
    format!("releases/{id}/{file}")
}

/// A release's id: when its build ran, and the start of its manifest's digest (two builds in
/// one second still differ), e.g. `20261130T041512Z-3f9a1c2e`. Sorts by time.
pub fn release_id(manifest: &serde_json::Value, manifest_bytes: &[u8]) -> String {
    use sha2::Digest;
    let time: String = manifest["generated_at"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let digest = crate::output::hex(&sha2::Sha256::digest(manifest_bytes));
    format!("{time}-{}", &digest[..8])
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ReleaseIndex {
    /// The release at the stable keys.
    pub current: Option<String>,
    /// Oldest first.
    pub releases: Vec<Release>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Release {
    pub id: String,
    pub published_at: String,
    /// When the build ran.
    pub built_at: String,
    pub commit: Option<String>,
    /// Items per channel.
    pub channels: BTreeMap<String, usize>,
    pub files: BTreeMap<String, HeldFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldFile {
    pub sha256: String,
    /// The release whose folder holds these bytes.
    pub release: String,
}

impl Release {
    pub fn new(id: &str, manifest: &serde_json::Value) -> Release {
        Release {
            id: id.to_string(),
            published_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            built_at: manifest["generated_at"].as_str().unwrap_or_default().into(),
            commit: manifest["git"]["commit"].as_str().map(str::to_string),
            channels: crate::guard::Counts::of_manifest(manifest).channels,
            files: BTreeMap::new(),
        }
    }

    pub fn hold(&mut self, file: &str, sha256: &str, release: &str) {
        self.files.insert(
            file.to_string(),
            HeldFile {
                sha256: sha256.to_string(),
                release: release.to_string(),
            },
        );
    }
}

impl ReleaseIndex {
    pub fn read(target: &Target) -> Result<ReleaseIndex, PublishError> {
        match target.get(INDEX)? {
            None => Ok(ReleaseIndex::default()),
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|err| {
                PublishError::Other(format!(
                    "the target's {INDEX} does not parse ({err}); move it aside to start a new history"
                ))
            }),
        }
    }

    pub fn write(&self, target: &Target) -> Result<(), PublishError> {
        let bytes =
            serde_json::to_vec_pretty(self).map_err(|e| PublishError::Other(e.to_string()))?;
        let served = super::target::Served {
            content_type: "application/json",
            cache_control: "no-cache".to_string(),
        };
        target.put_bytes(INDEX, &bytes, &served)?;
        Ok(())
    }

    /// The release folder that already holds `file` with these bytes, if a kept one does.
    pub fn held(&self, file: &str, sha256: &str) -> Option<String> {
        self.releases
            .iter()
            .rev()
            .filter_map(|r| r.files.get(file))
            .find(|held| held.sha256 == sha256)
            .map(|held| held.release.clone())
    }

    /// Whether the current release has exactly these files (`report/` included, which the
    /// manifest does not list).
    pub fn current_holds(&self, files: &BTreeMap<String, String>) -> bool {
        let current = self.current.as_deref();
        let Some(release) = self
            .releases
            .iter()
            .find(|r| Some(r.id.as_str()) == current)
        else {
            return false;
        };
        release.files.len() == files.len()
            && files.iter().all(|(key, sha)| {
                release
                    .files
                    .get(key)
                    .is_some_and(|held| &held.sha256 == sha)
            })
    }

    /// Adds `release` as the newest and current one (replacing an earlier try of the same).
    pub fn add(&mut self, release: Release) {
        self.releases.retain(|r| r.id != release.id);
        self.current = Some(release.id.clone());
        self.releases.push(release);
    }

    /// Release `id`, or the one before the current one.
    pub fn choose(&self, id: Option<&str>) -> Result<Release, PublishError> {
        if self.releases.is_empty() {
            return Err(PublishError::Other(
                "the target has no releases: publish first".to_string(),
            ));
        }
        if let Some(id) = id {
            return self
                .releases
                .iter()
                .find(|r| r.id == id)
                .cloned()
                .ok_or_else(|| {
                    let known: Vec<_> = self.releases.iter().map(|r| r.id.as_str()).collect();
                    PublishError::Other(format!(
                        "no release `{id}` in the target; it keeps: {}",
                        known.join(", ")
                    ))
                });
        }
        let current = self
            .current
            .as_deref()
            .and_then(|c| self.releases.iter().position(|r| r.id == c))
            .unwrap_or(self.releases.len() - 1);
        match current.checked_sub(1) {
            Some(before) => Ok(self.releases[before].clone()),
            None => Err(PublishError::Other(format!(
                "release {} is the oldest the target keeps: there is nothing before it",
                self.releases[current].id
            ))),
        }
    }

    /// Drops the oldest releases beyond `keep` (never the current one), first copying the
    /// files later releases still use into the oldest of those.
    pub fn prune(
        &mut self,
        target: &Target,
        keep: usize,
        config: &PublishConfig,
    ) -> Result<Vec<String>, PublishError> {
        let mut pruned = Vec::new();
        while self.releases.len() > keep.max(1) {
            let oldest = self.releases[0].id.clone();
            if self.current.as_deref() == Some(oldest.as_str()) {
                break;
            }
            let dropped = self.releases.remove(0);
            for (file, held) in dropped.files.iter().filter(|(_, h)| h.release == oldest) {
                let users: Vec<usize> = (0..self.releases.len())
                    .filter(|&i| {
                        self.releases[i]
                            .files
                            .get(file)
                            .is_some_and(|h| h.release == oldest && h.sha256 == held.sha256)
                    })
                    .collect();
                let Some(&heir) = users.first() else {
                    continue;
                };
                let heir_id = self.releases[heir].id.clone();
                let bytes = target.get(&key(&oldest, file))?.ok_or_else(|| {
                    PublishError::Other(format!("{} is missing in the target", key(&oldest, file)))
                })?;
                target.put_bytes(&key(&heir_id, file), &bytes, &served(config, file))?;
                for i in users {
                    self.releases[i].hold(file, &held.sha256, &heir_id);
                }
            }
            // The index no longer points into the dropped folder before it goes.
            self.write(target)?;
            for (file, _) in dropped.files.iter().filter(|(_, h)| h.release == oldest) {
                target.delete(&key(&oldest, file))?;
            }
            target.delete(&key(&oldest, super::MANIFEST))?;
            pruned.push(oldest);
        }
        Ok(pruned)
    }
}
