//! `pimfeed push`: each marketplace channel's feed to its API, with a summary per channel.

use std::path::Path;

use super::exit;
use crate::cli::{Cli, Format, PushArgs};
use crate::config::ChannelConfig;
use crate::config::Config;
use crate::presets::Preset;
use crate::push::{ChannelResult, PlannedCall, PushError, PushJob};

/// One channel, by its preset's push.
fn push_channel(
    root: &Path,
    config: &Config,
    name: &str,
    channel: &ChannelConfig,
    settings: &crate::config::PushSettings,
    args: &PushArgs,
    cli: &Cli,
) -> Result<(ChannelResult, Vec<PlannedCall>), PushError> {
    let push = pushable_preset(channel)
        .and_then(Preset::push)
        .expect("selected channels have a preset that pushes");
    push(&PushJob {
        root,
        feeds: root.join(&config.build.output),
        name,
        channel,
        settings,
        dry_run: args.dry_run,
        allow_drop: args.allow_drop,
        progress: !cli.quiet && args.format == Format::Human,
    })
}

fn pushable_preset(channel: &ChannelConfig) -> Option<Preset> {
    channel
        .preset
        .as_deref()
        .and_then(Preset::from_name)
        .filter(|preset| preset.push().is_some())
}

pub fn run(root: &Path, args: &PushArgs, cli: &Cli) -> u8 {
    let config = match crate::pipeline::load_config(root) {
        Ok(config) => config,
        Err(failure) => return super::fail(&failure, root, args.format),
    };
    let channels = match selected_channels(&config, &args.channels) {
        Ok(channels) => channels,
        Err(message) => return operational(&message, args.format),
    };
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let mut code = exit::OK;
    for name in channels {
        let channel = &config.channels[&name];
        let settings = channel
            .push
            .as_ref()
            .expect("selected channels have a push table");
        match push_channel(root, &config, &name, channel, settings, args, cli) {
            Ok((result, calls)) => {
                code = code.max(channel_code(&result));
                if args.format != Format::Json {
                    show(&result, &calls);
                }
                write_report(root, &result);
                results.push(serde_json::json!({"result": result, "calls": calls}));
            }
            Err(err) => {
                code = code.max(match err {
                    PushError::Guard(_) => exit::CONTENT,
                    PushError::Operational(_) => exit::OPERATIONAL,
                });
                if args.format != Format::Json {
                    eprintln!("error: {err}");
                }
                errors.push(serde_json::json!({"channel": name, "error": err.to_string()}));
            }
        }
    }
    if args.format == Format::Json {
        let document = serde_json::json!({
            "ok": code == exit::OK,
            "dry_run": args.dry_run,
            "channels": results.iter().map(json_channel).collect::<Vec<_>>(),
            "errors": errors,
        });
        super::write_stdout(&format!(
            "{document}
"
        ));
    }
    code
}

/// The channels named, or every one with a push table; a named channel must have one.
fn selected_channels(config: &Config, named: &[String]) -> Result<Vec<String>, String> {
    if named.is_empty() {
        let all: Vec<String> = config
            .channels
            .iter()
            .filter(|(_, channel)| channel.push.is_some())
            .map(|(name, _)| name.clone())
            .collect();
        if all.is_empty() {
            return Err("no channel in pim.toml has a [channels.NAME.push] table; see `pimfeed push --help`".into());
        }
        return all
            .into_iter()
            .map(|name| supported(config, name))
            .collect();
    }
    named
        .iter()
        .map(|name| {
            let Some(channel) = config.channels.get(name) else {
                let known: Vec<&str> = config.channels.keys().map(String::as_str).collect();
                return Err(format!(
                    "pim.toml has no channel `{name}`; its channels are {}",
                    known.join(", ")
                ));
            };
            if channel.push.is_none() {
                return Err(format!(
                    "channel `{name}` has no [channels.{name}.push] table; see `pimfeed push --help`"
                ));
            }
            supported(config, name.clone())
        })
        .collect()
}

