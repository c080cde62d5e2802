//! Channels: the receivers of feeds, as the gate and the renderer see them (format, locale,
//! currency, requirements, a preset's settings), once `crate::channel_resolution` has checked
//! and resolved them from `pim.toml`.

pub mod expression;
pub mod marketplace;
pub mod problems;
mod settings;

use serde::Serialize;

use crate::config::ChannelFormat;
pub use settings::PresetSettings;
pub(crate) use settings::Settings;

/// Which built-in preset a channel is (see `crate::presets`, which resolves it into its
/// definition): its place in the presets' registry, and its feed format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresetId {
    /// The position in `crate::presets::PRESETS`.
    pub(crate) index: usize,
    pub format: ChannelFormat,
}

/// A channel, checked and with every default filled in.
#[derive(Debug, Clone)]
pub struct Channel {
    pub name: String,
    pub kind: ChannelKind,
    pub locale: String,
    pub currency: String,
    /// File name inside the feeds folder.
    pub output: String,
    /// Attributes required on top of the family's, by the channel's `require`.
    pub require: Vec<String>,
    pub filter: Option<String>,
    /// The line of `filter` in `pim.toml`, for errors while it is evaluated.
    pub filter_line: Option<usize>,
    pub formula_guard: bool,
    /// The marketplace presets' own settings (seller, delivery schedule, …).
    pub settings: PresetSettings,
    /// The country it sells in (ISO 3166-1), when set; its currency is the channel's.
    pub country: Option<String>,
    /// `google-merchant-inventory`: the `google-merchant` channel whose ids it updates; its
    /// items are only those the primary feed has.
    pub primary: Option<String>,
    /// Advice about the channel as configured, repeated in the report of every build (a bol
    /// channel without an economic operator).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum ChannelKind {
    Preset(PresetId),
    /// A custom XML or JSON channel rendered by a template in `templates/`.
    Template {
        format: ChannelFormat,
        template: String,
    },
    /// A custom CSV channel: column header → Tera expression.
    Columns(Vec<(String, String)>),
}

impl Channel {
    pub fn format(&self) -> ChannelFormat {
        match &self.kind {
            ChannelKind::Preset(preset) => preset.format,
            ChannelKind::Template { format, .. } => *format,
            ChannelKind::Columns(_) => ChannelFormat::Csv,
        }
    }

    /// The built-in preset it is, if any (`crate::presets::Preset::of` gives its definition).
    pub fn preset_id(&self) -> Option<PresetId> {
        match self.kind {
            ChannelKind::Preset(preset) => Some(preset),
            _ => None,
        }
    }
}

#[cfg(test)]
impl Channel {
    /// A channel in euros with nothing but its name, kind and locale set, for tests to fill in
    /// what they are about (`Channel { filter: …, ..Channel::example("uk", kind, "en-GB") }`).
    pub fn example(name: &str, kind: ChannelKind, locale: &str) -> Channel {
        Channel {
            name: name.into(),
            kind,
            locale: locale.into(),
            currency: "EUR".into(),
            output: name.into(),
            require: Vec::new(),
            filter: None,
            filter_line: None,
            formula_guard: false,
            settings: PresetSettings::default(),
            country: None,
            primary: None,
            notes: Vec::new(),
        }
    }
}

/// What the templates see as `channel`.
#[derive(Debug, Serialize)]
pub struct ChannelView<'a> {
    pub name: &'a str,
    pub locale: &'a str,
    pub currency: &'a str,
    pub country: Option<&'a str>,
    pub output: &'a str,
    /// The marketplace preset's settings (`seller_id`, `marketplace_id`, `delivery_schedule`, …),
    /// for templates that override a marketplace preset; empty for other channels.
    pub settings: serde_json::Value,
}

impl<'a> From<&'a Channel> for ChannelView<'a> {
    fn from(channel: &'a Channel) -> Self {
        Self {
            name: &channel.name,
            locale: &channel.locale,
            currency: &channel.currency,
            country: channel.country.as_deref(),
            output: &channel.output,
            settings: channel.settings.to_json(),
        }
    }
}
