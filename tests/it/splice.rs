//! A build from the cache splices unchanged runs of the last build's feeds into the new ones
//! and verifies only what is new: the feeds are still byte for byte those of a build without
//! the cache, a feed touched since it was published is not spliced from, and a broken new item
//! is still caught before the swap.

use crate::cache::{assert_same, cache_use, linked, outputs, spliced};
use crate::common::{Catalog, flat};

#[test]
fn a_one_file_edit_splices_every_channel_and_matches_a_build_without_the_cache() {
    let catalog = Catalog::example();
    let cold = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!(spliced(&cold), 0, "nothing to splice from");
    let drill = "content/products/power-tools/MK-DHP485.toml";
    let text = catalog
        .read(drill)
        .replacen("title.nl-NL = \"", "title.nl-NL = \"Nieuw: ", 1);
    catalog.write(drill, &text);
    let edited = catalog.run(&["build", "--format", "json"]).expect(0);
    // Every channel the product is in but `beslist`, whose items come from a template of
    // the user's: they were not each checked by the cold build, so they are copied one by one
    // (and checked) this once. The channels that do not show the Dutch title come out the
    // same as before, and are linked rather than spliced.
    assert_eq!(spliced(&edited) + linked(&edited), 9);
    assert!(linked(&edited) >= 1);
    let with_cache = outputs(&catalog);
    assert!(catalog.read("feeds/webshop.json").contains("Nieuw: "));

    let text = text.replacen("Nieuw: ", "Nu: ", 1);
    catalog.write(drill, &text);
    let again = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!(
        spliced(&again) + linked(&again),
        10,
        "now beslist's items were each checked"
    );
    let spliced_twice = outputs(&catalog);

    catalog.run(&["build", "--no-cache"]).expect(0);
    assert_same(&spliced_twice, &outputs(&catalog));
    catalog.write(drill, &text.replacen("Nu: ", "Nieuw: ", 1));
    catalog.run(&["build", "--no-cache"]).expect(0);
    assert_same(&with_cache, &outputs(&catalog));
}

/// A feed rewritten in place with the same size and its modification time put back looks
/// untouched by size, inode and modification time; the change time still tells.
#[test]
fn a_feed_edited_by_hand_is_not_spliced_from_even_with_its_size_and_time_put_back() {
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let before = outputs(&catalog);
    let path = catalog.path().join("feeds/google-nl.xml");
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let tampered = text.replacen("<g:brand>Makita", "<g:brand>MAKITA", 1);
    assert_ne!(tampered, text);
    std::fs::write(&path, &tampered).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(modified)
        .unwrap();

    let run = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&run), (0, 30), "the cache is not trusted");
    assert_eq!((spliced(&run), linked(&run)), (0, 0));
    assert_same(&outputs(&catalog), &before);
}

/// A feed an edit leaves the same byte for byte is the published file itself, linked into
/// the new build: none of it is copied or hashed again, and the manifest keeps its entry.
#[test]
fn a_feed_an_edit_leaves_alone_is_the_published_file_linked() {
    use std::os::unix::fs::MetadataExt;
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let google = catalog.path().join("feeds/google-nl.xml");
    let inode = std::fs::metadata(&google).unwrap().ino();
    let entry = |catalog: &Catalog| {
        let manifest: serde_json::Value =
            serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
        let channels = manifest["channels"].as_array().unwrap();
        let google = channels.iter().find(|c| c["name"] == "google-nl").unwrap();
        (google["bytes"].clone(), google["sha256"].clone())
    };
    let before = entry(&catalog);

    // An English title: the Dutch Google feed comes out the same.
    let drill = "content/products/power-tools/MK-DHP485.toml";
    let text = catalog.read(drill);
    catalog.write(
        drill,
        &text.replacen("title.en-GB = \"", "title.en-GB = \"New: ", 1),
    );
    let run = catalog.run(&["build", "--format", "json"]).expect(0);
    assert!(linked(&run) >= 1, "{}", run.json()["cache"]);
    assert_eq!(std::fs::metadata(&google).unwrap().ino(), inode);
    assert_eq!(entry(&catalog), before);
    let with_cache = outputs(&catalog);
    catalog.run(&["build", "--no-cache"]).expect(0);
    assert_same(&with_cache, &outputs(&catalog));
}

