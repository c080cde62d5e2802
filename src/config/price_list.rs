//! `[price_lists.CURRENCY]`: a CSV of prices in another currency (see
//! [`crate::erp::price_list`]).

use std::path::PathBuf;

use serde::Deserialize;

/// `[price_lists.CURRENCY]` in `pim.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceListConfig {
    /// A CSV export with the columns `sku`, `price` and optionally `sale_price`.
    pub path: PathBuf,
    /// The column separator; `,` by default.
    pub delimiter: Option<char>,
    /// `12,50` instead of `12.50`.
    #[serde(default)]
    pub decimal_comma: bool,
}
