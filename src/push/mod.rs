//! `pimfeed push`: sends a channel's built feed to the marketplace's own API, call by call,
//! and remembers what the marketplace accepted, so the next push sends only what changed.
//!
//! The feed on disk stays the single source of what a channel should hold: `push` reads the
//! file the last `build` or `refresh` wrote and compares it with the pushed state in
//! `.pimfeed/push/`, never with the content or the ERP.

pub mod amazon;
mod amazon_state;
pub mod bol;
mod client;
mod plan;
mod state;

pub use plan::{Action, Call, Plan};
pub use state::{PushState, StateError};

use serde::Serialize;

use crate::config::PushSettings;
use state::StateError as StateFileError;

/// One channel's push, as `pimfeed push` asks its preset for it.
pub struct PushJob<'a> {
    pub root: &'a std::path::Path,
    /// The build's output folder, where the channel's feed is.
    pub feeds: std::path::PathBuf,
    /// The channel's name in `pim.toml`.
    pub name: &'a str,
    pub channel: &'a crate::config::ChannelConfig,
    pub settings: &'a PushSettings,
    pub dry_run: bool,
    pub allow_drop: bool,
    /// Whether progress is shown on the terminal.
    pub progress: bool,
}

/// What a push did (or, with `--dry-run`, would do), or why it could not.
pub type PushOutcome = Result<(ChannelResult, Vec<PlannedCall>), PushError>;

/// An item the marketplace would not take, with its own words for why.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub sku: String,
    /// bol: the offer's EAN; Amazon knows a listing by its SKU alone.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ean: String,
    /// `create`, `update`, `hold` or `delete`.
    pub action: &'static str,
    /// The HTTP status of bol's refusal; 0 for an issue in Amazon's processing report.
    pub status: u16,
    pub reason: String,
}

/// What one channel's push did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChannelResult {
    pub channel: String,
    /// Amazon: the messages went as one feed document (not one call each).
    #[serde(skip)]
    pub in_one_feed: bool,
    pub dry_run: bool,
    /// Offers in the feed file.
    pub offers: usize,
    /// Offers whose body is as last pushed: no call.
    pub unchanged: usize,
    /// Calls the plan holds (creates, updates, holds, deletes).
    pub planned: usize,
    /// Calls sent and answered (accepted or refused).
    pub sent: usize,
    pub accepted: usize,
    pub created: usize,
    pub updated: usize,
    pub held: usize,
    pub deleted: usize,
    pub refused: Vec<Refusal>,
    /// Amazon: the processing report's warnings, per SKU.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Refusal>,
    /// Offers read back from the marketplace because the pushed state was missing.
    pub rebuilt_from_api: Option<usize>,
    /// Why the marketplace could not be reached; the calls not sent are sent by the next push.
    pub unreachable: Option<String>,
    /// Calls per second over the calls sent.
    pub calls_per_second: Option<f64>,
}

/// Why a channel's push stopped before its calls, or could not record them.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// Exit 2: the feed, the state, the credentials or the API.
    #[error("{0}")]
    Operational(String),
    /// Exit 1: the drop guard.
    #[error("{0}")]
    Guard(String),
}

/// Stops a push that would take more than `max_drop_percent` of what the marketplace shows
/// away, unless `--allow-drop`. `removal` says what would happen, e.g. "delete 3 of 20
/// listings".
pub(crate) fn guard_drop(
    channel: &str,
    settings: &PushSettings,
    allow_drop: bool,
    (dropped, live_before): (usize, usize),
    removal: &str,
) -> Result<(), PushError> {
    let percent = if live_before == 0 {
        0.0
    } else {
        dropped as f64 * 100.0 / live_before as f64
    };
    if percent > settings.max_drop_percent && !allow_drop {
        return Err(PushError::Guard(format!(
            "{channel}: the push would {removal} ({percent:.1}%, more than max_drop_percent = \
             {}); nothing was sent. Check the feed, then push with --allow-drop",
            settings.max_drop_percent
        )));
    }
    Ok(())
}

/// A credential from the environment variable a `[channels.NAME.push]` setting names.
pub(crate) fn credential(channel: &str, variable: &str, key: &str) -> Result<String, PushError> {
    std::env::var(variable).map_err(|_| {
        PushError::Operational(format!(
            "{channel}: the environment variable {variable} ({key} of [channels.{channel}.push]) \
             is not set"
        ))
    })
}

impl From<StateFileError> for PushError {
    fn from(err: StateFileError) -> Self {
        PushError::Operational(err.to_string())
    }
}

/// A call as `--dry-run` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedCall {
    pub method: &'static str,
    pub path: String,
    pub sku: String,
    pub ean: String,
    pub action: &'static str,
}
