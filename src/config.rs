//! `pim.toml`: catalog settings, the ERP source and the channels.
//!
//! Unknown keys are errors (`deny_unknown_fields`): a typo in a channel setting must not
//! silently produce a feed with the default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostics::Diagnostic;

mod guard;
mod price_list;
mod publish;
mod push;

pub use guard::GuardConfig;
pub use price_list::PriceListConfig;
pub use publish::PublishConfig;
pub use push::{OnRemoved, PushSettings};

pub const CONFIG_FILE: &str = "pim.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub catalog: CatalogConfig,
    pub erp: ErpConfig,
    #[serde(default)]
    pub build: BuildConfig,
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelConfig>,
    /// How `pimfeed new` files stubs for ERP items without content.
    #[serde(default)]
    pub new: NewConfig,
    /// How far a run may cut a channel before it stops (see [`crate::guard`]).
    #[serde(default)]
    pub guard: GuardConfig,
    /// Where `pimfeed publish` puts the feeds (see [`crate::publish`]).
    pub publish: Option<PublishConfig>,
    /// Currency → the ERP price list of that currency (for a country's own prices).
    #[serde(default)]
    pub price_lists: BTreeMap<String, PriceListConfig>,
}

/// `[new]`: the ERP record has no family, so a stub's family comes from its SKU.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewConfig {
    /// SKU prefix → family, e.g. `"MK-" = "power-tools"`; the longest matching prefix wins.
    #[serde(default)]
    pub family_by_sku_prefix: BTreeMap<String, String>,
}

impl NewConfig {
    /// The family for `sku` by the longest matching prefix.
    pub fn family_for(&self, sku: &str) -> Option<&str> {
        self.family_by_sku_prefix
            .iter()
            .filter(|(prefix, _)| sku.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, family)| family.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    pub name: String,
    pub base_url: String,
    /// BCP 47 tags; the first is the default locale.
    pub locales: Vec<String>,
    pub currency: String,
    /// How a product's link is built; `{base_url}`, `{locale}`, `{lang}` and `{sku}` are filled in.
    #[serde(default = "default_link_pattern")]
    pub link_pattern: String,
}

#[cfg(test)]
impl CatalogConfig {
    /// A catalog in euros with the default link pattern, for tests.
    pub fn example(base_url: &str, locales: &[&str]) -> CatalogConfig {
        CatalogConfig {
            name: "Acme".into(),
            base_url: base_url.into(),
            locales: locales.iter().map(|l| l.to_string()).collect(),
            currency: "EUR".into(),
            link_pattern: default_link_pattern(),
        }
    }
}

fn default_link_pattern() -> String {
    "{base_url}/{lang}/p/{sku}".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    /// Where feeds are written, relative to the catalog root.
    #[serde(default = "default_output_dir")]
    pub output: PathBuf,
    /// Also write `<feed>.gz` next to every feed, compressed while the feed is written.
    #[serde(default)]
    pub gzip: bool,
}

impl Default for BuildConfig {
    fn default() -> Self {
        Self {
            output: default_output_dir(),
            gzip: false,
        }
    }
}

fn default_output_dir() -> PathBuf {
    PathBuf::from("feeds")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum ErpConfig {
    File(ErpFileConfig),
    Http(Box<ErpHttpConfig>),
}

/// `[erp] source = "http"`: a JSON API read page by page (`docs/src/erp/http.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErpHttpConfig {
    /// Defaults for a family of APIs: `odata-v4` (Business Central, SAP CAP, Business One
    /// v2), `odata-v2` (S/4HANA A2X, Exact Online) or `rest` (a bare array, offset paging).
    pub preset: Option<HttpPreset>,
    /// The first page, e.g. `https://…/api/v2.0/companies(…)/items`.
    pub url: String,
    /// JSON pointer to the array of records in a page: `/value`, `/d/results`, `/rows`, or ""
    /// for a bare array.
    pub records: Option<String>,
    #[serde(default)]
    pub paging: Option<HttpPaging>,
    pub auth: Option<HttpAuth>,
    /// Record field → where it is in an API record.
    #[serde(default)]
    pub fields: BTreeMap<String, HttpField>,
    /// Seconds per request, sending to last byte.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: f64,
    /// Retries after a 429, a 5xx or a failed connection (never after another 4xx).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The first back-off; it doubles with every retry, with jitter. `Retry-After` wins.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    /// A cap on the request rate, for APIs with a per-minute limit (Exact Online: 60).
    pub requests_per_minute: Option<u32>,
    /// Pages in flight at once where the paging allows it (`offset`, `page`). Default 4.
    pub concurrency: Option<usize>,
    /// Hosts besides `url`'s that a next link or `Link` header may lead to; a next page on
    /// any other host fails the pull, so the credentials never go there.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Guards against a server whose next link loops.
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
    /// When the ERP cannot be read, build from the last good pull if it is at most this many
    /// minutes old; the report and manifest say the numbers are stale.
    pub max_age_minutes: Option<u64>,
}

fn default_timeout() -> f64 {
    30.0
}

fn default_retries() -> u32 {
    4
}

fn default_backoff() -> u64 {
    500
}

fn default_max_pages() -> usize {
    100_000
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HttpPreset {
    OdataV4,
    OdataV2,
    Rest,
}

/// How the next page is found.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum HttpPaging {
    /// One request.
    None,
    /// `?offset=0&limit=100`, then `offset=100`, … until a short or empty page.
    Offset {
        #[serde(default = "offset_param")]
        param: String,
        #[serde(default = "limit_param")]
        size_param: String,
        #[serde(default = "page_size")]
        size: usize,
    },
    /// `?page=1&size=100`, then `page=2`, … until a short or empty page.
    Page {
        #[serde(default = "page_param")]
        param: String,
        #[serde(default = "size_param")]
        size_param: String,
        #[serde(default = "page_size")]
        size: usize,
        #[serde(default = "first_page")]
        start: usize,
    },
    /// An opaque cursor in the body (at `pointer`), sent back as `param`.
    Cursor { pointer: String, param: String },
    /// A next link in the body (`/@odata.nextLink`, `/d/__next`), absolute or relative.
    NextLink {
        pointer: String,
        /// Ask the server for pages of this size with a header, e.g. `Prefer` with
        /// `odata.maxpagesize={size}`.
        size_header: Option<String>,
        size_header_value: Option<String>,
        size: Option<usize>,
    },
    /// The `Link: <…>; rel="next"` header.
    LinkHeader,
}

fn offset_param() -> String {
    "offset".into()
}
fn limit_param() -> String {
    "limit".into()
}
fn page_param() -> String {
    "page".into()
}
fn size_param() -> String {
    "size".into()
}
fn page_size() -> usize {
    100
}
fn first_page() -> usize {
    1
}

/// Credentials, always from environment variables: `pim.toml` names the variables, never
/// the secrets.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum HttpAuth {
    Bearer {
        token_env: String,
    },
    Basic {
        username_env: String,
        password_env: String,
    },
    /// A named header, e.g. AFAS's `Authorization: AfasToken …`.
    Header {
        name: String,
        value_env: String,
    },
    /// OAuth 2 client credentials (Business Central, Exact Online): the token is fetched,
    /// cached and renewed before it expires.
    Oauth2 {
        token_url: String,
        client_id_env: String,
        client_secret_env: String,
        scope: Option<String>,
    },
}

