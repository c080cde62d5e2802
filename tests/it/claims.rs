//! The checks across files for a file taken from the build cache: its SKUs and titles are
//! registered one lookup each, and when one of them turns out taken by a file before it,
//! what it had registered already is given back before the file is read again. A build from
//! the cache then reports what a build without it reports, at the same file and line.

use crate::cache::{assert_same, outputs};
use crate::common::Catalog;

/// A variant file of the example: four products sharing a model's title.
const TROUSERS: &str = "content/products/workwear/SN-6241.toml";

/// The example's drill, as a file of its own with `sku` and the titles given.
fn drill_as(catalog: &Catalog, sku: &str, nl: &str, en: &str) -> String {
    catalog
        .read("content/products/power-tools/MK-DHP485.toml")
        .lines()
        .map(|line| match line {
            l if l.starts_with("sku = ") => format!("sku = \"{sku}\""),
            l if l.starts_with("title.nl-NL = ") => format!("title.nl-NL = \"{nl}\""),
            l if l.starts_with("title.en-GB = ") => format!("title.en-GB = \"{en}\""),
            l => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The 1-based line of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).expect(needle) as u64 + 1
}

/// (code, file, line, message) of the published report's diagnostics with `code`.
fn found(catalog: &Catalog, code: &str) -> Vec<(String, String, u64, String)> {
    let report: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/report/report.json")).unwrap();
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// New files early in catalog order take the third SKU of a cached variant file, and the
/// English title (not the Dutch one) of another: each cached file has claimed a SKU, or a
/// SKU and a title, before it meets the one taken. Had it kept those, reading it again
/// would report its own first SKUs as defined twice, in itself.
#[test]
fn a_cached_file_that_meets_a_taken_sku_or_title_gives_back_what_it_claimed() {
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let trousers = catalog.read(TROUSERS);
    let pliers_file = "content/products/hand-tools/KN-0302180.toml";
    let pliers = catalog.read(pliers_file);
    let pliers_en = pliers
        .lines()
        .find_map(|l| l.strip_prefix("title.en-GB = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("the pliers have an English title")
        .to_string();

    let takes_sku = drill_as(
        &catalog,
        "SN-6241-GRY-L",
        "Een andere boormachine",
        "Another combi drill, 18V",
    );
    catalog.write("content/products/fasteners/AA-TAKES-SKU.toml", &takes_sku);
    let takes_title = drill_as(
        &catalog,
        "AA-TITLE-1",
        "Een tang met eigen titel",
        &pliers_en,
    );
    catalog.write(
        "content/products/fasteners/AA-TAKES-TITLE.toml",
        &takes_title,
    );

    let cached = catalog.run(&["build", "--format", "json"]);
    let code = cached.code();
    assert_eq!(
        found(&catalog, "duplicate-sku"),
        [(
            "duplicate-sku".to_string(),
            TROUSERS.to_string(),
            line_of(&trousers, "sku = \"SN-6241-GRY-L\""),
            "SKU `SN-6241-GRY-L` is also defined in content/products/fasteners/AA-TAKES-SKU.toml (line 1)"
                .to_string(),
        )],
        "only the SKU taken, at the later file and line"
    );
    assert_eq!(
        found(&catalog, "duplicate-title"),
        [(
            "duplicate-title".to_string(),
            pliers_file.to_string(),
            line_of(&pliers, "title.en-GB = "),
            "the en-GB title is the same as that of `AA-TITLE-1` (content/products/fasteners/AA-TAKES-TITLE.toml)"
                .to_string(),
        )],
        "only the English title, at the later file and line"
    );
    let with_cache = outputs(&catalog);
    let (reused, checked) = crate::cache::cache_use(&cached);
    assert!(
        checked <= 4 && reused > 20,
        "{reused} reused, {checked} checked"
    );

    catalog.run(&["build", "--no-cache"]).expect(code);
    assert_same(&with_cache, &outputs(&catalog));
}

/// The other order: a file after a cached one takes its SKU and its titles; the later file
/// is the one reported, and the cached one is still taken whole from the cache.
#[test]
fn a_changed_file_after_a_cached_one_is_reported_at_its_own_line() {
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let trousers = catalog.read(TROUSERS);
    let title = |locale: &str| {
        trousers
            .lines()
            .find_map(|l| l.strip_prefix(&format!("title.{locale} = \"")))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap()
            .to_string()
    };
    let later = "content/products/workwear/ZZ-TAKES.toml";
    let text = drill_as(&catalog, "SN-6241-BLK-M", &title("nl-NL"), &title("en-GB"));
    catalog.write(later, &text);

    let cached = catalog.run(&["build", "--format", "json"]);
    let code = cached.code();
    assert_eq!(
        found(&catalog, "duplicate-sku"),
        [(
            "duplicate-sku".to_string(),
            later.to_string(),
            line_of(&text, "sku = "),
            format!(
                "SKU `SN-6241-BLK-M` is also defined in {TROUSERS} (line {})",
                line_of(&trousers, "sku = \"SN-6241-BLK-M\"")
            ),
        )]
    );
    let (reused, checked) = crate::cache::cache_use(&cached);
    assert_eq!(
        checked, 0,
        "the new file has no product left; nothing else is read"
    );
    assert!(reused > 20, "{reused} reused");
    let with_cache = outputs(&catalog);

    catalog.run(&["build", "--no-cache"]).expect(code);
    assert_same(&with_cache, &outputs(&catalog));
}
