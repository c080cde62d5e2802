//! Channels: the receivers of feeds, resolved from `pim.toml` into what the gate and the
//! renderer need (format, locale, currency, requirements).

mod bol;
pub mod country;
pub mod marketplace;
pub mod presets;
pub mod product_types;

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::config::{ChannelFormat, Config};
use crate::content::{CatalogSource, Schema};
pub use bol::{check_promise, parse_delivery_days};
pub use marketplace::PresetSettings;
pub use presets::Preset;

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
    Preset(Preset),
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
            ChannelKind::Preset(preset) => preset.format(),
            ChannelKind::Template { format, .. } => *format,
            ChannelKind::Columns(_) => ChannelFormat::Csv,
        }
    }

    pub fn preset(&self) -> Option<Preset> {
        match self.kind {
            ChannelKind::Preset(preset) => Some(preset),
            _ => None,
        }
    }

    /// At most this many items per file; more are split over numbered files
    /// ([`marketplace::part_file_name`]).
    pub fn items_per_file(&self) -> Option<usize> {
        self.preset().and_then(Preset::items_per_file)
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

/// Resolves every channel in `pim.toml`, or lists every mistake in their configuration.
pub fn resolve(config: &Config, schema: &Schema, root: &Path) -> Result<Vec<Channel>, Vec<String>> {
    resolve_from(config, schema, &CatalogSource::dir(root))
}

/// [`resolve`], with templates looked up in `source` (the working tree or a git revision).
pub fn resolve_from(
    config: &Config,
    schema: &Schema,
    source: &CatalogSource,
) -> Result<Vec<Channel>, Vec<String>> {
    let mut channels = Vec::new();
    let mut problems = Vec::new();
    let mut outputs: HashMap<&str, &str> = HashMap::new();
    for (name, cfg) in &config.channels {
        let mut problem = |message: String| problems.push(format!("channel `{name}`: {message}"));
        let kind = match (&cfg.preset, cfg.format) {
            (Some(_), Some(_)) => {
                problem("set either `preset` or `format`, not both".into());
                continue;
            }
            (Some(preset), None) => match Preset::from_name(preset) {
                Some(preset) => ChannelKind::Preset(preset),
                None => {
                    let names = Preset::ALL.iter().map(|p| p.name());
                    let hint = match crate::suggest::nearest(preset, names.clone()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("presets: {}", names.collect::<Vec<_>>().join(", ")),
                    };
                    problem(format!("unknown preset `{preset}`; {hint}"));
                    continue;
                }
            },
            (None, Some(ChannelFormat::Csv)) => {
                if cfg.columns.is_empty() {
                    problem("a custom CSV channel needs `columns` (header = expression)".into());
                    continue;
                }
                let mut columns = Vec::new();
                for (header, expression) in &cfg.columns {
                    match expression.as_str() {
                        Some(expression) => columns.push((header.clone(), expression.to_string())),
                        None => problem(format!(
                            "column `{header}` must be a Tera expression in a string, e.g. \"product.sku\""
                        )),
                    }
                }
                ChannelKind::Columns(columns)
            }
            (None, Some(format)) => match &cfg.template {
                Some(template) => {
                    if !source.is_file(&Path::new("templates").join(template)) {
                        problem(format!("template `templates/{template}` does not exist"));
                    }
                    ChannelKind::Template {
                        format,
                        template: template.clone(),
                    }
                }
                None => {
                    problem("a custom XML or JSON channel needs a `template` in templates/".into());
                    continue;
                }
            },
            (None, None) => {
                problem("set `preset` (a built-in channel) or `format` (xml, json or csv)".into());
                continue;
            }
        };
        if !config.catalog.locales.contains(&cfg.locale) {
            problem(format!(
                "locale `{}` is not one of the catalog's locales ({})",
                cfg.locale,
                config.catalog.locales.join(", ")
            ));
        }
        for attribute in &cfg.require {
            if schema.attribute(attribute).is_none() {
                problem(format!("`require` names unknown attribute `{attribute}`"));
            }
        }
        let output_ok = !cfg.output.is_empty()
            && !cfg.output.contains(['/', '\\'])
            && !cfg.output.starts_with('.')
            && cfg.output != "manifest.json"
            && cfg.output != "report";
        if !output_ok {
            problem(format!(
                "`output` must be a plain file name such as \"{name}.xml\", not `{}`",
                cfg.output
            ));
        }
        if let Some(other) = outputs.insert(&cfg.output, name) {
            problem(format!(
                "writes `{}`, as channel `{other}` does",
                cfg.output
            ));
        }
        if cfg.formula_guard.is_some() && !matches!(kind, ChannelKind::Columns(_)) {
            problem("`formula_guard` applies to custom CSV channels only".into());
        }
        let currency = cfg
            .currency
            .clone()
            .unwrap_or_else(|| config.catalog.currency.clone());
        let preset = match kind {
            ChannelKind::Preset(preset) => Some(preset),
            _ => None,
        };
        if let Some(country) = &cfg.country {
            country::check(country, &currency, &mut problem);
        }
        let mut notes = Vec::new();
        let mut settings =
            marketplace::resolve(preset, cfg, &currency, schema, &mut problem, &mut |note| {
                notes.push(note)
            });
        if let PresetSettings::Amazon(amazon) = &mut settings {
            product_types::attach(amazon, source, &mut problem, &mut |note| notes.push(note));
        }
        channels.push(Channel {
            name: name.clone(),
            locale: cfg.locale.clone(),
            currency,
            output: cfg.output.clone(),
            require: cfg.require.clone(),
            filter: cfg.filter.clone(),
            formula_guard: match kind {
                ChannelKind::Preset(preset) => preset == Preset::OrderEntryCsv,
                _ => cfg.formula_guard.unwrap_or(true),
            },
            settings,
            country: cfg.country.clone(),
            primary: cfg.primary.clone(),
            notes,
            kind,
        });
    }
    country::resolve_primaries(&mut channels, &mut problems);
    // A split feed's later parts must not overwrite another channel's file.
    for split in channels.iter().filter(|c| c.items_per_file().is_some()) {
        for other in &channels {
            if marketplace::is_later_part(&split.output, &other.output) {
                problems.push(format!(
                    "channel `{}`: writes `{}`, which channel `{}` uses for the later files of its \
                     feed when it is split; choose another `output`",
                    other.name, other.output, split.name
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(channels)
    } else {
        Err(problems)
    }
}
