//! The built-in Google Merchant presets are written natively, not through Tera; a copy of a
//! preset's template in `templates/` is an override and goes through Tera. Both must give the same
//! bytes, on every catalog we have and on generated products that touch every branch of the
//! template (escaping, the ten additional images, sale prices, missing identifiers, variants).

use std::fs;

use crate::common::Catalog;

const BUILTIN_TEMPLATES: [(&str, &str); 2] = [
    (
        "templates/google-merchant.xml",
        include_str!("../../src/presets/templates/google-merchant.xml"),
    ),
    (
        "templates/google-merchant-inventory.xml",
        include_str!("../../src/presets/templates/google-merchant-inventory.xml"),
    ),
];

/// Every Google Merchant feed of `catalog`, built natively and then through the template.
fn both_ways(catalog: &Catalog, feeds: &[&str]) {
    catalog.run(&["build", "--quiet", "--no-cache"]);
    let native: Vec<String> = feeds.iter().map(|f| catalog.read(f)).collect();
    for (path, text) in BUILTIN_TEMPLATES {
        catalog.write(path, text);
    }
    catalog.run(&["build", "--quiet", "--no-cache"]);
    for (feed, native) in feeds.iter().zip(native) {
        let templated = catalog.read(feed);
        assert!(
            templated.contains("<item>"),
            "{feed} has no items:\n{templated}"
        );
        assert_eq!(native, templated, "{feed}: native and Tera output differ");
    }
    for (path, _) in BUILTIN_TEMPLATES {
        fs::remove_file(catalog.path().join(path)).unwrap();
    }
}

#[test]
fn native_google_feed_is_the_templates_byte_for_byte_on_the_example() {
    both_ways(
        &Catalog::example(),
        &[
            "feeds/google-nl.xml",
            "feeds/google-uk.xml",
            "feeds/google-nl-inventory.xml",
        ],
    );
}

#[test]
fn native_google_feed_is_the_templates_byte_for_byte_on_nasty_content() {
    both_ways(&Catalog::overlay("basic", "nasty"), &["feeds/google.xml"]);
}

#[test]
fn native_google_feed_is_the_templates_byte_for_byte_on_generated_products() {
    let catalog = Catalog::fixture("basic");
    // A number where the template prints text: such an item goes through Tera.
    let schema = catalog.read("content/schema.toml").replace(
        "\"voltage\", \"color\"]",
        "\"voltage\", \"color\", \"gender\"]",
    );
    catalog.write(
        "content/schema.toml",
        &format!("{schema}\n[attributes.gender]\ntype = \"number\"\n"),
    );
    let pim = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &format!(
            "{pim}\n[channels.inventory]\npreset = \"google-merchant-inventory\"\n\
             locale = \"nl-NL\"\noutput = \"inventory.xml\"\n"
        ),
    );
    let mut erp = catalog.read("erp/items.csv");
    for n in 0..40 {
        let images: String = (0..n % 14)
            .map(|i| {
                format!("\n[[images]]\nurl = \"https://cdn.example/g{n}-{i}.jpg?a=1&b=<{i}>\"\n")
            })
            .collect();
        let brand = ["Bosch & Zn", "\"Makita\"", "", "Knipex <pro>"][n % 4];
        let brand = if brand.is_empty() {
            String::new()
        } else {
            format!("brand = '{brand}'\n")
        };
        let color = ["", "color = \"red\"\n", "color = \"blue\"\n"][n % 3];
        let gender = if n % 5 == 1 {
            format!("gender = {}\n", n % 3)
        } else {
            String::new()
        };
        catalog.write(
            &format!("content/products/tools/G-{n}.toml"),
            &format!(
                "sku = \"G-{n}\"\nfamily = \"tools\"\n{brand}{color}{gender}\
                 title.nl-NL = \"Boor {n} <b> & 'quote' \\\"dubbel\\\" é\"\n\
                 description.nl-NL = \"\"\"\n**Sterke** boor nummer {n} voor <elke> klus & meer.\n\n\
                 - Licht\n- Krachtig \\u0007 met een controleteken\n\"\"\"\n{images}"
            ),
        );
        let sale = if n % 2 == 0 { "9.5" } else { "" };
        let gtin = if n % 5 == 0 { "" } else { "4006381333931" };
        let mpn = if n % 7 == 0 { "" } else { "M&<1>" };
        let weight = if n % 3 == 0 { "" } else { "1.25" };
        erp.push_str(&format!(
            "G-{n},{}.5,{},EUR,{sale},{gtin},{mpn},{weight},,,,piece,1,true,\n",
            10 + n,
            n % 4
        ));
    }
    catalog.write("erp/items.csv", &erp);
    both_ways(&catalog, &["feeds/google.xml", "feeds/inventory.xml"]);
}
