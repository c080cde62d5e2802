//! The parse-back of a cold build: a big feed is parsed chunk by chunk behind its writer (and
//! what is left of it in chunks on every core), hashed as it is read, and a broken item
//! anywhere in it still fails the build, named at its byte in the file.

use crate::common::{Catalog, flat, sha256_hex};

/// The example's beslist template with each item padded to ~25 KB (so its feed is cut into
/// chunks), and an element left open in the item of a product whose title says BROKEN.
fn padded_beslist(catalog: &Catalog) {
    let template = catalog.read("templates/beslist.xml").replace(
        "  </product>{% endblock item %}",
        "<!--{% for i in range(end=250) %} padding that makes this item long enough to cut the \
         feed into chunks {% endfor %}-->\
         {% if \"BROKEN\" in product.title %}<open>{% endif %}\n  </product>{% endblock item %}",
    );
    catalog.write("templates/beslist.xml", &template);
}

#[test]
fn a_broken_item_late_in_a_feed_parsed_by_chunks_fails_the_build_at_its_byte() {
    let catalog = Catalog::example();
    padded_beslist(&catalog);
    catalog.run(&["build", "--no-cache"]).expect(0);
    let published = catalog.feeds_snapshot();
    let feed = catalog.read("feeds/beslist.xml");
    assert!(
        feed.len() > 2 * 262_144,
        "several chunks: {} bytes",
        feed.len()
    );
    let sku = "MK-DHP485";
    let item_start = feed.find(&format!("<sku>{sku}</sku>")).unwrap();
    let item_end = item_start + feed[item_start..].find("</product>").unwrap();
    assert!(item_start > 300_000, "the item is past the first chunk");
    let manifest: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    let beslist = manifest["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|channel| channel["name"] == "beslist")
        .unwrap();
    assert_eq!(
        beslist["sha256"],
        sha256_hex(feed.as_bytes()),
        "the hash taken behind the writer"
    );
    assert_eq!(beslist["bytes"], feed.len());

    let drill = "content/products/power-tools/MK-DHP485.toml";
    let text = catalog.read(drill);
    catalog.write(
        drill,
        &text.replacen("title.nl-NL = \"", "title.nl-NL = \"BROKEN ", 1),
    );
    let broken = catalog.run(&["build", "--no-cache"]).expect(2);
    let stderr = broken.stderr_flat();
    let prefix = flat(
        "channel `beslist`: the rendered feed does not parse back: beslist.xml: not well-formed XML at byte ",
    );
    let at = stderr.find(&prefix).map(|at| at + prefix.len());
    let byte: usize = at
        .and_then(|at| stderr[at..].split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no byte position: {stderr}"));
    // "BROKEN " moves the item by 7 bytes at most, and its end tag by 7 more plus `<open>`.
    assert!(
        (item_start..item_end + 30).contains(&byte),
        "byte {byte} is not in the broken item ({item_start}..{item_end}): {stderr}"
    );
    assert!(
        catalog.feeds_snapshot() == published,
        "the last good feeds stay"
    );
}