/// Where a record field is in an API record: a JSON pointer, or a table with transforms.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum HttpField {
    Pointer(String),
    Spec(Box<HttpFieldSpec>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFieldSpec {
    pub pointer: Option<String>,
    /// In an array at `pointer`, the element whose `key` equals `equals`…
    pub find: Option<HttpFind>,
    /// …and the value at this pointer inside it (e.g. `ItemPrices` where `PriceList` = 1,
    /// then `/Price`).
    pub value: Option<String>,
    /// Text values mapped to others, e.g. `{ tYES = true, tNO = false }`.
    pub map: Option<BTreeMap<String, toml::Value>>,
    /// Negates a boolean (`blocked` → `active`).
    #[serde(default)]
    pub not: bool,
    /// Used when the value is absent or null (a currency, a unit).
    pub default: Option<toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFind {
    pub key: String,
    pub equals: toml::Value,
}

/// `[erp] source = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErpFileConfig {
    /// Relative to the catalog root.
    pub path: PathBuf,
    /// `csv`, `json` or `jsonl`; guessed from the extension when absent.
    pub format: Option<ErpFileFormat>,
    /// CSV field delimiter; `,` by default, `;` is common in NL/DE exports.
    pub delimiter: Option<char>,
    /// Numbers written with a decimal comma (`12,50`).
    #[serde(default)]
    pub decimal_comma: bool,
    /// Record field name → column (CSV) or key (JSON) in the export.
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErpFileFormat {
    Csv,
    Json,
    Jsonl,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// A built-in channel (`google-merchant`, `meta-catalog`, `bol-offers`, …; see `Preset`).
    pub preset: Option<String>,
    /// A custom channel's format.
    pub format: Option<ChannelFormat>,
    /// A custom XML or JSON channel's template, a file in `templates/`.
    pub template: Option<String>,
    /// A custom CSV channel's columns: header → Tera expression.
    #[serde(default)]
    pub columns: toml::Table,
    pub locale: String,
    pub output: String,
    /// Attributes required on top of the family's and the preset's.
    #[serde(default)]
    pub require: Vec<String>,
    /// A boolean Tera expression; products for which it is false are left out.
    pub filter: Option<String>,
    /// Defaults to the catalog currency.
    pub currency: Option<String>,
    /// The country the channel sells in (ISO 3166-1, e.g. `GB`); its currency must be the
    /// channel's.
    pub country: Option<String>,
    /// `google-merchant-inventory`: the primary feed whose ids it updates.
    pub primary: Option<String>,
    /// CSV only: prefix text cells that would start a spreadsheet formula.
    pub formula_guard: Option<bool>,
    // The marketplace presets' own settings; `presets` check that each is
    // used on a preset that takes it. (Not a flattened struct: serde's `flatten` cannot be
    // combined with `deny_unknown_fields`.)
    /// `meta-catalog`, `bol-offers`, `amazon-listings`: the condition of every item in the
    /// channel; `new` by default.
    pub condition: Option<Condition>,
    /// bol: who ships, `FBR` (the retailer, the default) or `FBB` (bol).
    pub fulfilment_method: Option<FulfilmentMethod>,
    /// bol v10's delivery code, gone in v11: still read, so that `presets` can
    /// say what to write instead.
    pub delivery_code: Option<toml::Value>,
    /// bol, FBR: `BOL_DELIVERY_PROMISE`, `MY_DELIVERY_PROMISE` or `SHIPPING_VIA_BOL`.
    pub delivery_schedule: Option<String>,
    /// bol, with `BOL_DELIVERY_PROMISE`: the days to the customer and the order cut-off time.
    pub delivery_promise: Option<DeliveryPromise>,
    /// bol, used items: `AS_NEW`, `GOOD`, `REASONABLE` or `MODERATE`.
    pub condition_state: Option<String>,
    /// bol, refurbished items: `A`, `B` or `C`.
    pub condition_grade: Option<String>,
    /// bol, refurbished items: sold under the margin scheme.
    pub condition_margin: Option<bool>,
    /// bol: the countries one offer serves; `["NL", "BE"]` by default.
    pub countries: Option<Vec<String>>,
    /// bol: the DSA economic operator of the retailer's account, needed to go on sale.
    pub economic_operator_id: Option<String>,
    /// Amazon: the merchant token of the seller account (`header.sellerId`).
    pub seller_id: Option<String>,
    /// Amazon: the marketplace every listing is for, e.g. `A1805IZSGTT6HS` (amazon.nl).
    pub marketplace_id: Option<String>,
    /// Amazon: `header.issueLocale` and the `language_tag` of texts, e.g. `nl_NL`; derived
    /// from the channel's locale when absent.
    pub issue_locale: Option<String>,
    /// Amazon: product family → Amazon product type (e.g. `workwear = "SHIRT"`).
    pub product_types: Option<BTreeMap<String, String>>,
    /// Amazon: every item is an offer on a product page Amazon already has (by its `asin`).
    pub offer_only: Option<bool>,
    /// `[channels.NAME.push]`: how `pimfeed push` sends the feed to the marketplace's API.
    pub push: Option<PushSettings>,
    /// Amazon: attributes of full listings that pimfeed does not write itself (e.g.
    /// `country_of_origin`), each from a product attribute, per brand, per family or a default.
    pub attributes: Option<BTreeMap<String, AttributeMapping>>,
}

/// Where the value of one Amazon attribute comes from, first match wins: the product's own
/// `attribute`, the product's brand in `brand`, its family in `family`, then `default`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMapping {
    pub attribute: Option<String>,
    #[serde(default)]
    pub brand: BTreeMap<String, String>,
    #[serde(default)]
    pub family: BTreeMap<String, String>,
    pub default: Option<String>,
    /// A text in the listing's language (`language_tag`), not a code such as `CN`.
    #[serde(default)]
    pub localized: bool,
}

/// bol's delivery promise (v11 `fulfilment.deliveryPromise`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryPromise {
    pub minimum_days: u32,
    pub maximum_days: u32,
    /// `"14:00"`: orders after it take a day longer.
    pub ultimate_order_time: Option<String>,
}

