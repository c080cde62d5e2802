//! Whatever a marketer types, every feed stays well-formed and carries the text intact, minus
//! the control characters no channel takes (a vertical tab in a title becomes a space).

use crate::common::{Catalog, field, rss_items};

const TITLE_NL: &str = "Boor & Co <b>\"18V\"</b> ]]> 'x' 🔧\u{b}{{ 7*7 }}";
/// The title as every feed carries it: the vertical tab, which breaks the line, is a space.
const TITLE_NL_CLEAN: &str = "Boor & Co <b>\"18V\"</b> ]]> 'x' 🔧 {{ 7*7 }}";
const TITLE_EN: &str = "=HYPERLINK(\"http://evil.example\",\"klik\")";

#[test]
fn nasty_copy_keeps_every_feed_valid_and_the_text_intact() {
    let catalog = Catalog::overlay("basic", "nasty");
    // A zero price keeps it out of Google, not out of the other channels.
    catalog.run(&["build"]).expect(0);

    // XML: parsed back by quick-xml, the text is the same with the vertical tab a space.
    let google = rss_items(&catalog.read("feeds/google.xml"));
    assert!(
        google.iter().all(|i| field(i, "g:id") != Some("NASTY-1")),
        "a zero price is not allowed on Google"
    );
    let custom = catalog.read("feeds/custom.xml");
    let items = rss_items(&custom);
    let nasty = items
        .iter()
        .find(|i| field(i, "sku") == Some("NASTY-1"))
        .unwrap();
    assert_eq!(field(nasty, "title"), Some(TITLE_NL_CLEAN));
    assert_eq!(field(nasty, "brand"), Some("Smith & Sons <Tools>"));
    let description = field(nasty, "description").unwrap();
    assert!(
        description.contains("<script>alert(1)</script>"),
        "{description}"
    );
    assert!(
        description.contains("{% raw %}{{ 7*7 }} en {{ product.sku }}"),
        "{description}"
    );
    assert_eq!(
        field(nasty, "image"),
        Some("https://cdn.example/nasty.jpg?size=1&v=2")
    );

    // JSON (serde): the same text; a one-line field carries no control characters.
    let webshop: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/webshop.json")).unwrap();
    let product = webshop["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "NASTY-1")
        .unwrap();
    assert_ne!(TITLE_NL, TITLE_NL_CLEAN);
    assert_eq!(product["attributes"]["title"]["nl-NL"], TITLE_NL_CLEAN);
    assert!(
        !product["description_html"]["nl-NL"]
            .as_str()
            .unwrap()
            .contains("<script>")
    );

    // JSON (a template): the escape function keeps the document valid.
    let partner: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/partner.json")).unwrap();
    let item = partner["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == "NASTY-1")
        .unwrap();
    assert_eq!(item["title"], TITLE_EN);

    // CSV for spreadsheets: the formula is defused; numbers are left alone.
    let (_, rows) = catalog.csv("feeds/orders.csv");
    let row = rows.iter().find(|r| &r[0] == "NASTY-1").unwrap();
    assert_eq!(&row[2], format!("'{TITLE_EN}"));
    assert_eq!(&row[3], "Smith & Sons <Tools>");
    assert_eq!(&row[4], "'@unit");
    assert_eq!(&row[6], "0.00");
    let (_, rows) = catalog.csv("feeds/prices.csv");
    let row = rows.iter().find(|r| &r[0] == "NASTY-1").unwrap();
    assert_eq!(&row[1], format!("'{TITLE_EN}"));
}

#[test]
fn formula_guard_can_be_turned_off_for_machine_read_csv() {
    let catalog = Catalog::overlay("basic", "nasty");
    let config = catalog.read("pim.toml").replace(
        "filter = \"erp.stock > 0\"",
        "filter = \"erp.stock > 0\"\nformula_guard = false",
    );
    catalog.write("pim.toml", &config);
    catalog.run(&["build"]).expect(0);
    let (_, rows) = catalog.csv("feeds/prices.csv");
    let row = rows.iter().find(|r| &r[0] == "NASTY-1").unwrap();
    assert_eq!(&row[1], TITLE_EN);
}
