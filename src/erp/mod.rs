//! The ERP side of the merge: the fixed record every source produces, and the sources.
//!
//! A pull is all or nothing: a source returns every record or an error, never a partial list,
//! so a build can never render from half an export.

pub mod completeness;
pub mod file;
pub mod http;
pub mod last_pull;
pub mod price_list;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One ERP item: the transactional numbers the ERP owns. Content files can never set these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErpRecord {
    pub sku: String,
    pub price: Decimal,
    pub stock: i64,
    pub currency: Option<String>,
    pub sale_price: Option<Decimal>,
    pub gtin: Option<String>,
    pub mpn: Option<String>,
    /// Kilograms.
    pub weight: Option<Decimal>,
    /// Centimetres.
    pub length: Option<Decimal>,
    pub width: Option<Decimal>,
    pub height: Option<Decimal>,
    pub unit: Option<String>,
    pub pack_size: Option<u32>,
    pub active: bool,
    pub price_tiers: Vec<PriceTier>,
    /// Prices in other currencies, by ISO 4217 code, from the catalog's price lists
    /// ([`price_list`]); not part of the ERP export itself.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub prices: std::collections::BTreeMap<String, price_list::CurrencyPrice>,
}

/// A quantity break: from `min_qty` units on, each unit costs `price`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTier {
    pub min_qty: u32,
    pub price: Decimal,
}

/// The field names of [`ErpRecord`]: the keys a content file may never set.
pub const ERP_FIELDS: &[&str] = &[
    "sku",
    "price",
    "stock",
    "currency",
    "sale_price",
    "gtin",
    "mpn",
    "weight",
    "length",
    "width",
    "height",
    "unit",
    "pack_size",
    "active",
    "price_tiers",
];
