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

use serde::{Deserialize, Serialize};

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

/// `[channels.NAME.push]`: where and how a channel's offers are sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSettings {
    /// The API's base URL; the marketplace's real one by default (a sandbox or a test server
    /// otherwise).
    pub api_url: Option<String>,
    /// The OAuth2 token endpoint; the marketplace's real one by default.
    pub token_url: Option<String>,
    /// The environment variable that holds the API client id.
    pub client_id_env: String,
    /// The environment variable that holds the API client secret.
    pub client_secret_env: String,
    /// Amazon: the environment variable that holds the Login with Amazon refresh token.
    pub refresh_token_env: Option<String>,
    /// Amazon: how often the feed's processing status is asked for.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: f64,
    /// Amazon: how long pimfeed waits for the feed to be processed before it gives up (the
    /// next push asks again; nothing is sent twice).
    #[serde(default = "default_max_wait_minutes")]
    pub max_wait_minutes: f64,
    /// What happens to the offer of a product that left the channel.
    #[serde(default)]
    pub on_removed: OnRemoved,
    /// A push that would take more than this share of the channel's live offers off sale
    /// stops before its first call, unless `--allow-drop` is given.
    #[serde(default = "default_max_drop_percent")]
    pub max_drop_percent: f64,
    /// Calls in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// How often one call is tried again after a rate limit (429), a server error (5xx) or a
    /// lost connection.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// How long one call may take.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: f64,
    /// The longest `Retry-After` pimfeed waits out; a longer one counts as a failed try.
    #[serde(default = "default_max_retry_after_seconds")]
    pub max_retry_after_seconds: u64,
}

fn default_max_drop_percent() -> f64 {
    10.0
}

fn default_poll_seconds() -> f64 {
    30.0
}

fn default_max_wait_minutes() -> f64 {
    60.0
}

fn default_concurrency() -> usize {
    8
}

fn default_retries() -> u32 {
    5
}

fn default_timeout_seconds() -> f64 {
    30.0
}

fn default_max_retry_after_seconds() -> u64 {
    120
}

/// `on_removed`: bol keeps a held offer (and its reviews and ranking) for when the product
/// comes back; a deleted one is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnRemoved {
    #[default]
    Hold,
    Delete,
}

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
