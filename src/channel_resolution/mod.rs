//! `pim.toml`'s channel tables resolved into [`Channel`]s: each checked (its preset or
//! template, locale, filter, output, country) with every default filled in, its preset's
//! settings resolved by the preset, and every mistake on its line in `pim.toml`.

mod country;

use std::collections::HashMap;
use std::path::Path;

use crate::channels::expression::{self, Wrap};
use crate::channels::marketplace;
use crate::channels::problems::{self, At, Problems};
use crate::channels::{Channel, ChannelKind};
use crate::config::{ChannelConfig, ChannelFormat, Config};
use crate::content::{CatalogSource, Schema};
use crate::diagnostics::Diagnostic;
use crate::presets::Preset;

/// Resolves every channel in `pim.toml`, or lists every mistake in their configuration, each
/// on its line in `pim.toml`.
pub fn resolve(
    config: &Config,
    schema: &Schema,
    root: &Path,
) -> Result<Vec<Channel>, Vec<Diagnostic>> {
    resolve_from(config, schema, &CatalogSource::dir(root))
}

/// [`resolve`], with templates looked up in `source` (the working tree or a git revision).
pub fn resolve_from(
    config: &Config,
    schema: &Schema,
    source: &CatalogSource,
) -> Result<Vec<Channel>, Vec<Diagnostic>> {
    let mut channels = Vec::new();
    let mut problems = Problems::default();
    let mut outputs: HashMap<&str, &str> = HashMap::new();
    for (name, cfg) in &config.channels {
        let mut problem = |at: At, message: String| problems.add(name, at, message);
        let Some(kind) = channel_kind(cfg, source, &mut problem) else {
            continue;
        };
        if !config.catalog.locales.contains(&cfg.locale) {
            problem(
                At::Key("locale"),
                format!(
                    "locale `{}` is not one of the catalog's locales ({})",
                    cfg.locale,
                    config.catalog.locales.join(", ")
                ),
            );
        }
        for (index, attribute) in cfg.require.iter().enumerate() {
            if schema.attribute(attribute).is_none() {
                unknown_required(&mut problems, name, index, attribute, schema);
            }
        }
        if let Some(filter) = &cfg.filter
            && let Err(why) = expression::check(filter, Wrap::Condition)
        {
            problems.add(
                name,
                At::Key("filter"),
                format!("`filter` is not a valid expression: {why}"),
            );
        }
        let mut problem = |at: At, message: String| problems.add(name, at, message);
        let output_ok = !cfg.output.is_empty()
            && !cfg.output.contains(['/', '\\'])
            && !cfg.output.starts_with('.')
            && cfg.output != "manifest.json"
            && cfg.output != "report";
        if !output_ok {
            problem(
                At::Key("output"),
                format!(
                    "`output` must be a plain file name such as \"{name}.xml\", not `{}`",
                    cfg.output
                ),
            );
        }
        if let Some(other) = outputs.insert(&cfg.output, name) {
            problem(
                At::Key("output"),
                format!("writes `{}`, as channel `{other}` does", cfg.output),
            );
        }
        if cfg.formula_guard.is_some() && !matches!(kind, ChannelKind::Columns(_)) {
            problem(
                At::Key("formula_guard"),
                "`formula_guard` applies to custom CSV channels only".into(),
            );
        }
        let currency = cfg
            .currency
            .clone()
            .unwrap_or_else(|| config.catalog.currency.clone());
        let preset = match kind {
            ChannelKind::Preset(preset) => Preset::from_id(preset),
            _ => None,
        };
        if let Some(country) = &cfg.country {
            country::check(country, &currency, &mut |message| {
                problem(At::Key("country"), message)
            });
        }
        // The marketplace checks name the setting in their messages (see `At::Channel`).
        let mut named = |message: String| problem(At::Channel, message);
        let mut notes = Vec::new();
        let context = crate::presets::SettingsContext {
            cfg,
            currency: &currency,
            schema,
            source,
        };
        let settings =
            crate::presets::resolve_settings(preset, &context, &mut named, &mut |note| {
                notes.push(note)
            });
        channels.push(Channel {
            name: name.clone(),
            locale: cfg.locale.clone(),
            currency,
            output: cfg.output.clone(),
            require: cfg.require.clone(),
            filter: cfg.filter.clone(),
            filter_line: None,
            formula_guard: match kind {
                ChannelKind::Preset(_) => preset.is_none_or(|preset| preset.def().formula_guard()),
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
    for split in channels
        .iter()
        .filter(|c| crate::presets::items_per_file(c).is_some())
    {
        for other in &channels {
            if marketplace::is_later_part(&split.output, &other.output) {
                problems.add(
                    &other.name,
                    At::Key("output"),
                    format!(
                        "writes `{}`, which channel `{}` uses for the later files of its feed \
                         when it is split; choose another `output`",
                        other.output, split.name
                    ),
                );
            }
        }
    }
    if config.build.gzip {
        for (channel, message) in gzip_twin_collisions(&channels) {
            problems.add(&channel, At::Key("output"), message);
        }
    }
    let text = match problems.is_empty() && channels.iter().all(|c| c.filter.is_none()) {
        true => String::new(),
        false => source
            .read_to_string(Path::new(crate::config::CONFIG_FILE))
            .unwrap_or_default(),
    };
    if problems.is_empty() {
        problems::set_filter_lines(&mut channels, &text);
        return Ok(channels);
    }
    Err(problems.into_diagnostics(&text))
}

/// An entry of `require` that is no attribute, with the nearest one that is.
fn unknown_required(
    problems: &mut Problems,
    channel: &str,
    index: usize,
    attribute: &str,
    schema: &Schema,
) {
    let message = format!("`require` names unknown attribute `{attribute}`");
    let known = schema
        .attributes
        .keys()
        .map(String::as_str)
        .chain(crate::content::schema::BUILTIN_ATTRIBUTES.iter().copied());
    match crate::suggest::nearest(attribute, known) {
        Some(near) => problems.add_with_help(
            channel,
            At::Entry("require", index),
            message,
            format!("did you mean `{near}`?"),
        ),
        None => problems.add(channel, At::Entry("require", index), message),
    }
}

/// What kind of channel `cfg` is: a preset, a custom template or custom columns; `None`,
/// with the mistake in `problem`, when it is none of them.
fn channel_kind(
    cfg: &ChannelConfig,
    source: &CatalogSource,
    problem: &mut dyn FnMut(At, String),
) -> Option<ChannelKind> {
    let kind = match (&cfg.preset, cfg.format) {
        (Some(_), Some(_)) => {
            problem(
                At::Key("format"),
                "set either `preset` or `format`, not both".into(),
            );
            return None;
        }
        (Some(preset), None) => match Preset::from_name(preset) {
            Some(preset) => ChannelKind::Preset(preset.id()),
            None => {
                let names = Preset::all().map(Preset::name);
                let hint = match crate::suggest::nearest(preset, names.clone()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("presets: {}", names.collect::<Vec<_>>().join(", ")),
                };
                problem(
                    At::Key("preset"),
                    format!("unknown preset `{preset}`; {hint}"),
                );
                return None;
            }
        },
        (None, Some(ChannelFormat::Csv)) => {
            if cfg.columns.is_empty() {
                problem(
                    At::Channel,
                    "a custom CSV channel needs `columns` (header = expression)".into(),
                );
                return None;
            }
            let mut columns = Vec::new();
            for (header, expression) in &cfg.columns {
                let at = At::TableKey("columns", header.clone());
                match expression.as_str() {
                    Some(expression) => {
                        if let Err(why) = expression::check(expression, Wrap::Value) {
                            problem(at, format!("column `{header}`: {why}"));
                        }
                        columns.push((header.clone(), expression.to_string()))
                    }
                    None => problem(
                        at,
                        format!(
                            "column `{header}` must be a Tera expression in a string, e.g. \"product.sku\""
                        ),
                    ),
                }
            }
            ChannelKind::Columns(columns)
        }
        (None, Some(format)) => match &cfg.template {
            Some(template) => {
                if let Some(outside) = template_outside_templates(source, template) {
                    problem(At::Key("template"), outside);
                } else if !source.is_file(&Path::new("templates").join(template)) {
                    problem(
                        At::Key("template"),
                        format!("template `templates/{template}` does not exist"),
                    );
                }
                ChannelKind::Template {
                    format,
                    template: template.clone(),
                }
            }
            None => {
                problem(
                    At::Channel,
                    "a custom XML or JSON channel needs a `template` in templates/".into(),
                );
                return None;
            }
        },
        (None, None) => {
            problem(
                At::Channel,
                "set `preset` (a built-in channel) or `format` (xml, json or csv)".into(),
            );
            return None;
        }
    };
    Some(kind)
}

/// Why a channel's `template` is not a file inside `templates/`, if it is not: an absolute
/// path, `..`, or (in a working tree) a symbolic link out of it. A template is published
/// through the feed, so it must never read `/etc/…`, `/proc/self/environ` or another repository.
fn template_outside_templates(source: &CatalogSource, template: &str) -> Option<String> {
    let lexically_inside = !template.is_empty()
        && Path::new(template)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    let linked_inside = || match source.root() {
        Some(root) => {
            let templates = root.join("templates");
            match (
                templates.canonicalize(),
                templates.join(template).canonicalize(),
            ) {
                (Ok(templates), Ok(file)) => file.starts_with(templates),
                // A missing file is reported as missing.
                _ => true,
            }
        }
        None => true,
    };
    if lexically_inside && linked_inside() {
        return None;
    }
    Some(format!(
        "`template` must name a file inside templates/, such as \"feed.xml\" or \"shop/feed.xml\", \
         not `{template}`: no absolute path, no `..`, no link out of templates/"
    ))
}

/// With `[build] gzip = true` every feed gets a `<output>.gz` twin: none may be another
/// channel's output.
fn gzip_twin_collisions(channels: &[Channel]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for channel in channels {
        let twin = format!("{}.gz", channel.output);
        for other in channels.iter().filter(|other| other.output == twin) {
            let message = format!(
                "writes `{twin}`, which is also the gzip copy of channel `{}`'s `{}` \
                 (`[build] gzip = true`); choose another `output`",
                channel.name, channel.output
            );
            problems.push((other.name.clone(), message));
        }
    }
    problems
}
