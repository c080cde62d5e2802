//! `pimfeed build`: every channel rendered, parsed back and checked on content; failures
//! leave the previous feeds byte-identical.

use crate::common::{Catalog, commit_all, field, fields, rss_items, sha256_hex};

#[test]
fn builds_every_channel_with_the_right_products() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build"]).expect(0);

    let google = rss_items(&catalog.read("feeds/google.xml"));
    let ids: Vec<&str> = google.iter().map(|i| field(i, "g:id").unwrap()).collect();
    assert_eq!(ids, ["TS-B-M", "TS-K-L", "DR-1"]);

    let dr1 = &google[2];
    assert_eq!(field(dr1, "g:title"), Some("Accuboormachine DR-1 18V"));
    assert_eq!(
        field(dr1, "g:description"),
        Some("Een krachtige boormachine.\n\n- Koolborstelloze motor\n- 2 snelheden")
    );
    assert_eq!(field(dr1, "g:price"), Some("149.95 EUR"));
    assert_eq!(field(dr1, "g:sale_price"), Some("129.95 EUR"));
    assert_eq!(field(dr1, "g:availability"), Some("in_stock"));
    assert_eq!(field(dr1, "g:gtin"), Some("4006381333931"));
    assert_eq!(field(dr1, "g:link"), Some("https://shop.example/nl/p/dr-1"));
    assert_eq!(
        field(dr1, "g:image_link"),
        Some("https://cdn.example/DR-1-1.jpg")
    );
    // 12 images: one image_link and Google's maximum of 10 additional ones.
    let additional = fields(dr1, "g:additional_image_link");
    assert_eq!(additional.len(), 10);
    assert_eq!(additional[9], "https://cdn.example/DR-1-11.jpg");
    assert_eq!(field(dr1, "g:google_product_category"), Some("1217"));
    assert_eq!(field(dr1, "g:identifier_exists"), None);

    let shirt = &google[1];
    assert_eq!(field(shirt, "g:item_group_id"), Some("TS"));
    assert_eq!(field(shirt, "g:availability"), Some("out_of_stock"));
    assert_eq!(field(shirt, "g:color"), Some("black"));
    assert_eq!(field(shirt, "g:size"), Some("L"));

    // The webshop gets all locales, channel overrides and exact ERP numbers.
    let webshop: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/webshop.json")).unwrap();
    let products = webshop["products"].as_array().unwrap();
    let skus: Vec<&str> = products
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["TS-B-M", "TS-K-L", "DR-1", "DR-3"]);
    let dr1 = &products[2];
    assert_eq!(
        dr1["attributes"]["title"]["en-GB"],
        "Cordless drill DR-1 18V"
    );
    assert_eq!(dr1["erp"]["price"].to_string(), "149.95");
    assert_eq!(dr1["erp"]["price_tiers"][1]["price"].to_string(), "129.50");
    assert!(
        dr1["description_html"]["nl-NL"]
            .as_str()
            .unwrap()
            .contains("<strong>krachtige</strong>")
    );

    // Order entry: every product with an ERP record and a title, spreadsheet-safe.
    let (headers, rows) = catalog.csv("feeds/orders.csv");
    assert_eq!(&headers[0], "sku");
    assert_eq!(rows.len(), 4);
    let dr1 = rows.iter().find(|r| &r[0] == "DR-1").unwrap();
    assert_eq!(&dr1[2], "Cordless drill DR-1 18V");
    assert_eq!(&dr1[8], "10:139.95|50:129.50");

    // The custom CSV channel: its filter leaves out TS-K-L (no stock).
    let (_, rows) = catalog.csv("feeds/prices.csv");
    let skus: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(skus, ["TS-B-M", "DR-1", "DR-3"]);

    // The custom JSON channel, rendered by its template.
    let partner: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/partner.json")).unwrap();
    assert_eq!(partner["items"].as_array().unwrap().len(), 4);
    assert_eq!(partner["items"][0]["title"], "Work shirt TS blue M");
}

