//! The `webshop-json` preset: every product with all its locales and its ERP numbers, for a
//! webshop's import. Written as JSON bytes by code rather than a template, so it is valid
//! JSON by construction; money is written as exact JSON numbers (`12.50`), never through a
//! float.

mod item_bytes;

use std::io::{self, Write};

use serde_json::json;

use super::PresetDef;
use super::preview::{Preview, pretty_json};
use crate::channels::Channel;
use crate::config::ChannelFormat;
use crate::content::Product;
use crate::merge::{AttributeNeeds, MergeContext, ProductView};

pub(super) struct WebshopJson;

impl PresetDef for WebshopJson {
    fn name(&self) -> &'static str {
        "webshop-json"
    }

    fn format(&self) -> ChannelFormat {
        ChannelFormat::Json
    }

    fn required_attributes(&self) -> &'static [&'static str] {
        &["title"]
    }

    /// Its item takes every attribute in every locale from the product itself.
    fn attributes_read(&self, _channel: &Channel) -> AttributeNeeds {
        AttributeNeeds::none()
    }

    fn header(
        &self,
        ctx: &MergeContext<'_>,
        channel: &Channel,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        header(ctx, channel, out)
    }

    fn item(
        &self,
        product: &Product,
        view: &ProductView,
        ctx: &MergeContext<'_>,
        channel: &Channel,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        item_bytes::write_item(product, view, ctx, channel, out);
        Ok(())
    }

    fn footer(&self, _channel: &Channel, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"\n]}\n")
    }

    fn separator(&self) -> &'static [u8] {
        b","
    }

    fn preview(&self, item: &str, _image: Option<&str>) -> Preview {
        pretty_json(item)
    }
}

fn header(ctx: &MergeContext<'_>, channel: &Channel, out: &mut dyn Write) -> io::Result<()> {
    let catalog = json!({
        "name": ctx.catalog.name,
        "base_url": ctx.catalog.base_url,
        "locales": ctx.catalog.locales,
        "currency": channel.currency,
    });
    write!(out, "{{\"catalog\":{catalog},\"products\":[")
}

#[cfg(test)]
mod serde_reference;
#[cfg(test)]
mod tests;
