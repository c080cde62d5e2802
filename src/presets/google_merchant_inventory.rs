//! `google-merchant-inventory`: Google's supplemental feed of id, price, sale price and
//! availability, what `refresh` keeps fresh between full builds
//! (`docs/src/channels/google-merchant-inventory.md`). It only updates items its primary
//! `google-merchant` feed has.

use super::PresetDef;
use super::google_merchant::{gate::id_and_price, xml};
use crate::channels::Channel;
use crate::config::ChannelFormat;
use crate::content::{Product, Schema};
use crate::erp::ErpRecord;
use crate::merge::{AttributeNeeds, ProductView};
use crate::verdict::Checks;

pub(super) struct GoogleMerchantInventory;

impl PresetDef for GoogleMerchantInventory {
    fn name(&self) -> &'static str {
        "google-merchant-inventory"
    }

    fn format(&self) -> ChannelFormat {
        ChannelFormat::Xml
    }

    fn builtin_template(&self) -> Option<&'static str> {
        Some(include_str!("templates/google-merchant-inventory.xml"))
    }

    /// A supplemental feed only updates items the primary feed already has.
    fn required_attributes(&self) -> &'static [&'static str] {
        &[]
    }

    /// Its gate and item read ERP numbers only.
    fn attributes_read(&self, _channel: &Channel) -> AttributeNeeds {
        AttributeNeeds::none()
    }

    /// Only what identifies the item and prices it.
    fn gate(
        &self,
        _product: &Product,
        record: &ErpRecord,
        view: &ProductView,
        _channel: &Channel,
        _schema: &Schema,
        checks: &mut Checks,
    ) {
        id_and_price(record, view, checks);
    }

    fn builtin_template_item(&self, view: &ProductView, channel: &Channel) -> Option<Vec<u8>> {
        Some(xml::inventory_item(view, &channel.currency))
    }

    fn follows(&self) -> Option<&'static str> {
        Some(super::google_merchant::NAME)
    }
}
