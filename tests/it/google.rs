//! The Google Merchant gate: a product just inside each limit is in the feed, one just over it
//! is left out with the reason (the rules of `docs/src/channels/google-merchant.md`).

use crate::common::{Catalog, field, rss_items};

fn product(sku: &str, title: &str, extra: &str) -> String {
    format!(
        "sku = \"{sku}\"\nfamily = \"tools\"\nbrand = \"Bosch\"\ntitle.nl-NL = \"{title}\"\n\
         description.nl-NL = \"Een goede boormachine voor elke klus.\"\n{extra}\n\
         [[images]]\nurl = \"https://cdn.example/{sku}.jpg\"\n"
    )
}

#[test]
fn limits_and_identifiers() {
    let catalog = Catalog::fixture("basic");
    let cases = [
        ("T-150", "x".repeat(150), ""),
        ("T-151", "x".repeat(151), ""),
        (
            "IMG-UTF8",
            "Boor".into(),
            "\n[[images]]\nurl = \"https://cdn.example/boormachine-é.jpg\"",
        ),
        ("NO-ID", "Boor zonder GTIN of MPN".into(), ""),
        ("COUPON", "Boor met couponcode".into(), ""),
    ];
    let mut erp = catalog.read("erp/items.csv");
    for (sku, title, extra) in &cases {
        catalog.write(
            &format!("content/products/tools/{sku}.toml"),
            &product(sku, title, extra),
        );
    }
    erp.push_str("T-150,10,1,EUR,,4006381333931,,,,,,,,true,\n");
    erp.push_str("T-151,10,1,EUR,,4006381333931,,,,,,,,true,\n");
    erp.push_str("IMG-UTF8,10,1,EUR,,,M-1,,,,,,,true,\n");
    erp.push_str("NO-ID,10,0,EUR,,,,,,,,,,true,\n");
    erp.push_str("COUPON,10,1,EUR,,0512345000107,,,,,,,,true,\n");
    catalog.write("erp/items.csv", &erp);

    let json = catalog.run(&["check", "--format", "json"]).expect(0).json();
    let google = json["report"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "google")
        .unwrap()
        .clone();
    let reason = |sku: &str| -> Option<(String, String)> {
        google["left_out"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["sku"] == sku)
            .map(|p| {
                let r = &p["reasons"][0];
                (
                    r["code"].as_str().unwrap().to_string(),
                    r["message"].as_str().unwrap().to_string(),
                )
            })
    };
    assert_eq!(reason("T-150"), None);
    let (code, message) = reason("T-151").unwrap();
    assert_eq!(code, "too-long");
    assert_eq!(
        message,
        "the title is 151 characters; Google allows at most 150"
    );
    assert_eq!(reason("IMG-UTF8").unwrap().0, "url");
    assert_eq!(reason("NO-ID"), None);
    let (code, message) = reason("COUPON").unwrap();
    assert_eq!(code, "gtin");
    assert!(message.contains("coupon"), "{message}");

    catalog.run(&["build"]).expect(0);
    let items = rss_items(&catalog.read("feeds/google.xml"));
    let no_id = items
        .iter()
        .find(|i| field(i, "g:id") == Some("NO-ID"))
        .unwrap();
    assert_eq!(field(no_id, "g:identifier_exists"), Some("no"));
    assert_eq!(field(no_id, "g:availability"), Some("out_of_stock"));
    let t150 = items
        .iter()
        .find(|i| field(i, "g:id") == Some("T-150"))
        .unwrap();
    assert_eq!(field(t150, "g:title").unwrap().chars().count(), 150);
}

#[test]
fn an_over_long_sku_is_left_out() {
    let catalog = Catalog::fixture("basic");
    let sku = "S".repeat(51);
    catalog.write(
        &format!("content/products/tools/{sku}.toml"),
        &product(&sku, "Boor", ""),
    );
    let erp = catalog.read("erp/items.csv") + &format!("{sku},10,1,EUR,,,M,,,,,,,true,\n");
    catalog.write("erp/items.csv", &erp);
    let json = catalog.run(&["check", "--format", "json"]).expect(0).json();
    let google = &json["report"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "google")
        .unwrap()["left_out"];
    let entry = google
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == sku.as_str())
        .unwrap();
    assert_eq!(
        entry["reasons"][0]["message"],
        "the id (SKU) is 51 characters; Google allows at most 50"
    );
}