/// Items of a user's template are checked one by one as they are written: one that leaves an
/// element open fails the build even though the rest of its feed is spliced unparsed.
#[test]
fn a_broken_new_item_between_spliced_runs_is_caught_before_the_swap() {
    let checked = a_broken_new_item_swaps_nothing_in(|catalog, args| {
        let args: Vec<&str> = ["build"].iter().chain(args).copied().collect();
        catalog.run(&args)
    });
    assert_eq!(
        spliced(&checked) + linked(&checked),
        9,
        "beslist's items are checked this once"
    );
}

/// A user's template that leaves an element open for one title: the catalog is built, built
/// again after an edit (which checks the template's items one by one), then built with that
/// title, which fails before the swap: the feeds and the last build's content stay those of
/// the last good build. `build` runs `pimfeed build ARGS`; the second build's run is given
/// back.
pub(crate) fn a_broken_new_item_swaps_nothing_in(
    build: impl Fn(&Catalog, &[&str]) -> crate::common::Run,
) -> crate::common::Run {
    let catalog = Catalog::example();
    let template = catalog.read("templates/beslist.xml").replace(
        "  </product>{% endblock item %}",
        "{% if \"BROKEN\" in product.title %}<open>{% endif %}\n  </product>{% endblock item %}",
    );
    catalog.write("templates/beslist.xml", &template);
    build(&catalog, &[]).expect(0);
    let drill = "content/products/power-tools/MK-DHP485.toml";
    let text = catalog.read(drill);
    catalog.write(drill, &text.replacen("Makita", "MAKITA", 1));
    let checked = build(&catalog, &["--format", "json"]).expect(0);
    let published = catalog.feeds_snapshot();
    let content = catalog.last_build_products();

    catalog.write(
        drill,
        &text.replacen("title.nl-NL = \"", "title.nl-NL = \"BROKEN ", 1),
    );
    let broken = build(&catalog, &[]).expect(2);
    let stderr = broken.stderr_flat();
    assert!(
        stderr.contains(&flat(
            "channel `beslist`: the rendered feed does not parse back: beslist.xml"
        )),
        "{stderr}"
    );
    assert!(
        catalog.feeds_snapshot() == published,
        "the last good feeds stay"
    );
    assert!(
        catalog.last_build_products() == content,
        "the last good build's content stays"
    );
    checked
}

/// An Amazon feed split over two documents: a message's `messageId` is its number in its
/// file, so a copied message is spliced only where its number stays the same.
#[test]
fn an_amazon_feed_in_parts_splices_only_where_message_numbers_stay() {
    let catalog = Catalog::fixture("marketplaces");
    catalog.write("pim.toml", crate::marketplaces::AMAZON_OFFERS_ONLY);
    std::fs::remove_dir_all(catalog.path().join("content/products")).unwrap();
    let product = |sku: &str, title: &str| {
        format!(
            "sku = \"{sku}\"\nfamily = \"gadgets\"\ntitle.nl-NL = \"{title}\"\nasin = \"B0{:0>8}\"\n",
            &sku[1..]
        )
    };
    let mut erp = String::from("sku,price,stock\n");
    for i in 1..=10_003 {
        let sku = format!("P{i:05}");
        catalog.write(
            &format!("content/products/many/{sku}.toml"),
            &product(&sku, &format!("Product {i}")),
        );
        erp.push_str(&format!("{sku},1.00,{i}\n"));
    }
    erp.push_str("P00001A,2.00,1\n");
    catalog.write("erp/items.csv", &erp);
    catalog.run(&["build"]).expect(0);

    // A new title near the end of the first document: an offers-only feed does not show it,
    // so both documents come out the same and are linked to the last ones.
    catalog.write(
        "content/products/many/P09999.toml",
        &product("P09999", "Product 9999, new"),
    );
    let edited = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!((spliced(&edited), linked(&edited)), (0, 2));
    // A new price there: that document is spliced around its message, and the second,
    // the same byte for byte, is linked.
    let erp = erp.replacen("P09999,1.00,", "P09999,2.00,", 1);
    catalog.write("erp/items.csv", &erp);
    let edited = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!((spliced(&edited), linked(&edited)), (1, 1));
    let after_edit = outputs(&catalog);
    catalog.run(&["build", "--no-cache"]).expect(0);
    assert_same(&after_edit, &outputs(&catalog));
    // A build without the cache leaves one for the next build, like any build.

    // A message gone early in the first document moves every later one's number down: only
    // the one before it is spliced.
    std::fs::remove_file(catalog.path().join("content/products/many/P00002.toml")).unwrap();
    let removed = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!(
        spliced(&removed),
        1,
        "the first message alone, in the first document"
    );
    let after_removal = outputs(&catalog);
    // One gone and one added before it: the numbers after both are what they were, so the
    // messages there are spliced again, and the second document is the same as before.
    std::fs::remove_file(catalog.path().join("content/products/many/P00003.toml")).unwrap();
    catalog.write(
        "content/products/many/P00001A.toml",
        &product("P00001A", "Product 1A"),
    );
    let swapped = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!((spliced(&swapped), linked(&swapped)), (1, 1));
    let after_swap = outputs(&catalog);
    let first: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/amazon.json")).unwrap();
    assert_eq!(first["messages"][1]["sku"], "P00001A");
    assert_eq!(first["messages"][2]["messageId"], 3);
    assert_eq!(first["messages"][2]["sku"], "P00004");

    catalog.run(&["build", "--no-cache"]).expect(0);
    assert_same(&after_swap, &outputs(&catalog));
    std::fs::remove_file(catalog.path().join("content/products/many/P00001A.toml")).unwrap();
    catalog.write(
        "content/products/many/P00003.toml",
        &product("P00003", "Product 3"),
    );
    catalog.run(&["build", "--no-cache"]).expect(0);
    assert_same(&after_removal, &outputs(&catalog));
}

