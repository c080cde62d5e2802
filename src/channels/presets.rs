//! The built-in channels: each is a format, a template (where the format has one) and that
//! channel's own requirements. The user guide gives each preset a chapter listing its rules
//! and where the channel documents them (`docs/src/channels/`).

use crate::config::ChannelFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    GoogleMerchant,
    /// Google's supplemental feed of id, price, sale price and availability: what `refresh`
    /// keeps fresh between full builds.
    GoogleMerchantInventory,
    MetaCatalog,
    BolOffers,
    AmazonListings,
    WebshopJson,
    OrderEntryCsv,
}

/// Google Merchant Center limits, from its product data specification
/// (`docs/src/channels/google-merchant.md` links each one).
pub mod google {
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

/// Meta catalog limits (the text limits come from a third-party spec, productfeedspec.com, as
/// Meta's own pages give none; see `docs/src/channels/meta-catalog.md`).
pub mod meta {
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

/// bol.com Retailer API v11 offers and bol's content rules (`docs/src/channels/bol-offers.md`).
pub mod bol {
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

/// Amazon SP-API JSON_LISTINGS_FEED (`docs/src/channels/amazon-listings.md`).
pub mod amazon {
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

impl Preset {
    pub const ALL: &'static [Preset] = &[
        Preset::GoogleMerchant,
        Preset::GoogleMerchantInventory,
        Preset::MetaCatalog,
        Preset::BolOffers,
        Preset::AmazonListings,
        Preset::WebshopJson,
        Preset::OrderEntryCsv,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::GoogleMerchant => "google-merchant",
            Preset::GoogleMerchantInventory => "google-merchant-inventory",
            Preset::MetaCatalog => "meta-catalog",
            Preset::BolOffers => "bol-offers",
            Preset::AmazonListings => "amazon-listings",
            Preset::WebshopJson => "webshop-json",
            Preset::OrderEntryCsv => "order-entry-csv",
        }
    }

    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.iter().copied().find(|p| p.name() == name)
    }

    pub fn format(self) -> ChannelFormat {
        match self {
            Preset::GoogleMerchant | Preset::GoogleMerchantInventory => ChannelFormat::Xml,
            Preset::MetaCatalog | Preset::OrderEntryCsv => ChannelFormat::Csv,
            Preset::BolOffers => ChannelFormat::Jsonl,
            Preset::AmazonListings | Preset::WebshopJson => ChannelFormat::Json,
        }
    }

    /// The name of the template that replaces the built-in rendering when a file of that name
    /// is in `templates/`: the preset's name with its format's extension.
    pub fn template_name(self) -> String {
        let extension = match self.format() {
            ChannelFormat::Xml => "xml",
            ChannelFormat::Json => "json",
            ChannelFormat::Csv => "csv",
            ChannelFormat::Jsonl => "jsonl",
        };
        format!("{}.{extension}", self.name())
    }

    /// The built-in template, for presets rendered through one; the others are built with
    /// serde or the csv crate, valid by construction. A file named [`Preset::template_name`]
    /// in `templates/` replaces either.
    pub fn template(self) -> Option<(&'static str, &'static str)> {
        match self {
            Preset::GoogleMerchant => Some((
                "google-merchant.xml",
                include_str!("templates/google-merchant.xml"),
            )),
            Preset::GoogleMerchantInventory => Some((
                "google-merchant-inventory.xml",
                include_str!("templates/google-merchant-inventory.xml"),
            )),
            _ => None,
        }
    }

    /// Attributes this channel cannot do without, on top of the family's. Rules that depend
    /// on the product (Amazon's offer-only items need no copy) live in the gate.
    pub fn required_attributes(self) -> &'static [&'static str] {
        match self {
            Preset::GoogleMerchant | Preset::MetaCatalog => &["title", "description", "images"],
            // Bol publishes an offer only when its EAN has Dutch content: a name, a
            // description and images.
            Preset::BolOffers => &["title", "description", "images"],
            // A supplemental feed only updates items the primary feed already has.
            Preset::AmazonListings | Preset::GoogleMerchantInventory => &[],
            Preset::WebshopJson => &["title"],
            Preset::OrderEntryCsv => &["title"],
        }
    }

    /// Whether the marketplace refuses a document without items as a whole (Amazon: a feed
    /// needs 1 to 10,000 messages), so that an empty channel writes no file at all.
    pub fn refuses_empty_document(self) -> bool {
        self == Preset::AmazonListings
    }

    /// At most this many items go into one file; more are split over numbered files.
    pub fn items_per_file(self) -> Option<usize> {
        match self {
            Preset::AmazonListings => Some(amazon::MESSAGES_MAX),
            _ => None,
        }
    }
}
