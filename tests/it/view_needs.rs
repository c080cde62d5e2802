//! A product's view holds only the attributes its channels read: the attributes named in
//! their templates and expressions, and those each preset's code says it reads. A channel
//! whose filter reads the whole product (`product is defined`) sees every attribute; every
//! preset must write the same feed either way, or a view left out an attribute it reads.

use pimfeed::config::ChannelFormat;
use pimfeed::presets::Preset;

use crate::common::Catalog;

/// `catalog` with its channels replaced by one channel of `preset` (named `google-nl`, the channel the example's overrides name) (and the primary feed it
/// follows, if any), with or without a filter that reads the whole product.
fn alone(catalog: &Catalog, preset: Preset, output: &str, whole_product: bool) {
    let config = catalog.read("pim.toml");
    let config = &config[..config.find("\n[channels.").expect("channels")];
    let primary = match preset.follows() {
        Some(primary) => format!(
            "[channels.primary]\npreset = \"{primary}\"\nlocale = \"nl-NL\"\noutput = \"primary.xml\"\n\n"
        ),
        None => String::new(),
    };
    let filter = match whole_product {
        true => "filter = \"product is defined\"\n",
        false => "",
    };
    catalog.write(
        "pim.toml",
        &format!(
            "{config}\n{primary}[channels.google-nl]\npreset = \"{}\"\nlocale = \"nl-NL\"\n\
             output = \"{output}\"\n{filter}{}",
            preset.name(),
            preset.example_settings()
        ),
    );
}

fn every_preset_reads_what_it_says(catalog: Catalog) {
    let original = catalog.read("pim.toml");
    for preset in Preset::all() {
        let extension = match preset.format() {
            ChannelFormat::Xml => "xml",
            ChannelFormat::Json => "json",
            ChannelFormat::Csv => "csv",
            ChannelFormat::Jsonl => "jsonl",
        };
        let output = format!("under-test.{extension}");
        let mut feeds = Vec::new();
        for whole_product in [false, true] {
            catalog.write("pim.toml", &original);
            alone(&catalog, preset, &output, whole_product);
            let run = catalog.run(&["build", "--quiet", "--no-cache", "--allow-drop"]);
            assert_eq!(run.code(), 0, "{}: {}", preset.name(), run.stderr());
            feeds.push(catalog.read(&format!("feeds/{output}")));
        }
        assert!(feeds[0].len() > 200, "{}: {}", preset.name(), feeds[0]);
        assert_eq!(
            feeds[0],
            feeds[1],
            "{}: the feed differs when the view holds every attribute",
            preset.name()
        );
    }
}

#[test]
fn every_preset_writes_the_same_feed_from_a_view_of_every_attribute_on_the_example() {
    every_preset_reads_what_it_says(Catalog::example());
}

#[test]
fn every_preset_writes_the_same_feed_from_a_view_of_every_attribute_on_marketplaces() {
    every_preset_reads_what_it_says(Catalog::fixture("marketplaces"));
}

/// The example's custom channels (a template, CSV columns, a filter) get a template context
/// with only what they name; with a filter that reads the whole product, every channel of
/// their locales gets the whole view, and every feed must come out the same.
#[test]
fn custom_channels_write_the_same_feeds_from_the_whole_context() {
    let catalog = Catalog::example();
    let feeds = [
        "beslist.xml",
        "pricelist.csv",
        "google-uk.xml",
        "google-nl.xml",
        "meta.csv",
        "amazon-nl.json",
    ];
    let build = || {
        let run = catalog.run(&["build", "--quiet", "--no-cache", "--allow-drop"]);
        assert_eq!(run.code(), 0, "{}", run.stderr());
        feeds.map(|feed| catalog.read(&format!("feeds/{feed}")))
    };
    let narrow = build();
    let config = catalog.read("pim.toml");
    let whole = "product is defined";
    let config = config
        .replace(
            "output = \"beslist.xml\"\n",
            &format!("output = \"beslist.xml\"\nfilter = \"{whole}\"\n"),
        )
        .replace(
            "output = \"pricelist.csv\"\n",
            &format!("output = \"pricelist.csv\"\nfilter = \"{whole}\"\n"),
        )
        .replace(
            "filter = \"erp.stock > 0\"",
            &format!("filter = \"erp.stock > 0 and {whole}\""),
        );
    assert_eq!(config.matches(whole).count(), 3, "{config}");
    catalog.write("pim.toml", &config);
    for (feed, (narrow, whole)) in feeds.iter().zip(narrow.iter().zip(build())) {
        assert!(narrow.len() > 200, "{feed}: {narrow}");
        assert_eq!(*narrow, whole, "{feed}");
    }
}
