//! `meta-catalog`: a CSV data feed with Meta's field names and enum spellings, for Facebook
//! and Instagram shops (`docs/src/channels/meta-catalog.md`).

mod gate;
mod row;

use std::io::{self, Write};

use super::settings::condition_word;
use super::{PresetDef, PresetSettings, Settings, SettingsContext, write_csv_row};
use crate::channels::Channel;
use crate::config::{ChannelFormat, Condition};
use crate::content::{Product, Schema};
use crate::erp::ErpRecord;
use crate::merge::{AttributeNeeds, MarkdownNeeds, MergeContext, ProductView};
use crate::verdict::Checks;

/// Meta catalog limits (the text limits come from a third-party spec, productfeedspec.com, as
/// Meta's own pages give none; see `docs/src/channels/meta-catalog.md`).
pub(crate) mod limits {
    pub const ID_MAX: usize = 100;
    pub const TITLE_MAX: usize = 200;
    pub const DESCRIPTION_MAX: usize = 9999;
    /// The `additional_image_link` cell, every URL and separator together.
    pub const ADDITIONAL_IMAGE_LINK_MAX: usize = 2000;
    /// Meta's best-practices page says 10, a field-reference mirror says 20: the official
    /// number wins.
    pub const ADDITIONAL_IMAGES_MAX: usize = 10;
    /// The attributes Meta shows variants by; a family's variant axes must be among them.
    pub const VARIANT_FIELDS: &[&str] = &[
        "color",
        "size",
        "pattern",
        "material",
        "gender",
        "age_group",
    ];
    pub const GENDERS: &[&str] = &["female", "male", "unisex"];
    pub const AGE_GROUPS: &[&str] = &[
        "adult", "all ages", "infant", "kids", "newborn", "teen", "toddler",
    ];
}

pub(super) struct MetaCatalog;

#[derive(Debug, Clone)]
pub(crate) struct MetaSettings {
    pub condition: Condition,
}

impl Settings for MetaSettings {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "condition": condition_word(self.condition) })
    }
}

impl PresetDef for MetaCatalog {
    fn name(&self) -> &'static str {
        "meta-catalog"
    }

    fn format(&self) -> ChannelFormat {
        ChannelFormat::Csv
    }

    fn required_attributes(&self) -> &'static [&'static str] {
        &["title", "description", "images"]
    }

    fn setting_keys(&self) -> &'static [&'static str] {
        &["condition"]
    }

    fn resolve_settings(
        &self,
        context: &SettingsContext<'_>,
        _problem: &mut dyn FnMut(String),
        _note: &mut dyn FnMut(String),
    ) -> PresetSettings {
        PresetSettings::new(MetaSettings {
            condition: context.cfg.condition.unwrap_or_default(),
        })
    }

    fn gate(
        &self,
        product: &Product,
        record: &ErpRecord,
        view: &ProductView,
        channel: &Channel,
        schema: &Schema,
        checks: &mut Checks,
    ) {
        gate::rules(product, record, view, channel, schema, checks);
    }

    fn markdown_needs(&self) -> MarkdownNeeds {
        MarkdownNeeds {
            html: false,
            text: true,
        }
    }

    /// The row's attribute columns; the gate checks two of them.
    fn attributes_read(&self, _channel: &Channel) -> AttributeNeeds {
        AttributeNeeds::named(row::ATTRIBUTES)
    }

    fn header(
        &self,
        _ctx: &MergeContext<'_>,
        channel: &Channel,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        write_meta_row(out, row::HEADERS, channel)
    }

    fn item(
        &self,
        _product: &Product,
        view: &ProductView,
        _ctx: &MergeContext<'_>,
        channel: &Channel,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        write_meta_row(out, &row::row(view, channel), channel)
    }
}

/// Meta asks for every field with whitespace or commas in quotes; quoting all of them is the
/// simple way to be sure.
fn write_meta_row<S: AsRef<str>>(
    out: &mut dyn Write,
    cells: &[S],
    channel: &Channel,
) -> io::Result<()> {
    write_csv_row(out, cells, csv::QuoteStyle::Always, channel.formula_guard)
}
