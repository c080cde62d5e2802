//! Mistakes in a channel's configuration, pointed at their line in `pim.toml`: the setting
//! they are about (an entry of `require`, the `preset`, the `template`, …) or, when the
//! mistake is a setting that is missing, the channel's table.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use crate::config::CONFIG_FILE;
use crate::diagnostics::Diagnostic;

/// Where in a channel's table a problem is.
#[derive(Debug, Clone)]
pub enum At {
    /// The channel's table as a whole.
    Channel,
    /// A setting, e.g. `preset`.
    Key(&'static str),
    /// An entry of a list setting, e.g. `require`'s third.
    Entry(&'static str, usize),
    /// A key of a table setting, e.g. a header in `columns`.
    TableKey(&'static str, String),
}

#[derive(Debug)]
struct Problem {
    channel: String,
    at: At,
    message: String,
    help: Option<String>,
}

/// Every problem found in the channels, in the order found.
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    pub fn add(&mut self, channel: &str, at: At, message: impl Into<String>) {
        self.list.push(Problem {
            channel: channel.to_string(),
            at,
            message: message.into(),
            help: None,
        });
    }

    /// A problem with a fix, e.g. "did you mean `brand`?".
    pub fn add_with_help(&mut self, channel: &str, at: At, message: String, help: String) {
        self.list.push(Problem {
            channel: channel.to_string(),
            at,
            message,
            help: Some(help),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems as diagnostics on `pim.toml`, whose text is `text`.
    pub fn into_diagnostics(self, text: &str) -> Vec<Diagnostic> {
        let root = DeTable::parse(text).ok().map(|table| table.into_inner());
        let file = Path::new(CONFIG_FILE);
        self.list
            .into_iter()
            .map(|problem| {
                let message = format!("channel `{}`: {}", problem.channel, problem.message);
                let span = root
                    .as_ref()
                    .and_then(|root| locate(root, &problem.channel, &problem.at, &problem.message));
                let diagnostic = match span {
                    Some(span) => Diagnostic::error("config", file, text, span, message),
                    None => Diagnostic::file_error("config", file, message),
                };
                match problem.help {
                    Some(help) => diagnostic.with_help(help),
                    None => diagnostic,
                }
            })
            .collect()
    }
}

/// Notes the `pim.toml` line of every channel's `filter` (see [`super::Channel::filter_line`]).
pub fn set_filter_lines(channels: &mut [super::Channel], text: &str) {
    let Some(root) = DeTable::parse(text).ok().map(|table| table.into_inner()) else {
        return;
    };
    for channel in channels.iter_mut().filter(|c| c.filter.is_some()) {
        channel.filter_line = locate(&root, &channel.name, &At::Key("filter"), "")
            .map(|span| crate::diagnostics::line_column(text, span.start).0);
    }
}

/// The span of what `at` names in channel `name`, or of the nearest thing that exists.
fn locate(root: &DeTable<'_>, name: &str, at: &At, message: &str) -> Option<Range<usize>> {
    let (channels_key, channels) = root.get_key_value("channels")?;
    let DeValue::Table(channels) = channels.get_ref() else {
        return Some(channels_key.span());
    };
    let (channel_key, channel) = channels.get_key_value(name)?;
    let DeValue::Table(table) = channel.get_ref() else {
        return Some(channel_key.span());
    };
    let setting = |key: &str| table.get_key_value(key);
    let found = match at {
        At::Channel => named_in_message(message)
            .find_map(&setting)
            .map(|(_, value)| value.span()),
        At::Key(key) => setting(key).map(|(_, value)| value.span()),
        At::Entry(key, index) => setting(key).map(|(_, value)| match value.get_ref() {
            DeValue::Array(items) => items.get(*index).map_or(value.span(), |item| item.span()),
            _ => value.span(),
        }),
        At::TableKey(key, inner) => setting(key).map(|(_, value)| match value.get_ref() {
            DeValue::Table(inner_table) => inner_table
                .get_key_value(inner.as_str())
                .map_or(value.span(), |(_, item)| item.span()),
            _ => value.span(),
        }),
    };
    // A missing setting belongs to the channel: its `[channels.NAME]` header.
    Some(found.unwrap_or_else(|| channel_key.span()))
}

/// The words in backticks in `message`, in order.
fn named_in_message(message: &str) -> impl Iterator<Item = &str> {
    message.split('`').skip(1).step_by(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[catalog]\nname = \"x\"\n\n[channels.google]\npreset = \"gogle\"\nrequire = [\"brand\", \"colour\"]\n\n[channels.prices]\nformat = \"csv\"\n[channels.prices.columns]\n\"SKU\" = \"product.sku\"\n";

    fn line_of(at: At, channel: &str, message: &str) -> usize {
        let mut problems = Problems::default();
        problems.add(channel, at, message);
        problems.into_diagnostics(TEXT)[0].line
    }

    #[test]
    fn points_at_the_setting_the_entry_or_the_channel() {
        assert_eq!(line_of(At::Key("preset"), "google", "x"), 5);
        assert_eq!(line_of(At::Entry("require", 1), "google", "x"), 6);
        assert_eq!(line_of(At::Key("template"), "google", "x"), 4);
        assert_eq!(
            line_of(At::TableKey("columns", "SKU".into()), "prices", "x"),
            11
        );
        assert_eq!(line_of(At::Channel, "google", "`require` is wrong"), 6);
    }

    #[test]
    fn the_column_is_that_of_the_entry() {
        let mut problems = Problems::default();
        problems.add("google", At::Entry("require", 1), "x");
        let diagnostic = &problems.into_diagnostics(TEXT)[0];
        assert_eq!((diagnostic.line, diagnostic.column), (6, 21));
        assert_eq!(diagnostic.message, "channel `google`: x");
    }
}
