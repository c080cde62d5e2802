//! What every build from the cache pays, made cheap without changing a byte: the report is
//! written while the feeds are parsed back, and is the same as a build without the cache
//! writes.

use crate::common::Catalog;

/// `report.json` and `index.html`, with the time of the build taken out of both.
fn report_files(catalog: &Catalog) -> (String, String) {
    let json = catalog.read("feeds/report/report.json");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let generated_at = report["generated_at"].as_str().unwrap().to_string();
    let html = catalog.read("feeds/report/index.html");
    let built = html
        .find("<time datetime=")
        .expect("the page says when it was built");
    let end = built + html[built..].find("</time>").unwrap();
    let html = format!("{}{}", &html[..built], &html[end..]);
    (json.replace(&generated_at, "GENERATED_AT"), html)
}

#[test]
fn the_report_is_written_beside_the_parse_back_and_is_the_same_as_without_the_cache() {
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let drill = "content/products/power-tools/MK-DHP485.toml";
    let text = catalog
        .read(drill)
        .replacen("title.nl-NL = \"", "title.nl-NL = \"Nieuw: ", 1);
    catalog.write(drill, &text);
    let edited = catalog.run(&["build", "--timings"]).expect(0);
    assert!(
        edited
            .stderr()
            .contains("write the report (beside the parse-back)"),
        "{}",
        edited.stderr()
    );
    let from_cache = report_files(&catalog);
    assert!(
        from_cache.1.contains("MK-DHP485"),
        "the page lists the catalog"
    );

    catalog.run(&["build", "--no-cache"]).expect(0);
    let cold = report_files(&catalog);
    assert_eq!(
        from_cache.0, cold.0,
        "report.json differs from a build without the cache"
    );
    assert_eq!(
        from_cache.1, cold.1,
        "index.html differs from a build without the cache"
    );
}

/// A feed that does not parse back fails the build: the report written beside the parse-back
/// goes with the staging folder, and the published report stays the last good build's.
#[test]
fn a_feed_that_does_not_parse_back_leaves_the_published_report_as_it_was() {
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let before = catalog.read("feeds/report/report.json");
    let template = catalog.read("templates/beslist.xml").replace(
        "  </product>{% endblock item %}",
        "<open>\n  </product>{% endblock item %}",
    );
    catalog.write("templates/beslist.xml", &template);
    catalog.run(&["build"]).expect(2);
    assert_eq!(catalog.read("feeds/report/report.json"), before);
    let leftovers: Vec<_> = std::fs::read_dir(catalog.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("staging"))
        .collect();
    assert!(leftovers.is_empty(), "staging folders left: {leftovers:?}");
}

/// A product file of the bulk folder: the example's drill with its SKU and Dutch title as
/// given.
fn bulk_product(drill: &str, sku: &str, title: &str) -> String {
    drill
        .lines()
        .map(|line| match line {
            l if l.starts_with("sku = ") => format!("sku = \"{sku}\""),
            l if l.starts_with("title.nl-NL = ") => format!("title.nl-NL = \"{title}\""),
            l if l.starts_with("title.en-GB = ") => format!("title.en-GB = \"{sku} drill\""),
            l => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Over a thousand files make several batches; the next batch's files are looked up while
/// the checks across files run on the one before. A duplicate SKU and a duplicate title
/// across batches are still found at the later file, and a build from the cache after an
/// edit gives what a build without it gives.
#[test]
fn checks_across_files_hold_across_batches_from_the_cache_and_without_it() {
    let catalog = Catalog::example();
    let drill = catalog.read("content/products/power-tools/MK-DHP485.toml");
    for i in 0..2200 {
        let (sku, title) = match i {
            1500 => ("BULK-0100".to_string(), "Bulk boormachine 1500".to_string()),
            2150 => ("BULK-2150".to_string(), "Bulk boormachine 1100".to_string()),
            _ => (format!("BULK-{i:04}"), format!("Bulk boormachine {i:04}")),
        };
        catalog.write(
            &format!("content/products/power-tools/bulk/{i:04}.toml"),
            &bulk_product(&drill, &sku, &title),
        );
    }
    let cold = catalog.run(&["build", "--format", "json"]);
    let code = cold.code();
    eprintln!(
        "DEBUG {code} {}",
        &cold.stdout()[..300.min(cold.stdout().len())]
    );
    let report = catalog.read("feeds/report/report.json");
    assert!(
        report.contains("duplicate-sku") && report.contains("bulk/1500.toml"),
        "the SKU repeated in a later batch is reported"
    );
    assert!(
        report.contains("duplicate-title") && report.contains("bulk/2150.toml"),
        "the title repeated in a later batch is reported"
    );

    let edited = "content/products/power-tools/bulk/1200.toml";
    catalog.write(
        edited,
        &bulk_product(&drill, "BULK-1200", "Bulk boormachine 1200 nieuw"),
    );
    let from_cache = catalog.run(&["build", "--format", "json"]).expect(code);
    let (reused, checked) = crate::cache::cache_use(&from_cache);
    assert!(
        reused > 2000 && checked < 10,
        "{reused} reused, {checked} checked"
    );
    let with_cache = crate::cache::outputs(&catalog);
    catalog.run(&["build", "--no-cache"]).expect(code);
    crate::cache::assert_same(&with_cache, &crate::cache::outputs(&catalog));
}
