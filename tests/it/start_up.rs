//! The start of a build: the product files listed and the ERP numbers pulled with the last
//! build's cache opened beside them, and a cache made with the same ERP records taking its
//! entries' ERP digests as they are. Whatever changes the records (a price list alone, a
//! decimal's scale, the order of the rows, numbers put back as they were two builds ago), a
//! build from the cache still writes what a build without it writes.

use crate::cache::{assert_same, cache_use, outputs};
use crate::common::Catalog;

const PRICE_LIST: &str = "erp/prices-gbp.csv";
const EXPORT: &str = "erp/items.csv";

/// Builds from the cache, then without it, and checks both wrote the same; returns the
/// cached build's files reused and checked.
fn same_as_without_the_cache(catalog: &Catalog, step: &str) -> (u64, u64) {
    let cached = catalog.run(&["build", "--allow-drop", "--format", "json"]);
    let with_cache = outputs(catalog);
    let cold = catalog.run(&["build", "--allow-drop", "--no-cache", "--format", "json"]);
    assert_eq!(cached.code(), cold.code(), "{step}: exit codes");
    assert_same(&with_cache, &outputs(catalog));
    cache_use(&cached)
}

#[test]
fn every_change_to_the_erp_records_is_seen_by_a_build_from_the_cache() {
    let catalog = Catalog::fixture("hostile");
    let files = catalog
        .run(&["build", "--format", "json"])
        .json()
        .pointer("/cache/files_checked")
        .and_then(serde_json::Value::as_u64)
        .unwrap();
    let original_export = catalog.read(EXPORT);
    let original_prices = catalog.read(PRICE_LIST);

    // The same records: every file from the cache.
    let (reused, checked) = same_as_without_the_cache(&catalog, "unchanged");
    assert_eq!((reused, checked), (files, 0), "nothing changed");

    // A price list alone changes the records; the export's bytes do not.
    let prices = original_prices.replacen("H-ENTITIES,42.99,", "H-ENTITIES,41.99,", 1);
    assert_ne!(prices, original_prices);
    catalog.write(PRICE_LIST, &prices);
    let (_, checked) = same_as_without_the_cache(&catalog, "price list");
    assert_eq!(checked, 1, "the file of the product with a new GBP price");
    assert!(catalog.read("feeds/google-uk.xml").contains("41.99 GBP"));

    // The same price, at another scale: the feeds show it as it is written.
    let export = original_export.replacen("H-SALE,59.95,", "H-SALE,59.950,", 1);
    assert_ne!(export, original_export);
    catalog.write(EXPORT, &export);
    let (_, checked) = same_as_without_the_cache(&catalog, "a decimal's scale");
    assert_eq!(
        checked, 1,
        "the file of the product whose price was rewritten"
    );

    // The same rows in another order: other bytes, the same record for every SKU.
    let mut lines: Vec<&str> = export.lines().collect();
    lines[1..].reverse();
    catalog.write(EXPORT, &(lines.join("\n") + "\n"));
    let (reused, checked) = same_as_without_the_cache(&catalog, "rows reordered");
    assert_eq!((reused, checked), (files, 0), "no record changed");

    // Back to the numbers of two builds ago, which the cache was not made with.
    catalog.write(EXPORT, &original_export);
    catalog.write(PRICE_LIST, &original_prices);
    let (_, checked) = same_as_without_the_cache(&catalog, "numbers put back");
    assert_eq!(
        checked, 2,
        "the two files whose products' numbers changed back"
    );
}

#[test]
fn timings_show_the_start_up_stages_and_a_bad_export_still_points_at_its_line() {
    let catalog = Catalog::example();
    let built = catalog.run(&["build", "--timings"]).expect(0);
    let stderr = built.stderr();
    for stage in [
        "list content and pull ERP (the build cache opened beside them)",
        "of which listing the product files",
        "of which pulling ERP",
        "of which opening the build cache and stamping the feeds (beside them)",
    ] {
        assert!(stderr.contains(stage), "no `{stage}` in:\n{stderr}");
    }

    // The cache opens beside the pull: a failed pull is still the run's, at its row's line.
    let export = catalog
        .read(EXPORT)
        .replacen("MK-DTD153,139.95,", "MK-DTD153,13x.95,", 1);
    catalog.write(EXPORT, &export);
    let line = export
        .lines()
        .position(|row| row.starts_with("MK-DTD153,"))
        .unwrap()
        + 1;
    let failed = catalog.run(&["build"]).expect(2);
    let stderr = failed.stderr_flat();
    assert!(
        stderr.contains(&crate::common::flat(&format!("erp/items.csv:{line}"))),
        "{}",
        failed.stderr()
    );
}
