//! Quality warnings: not gates (a product still goes out), but what a careful reviewer would
//! flag before a marketplace or a shopper does. They are diagnostics with severity warning,
//! so they show in every output format and never change the exit code.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::channels::Channel;
use crate::content::derived::{TitleFacts, localized, title_facts};
use crate::content::{CatalogSource, Content, Product, Schema};
use crate::diagnostics::Diagnostic;
use crate::presets::Preset;
use crate::validate::titles::{TitleOwner, TitleRegistry};

/// Below this, a description says too little to sell or to rank (Google recommends using
/// far more of its 5000 characters); `min_length` in the schema is the hard floor.
pub const DESCRIPTION_RECOMMENDED: usize = 150;

/// The quality warnings of a catalog that streams through in batches. Remembers every title
/// seen so far (as a hash, so a million products cost a few dozen megabytes), so duplicates
/// are found across batches; the first product with a title keeps it.
#[derive(Default)]
pub struct QualityCheck {
    /// (locale, hash of the normalised title) → the first product with it.
    titles: TitleRegistry,
    /// (file, line, code, message): variants share their model's lines; warn once.
    seen: HashSet<(String, u32, &'static str, String)>,
}

/// A product's titles as the duplicate check knows them: (locale, hash of the normalised
/// title). The build cache keeps these for products it does not parse again.
pub fn title_keys(product: &Product) -> Vec<(String, u64)> {
    title_facts_of(product)
        .iter()
        .map(|title| (title.locale.clone(), title.key))
        .collect()
}

/// A product's title facts: those worked out while parsing, else (a product read back from
/// the last build) worked out now.
fn title_facts_of(product: &Product) -> std::borrow::Cow<'_, [TitleFacts]> {
    match product.derived.titles() {
        Some(facts) => facts.into(),
        None => product
            .values
            .get("title")
            .map(|title| title_facts(&title.value))
            .unwrap_or_default()
            .into(),
    }
}

impl QualityCheck {
    /// Room for `additional` more titles in each locale.
    pub fn reserve_titles(&mut self, additional: usize) {
        self.titles.reserve(additional);
    }

    /// Gives a product from the build cache its title `key` of `locale`, as
    /// [`QualityCheck::check`] would have, unless a product of another file has it already:
    /// whether it did (see [`TitleRegistry::claim`]).
    pub fn claim_title(&mut self, locale: &str, key: u64, sku: &Arc<str>, file: &Arc<str>) -> bool {
        self.titles.claim(locale, key, sku, file)
    }

    /// Forgets the titles among `keys` that `file` claimed.
    pub fn release_titles<'k>(&mut self, file: &str, keys: impl Iterator<Item = (&'k str, u64)>) {
        self.titles.release_file(file, keys);
    }

    /// The warnings for one batch of products, in catalog order.
    pub fn check(
        &mut self,
        products: &[Product],
        schema: &Schema,
        channels: &[Channel],
        source: &CatalogSource,
    ) -> Vec<Diagnostic> {
        let mut collector = Collector {
            source,
            texts: HashMap::new(),
            seen: &mut self.seen,
            out: Vec::new(),
        };
        let channel_locales: Vec<&str> = {
            let mut locales: Vec<&str> = channels.iter().map(|c| c.locale.as_str()).collect();
            locales.sort_unstable();
            locales.dedup();
            locales
        };
        for product in products {
            if let Some(title) = product.values.get("title") {
                for facts in title_facts_of(product).iter() {
                    let locale = facts.locale.as_str();
                    if facts.all_caps {
                        collector.warn(
                            product,
                            "title",
                            locale,
                            title.line,
                            "all-caps-title",
                            format!("the {locale} title is in capitals"),
                            "write it in sentence case: all-caps reads as shouting, and Google Merchant Center may disapprove it",
                        );
                    }
                    match self.titles.entry(locale, facts.key) {
                        Entry::Occupied(owned) if owned.get().file != product.file => {
                            let TitleOwner { sku, file } = owned.get();
                            collector.warn(
                                product,
                                "title",
                                locale,
                                title.line,
                                "duplicate-title",
                                format!(
                                    "the {locale} title is the same as that of `{sku}` ({file})"
                                ),
                                "give each product a title that tells it apart (model, size, colour, pack size)",
                            )
                        }
                        Entry::Occupied(_) => {}
                        Entry::Vacant(vacant) => {
                            vacant.insert(TitleOwner {
                                sku: product.sku.as_str().into(),
                                file: product.file.clone(),
                            });
                        }
                    }
                }
            }
            for channel in channels {
                let Some((surface, shown)) = Preset::of(channel).and_then(|p| p.title_shown())
                else {
                    continue;
                };
                let Some(title) = product.value_for("title", &channel.name) else {
                    continue;
                };
                let Some(text) = localized(&title.value)
                    .into_iter()
                    .find(|(locale, _)| *locale == channel.locale)
                    .map(|(_, text)| text)
                else {
                    continue;
                };
                let length = text.chars().count();
                if length > shown {
                    collector.warn(
                        product,
                        "title",
                        &channel.locale,
                        title.line,
                        "title-visible-length",
                        format!(
                            "the {} title is {length} characters; {surface} shows about the first {shown}",
                            channel.locale
                        ),
                        format!(
                            "put brand, product type and the key attribute first, or set a shorter `title.{}` under [channels.{}]",
                            channel.locale, channel.name
                        ),
                    );
                }
            }
            let wants_description = schema
                .families
                .get(&product.family)
                .is_some_and(|f| f.required().any(|r| r == "description"));
            if let (true, Some(description)) =
                (wants_description, product.values.get("description"))
            {
                for (locale, text) in localized(&description.value) {
                    if !channel_locales.contains(&locale) {
                        continue;
                    }
                    let length = match product.plain_description(locale, text) {
                        Some(plain) => plain.chars().count(),
                        None => crate::text::markdown::to_plain_text(text).chars().count(),
                    };
                    if length < DESCRIPTION_RECOMMENDED {
                        collector.warn(
                            product,
                            "description",
                            locale,
                            description.line,
                            "short-description",
                            format!(
                                "the {locale} description is {length} characters; aim for at least {DESCRIPTION_RECOMMENDED}"
                            ),
                            "say what it is, what it is for and what sets it apart: channels and search rank richer descriptions higher",
                        );
                    }
                }
            }
        }
        collector.out
    }
}