/// Item condition in pimfeed's words; each marketplace preset maps it to its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    #[default]
    New,
    Refurbished,
    Used,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum FulfilmentMethod {
    /// Fulfilment by retailer: the retailer ships.
    #[default]
    #[serde(rename = "FBR")]
    Fbr,
    /// Fulfilment by bol (LVB): bol ships from its warehouse.
    #[serde(rename = "FBB")]
    Fbb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelFormat {
    Xml,
    Json,
    Csv,
    /// JSON Lines: one JSON document per line (`bol-offers`, or a custom channel whose `item`
    /// block renders one line).
    Jsonl,
}

impl Config {
    /// Parses `pim.toml`'s shape; a syntax or shape error becomes a diagnostic pointing into
    /// the file. [`crate::config_check::parse`] adds the checks beyond the shape.
    pub fn parse(text: &str, file: &Path) -> Result<Config, Box<Diagnostic>> {
        let config: Config = toml::from_str(text).map_err(|err| {
            Box::new(Diagnostic::from_toml_error(
                &err,
                file,
                text,
                "config",
                "see the `pim.toml` section of the README",
            ))
        })?;
        Ok(config)
    }

    pub fn default_locale(&self) -> &str {
        self.catalog
            .locales
            .first()
            .map(String::as_str)
            .unwrap_or("en")
    }
}

/// Finds the catalog root: the nearest ancestor of `start` that holds a `pim.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}
