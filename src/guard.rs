//! The guard: a build, refresh or publish that would drop more than `[guard] max_drop_percent`
//! of a channel's items (or of the ERP's records) stops and changes nothing.
//!
//! A bad ERP export cut to half its rows, or a merge that breaks a shared attribute, would
//! otherwise delist live products from every marketplace within minutes. The counts are
//! compared with the last build's manifest (and, for publish, with the target's); the user
//! lets a real drop through once with `--allow-drop`.

use crate::config::GuardConfig;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// How many SKUs that disappear a stop names per channel.
const SKUS_SHOWN: usize = 5;

/// Item counts per channel and the ERP's record count, as a manifest states them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub channels: BTreeMap<String, usize>,
    pub erp_records: Option<usize>,
}

impl Counts {
    /// The counts of a `manifest.json` document (ours, or the one a target holds).
    pub fn of_manifest(manifest: &serde_json::Value) -> Counts {
        let channels = manifest["channels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some((
                    c["name"].as_str()?.to_string(),
                    c["items"].as_u64()? as usize,
                ))
            })
            .collect();
        Counts {
            channels,
            erp_records: manifest["erp"]["records"].as_u64().map(|n| n as usize),
        }
    }
}

/// One count that fell by more than the guard allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Drop {
    /// A channel's name, or `None` for the ERP's records.
    pub channel: Option<String>,
    pub before: usize,
    pub after: usize,
    /// The first SKUs that are no longer in the channel, when known.
    pub gone: Vec<String>,
}

impl Drop {
    fn percent(&self) -> f64 {
        (self.before - self.after) as f64 * 100.0 / self.before as f64
    }
}

/// The guard stopped a run: every count that fell too far.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    pub drops: Vec<Drop>,
    pub max_drop_percent: f64,
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the guard stopped this run: more than {}% of the items would disappear",
            self.max_drop_percent
        )?;
        for drop in &self.drops {
            let what = match &drop.channel {
                Some(channel) => format!("channel `{channel}`"),
                None => "the ERP's records".to_string(),
            };
            write!(
                f,
                "  {what}: {} → {} ({:.0}% fewer)",
                drop.before,
                drop.after,
                drop.percent()
            )?;
            if !drop.gone.is_empty() {
                write!(f, "; gone: {}", drop.gone.join(", "))?;
                if drop.gone.len() == SKUS_SHOWN {
                    write!(f, ", …")?;
                }
            }
            writeln!(f)?;
        }
        write!(
            f,
            "nothing was changed; if the drop is intended, run again with --allow-drop"
        )
    }
}

impl std::error::Error for Stopped {}

/// The counts that fell by more than `max_drop_percent` from `before` to `after`. A channel
/// that is new, or no longer configured, is no drop: that is a change of pim.toml.
pub fn drops(before: &Counts, after: &Counts, max_drop_percent: f64) -> Vec<Drop> {
    let too_far = |old: usize, new: usize| {
        old > 0 && new < old && (old - new) as f64 * 100.0 / old as f64 > max_drop_percent
    };
    let mut found = Vec::new();
    if let (Some(old), Some(new)) = (before.erp_records, after.erp_records)
        && too_far(old, new)
    {
        found.push(Drop {
            channel: None,
            before: old,
            after: new,
            gone: Vec::new(),
        });
    }
    for (channel, &new) in &after.channels {
        if let Some(&old) = before.channels.get(channel)
            && too_far(old, new)
        {
            found.push(Drop {
                channel: Some(channel.clone()),
                before: old,
                after: new,
                gone: Vec::new(),
            });
        }
    }
    found
}

/// The guard of `build` and `refresh`, called once just before the new feeds are swapped in:
/// the new manifest's counts against those of the feeds in place.
pub fn before_swap(
    config: &GuardConfig,
    allow_drop: bool,
    previous_manifest: Option<&serde_json::Value>,
    new_manifest: &serde_json::Value,
    output_dir: &Path,
    new_report: &crate::report::Report,
) -> Result<(), Stopped> {
    let Some(previous) = previous_manifest else {
        return Ok(());
    };
    if allow_drop {
        return Ok(());
    }
    let mut found = drops(
        &Counts::of_manifest(previous),
        &Counts::of_manifest(new_manifest),
        config.max_drop_percent,
    );
    if found.is_empty() {
        return Ok(());
    }
    let old_report = read_report(output_dir);
    // Only serialised when the guard stops a run.
    let new_report = serde_json::to_value(new_report).unwrap_or_default();
    name_gone_skus(&mut found, old_report.as_ref(), &new_report);
    Err(Stopped {
        drops: found,
        max_drop_percent: config.max_drop_percent,
    })
}

/// The `report/report.json` of the feeds in `output_dir`, if it is there and parses.
pub fn read_report(output_dir: &Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(output_dir.join("report/report.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Fills in each channel drop's first SKUs that disappear.
pub fn name_gone_skus(
    drops: &mut [Drop],
    old_report: Option<&serde_json::Value>,
    new_report: &serde_json::Value,
) {
    for drop in drops {
        if let Some(channel) = &drop.channel {
            drop.gone = gone_skus(old_report, new_report, channel);
        }
    }
}

/// The first SKUs in `channel` before and not now: those the new report leaves out that the
/// old one did not, then products the old report knew that the new one does not.
fn gone_skus(
    old_report: Option<&serde_json::Value>,
    new_report: &serde_json::Value,
    channel: &str,
) -> Vec<String> {
    let left_out = |report: &serde_json::Value| -> BTreeSet<String> {
        report["channels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["name"] == channel)
            .flat_map(|c| c["left_out"].as_array().into_iter().flatten())
            .filter_map(|v| Some(v["sku"].as_str()?.to_string()))
            .collect()
    };
    let products = |report: &serde_json::Value| -> Vec<String> {
        report["products"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some(p["sku"].as_str()?.to_string()))
            .collect()
    };
    let left_out_before = old_report.map(left_out).unwrap_or_default();
    let mut gone: Vec<String> = left_out(new_report)
        .into_iter()
        .filter(|sku| !left_out_before.contains(sku))
        .collect();
    let now: BTreeSet<String> = products(new_report).into_iter().collect();
    let vanished = old_report
        .map(products)
        .unwrap_or_default()
        .into_iter()
        .filter(|sku| !now.contains(sku) && !left_out_before.contains(sku));
    gone.extend(vanished);
    gone.truncate(SKUS_SHOWN);
    gone
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(channels: &[(&str, usize)], erp: usize) -> Counts {
        Counts {
            channels: channels.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
            erp_records: Some(erp),
        }
    }

    #[test]
    fn a_drop_over_the_limit_is_found_and_one_at_the_limit_is_not() {
        let before = counts(&[("google", 100), ("meta", 100)], 200);
        let after = counts(&[("google", 90), ("meta", 89)], 181);
        let found = drops(&before, &after, 10.0);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].channel.as_deref(), Some("meta"));
        let halved = counts(&[("google", 50), ("meta", 100)], 100);
        let found = drops(&before, &halved, 10.0);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].channel, None);
        assert_eq!(found[1].channel.as_deref(), Some("google"));
    }

    #[test]
    fn new_and_removed_channels_and_growth_are_no_drop() {
        let before = counts(&[("google", 100), ("old", 50)], 10);
        let after = counts(&[("google", 120), ("new", 0)], 12);
        assert!(drops(&before, &after, 10.0).is_empty());
    }
}
