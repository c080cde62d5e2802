//! The built-in channels: each is a format, a template (where the format has one) and that
//! channel's own requirements (CHANNELS.md).

use crate::config::ChannelFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    GoogleMerchant,
    WebshopJson,
    OrderEntryCsv,
}

/// Google Merchant Center limits (CHANNELS.md §1.1).
pub mod google {
    pub const ID_MAX: usize = 50;
    pub const TITLE_MAX: usize = 150;
    pub const DESCRIPTION_MAX: usize = 5000;
    pub const URL_MAX: usize = 2000;
    pub const BRAND_MAX: usize = 70;
    pub const ITEM_GROUP_ID_MAX: usize = 50;
    pub const COLOR_MAX: usize = 100;
    pub const ADDITIONAL_IMAGES_MAX: usize = 10;
}

impl Preset {
    pub const ALL: &'static [Preset] = &[
        Preset::GoogleMerchant,
        Preset::WebshopJson,
        Preset::OrderEntryCsv,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::GoogleMerchant => "google-merchant",
            Preset::WebshopJson => "webshop-json",
            Preset::OrderEntryCsv => "order-entry-csv",
        }
    }

    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.iter().copied().find(|p| p.name() == name)
    }

    pub fn format(self) -> ChannelFormat {
        match self {
            Preset::GoogleMerchant => ChannelFormat::Xml,
            Preset::WebshopJson => ChannelFormat::Json,
            Preset::OrderEntryCsv => ChannelFormat::Csv,
        }
    }

    /// The built-in template, for presets rendered through one. A file of the same name in
    /// `templates/` replaces it.
    pub fn template(self) -> Option<(&'static str, &'static str)> {
        match self {
            Preset::GoogleMerchant => Some((
                "google-merchant.xml",
                include_str!("templates/google-merchant.xml"),
            )),
            Preset::WebshopJson | Preset::OrderEntryCsv => None,
        }
    }

    /// Attributes this channel cannot do without, on top of the family's.
    pub fn required_attributes(self) -> &'static [&'static str] {
        match self {
            Preset::GoogleMerchant => &["title", "description", "images"],
            Preset::WebshopJson => &["title"],
            Preset::OrderEntryCsv => &["title"],
        }
    }
}
