//! The built-in channels (presets), each one module behind [`PresetDef`]: its name and format,
//! its limits, its typed settings and their checks, the attributes it requires, its gate
//! rules, how it writes its feed and, for a marketplace with an API, how `push` sends it.
//! [`PRESETS`] lists them; configuration, the gate, the renderer, `push` and the user guide
//! find a preset there by name, so adding one is a new module here, one line in [`PRESETS`],
//! its chapter in `docs/src/channels/` and its tests.
//!
//! Presets build on the shared leaves ([`crate::text`], [`crate::gtin`], [`crate::money`],
//! [`crate::verdict`]), never the other way round. Custom template and column channels are
//! not presets: the renderer handles them generically.

mod amazon_listings;
mod bol_offers;
mod google_merchant;
mod google_merchant_inventory;
mod json_bytes;
mod meta_catalog;
mod order_entry_csv;
pub mod preview;
mod settings;
mod view;
mod webshop_json;

use std::borrow::Cow;
use std::io::{self, Write};

pub use amazon_listings::product_types::DIR as AMAZON_PRODUCT_TYPES_DIR;
pub(crate) use settings::{SettingsContext, resolve_settings};

use crate::channels::{Channel, PresetId, PresetSettings, Settings};
use crate::config::ChannelFormat;
use crate::content::{Product, Schema};
use crate::erp::ErpRecord;
use crate::merge::{AttributeNeeds, MarkdownNeeds, MergeContext, ProductView};
use crate::push::{PushJob, PushOutcome};
use crate::verdict::Checks;
use preview::Preview;

/// The report's note for a channel that wrote no document because nothing reached it.
pub fn empty_document_note(channel: &Channel, items: usize) -> Option<String> {
    let why = Preset::of(channel)?.def().refuses_empty_document()?;
    (items == 0).then(|| {
        format!(
            "no product reached this channel, so no `{}` was written: {why}",
            channel.output
        )
    })
}

/// At most this many items per file of `channel`; more are split over numbered files
/// ([`crate::channels::marketplace::part_file_name`]).
pub fn items_per_file(channel: &Channel) -> Option<usize> {
    Preset::of(channel).and_then(|preset| preset.def().items_per_file())
}

/// Every preset, in the order the user guide and `unknown preset` errors list them.
pub(crate) static PRESETS: &[&dyn PresetDef] = &[
    &google_merchant::GoogleMerchant,
    &google_merchant_inventory::GoogleMerchantInventory,
    &meta_catalog::MetaCatalog,
    &bol_offers::BolOffers,
    &amazon_listings::AmazonListings,
    &webshop_json::WebshopJson,
    &order_entry_csv::OrderEntryCsv,
];

/// One built-in channel. Only `name`, `format` and `required_attributes` have no default;
/// a preset overrides what it does differently.
pub(crate) trait PresetDef: Sync {
    /// The `preset = "…"` of `pim.toml`, and the name of its chapter in the user guide.
    fn name(&self) -> &'static str;

    fn format(&self) -> ChannelFormat;

