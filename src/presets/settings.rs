//! A preset's own settings in `pim.toml` (`seller_id`, `delivery_schedule`, …), checked once
//! when `pim.toml` is read so that a build never starts with a channel the marketplace would
//! refuse wholesale (a bol channel in English, an Amazon feed without a seller). Each preset
//! keeps its settings in a type of its own; a channel holds them as [`PresetSettings`].

use super::{PRESETS, Preset};
use crate::channels::PresetSettings;
use crate::config::{ChannelConfig, Condition};
use crate::content::{CatalogSource, Schema};

/// What a preset's settings are resolved from.
pub(crate) struct SettingsContext<'a> {
    pub cfg: &'a ChannelConfig,
    /// The channel's currency, with the catalog's default filled in.
    pub currency: &'a str,
    pub schema: &'a Schema,
    /// The working tree or a git revision, for files the settings name.
    pub source: &'a CatalogSource,
}

/// `condition` in the words of `pim.toml`.
pub(crate) fn condition_word(condition: Condition) -> &'static str {
    match condition {
        Condition::New => "new",
        Condition::Refurbished => "refurbished",
        Condition::Used => "used",
    }
}

/// Checks the preset keys of one channel and resolves its preset's settings; every mistake
/// goes to `problem`, advice the channel's report repeats on every build to `note`.
pub(crate) fn resolve_settings(
    preset: Option<Preset>,
    context: &SettingsContext<'_>,
    problem: &mut dyn FnMut(String),
    note: &mut dyn FnMut(String),
) -> PresetSettings {
    for key in all_keys() {
        if !is_set(context.cfg, key) || preset.is_some_and(|p| takes(p, key)) {
            continue;
        }
        let names: Vec<&str> = Preset::all()
            .filter(|p| takes(*p, key))
            .map(Preset::name)
            .collect();
        let applies = match names.as_slice() {
            [one] => format!("the {one} preset only"),
            [init @ .., last] => format!("the {} and {last} presets only", init.join(", ")),
            [] => unreachable!("every key belongs to a preset"),
        };
        problem(format!("`{key}` applies to {applies}"));
    }
    match preset {
        Some(preset) => preset.def().resolve_settings(context, problem, note),
        None => PresetSettings::default(),
    }
}

fn takes(preset: Preset, key: &str) -> bool {
    preset.def().setting_keys().contains(&key)
}

/// Every preset key, each once, in the order the presets list them.
fn all_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = Vec::new();
    for key in PRESETS.iter().flat_map(|p| p.setting_keys()) {
        if !keys.contains(key) {
            keys.push(key);
        }
    }
    keys
}

/// Whether the channel sets `key`. The keys are fields of [`ChannelConfig`], so that
/// `pim.toml`'s parser names the line of a misspelt one and suggests the right one.
fn is_set(cfg: &ChannelConfig, key: &str) -> bool {
    match key {
        "condition" => cfg.condition.is_some(),
        "fulfilment_method" => cfg.fulfilment_method.is_some(),
        "delivery_code" => cfg.delivery_code.is_some(),
        "delivery_schedule" => cfg.delivery_schedule.is_some(),
        "delivery_promise" => cfg.delivery_promise.is_some(),
        "condition_state" => cfg.condition_state.is_some(),
        "condition_grade" => cfg.condition_grade.is_some(),
        "condition_margin" => cfg.condition_margin.is_some(),
        "countries" => cfg.countries.is_some(),
        "economic_operator_id" => cfg.economic_operator_id.is_some(),
        "seller_id" => cfg.seller_id.is_some(),
        "marketplace_id" => cfg.marketplace_id.is_some(),
        "issue_locale" => cfg.issue_locale.is_some(),
        "product_types" => cfg.product_types.is_some(),
        "offer_only" => cfg.offer_only.is_some(),
        "push" => cfg.push.is_some(),
        "attributes" => cfg.attributes.is_some(),
        _ => unreachable!("`{key}` is not a field of a channel in pim.toml"),
    }
}
