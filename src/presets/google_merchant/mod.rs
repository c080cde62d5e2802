//! `google-merchant`: Google Merchant Center's primary product feed, RSS 2.0 with the `g:`
//! namespace (`docs/src/channels/google-merchant.md`).

pub(crate) mod gate;
mod preview;
pub(crate) mod xml;

use super::PresetDef;
use super::preview::Preview;
use crate::channels::Channel;
use crate::config::ChannelFormat;
use crate::content::{Product, Schema};
use crate::erp::ErpRecord;
use crate::merge::{AttributeNeeds, ProductView};
use crate::verdict::Checks;

pub(super) const NAME: &str = "google-merchant";

/// Google Shopping shows about this many characters of a title before cutting it off.
const TITLE_SHOWN: usize = 70;

/// Google Merchant Center limits, from its product data specification
/// (`docs/src/channels/google-merchant.md` links each one).
pub(crate) mod limits {
    pub const ID_MAX: usize = 50;
    pub const TITLE_MAX: usize = 150;
    pub const DESCRIPTION_MAX: usize = 5000;
    pub const URL_MAX: usize = 2000;
    pub const BRAND_MAX: usize = 70;
    pub const ITEM_GROUP_ID_MAX: usize = 50;
    pub const COLOR_MAX: usize = 100;
    pub const ADDITIONAL_IMAGES_MAX: usize = 10;
    /// `shipping_weight`: Google takes 0–1000 kg (2000 lb).
    pub const SHIPPING_WEIGHT_MAX_KG: u32 = 1000;
}

pub(super) struct GoogleMerchant;

impl PresetDef for GoogleMerchant {
    fn name(&self) -> &'static str {
        NAME
    }

    fn format(&self) -> ChannelFormat {
        ChannelFormat::Xml
    }

    fn builtin_template(&self) -> Option<&'static str> {
        Some(include_str!("../templates/google-merchant.xml"))
    }

    fn required_attributes(&self) -> &'static [&'static str] {
        &["title", "description", "images"]
    }

    /// The native item's attributes (the template's, which it reads itself); the gate's
    /// `color` is one of them.
    fn attributes_read(&self, _channel: &Channel) -> AttributeNeeds {
        AttributeNeeds::named(xml::ATTRIBUTES)
    }

    fn gate(
        &self,
        product: &Product,
        record: &ErpRecord,
        view: &ProductView,
        channel: &Channel,
        _schema: &Schema,
        checks: &mut Checks,
    ) {
        gate::rules(product, record, view, channel, checks);
    }

    /// The description's length limit is on its plain text, whatever a template prints.
    fn gate_reads_plain_text(&self) -> bool {
        true
    }

    fn builtin_template_item(&self, view: &ProductView, channel: &Channel) -> Option<Vec<u8>> {
        xml::item(view, &channel.currency)
    }

    fn preview(&self, item: &str, _image: Option<&str>) -> Preview {
        Preview::Google(preview::google(item))
    }

    fn title_shown(&self) -> Option<(&'static str, usize)> {
        Some(("Google Shopping", TITLE_SHOWN))
    }
}
