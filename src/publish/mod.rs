//! `pimfeed publish` and `pimfeed rollback`: the last build's feeds at stable URLs.
//!
//! A target (an S3-compatible bucket or a folder, see [`target`]) holds the feeds at stable
//! keys (`google.xml`, `manifest.json`) and the last releases under `releases/<id>/`, each
//! with the files it changed and its manifest, listed in `releases/index.json`.
//!
//! A publish first uploads the files that differ from the target's manifest into the new
//! release's folder, then records the release, and only then replaces the stable keys (feeds
//! and parts first, `manifest.json` last). A publish that dies while uploading leaves every
//! stable key as it was; one that dies while replacing them is completed by the next publish,
//! which still sees the old manifest at the stable key.

pub mod cli_help;
mod releases;
pub mod target;

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use releases::{Release, ReleaseIndex};
use target::{Served, Target, TargetError};

use crate::config::PublishConfig;
use crate::guard::{self, Counts};

pub const MANIFEST: &str = "manifest.json";

/// Why a publish or rollback stopped.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Too many items would disappear from the target: a content problem, exit 1.
    #[error(transparent)]
    Guard(#[from] guard::Stopped),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{0}")]
    Other(String),
}

/// What a publish did.
#[derive(Debug, serde::Serialize)]
pub struct Published {
    /// The release now at the stable keys.
    pub release: String,
    /// Stable keys whose bytes changed, in the order they were replaced (manifest last).
    pub uploaded: Vec<String>,
    /// Files already there with the same bytes.
    pub unchanged: usize,
    /// Stable keys removed because the build no longer has them.
    pub removed: Vec<String>,
    /// Releases dropped beyond `keep`.
    pub pruned: Vec<String>,
    /// Each channel's public URL, when `public_url` is set.
    pub urls: BTreeMap<String, String>,
}

/// The content type a marketplace expects for a published file, by its extension.
pub fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or_default() {
        "xml" => "application/xml",
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        "jsonl" | "ndjson" => "application/x-ndjson",
        "gz" => "application/gzip",
        "html" => "text/html; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn served(config: &PublishConfig, key: &str) -> Served {
    Served {
        content_type: content_type(key),
        cache_control: config.cache_control.clone(),
    }
}

/// Every file a manifest lists (feeds, parts, `.gz` twins) with its SHA-256.
pub fn manifest_files(manifest: &serde_json::Value) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut add = |entry: &serde_json::Value| {
        if let (Some(file), Some(sha)) = (entry["file"].as_str(), entry["sha256"].as_str()) {
            files.insert(file.to_string(), sha.to_string());
            if let Some(gzip) = entry["gzip"]["sha256"].as_str() {
                files.insert(format!("{file}.gz"), gzip.to_string());
            }
        }
    };
    for channel in manifest["channels"].as_array().into_iter().flatten() {
        add(channel);
        for part in channel["parts"].as_array().into_iter().flatten() {
            add(part);
        }
    }
    files
}

/// The last build's files to publish, with their digests: the manifest's files, and
/// `report/` when asked for.
fn local_files(
    config: &PublishConfig,
    feeds: &Path,
    manifest: &serde_json::Value,
) -> Result<BTreeMap<String, String>, PublishError> {
    let mut files = manifest_files(manifest);
    if config.report {
        for entry in walkdir::WalkDir::new(feeds.join("report")).sort_by_file_name() {
            let entry = entry.map_err(|err| PublishError::Other(err.to_string()))?;
            if entry.file_type().is_file() {
                let bytes = std::fs::read(entry.path()).map_err(|err| {
                    PublishError::Other(format!("cannot read {}: {err}", entry.path().display()))
                })?;
                let key = entry.path().strip_prefix(feeds).unwrap_or(entry.path());
                let key = key.to_string_lossy().replace('\\', "/");
                files.insert(key, crate::output::hex(&Sha256::digest(&bytes)));
            }
        }
    }
    Ok(files)
}

/// Feeds and parts first, their `.gz` twins next, `report/` last (the manifest comes after all).
fn upload_order(key: &str) -> (u8, &str) {
    let rank = if key.starts_with("report/") {
        2
    } else if key.ends_with(".gz") {
        1
    } else {
        0
    };
    (rank, key)
}

