//! The preset registry walked as a whole: a channel of every preset, built from nothing but
//! what its module says (its name, format and example settings), writes a feed with a product
//! in it. A new preset is checked here without editing this file.

use pimfeed::config::ChannelFormat;
use pimfeed::presets::Preset;

use crate::common::Catalog;

/// The marketplaces fixture (Dutch copy, prices in EUR, a product with an ASIN) with its
/// channels replaced by a `google-merchant` channel, the primary feed a supplemental feed
/// follows, and a channel of `preset`.
fn catalog_with(preset: Preset, output: &str) -> Catalog {
    let catalog = Catalog::fixture("marketplaces");
    let config = catalog.read("pim.toml");
    let without_channels = &config[..config.find("\n[channels.").expect("channels")];
    catalog.write(
        "pim.toml",
        &format!(
            "{without_channels}\n\
             [channels.primary]\npreset = \"google-merchant\"\nlocale = \"nl-NL\"\n\
             output = \"primary.xml\"\n\n\
             [channels.under-test]\npreset = \"{}\"\nlocale = \"nl-NL\"\noutput = \"{output}\"\n{}",
            preset.name(),
            preset.example_settings()
        ),
    );
    catalog
}

#[test]
fn a_channel_of_every_preset_builds_a_feed_with_a_product() {
    let mut names = Vec::new();
    for preset in Preset::all() {
        assert!(!names.contains(&preset.name()), "two `{}`", preset.name());
        names.push(preset.name());
        let extension = match preset.format() {
            ChannelFormat::Xml => "xml",
            ChannelFormat::Json => "json",
            ChannelFormat::Csv => "csv",
            ChannelFormat::Jsonl => "jsonl",
        };
        let output = format!("under-test.{extension}");
        let catalog = catalog_with(preset, &output);
        let run = catalog.run(&["build"]);
        assert_eq!(
            run.code(),
            0,
            "{}: {}\n{}",
            preset.name(),
            run.stdout(),
            run.stderr()
        );
        let manifest: serde_json::Value =
            serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
        let channel = manifest["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "under-test")
            .unwrap_or_else(|| panic!("{}: not in the manifest", preset.name()));
        assert!(
            channel["items"].as_u64().unwrap_or(0) >= 1,
            "{}: no product reached the channel: {channel}",
            preset.name()
        );
        let feed = catalog.read(&format!("feeds/{output}"));
        assert!(
            feed.contains("DR-1") || feed.contains("GA-1"),
            "{}: {feed}",
            preset.name()
        );
    }
    assert!(names.len() >= 7, "{names:?}");
}

#[test]
fn push_names_the_presets_that_have_an_api_to_push_to() {
    let catalog = Catalog::fixture("marketplaces");
    let config = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &format!(
            "{config}\n[channels.google]\npreset = \"google-merchant\"\nlocale = \"nl-NL\"\n\
             output = \"google.xml\"\n\n[channels.google.push]\nclient_id_env = \"X\"\n\
             client_secret_env = \"Y\"\n"
        ),
    );
    let run = catalog.run(&["push", "google", "--dry-run"]).expect(2);
    assert!(
        run.stderr().contains(
            "channel `google`: only bol-offers and amazon-listings channels can be pushed \
             (this one is `google-merchant`)"
        ),
        "{}",
        run.stderr()
    );
}
