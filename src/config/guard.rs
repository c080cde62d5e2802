//! `[guard]`: how far one run may shrink a channel, and how long a broken product keeps its
//! last good version (what the settings do: [`crate::guard`], [`crate::keep`]).

use serde::Deserialize;

/// `[guard]` in pim.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardConfig {
    /// A channel (or the ERP pull) may lose at most this share of its items in one run.
    #[serde(default = "default_max_drop_percent")]
    pub max_drop_percent: f64,
    /// A product whose content file breaks keeps its last good version this many days
    /// (see [`crate::keep`]); 0 turns that off.
    #[serde(default = "default_keep_last_good_days")]
    pub keep_last_good_days: u32,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            max_drop_percent: default_max_drop_percent(),
            keep_last_good_days: default_keep_last_good_days(),
        }
    }
}

fn default_max_drop_percent() -> f64 {
    10.0
}

fn default_keep_last_good_days() -> u32 {
    7
}