/// Publishes the build in `feeds` to `target`.
pub fn publish(
    config: &PublishConfig,
    guard_config: &crate::config::GuardConfig,
    target: &Target,
    feeds: &Path,
    allow_drop: bool,
    progress: &crate::ui::Progress,
) -> Result<Published, PublishError> {
    let manifest_path = feeds.join(MANIFEST);
    let manifest_bytes = std::fs::read(&manifest_path).map_err(|err| {
        PublishError::Other(format!(
            "no build to publish ({}: {err}): run `pimfeed build` first",
            manifest_path.display()
        ))
    })?;
    let manifest: serde_json::Value = serde_json::from_slice(&manifest_bytes).map_err(|err| {
        PublishError::Other(format!("{} does not parse: {err}", manifest_path.display()))
    })?;
    let release_id = releases::release_id(&manifest, &manifest_bytes);
    let urls = public_urls(config, &manifest);
    let local = local_files(config, feeds, &manifest)?;

    progress.stage("reading the target");
    let target_manifest_bytes = target.get(MANIFEST)?;
    let target_manifest = target_manifest_bytes
        .as_deref()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok());
    let mut index = ReleaseIndex::read(target)?;
    if target_manifest_bytes.as_deref() == Some(&manifest_bytes[..]) && index.current_holds(&local)
    {
        return Ok(Published {
            release: release_id,
            uploaded: Vec::new(),
            unchanged: local.len() + 1,
            removed: Vec::new(),
            pruned: Vec::new(),
            urls,
        });
    }
    if let Some(before) = &target_manifest
        && !allow_drop
    {
        let max = guard_config.max_drop_percent;
        let mut drops = guard::drops(
            &Counts::of_manifest(before),
            &Counts::of_manifest(&manifest),
            max,
        );
        if !drops.is_empty() {
            // The target keeps no report: name the SKUs this build leaves out of the channel.
            if let Some(report) = guard::read_report(feeds) {
                guard::name_gone_skus(&mut drops, None, &report);
            }
            return Err(guard::Stopped {
                drops,
                max_drop_percent: max,
            }
            .into());
        }
    }
    let served_before = target_manifest
        .as_ref()
        .map(manifest_files)
        .unwrap_or_default();
    let mut release = Release::new(&release_id, &manifest);

    // 1. The new release's files, away from the stable keys.
    let mut to_hold: Vec<&String> = Vec::new();
    for (key, sha) in &local {
        match index.held(key, sha) {
            Some(held_in) => release.hold(key, sha, &held_in),
            None => {
                release.hold(key, sha, &release_id);
                to_hold.push(key);
            }
        }
    }
    to_hold.sort_by_key(|key| upload_order(key));
    progress.stage("uploading the release");
    for key in &to_hold {
        let release_key = releases::key(&release_id, key);
        target.put_file(&release_key, &feeds.join(key), &served(config, key))?;
    }
    let release_manifest = releases::key(&release_id, MANIFEST);
    target.put_bytes(
        &release_manifest,
        &manifest_bytes,
        &served(config, MANIFEST),
    )?;
    index.add(release);
    index.write(target)?;

    // 2. The stable keys: only what differs, the manifest last.
    progress.stage("replacing the feeds");
    let mut uploaded: Vec<String> = local
        .iter()
        .filter(|(key, sha)| served_before.get(*key) != Some(*sha) || key.starts_with("report/"))
        .map(|(key, _)| key.clone())
        .collect();
    uploaded.sort_by(|a, b| upload_order(a).cmp(&upload_order(b)));
    for key in &uploaded {
        target.put_file(key, &feeds.join(key), &served(config, key))?;
    }
    target.put_bytes(MANIFEST, &manifest_bytes, &served(config, MANIFEST))?;
    let unchanged = local.len() - uploaded.len();
    uploaded.push(MANIFEST.to_string());
    let mut removed = Vec::new();
    for key in served_before.keys().filter(|key| !local.contains_key(*key)) {
        target.delete(key)?;
        removed.push(key.clone());
    }

    // 3. Releases beyond `keep`.
    let pruned = index.prune(target, config.keep, config)?;
    Ok(Published {
        release: release_id,
        uploaded,
        unchanged,
        removed,
        pruned,
        urls,
    })
}

/// Each channel's feed at `public_url`.
fn public_urls(config: &PublishConfig, manifest: &serde_json::Value) -> BTreeMap<String, String> {
    let Some(base) = &config.public_url else {
        return BTreeMap::new();
    };
    let base = base.trim_end_matches('/');
    manifest["channels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let name = c["name"].as_str()?;
            let file = c["file"].as_str()?;
            Some((name.to_string(), format!("{base}/{file}")))
        })
        .collect()
}

/// What `rollback` did.
#[derive(Debug, serde::Serialize)]
pub struct RolledBack {
    pub release: String,
    pub from: Option<String>,
    pub restored: Vec<String>,
    pub removed: Vec<String>,
}

/// Puts release `id` (default: the one before the current one) back at the stable keys.
pub fn rollback(
    config: &PublishConfig,
    target: &Target,
    id: Option<&str>,
) -> Result<RolledBack, PublishError> {
    let mut index = ReleaseIndex::read(target)?;
    let chosen = index.choose(id)?;
    let manifest = target
        .get(&releases::key(&chosen.id, MANIFEST))?
        .ok_or_else(|| {
            PublishError::Other(format!(
                "release {} has no manifest in the target; choose another with `pimfeed rollback --list`",
                chosen.id
            ))
        })?;
    let served_now = target
        .get(MANIFEST)?
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .map(|m| manifest_files(&m))
        .unwrap_or_default();
    let mut keys: Vec<_> = chosen.files.iter().collect();
    keys.sort_by(|a, b| upload_order(a.0).cmp(&upload_order(b.0)));
    let mut restored = Vec::new();
    for (key, file) in keys {
        // report/ is not in the manifest: always put back when the release holds it.
        if served_now.get(key) == Some(&file.sha256) {
            continue;
        }
        let held = releases::key(&file.release, key);
        let bytes = target.get(&held)?.ok_or_else(|| {
            PublishError::Other(format!(
                "release {} is incomplete in the target: {held} is missing",
                chosen.id
            ))
        })?;
        target.put_bytes(key, &bytes, &served(config, key))?;
        restored.push(key.clone());
    }
    target.put_bytes(MANIFEST, &manifest, &served(config, MANIFEST))?;
    restored.push(MANIFEST.to_string());
    let mut removed = Vec::new();
    for key in served_now.keys().filter(|k| !chosen.files.contains_key(*k)) {
        target.delete(key)?;
        removed.push(key.clone());
    }
    let from = index.current.replace(chosen.id.clone());
    index.write(target)?;
    Ok(RolledBack {
        release: chosen.id,
        from,
        restored,
        removed,
    })
}
