//! `[channels.NAME.push]`: where and how `pimfeed push` sends a channel's offers (see
//! [`crate::push`]).

use serde::{Deserialize, Serialize};

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
