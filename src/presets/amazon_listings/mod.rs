//! `amazon-listings`: an SP-API JSON_LISTINGS_FEED document (`docs/src/channels/amazon-listings.md`),
//! offers on existing ASINs and full listings under each family's product type, gated against
//! the product type definitions the catalog keeps in `amazon/`, and pushed by `pimfeed push`.

mod gate;
mod listing;
mod message_bytes;
mod preview;
pub(crate) mod product_types;
pub(crate) mod settings;

use std::borrow::Cow;
use std::io::{self, Write};

use super::preview::Preview;
use super::{PresetDef, PresetSettings, SettingsContext};
use crate::channels::Channel;
use crate::config::ChannelFormat;
use crate::content::{Product, Schema};
use crate::erp::ErpRecord;
use crate::merge::{AttributeNeeds, MarkdownNeeds, MergeContext, ProductView};
use crate::push::amazon::AmazonPush;
use crate::push::{PushJob, PushOutcome};
use crate::verdict::Checks;

/// Amazon SP-API JSON_LISTINGS_FEED (`docs/src/channels/amazon-listings.md`).
pub(crate) mod limits {
    /// `messages` holds at most this many items; larger feeds are split into several files.
    pub const MESSAGES_MAX: usize = 10_000;
    pub const ASIN_LENGTH: usize = 10;
    /// The per-product ASIN: a product that has one is sent as an offer on that ASIN.
    pub const ASIN_ATTRIBUTE: &str = "asin";
    /// `other_product_image_locator_1` to `_8`, after the main image.
    pub const OTHER_IMAGES_MAX: usize = 8;
    /// Amazon's limit on a seller SKU.
    pub const SKU_MAX: usize = 40;
    /// The schedule of a sale whose end only the ERP knows (Amazon requires both dates).
    pub const OPEN_SALE_START: &str = "2020-01-01T00:00:00Z";
    pub const OPEN_SALE_END: &str = "2099-12-31T23:59:59Z";
    /// The product type public integrations send for offers on an existing ASIN.
    pub const OFFER_ONLY_PRODUCT_TYPE: &str = "PRODUCT";
}

pub(super) struct AmazonListings;

impl PresetDef for AmazonListings {
    fn name(&self) -> &'static str {
        "amazon-listings"
    }

    fn format(&self) -> ChannelFormat {
        ChannelFormat::Json
    }

    fn example_settings(&self) -> &'static str {
        "seller_id = \"A3EXAMPLESELLER\"\nmarketplace_id = \"A1805IZSGTT6HS\"\noffer_only = true\n"
    }

    /// Offer-only items need no copy, full listings do: the gate decides per product.
    fn required_attributes(&self) -> &'static [&'static str] {
        &[]
    }

    fn setting_keys(&self) -> &'static [&'static str] {
        &[
            "condition",
            "push",
            "seller_id",
            "marketplace_id",
            "issue_locale",
            "product_types",
            "offer_only",
            "attributes",
        ]
    }

    fn resolve_settings(
        &self,
        context: &SettingsContext<'_>,
        problem: &mut dyn FnMut(String),
        note: &mut dyn FnMut(String),
    ) -> PresetSettings {
        let mut settings = settings::resolve(context.cfg, context.schema, problem);
        product_types::attach(&mut settings, context.source, problem, note);
        PresetSettings::new(settings)
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

    /// The ASIN, the listing's own attributes and those the channel maps from attributes.
    fn attributes_read(&self, channel: &Channel) -> AttributeNeeds {
        listing::attributes_read(channel)
    }

    fn header(
        &self,
        _ctx: &MergeContext<'_>,
        channel: &Channel,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        listing::header(channel, out)
    }

    fn item(
        &self,
        _product: &Product,
        view: &ProductView,
        _ctx: &MergeContext<'_>,
        channel: &Channel,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        listing::item(view, channel, out)
    }

    fn footer(&self, _channel: &Channel, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"\n]}\n")
    }

    fn separator(&self) -> &'static [u8] {
        b","
    }

    /// Messages get their `messageId` here, numbered in the order they are written to the
    /// file (a template override renders the message without it), so it is unique in every
    /// file even when the feed is split.
    fn write_item(
        &self,
        out: &mut dyn Write,
        number_in_file: usize,
        bytes: &[u8],
    ) -> io::Result<()> {
        listing::write_numbered(out, number_in_file, bytes)
    }

    fn rendered_from_written<'b>(&self, written: &'b [u8]) -> Cow<'b, [u8]> {
        listing::strip_number(written)
    }

    fn push(&self) -> Option<fn(&PushJob<'_>) -> PushOutcome> {
        Some(push)
    }

    fn items_per_file(&self) -> Option<usize> {
        Some(limits::MESSAGES_MAX)
    }

    fn refuses_empty_document(&self) -> Option<&'static str> {
        Some("Amazon refuses a feed document without messages")
    }

    fn preview(&self, item: &str, _image: Option<&str>) -> Preview {
        serde_json::from_str(item)
            .map(|message| Preview::Amazon(preview::amazon(&message)))
            .unwrap_or(Preview::Raw)
    }
}

/// Every file of the feed through the Feeds API; a feed of more than 10,000 listings is split
/// over `amazon.json`, `amazon-2.json`, …
fn push(job: &PushJob<'_>) -> PushOutcome {
    let parts = (1..)
        .map(|n| {
            job.feeds.join(crate::channels::marketplace::part_file_name(
                &job.channel.output,
                n,
            ))
        })
        .enumerate()
        .take_while(|(index, path)| *index == 0 || path.is_file())
        .map(|(_, path)| path)
        .collect();
    AmazonPush {
        root: job.root,
        channel: job.name,
        settings: job.settings,
        feeds: parts,
        marketplace_id: job.channel.marketplace_id.clone().unwrap_or_default(),
        dry_run: job.dry_run,
        allow_drop: job.allow_drop,
    }
    .run()
}