#[test]
fn manifest_and_report_describe_the_build() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build"]).expect(0);
    let manifest: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    assert!(manifest["generated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(manifest["erp"]["records"], 6);
    assert!(manifest["git"].is_null(), "not a git repository");
    let channels = manifest["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 5);
    for channel in channels {
        let file = channel["file"].as_str().unwrap();
        let bytes = std::fs::read(catalog.path().join("feeds").join(file)).unwrap();
        assert_eq!(channel["bytes"], bytes.len() as u64, "{file}");
        let digest = sha256_hex(&bytes);
        assert_eq!(channel["sha256"], digest, "{file}");
    }
    let google = channels.iter().find(|c| c["name"] == "google").unwrap();
    assert_eq!(
        (google["items"].as_u64(), google["excluded"].as_u64()),
        (Some(3), Some(3))
    );

    let report: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/report/report.json")).unwrap();
    let google_column = report["channels"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["name"] == "google")
        .unwrap();
    let completeness = |sku: &str| {
        let products = report["products"].as_array().unwrap();
        let product = products.iter().find(|p| p["sku"] == sku).unwrap();
        product["completeness"][google_column].as_u64().unwrap()
    };
    assert!(completeness("DR-2") < 100);
    assert_eq!(completeness("TS-B-M"), 100);
    let html = catalog.read("feeds/report/index.html");
    assert!(html.contains("`images` is required and has no value"));
    assert!(html.contains("DR-3"));
}

#[test]
fn git_commit_and_dirty_flag_go_into_the_manifest() {
    let catalog = Catalog::fixture("basic");
    let repo = git2::Repository::init(catalog.path()).unwrap();
    catalog.write(".gitignore", "/feeds\n");
    let commit = commit_all(&repo, "Test", "catalog");

    catalog.run(&["build"]).expect(0);
    let manifest: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    assert_eq!(manifest["git"]["commit"], commit);
    assert_eq!(manifest["git"]["dirty"], false);

    catalog.write(
        "content/products/tools/DR-2.toml",
        &catalog
            .read("content/products/tools/DR-2.toml")
            .replace("Klopboor", "Boorhamer"),
    );
    catalog.run(&["build"]).expect(0);
    let manifest: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    assert_eq!(manifest["git"]["dirty"], true);
}

#[test]
fn a_build_that_fails_half_way_leaves_the_previous_feeds_byte_identical() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build"]).expect(0);
    let before = catalog.feeds_snapshot();
    assert!(before.len() >= 7);

    // The partner template now fails on the shirts only (they have no voltage); channels
    // before it in the build have already been rendered into the staging folder by then.
    let template = catalog.read("templates/partner.json");
    catalog.write(
        "templates/partner.json",
        &template.replace(
            "\"stock\": {{ erp.stock }}",
            "\"volt\": {{ product.attributes.voltage }}",
        ),
    );
    catalog.write(
        "content/products/tools/DR-2.toml",
        &catalog
            .read("content/products/tools/DR-2.toml")
            .replace("Klopboor", "Boorhamer"),
    );
    let run = catalog.run(&["build"]).expect(2);
    assert!(
        run.stderr().contains("channel `partner`, product `TS-B-M`"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("previous feeds were left untouched"));
    assert_eq!(catalog.feeds_snapshot(), before);
    let leftovers: Vec<String> = std::fs::read_dir(catalog.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".feeds"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_bad_erp_export_changes_nothing() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build"]).expect(0);
    let before = catalog.feeds_snapshot();
    catalog.write(
        "erp/items.csv",
        &catalog.read("erp/items.csv").replace("59.5", "59,5x"),
    );
    catalog.run(&["build"]).expect(2);
    assert_eq!(catalog.feeds_snapshot(), before);
    // An empty export would empty every feed: refused as well.
    catalog.write("erp/items.csv", "sku,price,stock\n");
    let run = catalog.run(&["build"]).expect(2);
    assert!(run.stderr().contains("no records"), "{}", run.stderr());
    assert_eq!(catalog.feeds_snapshot(), before);
}

#[test]
fn content_errors_leave_only_the_broken_products_out() {
    let catalog = Catalog::invalid("erp-owned-field");
    let run = catalog.run(&["build", "--format", "json"]).expect(1);
    assert_eq!(run.json()["ok"], false);
    let google = rss_items(&catalog.read("feeds/google.xml"));
    assert_eq!(google.len(), 3);
}

#[test]
fn a_template_override_replaces_a_preset_template() {
    let catalog = Catalog::fixture("basic");
    catalog.write(
        "templates/google-merchant.xml",
        "{% block header %}<rss><channel>{% endblock header %}{% block item %}<item><g:id xmlns:g=\"http://base.google.com/ns/1.0\">{{ product.id }}</g:id><custom>yes</custom></item>{% endblock item %}{% block footer %}</channel></rss>{% endblock footer %}",
    );
    catalog.run(&["build"]).expect(0);
    let items = rss_items(&catalog.read("feeds/google.xml"));
    assert_eq!(items.len(), 3);
    assert_eq!(field(&items[0], "custom"), Some("yes"));
}

#[test]
fn a_template_error_names_the_channel_and_line() {
    let catalog = Catalog::fixture("basic");
    catalog.write(
        "templates/partner.json",
        "{% block header %}[{% endblock header %}\n{% block item %}\n{{ product.sku }\n{% endblock item %}{% block footer %}]{% endblock footer %}",
    );
    let run = catalog.run(&["check"]).expect(2);
    let stderr = run.stderr();
    assert!(stderr.contains("channel `partner`"), "{stderr}");
    assert!(stderr.contains("partner.json#item:3"), "{stderr}");
}

#[test]
fn gzip_twins_hold_the_same_bytes() {
    let catalog = Catalog::fixture("basic");
    let config = catalog
        .read("pim.toml")
        .replace("[erp]", "[build]\ngzip = true\n\n[erp]");
    catalog.write("pim.toml", &config);
    catalog.run(&["build"]).expect(0);
    let manifest: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    for channel in manifest["channels"].as_array().unwrap() {
        let file = channel["file"].as_str().unwrap();
        let compressed =
            std::fs::read(catalog.path().join("feeds").join(format!("{file}.gz"))).unwrap();
        let mut plain = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&compressed[..]),
            &mut plain,
        )
        .unwrap();
        assert_eq!(
            plain,
            catalog.read(&format!("feeds/{file}")).into_bytes(),
            "{file}"
        );
        assert_eq!(channel["gzip"]["bytes"], compressed.len() as u64, "{file}");
        assert_eq!(channel["gzip"]["sha256"], sha256_hex(&compressed), "{file}");
    }
}
