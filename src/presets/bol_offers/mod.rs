//! `bol-offers`: JSON Lines, one bol.com Retailer API v11 offer body per line
//! (`docs/src/channels/bol-offers.md`), checked against bol's offer and content rules, and
//! pushed by `pimfeed push`.

mod gate;
mod offer;
mod offer_bytes;
mod preview;
pub(crate) mod settings;

use std::io;

use super::preview::Preview;
use super::settings::condition_word;
use super::{PresetDef, PresetSettings, Settings, SettingsContext};
use crate::channels::Channel;
use crate::config::{ChannelFormat, FulfilmentMethod};
use crate::content::{Product, Schema};
use crate::erp::ErpRecord;
use crate::merge::{AttributeNeeds, MarkdownNeeds, MergeContext, ProductView};
use crate::push::bol::ChannelPush;
use crate::push::{PushJob, PushOutcome};
use crate::verdict::Checks;
use settings::BolSettings;

/// bol.com Retailer API v11 offers and bol's content rules (`docs/src/channels/bol-offers.md`).
pub(crate) mod limits {
    /// v11 `fulfilment.schedule` values (FBR): bol's delivery promise (with the days in
    /// `deliveryPromise`), the retailer's own promise, or shipping through bol (VVB).
    pub const SCHEDULES: &[&str] = &[
        "BOL_DELIVERY_PROMISE",
        "MY_DELIVERY_PROMISE",
        "SHIPPING_VIA_BOL",
    ];
    /// The schedule that takes a `deliveryPromise`.
    pub const PROMISE_SCHEDULE: &str = "BOL_DELIVERY_PROMISE";
    /// v11 `condition.state`, for second-hand items.
    pub const STATES: &[&str] = &["AS_NEW", "GOOD", "REASONABLE", "MODERATE"];
    /// v11 `condition.grade`, for refurbished items.
    pub const GRADES: &[&str] = &["A", "B", "C"];
    /// v11 `pricing.bundlePrices[].unitPrice` bounds, EUR incl. VAT.
    pub const UNIT_PRICE_MIN: u32 = 1;
    pub const UNIT_PRICE_MAX: u32 = 9999;
    pub const COUNTRIES: &[&str] = &["NL", "BE"];
    /// Bol's locales for Dutch copy; an offer channel must be in one of them.
    pub const LOCALES: &[&str] = &["nl-NL", "nl-BE"];
    /// `reference` (v11; v10 allowed 20). The reference is how an order finds its ERP item.
    pub const REFERENCE_MAX: usize = 100;
    /// `unknownProductTitle`: only used when bol does not know the EAN yet.
    pub const UNKNOWN_PRODUCT_TITLE_MAX: usize = 500;
    /// Bol's suggested maximum title length; longer titles are a warning.
    pub const TITLE_SUGGESTED_MAX: usize = 70;
    /// Old client libraries cap `stock.amount` here; more would be refused.
    pub const STOCK_MAX: i64 = 999;
    /// The per-product override of the days of the channel's delivery promise, `"1-2"`.
    pub const DELIVERY_DAYS_ATTRIBUTE: &str = "bol_delivery_days";
    /// v10's per-product delivery code, refused with a pointer to the attribute above.
    pub const LEGACY_DELIVERY_CODE_ATTRIBUTE: &str = "bol_delivery_code";
}

pub(super) struct BolOffers;

impl Settings for BolSettings {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "condition": condition_word(self.condition),
            "fulfilment_method": match self.fulfilment {
                FulfilmentMethod::Fbr => "FBR",
                FulfilmentMethod::Fbb => "FBB",
            },
            "delivery_schedule": self.delivery_schedule,
            "delivery_promise": self.delivery_promise,
            "condition_state": self.condition_state,
            "condition_grade": self.condition_grade,
            "condition_margin": self.condition_margin,
            "countries": self.countries,
            "economic_operator_id": self.economic_operator_id,
        })
    }
}

impl PresetDef for BolOffers {
    fn name(&self) -> &'static str {
        "bol-offers"
    }

    fn format(&self) -> ChannelFormat {
        ChannelFormat::Jsonl
    }

    fn example_settings(&self) -> &'static str {
        "delivery_schedule = \"MY_DELIVERY_PROMISE\"\neconomic_operator_id = \"EO-1234\"\n"
    }

    /// Bol publishes an offer only when its EAN has Dutch content: a name, a description and
    /// images.
    fn required_attributes(&self) -> &'static [&'static str] {
        &["title", "description", "images"]
    }

    fn setting_keys(&self) -> &'static [&'static str] {
        &[
            "condition",
            "fulfilment_method",
            "delivery_code",
            "delivery_schedule",
            "delivery_promise",
            "condition_state",
            "condition_grade",
            "condition_margin",
            "countries",
            "economic_operator_id",
            "push",
        ]
    }

    fn resolve_settings(
        &self,
        context: &SettingsContext<'_>,
        problem: &mut dyn FnMut(String),
        note: &mut dyn FnMut(String),
    ) -> PresetSettings {
        PresetSettings::new(settings::resolve(
            context.cfg,
            context.currency,
            context.schema,
            problem,
            note,
        ))
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

    fn markdown_needs(&self) -> MarkdownNeeds {
        MarkdownNeeds {
            html: false,
            text: true,
        }
    }

    /// A product's own delivery days, read by the offer and its gate.
    fn attributes_read(&self, _channel: &Channel) -> AttributeNeeds {
        AttributeNeeds::named([limits::DELIVERY_DAYS_ATTRIBUTE])
    }

    fn push(&self) -> Option<fn(&PushJob<'_>) -> PushOutcome> {
        Some(push)
    }

    fn item(
        &self,
        _product: &Product,
        view: &ProductView,
        _ctx: &MergeContext<'_>,
        channel: &Channel,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let Some(settings) = channel.settings.get::<BolSettings>() else {
            return Err(io::Error::other("bol-offers channel without bol settings"));
        };
        offer_bytes::write_offer(view, settings, out);
        Ok(())
    }

    fn preview(&self, item: &str, image: Option<&str>) -> Preview {
        serde_json::from_str(item)
            .map(|offer| Preview::Bol(preview::bol(&offer, image)))
            .unwrap_or(Preview::Raw)
    }
}

/// Offer by offer through the Retailer API, from the one JSON Lines file.
fn push(job: &PushJob<'_>) -> PushOutcome {
    ChannelPush {
        root: job.root,
        channel: job.name,
        settings: job.settings,
        feed: job.feeds.join(&job.channel.output),
        dry_run: job.dry_run,
        allow_drop: job.allow_drop,
        progress: job.progress,
    }
    .run()
}