    /// The built-in template (the whole `.xml` file), for presets written through one; the
    /// others are written natively by [`PresetDef::item`], valid by construction. A file
    /// named [`Preset::template_name`] in `templates/` replaces either.
    fn builtin_template(&self) -> Option<&'static str> {
        None
    }

    /// What a new channel of this preset sets besides `preset`, `locale` and `output`, as
    /// `pim.toml` lines: the settings it cannot do without. The registry's integration test
    /// builds a channel of every preset from them.
    fn example_settings(&self) -> &'static str {
        ""
    }

    /// Attributes this channel cannot do without, on top of the family's. Rules that depend
    /// on the product (Amazon's offer-only items need no copy) live in [`PresetDef::gate`].
    fn required_attributes(&self) -> &'static [&'static str];

    /// The `pim.toml` channel keys only this preset (and maybe others) takes; the same key
    /// on another channel is an error naming the presets that take it.
    fn setting_keys(&self) -> &'static [&'static str] {
        &[]
    }

    /// Checks the preset's own settings and fills in their defaults; every mistake goes to
    /// `problem`, advice the channel's report repeats on every build to `note`.
    fn resolve_settings(
        &self,
        _context: &SettingsContext<'_>,
        _problem: &mut dyn FnMut(String),
        _note: &mut dyn FnMut(String),
    ) -> PresetSettings {
        PresetSettings::default()
    }

    /// The channel's own rules for a product that has an ERP record, after the generic ones.
    fn gate(
        &self,
        _product: &Product,
        _record: &ErpRecord,
        _view: &ProductView,
        _channel: &Channel,
        _schema: &Schema,
        _checks: &mut Checks,
    ) {
    }

    /// Whether the gate measures the Markdown's plain text even when a template override
    /// does not print it.
    fn gate_reads_plain_text(&self) -> bool {
        false
    }

    /// The attributes the gate, the native body and the native items read from a view's
    /// `attributes` (a built-in template says its own); every one unless a preset names them.
    /// A name left out here is missing from the view: list every one the code reads.
    fn attributes_read(&self, _channel: &Channel) -> AttributeNeeds {
        AttributeNeeds::All
    }

    /// What the native body reads of the Markdown description.
    fn markdown_needs(&self) -> MarkdownNeeds {
        MarkdownNeeds::default()
    }

    /// The native body's start of the document.
    fn header(
        &self,
        _ctx: &MergeContext<'_>,
        _channel: &Channel,
        _out: &mut dyn Write,
    ) -> io::Result<()> {
        Ok(())
    }

    /// One product's part of the native body.
    fn item(
        &self,
        _product: &Product,
        _view: &ProductView,
        _ctx: &MergeContext<'_>,
        _channel: &Channel,
        _out: &mut Vec<u8>,
    ) -> io::Result<()> {
        Err(io::Error::other(format!(
            "the {} preset has no native body",
            self.name()
        )))
    }

    /// The native body's end of the document.
    fn footer(&self, _channel: &Channel, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    /// Bytes between two items of the native body.
    fn separator(&self) -> &'static [u8] {
        b""
    }

    /// The item of the built-in template (not an override) written without Tera, the same
    /// bytes; `None` to let the template render it.
    fn builtin_template_item(&self, _view: &ProductView, _channel: &Channel) -> Option<Vec<u8>> {
        None
    }

    /// Writes one rendered item into its file, `number_in_file` counting from 1.
    fn write_item(
        &self,
        out: &mut dyn Write,
        _number_in_file: usize,
        bytes: &[u8],
    ) -> io::Result<()> {
        out.write_all(bytes)
    }

    /// The inverse of [`PresetDef::write_item`]: an item as rendered, from its bytes in a
    /// feed.
    fn rendered_from_written<'b>(&self, written: &'b [u8]) -> Cow<'b, [u8]> {
        written.into()
    }

    /// How `serve`'s product page shows one item of this preset's feed (`item` as written,
    /// without the separator); raw by default.
    fn preview(&self, _item: &str, _image: Option<&str>) -> Preview {
        Preview::Raw
    }

    /// Where the channel's items are shown and how many characters of a title show there
    /// before it is cut off, for the content advice on long titles.
    fn title_shown(&self) -> Option<(&'static str, usize)> {
        None
    }

    /// The preset of the primary feed a channel of this one follows (a supplemental feed
    /// updates only the items its primary feed has): the channel's `primary`, or else the
    /// one channel of that preset with the same locale and currency.
    fn follows(&self) -> Option<&'static str> {
        None
    }

    /// How a channel's built feed is sent to the marketplace's API by `pimfeed push`, when
    /// the marketplace has one.
    fn push(&self) -> Option<fn(&PushJob<'_>) -> PushOutcome> {
        None
    }

    /// At most this many items go into one file; more are split over numbered files.
    fn items_per_file(&self) -> Option<usize> {
        None
    }

    /// Why a document without items is not written at all, when the marketplace refuses one.
    fn refuses_empty_document(&self) -> Option<&'static str> {
        None
    }

    /// Whether cells are guarded against spreadsheet formulas (for files people open).
    fn formula_guard(&self) -> bool {
        false
    }
}