/// A batch taken mostly from the build cache (here a `refresh`) has its channels written in
/// parallel; a batch mostly rendered now (the cold builds here, whose first batch renders
/// more than 4 MiB of items) one channel after the other. Both write the same bytes, whatever
/// the content's markup, quotes and commas.
#[test]
fn a_refresh_written_channel_by_channel_in_parallel_matches_a_build_without_the_cache() {
    let catalog = Catalog::example();
    let drill = catalog.read("content/products/power-tools/MK-DHP485.toml");
    let mut erp = catalog.read("erp/items.csv");
    let row = erp
        .lines()
        .find(|line| line.starts_with("MK-DHP485,"))
        .unwrap()
        .to_string();
    for i in 0..800 {
        let sku = format!("MK-COPY{i:04}");
        let hostile = format!("Boor & <b>\\\"{i}\\\"</b>, 'x' ]]> ü 🚀 {sku}");
        let text = drill
            .replace("MK-DHP485", &sku)
            .replacen(
                "title.nl-NL = \"",
                &format!("title.nl-NL = \"{hostile} "),
                1,
            )
            .replacen("title.en-GB = \"", &format!("title.en-GB = \"{sku} "), 1);
        catalog.write(&format!("content/products/copies/{sku}.toml"), &text);
        erp.push_str(&row.replacen("MK-DHP485", &sku, 1));
        erp.push('\n');
    }
    catalog.write("erp/items.csv", &erp);
    catalog.run(&["build"]).expect(0);

    // New stock for one product in ten: the rest of every feed is copied from the last build.
    let restocked: String = erp
        .lines()
        .enumerate()
        .map(
            |(n, line)| match line.starts_with("MK-COPY") && n % 10 == 0 {
                true => line.replacen(",34,", ",0,", 1) + "\n",
                false => format!("{line}\n"),
            },
        )
        .collect();
    assert_ne!(restocked, erp);
    catalog.write("erp/items.csv", &restocked);
    let refreshed = catalog.run(&["refresh", "--format", "json"]).expect(0);
    assert_eq!(
        spliced(&refreshed) + linked(&refreshed),
        9,
        "beslist's items are checked this once"
    );
    assert_eq!(linked(&refreshed), 1, "a feed without stock is the same");
    let after_refresh = without_content_warnings(outputs(&catalog));
    assert!(catalog.read("feeds/bol.jsonl").contains("MK-COPY0799"));

    catalog.run(&["build", "--no-cache"]).expect(0);
    assert_same(&after_refresh, &without_content_warnings(outputs(&catalog)));
}

/// A refresh reads no content, so its report has none of the content's warnings a build
/// finds (the example catalog has a few); everything else must be the same.
fn without_content_warnings(
    mut files: Vec<(std::path::PathBuf, Vec<u8>)>,
) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    for (path, bytes) in &mut files {
        if path == std::path::Path::new("report.json") {
            let mut report: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            report["diagnostics"] = serde_json::Value::Null;
            report["summary"]["warnings"] = serde_json::Value::Null;
            *bytes = report.to_string().into_bytes();
        }
    }
    files
}