/// Every quality warning of a whole catalog in memory (for `pimfeed diff`).
pub fn warnings(
    content: &Content,
    channels: &[Channel],
    source: &CatalogSource,
) -> Vec<Diagnostic> {
    QualityCheck::default().check(&content.products, &content.schema, channels, source)
}

struct Collector<'a> {
    source: &'a CatalogSource,
    /// The text of each file warned about in this batch, for the snippet.
    texts: HashMap<String, String>,
    seen: &'a mut HashSet<(String, u32, &'static str, String)>,
    out: Vec<Diagnostic>,
}

impl Collector<'_> {
    /// A warning about `attribute` (in `locale`, when not empty), set on `line`.
    #[allow(clippy::too_many_arguments)]
    fn warn(
        &mut self,
        product: &Product,
        attribute: &str,
        locale: &str,
        line: u32,
        code: &'static str,
        message: String,
        help: impl Into<String>,
    ) {
        let key = (product.file.to_string(), line, code, message.clone());
        if !self.seen.insert(key) {
            return;
        }
        let file = Path::new(&*product.file);
        let text = self
            .texts
            .entry(product.file.to_string())
            .or_insert_with(|| self.source.read_to_string(file).unwrap_or_default());
        let line = locale_line(text, line, attribute, locale);
        let span = line_span(text, line);
        self.out.push(
            Diagnostic::error(code, file, text, span, message)
                .with_help(help)
                .warning(),
        );
    }
}

/// The line that sets `attribute` in `locale`: a product keeps the line of an attribute's
/// first key, and `title.en-GB` often sits a line or two below `title.nl-NL`.
fn locale_line(text: &str, line: u32, attribute: &str, locale: &str) -> u32 {
    if locale.is_empty() {
        return line;
    }
    let dotted = format!("{attribute}.{locale}");
    let quoted = format!("{attribute}.\"{locale}\"");
    text.lines()
        .enumerate()
        .skip(line.saturating_sub(1) as usize)
        .take(200)
        .find(|(_, l)| {
            let l = l.trim_start();
            l.starts_with(&dotted) || l.starts_with(&quoted)
        })
        .map_or(line, |(index, _)| index as u32 + 1)
}

/// The byte range of line `line` (1-based) without its indentation and line break.
fn line_span(text: &str, line: u32) -> std::ops::Range<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let rest = &text[start.min(text.len())..];
    let end = start + rest.find('\n').unwrap_or(rest.len());
    let indent = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    (start + indent).min(end)..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_span_covers_the_line_without_indentation() {
        let text = "a = 1\n  title = \"x\"\nz = 2";
        assert_eq!(&text[line_span(text, 2)], "title = \"x\"");
        assert_eq!(&text[line_span(text, 3)], "z = 2");
    }
}
