//! The webshop items written as bytes are the items serialised through serde, byte for byte,
//! on hostile content: control and bidi characters, quotes and backslashes, HTML and script
//! links in Markdown, channel overrides, odd numbers and money that is not a number.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{item_bytes, serde_reference};
use crate::channels::Channel;
use crate::config::CatalogConfig;
use crate::content::{AttrValue, Categories, Product, Schema};
use crate::erp::ErpRecord;
use crate::merge::{self, AttributeNeeds, MarkdownNeeds, MergeContext, PriceTierView};

const SCHEMA: &str = r#"
[attributes.title]
type = "text"
localized = true

[attributes.description]
type = "rich_text"
localized = true

[attributes.notes]
type = "rich_text"

[attributes.color]
type = "text"

[families.tools]
attributes = ["title", "description", "notes", "color"]
required = ["title"]
"#;

const CATEGORIES: &str = "[categories.\"tools/drills\"]\nname.nl-NL = \"Boren\\u0001 \\u202e& <zagen>\"\n\
    name.en-GB = \"Drills \\\"and\\\" \\\\ saws\\n\"\ngoogle = 1167\n";

fn channel() -> Channel {
    crate::presets::example_channel("webshop", "webshop-json", "nl-NL")
}

fn attribute(value: Value) -> AttrValue {
    AttrValue::new(value, 3)
}

fn hostile_product(sku: &str) -> Product {
    let description = json!({
        "nl-NL": "# Boor \u{202E}kcab\n\n**Sterk** <script>alert(\"x\")</script> [klik](javascript:alert(1))\r\n\
                  - een\u{1}\n- twee\t\u{2028}drie\n\n| a | b |\n|---|---|\n| 1 | \"2\" |\n\n&lt;b&gt; &#9; \\ \u{7f}",
        "en-GB": "Plain *text* with `code` and ![img](data:text/html,x) \u{85}end",
        "de-DE": "Nicht im Katalog",
    });
    let values = BTreeMap::from([
        (
            "title".into(),
            attribute(
                json!({"nl-NL": "Boor \"18V\" \\ \u{1}\u{202E}", "en-GB": "Drill\u{2028}XL"}),
            ),
        ),
        ("description".into(), attribute(description)),
        (
            "notes".into(),
            attribute(json!("Line one\r\nline\u{b}two\u{2066}")),
        ),
        ("color".into(), attribute(json!("Blauw\t/ \u{2029} navy"))),
        ("brand".into(), attribute(json!("Makita</brand>"))),
        ("category".into(), attribute(json!("tools/drills"))),
        ("voltage".into(), attribute(json!(18.5))),
        ("count".into(), attribute(json!(-3))),
        (
            "big".into(),
            attribute(Value::Number(
                "123456789012345678901234567890".parse().unwrap(),
            )),
        ),
        (
            "exp".into(),
            attribute(Value::Number("1.5e3".parse().unwrap())),
        ),
        ("flag".into(), attribute(json!(false))),
        ("nothing".into(), attribute(Value::Null)),
        (
            "bullets".into(),
            attribute(json!({"nl-NL": ["a\u{1}", "b \"c\""], "en-GB": []})),
        ),
        (
            "images".into(),
            attribute(json!([
                {"url": "https://cdn.example/1.jpg?a=1&b=\"2\"", "alt": {"nl-NL": "Foto\u{202E}", "en-GB": "Photo"}},
                {"url": "https://cdn.example/2.jpg", "alt": {}},
            ])),
        ),
        ("zz-emoji".into(), attribute(json!("🔧 ünïcödé \u{0} nul"))),
    ]);
    let channels = BTreeMap::from([
        (
            "webshop".to_string(),
            BTreeMap::from([
                ("color".into(), attribute(json!("Rood\u{1}"))),
                (
                    "aa-only-here".into(),
                    attribute(json!(["x", {"y": "\u{202A}z"}])),
                ),
                (
                    "description".into(),
                    attribute(json!({"nl-NL": "Eigen *tekst*\u{202E}"})),
                ),
            ]),
        ),
        (
            "google-nl".to_string(),
            BTreeMap::from([("title".into(), attribute(json!({"nl-NL": "Niet hier"})))]),
        ),
    ]);
    Product {
        sku: sku.into(),
        model: Some("MK \"DHP\"\u{1}".into()),
        family: "tools".into(),
        file: Arc::from("content/products/x.toml"),
        line: 1,
        values,
        channels,
        derived: Default::default(),
    }
}

/// The item of `product` both ways, after `change` has had its say on the view.
fn both_ways(product: &Product, change: impl FnOnce(&mut merge::ProductView)) {
    let (schema, diagnostics) = Schema::parse(SCHEMA, Path::new("content/schema.toml"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let schema = schema.unwrap();
    let categories = Categories::parse(CATEGORIES, Path::new("content/categories.toml")).unwrap();
    // Unsorted, and one twice: the item's maps are sorted by locale, each once.
    let locales = ["nl-NL", "en-GB", "fr-FR", "en-GB"];
    let catalog = CatalogConfig::example("https://shop.example/", &locales);
    let ctx = MergeContext {
        catalog: &catalog,
        schema: &schema,
        categories: &categories,
    };
    let channel = channel();
    let record = ErpRecord::example(&product.sku, Decimal::new(1500, 2), 7);
    let mut view = merge::view(
        product,
        &record,
        &channel,
        &ctx,
        MarkdownNeeds::default(),
        &AttributeNeeds::none(),
    );
    change(&mut view);
    let mut expected = Vec::new();
    serde_reference::item(product, &view, &ctx, &channel, &mut expected).unwrap();
    let mut written = Vec::new();
    item_bytes::write_item(product, &view, &ctx, &channel, &mut written);
    assert_eq!(
        String::from_utf8(written).unwrap(),
        String::from_utf8(expected).unwrap()
    );
}

#[test]
fn written_items_are_the_serialised_items_byte_for_byte() {
    let product = hostile_product("MK DHP/485 \"ü\"\u{1}");
    both_ways(&product, |_| {});
    // Every ERP field set, money that is not a plain number, a category without its own
    // name or Google id.
    both_ways(&product, |view| {
        let erp = &mut view.erp;
        erp.price = "1e5".into();
        erp.sale_price = Some("-0".into());
        erp.currency = "E\"U\\R".into();
        erp.stock = i64::MIN;
        erp.gtin = Some("4006381333931".into());
        erp.mpn = Some("M\u{1}P\"N".into());
        erp.weight = Some("1.25".into());
        erp.length = Some("n/a".into());
        erp.width = Some("007".into());
        erp.height = Some("123456789012345678901234567890.5".into());
        erp.unit = Some("st\u{fc}k".into());
        erp.pack_size = Some(u32::MAX);
        erp.price_tiers = vec![
            PriceTierView {
                min_qty: 10,
                price: "14.00".into(),
            },
            PriceTierView {
                min_qty: 0,
                price: "".into(),
            },
        ];
        view.availability = "out_of_stock";
        if let Some(category) = &mut view.category {
            category.path = "tools/unknown \u{202E}".into();
            category.google = None;
        }
    });
    // Without a model, category, overrides or description.
    let mut bare = hostile_product("B-1");
    bare.model = None;
    bare.channels.clear();
    bare.values.remove("description");
    both_ways(&bare, |view| view.category = None);
    // A description that is one text rather than one per locale.
    bare.values
        .insert("description".into(), attribute(json!("*Eén* tekst")));
    both_ways(&bare, |_| {});
}