/// Only the presets whose marketplace has an API to push to (bol.com offers, Amazon
/// listings).
fn supported(config: &Config, name: String) -> Result<String, String> {
    let channel = &config.channels[&name];
    if pushable_preset(channel).is_some() {
        return Ok(name);
    }
    let pushable: Vec<&str> = Preset::all()
        .filter(|preset| preset.push().is_some())
        .map(Preset::name)
        .collect();
    let pushable = match pushable.as_slice() {
        [init @ .., last] if !init.is_empty() => format!("{} and {last}", init.join(", ")),
        _ => pushable.join(""),
    };
    Err(format!(
        "channel `{name}`: only {pushable} channels can be pushed (this one is {})",
        channel
            .preset
            .as_deref()
            .map_or("a custom channel".to_string(), |p| format!("`{p}`"))
    ))
}

fn channel_code(result: &ChannelResult) -> u8 {
    if result.unreachable.is_some() {
        exit::OPERATIONAL
    } else if !result.refused.is_empty() {
        exit::CONTENT
    } else {
        exit::OK
    }
}

fn operational(message: &str, format: Format) -> u8 {
    match format {
        Format::Json => super::write_stdout(&format!(
            "{}\n",
            serde_json::json!({"ok": false, "error": message})
        )),
        _ => eprintln!("error: {message}"),
    }
    exit::OPERATIONAL
}

fn json_channel(entry: &serde_json::Value) -> serde_json::Value {
    let mut channel = entry["result"].clone();
    if let Some(calls) = entry["calls"].as_array().filter(|c| !c.is_empty()) {
        channel["calls"] = serde_json::Value::Array(calls.clone());
    }
    channel
}

/// The summary on stderr: counts, then every refusal with its SKU and the marketplace's words.
fn show(result: &ChannelResult, calls: &[PlannedCall]) {
    let name = &result.channel;
    if result.dry_run {
        for call in calls {
            eprintln!(
                "{name}: {} {}  {}{}",
                call.method,
                call.path,
                call.sku,
                ean_note(&call.ean)
            );
        }
        eprintln!(
            "{name}: dry run: {} {} would be sent ({} in the feed, {} unchanged)",
            result.planned,
            unit(result),
            result.offers,
            result.unchanged
        );
        return;
    }
    if let Some(offers) = result.rebuilt_from_api {
        eprintln!("{name}: no pushed state; read {offers} offers back from the marketplace");
    }
    eprintln!(
        "{name}: {} in the feed, {} unchanged; {} {} sent: {} accepted ({} created, {} updated, \
         {} held, {} deleted), {} refused",
        result.offers,
        result.unchanged,
        result.sent,
        unit(result),
        result.accepted,
        result.created,
        result.updated,
        result.held,
        result.deleted,
        result.refused.len()
    );
    for refusal in &result.refused {
        eprintln!(
            "  {name}: {}{} refused ({}): {}",
            refusal.sku,
            ean_note(&refusal.ean),
            refusal.action,
            refusal.reason
        );
    }
    for warning in &result.warnings {
        eprintln!("  {name}: {} warning: {}", warning.sku, warning.reason);
    }
    if let Some(message) = &result.unreachable {
        let left = result.planned.saturating_sub(result.sent);
        eprintln!("error: {name}: {message}; {left} not sent yet, the next push sends them");
    }
}

/// bol takes a call per offer; Amazon a feed of messages.
fn unit(result: &ChannelResult) -> &'static str {
    if result.in_one_feed {
        "messages in one feed"
    } else {
        "calls"
    }
}

fn ean_note(ean: &str) -> String {
    if ean.is_empty() {
        String::new()
    } else {
        format!(" (EAN {ean})")
    }
}

/// `.pimfeed/push/<channel>-report.json`: the last push's result, refusals included.
fn write_report(root: &Path, result: &ChannelResult) {
    if result.dry_run {
        return;
    }
    let path = crate::pimfeed_folder::push_report(root, &result.channel);
    let mut document = serde_json::to_value(result).expect("result serialises");
    document["finished"] = chrono::Utc::now().to_rfc3339().into();
    let text = serde_json::to_string_pretty(&document).expect("report serialises");
    if let Err(err) = std::fs::write(&path, text + "\n") {
        eprintln!(
            "warning: cannot write the push report {}: {err}",
            path.display()
        );
    }
}
