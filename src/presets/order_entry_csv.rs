//! `order-entry-csv`: a flat CSV of what a sales rep or a B2B customer needs to order (SKU,
//! GTIN, title, unit, pack size, price tiers, stock), for spreadsheets and order-entry tools
//! (`docs/src/channels/order-entry-csv.md`). People open it in a spreadsheet, so its cells
//! are guarded against formulas.

use std::io::{self, Write};

use super::{PresetDef, write_csv_row};
use crate::channels::Channel;
use crate::config::ChannelFormat;
use crate::content::Product;
use crate::merge::{AttributeNeeds, MergeContext, ProductView};

const HEADERS: &[&str] = &[
    "sku",
    "gtin",
    "title",
    "brand",
    "unit",
    "pack_size",
    "price",
    "currency",
    "price_tiers",
    "stock",
    "availability",
];

pub(super) struct OrderEntryCsv;

impl PresetDef for OrderEntryCsv {
    fn name(&self) -> &'static str {
        "order-entry-csv"
    }

    fn format(&self) -> ChannelFormat {
        ChannelFormat::Csv
    }

    fn required_attributes(&self) -> &'static [&'static str] {
        &["title"]
    }

    /// Its row has no attribute beyond the view's own fields.
    fn attributes_read(&self, _channel: &Channel) -> AttributeNeeds {
        AttributeNeeds::none()
    }

    fn formula_guard(&self) -> bool {
        true
    }

    fn header(
        &self,
        _ctx: &MergeContext<'_>,
        channel: &Channel,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        write_csv_row(
            out,
            HEADERS,
            csv::QuoteStyle::Necessary,
            channel.formula_guard,
        )
    }

    fn item(
        &self,
        _product: &Product,
        view: &ProductView,
        _ctx: &MergeContext<'_>,
        channel: &Channel,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        write_csv_row(
            out,
            &row(view),
            csv::QuoteStyle::Necessary,
            channel.formula_guard,
        )
    }
}

fn row(view: &ProductView) -> Vec<String> {
    let erp = &view.erp;
    let tiers = erp
        .price_tiers
        .iter()
        .map(|tier| format!("{}:{}", tier.min_qty, tier.price))
        .collect::<Vec<_>>()
        .join("|");
    vec![
        view.sku.clone(),
        erp.gtin.clone().unwrap_or_default(),
        view.title.clone().unwrap_or_default(),
        view.brand.clone().unwrap_or_default(),
        erp.unit.clone().unwrap_or_default(),
        erp.pack_size.map(|p| p.to_string()).unwrap_or_default(),
        erp.price.clone(),
        erp.currency.clone(),
        tiers,
        erp.stock.to_string(),
        view.availability.to_string(),
    ]
}
