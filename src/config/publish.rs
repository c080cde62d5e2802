//! `[publish]`: where `pimfeed publish` puts the feeds (see [`crate::publish`]).

use serde::Deserialize;

/// `[publish]` in pim.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishConfig {
    /// `s3://bucket/prefix` (AWS S3, Cloudflare R2, MinIO, any S3-compatible store) or a
    /// folder, relative to the catalog root (`/var/www/feeds`).
    pub to: String,
    /// The S3 endpoint of a service other than AWS (R2, MinIO); `AWS_ENDPOINT_URL` otherwise.
    pub endpoint: Option<String>,
    /// The bucket's region; `AWS_REGION` otherwise.
    pub region: Option<String>,
    /// The `Cache-Control` every uploaded file is served with.
    #[serde(default = "default_cache_control")]
    pub cache_control: String,
    /// Where the published files can be fetched, to print each feed's URL.
    pub public_url: Option<String>,
    /// Releases kept in the target for `pimfeed rollback`.
    #[serde(default = "default_keep")]
    pub keep: usize,
    /// Also publish `report/` (it names the authors of content lines, so off by default).
    #[serde(default)]
    pub report: bool,
}

fn default_cache_control() -> String {
    "public, max-age=300".to_string()
}

fn default_keep() -> usize {
    10
}
