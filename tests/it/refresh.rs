//! `pimfeed refresh`: fresh ERP numbers over the last build's content, rewriting only the feeds
//! whose bytes changed.

use std::os::unix::fs::MetadataExt;

use crate::common::{Catalog, field, rss_items};

const INVENTORY: &str = "\n[channels.inventory]\npreset = \"google-merchant-inventory\"\nlocale = \"nl-NL\"\noutput = \"inventory.xml\"\n";

fn catalog_with_inventory() -> Catalog {
    let catalog = Catalog::fixture("basic");
    let config = catalog.read("pim.toml") + INVENTORY;
    catalog.write("pim.toml", &config);
    catalog
}

fn inode(catalog: &Catalog, file: &str) -> u64 {
    std::fs::metadata(catalog.path().join("feeds").join(file))
        .unwrap()
        .ino()
}

#[test]
fn refresh_needs_a_build_first() {
    let catalog = Catalog::fixture("basic");
    let run = catalog.run(&["refresh"]).expect(2);
    assert!(
        run.stderr().contains("run `pimfeed build` first"),
        "{}",
        run.stderr()
    );
}

#[test]
fn refresh_takes_new_numbers_over_the_last_builds_content() {
    let catalog = catalog_with_inventory();
    catalog.run(&["build"]).expect(0);
    let inventory = rss_items(&catalog.read("feeds/inventory.xml"));
    let dr1 = inventory
        .iter()
        .find(|i| field(i, "g:id") == Some("DR-1"))
        .unwrap();
    assert_eq!(field(dr1, "g:price"), Some("149.95 EUR"));
    assert_eq!(field(dr1, "g:sale_price"), Some("129.95 EUR"));
    assert_eq!(field(dr1, "g:availability"), Some("in_stock"));
    assert_eq!(
        field(dr1, "g:title"),
        None,
        "the supplemental feed carries numbers only"
    );
    let partner_before = inode(&catalog, "partner.json");

    // Stock and price change in the ERP; a title changes in content (not yet merged).
    let erp = catalog
        .read("erp/items.csv")
        .replace("DR-1,149.95,12,EUR,129.95", "DR-1,139.00,0,EUR,");
    catalog.write("erp/items.csv", &erp);
    let product = catalog
        .read("content/products/tools/DR-1.toml")
        .replace("Accuboormachine DR-1", "Nieuwe titel DR-1");
    catalog.write("content/products/tools/DR-1.toml", &product);
    catalog.write("content/products/tools/BROKEN.toml", "sku = ");
    // DR-1 out of stock leaves the in-stock `prices` channel with 2 of its 3 items: more than
    // the guard lets through unasked.
    catalog.run(&["refresh", "--allow-drop"]).expect(0);

    let inventory = rss_items(&catalog.read("feeds/inventory.xml"));
    let dr1 = inventory
        .iter()
        .find(|i| field(i, "g:id") == Some("DR-1"))
        .unwrap();
    assert_eq!(field(dr1, "g:price"), Some("139.00 EUR"));
    assert_eq!(field(dr1, "g:sale_price"), None);
    assert_eq!(field(dr1, "g:availability"), Some("out_of_stock"));
    let google = rss_items(&catalog.read("feeds/google.xml"));
    let dr1 = google
        .iter()
        .find(|i| field(i, "g:id") == Some("DR-1"))
        .unwrap();
    assert_eq!(
        field(dr1, "g:title"),
        Some("Accuboormachine DR-1 18V"),
        "content is the last build's"
    );
    // The filter `erp.stock > 0` now leaves DR-1 out of the price list.
    let (_, rows) = catalog.csv("feeds/prices.csv");
    assert!(rows.iter().all(|r| &r[0] != "DR-1"));
    // The partner feed shows stock, so it changed; a feed whose bytes are the same is kept.
    assert_ne!(inode(&catalog, "partner.json"), partner_before);

    let unchanged = inode(&catalog, "google.xml");
    catalog.run(&["refresh"]).expect(0);
    assert_eq!(
        inode(&catalog, "google.xml"),
        unchanged,
        "an unchanged feed is not rewritten"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    let google = manifest["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "google")
        .unwrap();
    let bytes = std::fs::read(catalog.path().join("feeds/google.xml")).unwrap();
    assert_eq!(google["bytes"], bytes.len() as u64);

    // The next build takes the content change.
    catalog.write(
        "content/products/tools/BROKEN.toml",
        "sku = \"BR\"\nfamily = \"tools\"\n",
    );
    catalog.run(&["build"]).expect(0);
    assert!(
        catalog
            .read("feeds/google.xml")
            .contains("Nieuwe titel DR-1")
    );
}

#[test]
fn a_failed_refresh_changes_nothing() {
    let catalog = catalog_with_inventory();
    catalog.run(&["build"]).expect(0);
    let before = catalog.feeds_snapshot();
    catalog.write(
        "erp/items.csv",
        &catalog
            .read("erp/items.csv")
            .replace("99,3,EUR", "99,3x,EUR"),
    );
    let run = catalog.run(&["refresh"]).expect(2);
    assert!(run.stderr().contains("stock `3x`"), "{}", run.stderr());
    assert_eq!(catalog.feeds_snapshot(), before);
}