/// A preset, as channels hold it: a handle on its entry in [`PRESETS`].
#[derive(Clone, Copy)]
pub struct Preset(&'static dyn PresetDef);

impl Preset {
    /// The preset a channel is, if it is one.
    pub fn of(channel: &Channel) -> Option<Preset> {
        channel.preset_id().and_then(Preset::from_id)
    }

    /// The preset a [`PresetId`] names.
    pub fn from_id(id: PresetId) -> Option<Preset> {
        PRESETS.get(id.index).map(|def| Preset(*def))
    }

    /// How a channel of this preset names it.
    pub fn id(self) -> PresetId {
        let index = PRESETS
            .iter()
            .position(|def| def.name() == self.name())
            .expect("a preset is in the registry");
        PresetId {
            index,
            format: self.format(),
        }
    }

    /// Every preset, in registry order.
    pub fn all() -> impl Iterator<Item = Preset> + Clone {
        PRESETS.iter().map(|def| Preset(*def))
    }

    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::all().find(|p| p.name() == name)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn format(self) -> ChannelFormat {
        self.0.format()
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

    /// See [`PresetDef::preview`].
    pub fn preview(self, item: &str, image: Option<&str>) -> Preview {
        self.0.preview(item, image)
    }

    /// How `pimfeed push` sends this preset's feed; see [`PresetDef::push`].
    pub fn push(self) -> Option<fn(&PushJob<'_>) -> PushOutcome> {
        self.0.push()
    }

    /// See [`PresetDef::title_shown`].
    pub fn title_shown(self) -> Option<(&'static str, usize)> {
        self.0.title_shown()
    }

    /// See [`PresetDef::follows`].
    pub fn follows(self) -> Option<&'static str> {
        self.0.follows()
    }

    /// See [`PresetDef::example_settings`].
    pub fn example_settings(self) -> &'static str {
        self.0.example_settings()
    }

    /// The preset's definition, for the stages that call it.
    pub(crate) fn def(self) -> &'static dyn PresetDef {
        self.0
    }
}

impl PartialEq for Preset {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Preset {}

impl std::fmt::Debug for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Preset({})", self.name())
    }
}

/// The csv writer's buffer for one row: most rows fit.
const ROW_BUFFER: usize = 1024;

/// Writes one CSV row; every cell loses its control characters, and with `formula_guard`
/// a cell that would start a spreadsheet formula is defused.
pub(crate) fn write_csv_row<S: AsRef<str>>(
    out: &mut dyn Write,
    cells: &[S],
    quote_style: csv::QuoteStyle,
    formula_guard: bool,
) -> io::Result<()> {
    use crate::text::escape;
    let cells: Vec<Cow<'_, str>> = cells
        .iter()
        .map(|cell| {
            let cell = escape::strip_csv_controls(cell.as_ref());
            match cell {
                Cow::Borrowed(cell) if formula_guard => escape::guard_formula(cell),
                Cow::Owned(cell) if formula_guard => {
                    Cow::Owned(escape::guard_formula(&cell).into_owned())
                }
                cell => cell,
            }
        })
        .collect();
    // One row per writer, for every product: the csv crate's default 8 KiB buffer, zeroed
    // on every call, would cost more than the row. A longer row is flushed as it fills.
    let mut writer = csv::WriterBuilder::new()
        .quote_style(quote_style)
        .buffer_capacity(ROW_BUFFER)
        .from_writer(out);
    writer
        .write_record(cells.iter().map(|cell| cell.as_bytes()))
        .and_then(|()| writer.flush().map_err(csv::Error::from))
        .map_err(io::Error::other)
}

/// [`Channel::example`] of the built-in preset named `preset` (its name in `pim.toml`).
#[cfg(test)]
pub(crate) fn example_channel(name: &str, preset: &str, locale: &str) -> Channel {
    let preset = Preset::from_name(preset).expect("a built-in preset");
    Channel::example(
        name,
        crate::channels::ChannelKind::Preset(preset.id()),
        locale,
    )
}

#[cfg(test)]
mod tests;
