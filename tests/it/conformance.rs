//! Conformance: every marketplace feed checked by a validator written from the marketplace's
//! own documents (vendored under tests/fixtures/vendor/), over the example catalog and over
//! `tests/fixtures/hostile`, a catalog of copy pasted from word processors and web pages.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::common::Catalog;

/// bol's `OffersCreateOfferRequest` (Retailer API v11.3.0, vendored), with every object
/// closed: an offer may carry only the fields v11 defines.
fn bol_validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vendor/bol/offers-v11.json"
    );
    let document: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(document["info"]["version"], "11.3.0");
    let mut components = document["components"].clone();
    for schema in components["schemas"].as_object_mut().unwrap().values_mut() {
        if schema.get("properties").is_some() {
            schema["additionalProperties"] = json!(false);
        }
    }
    let root = json!({
        "$ref": "#/components/schemas/OffersCreateOfferRequest",
        "components": components,
    });
    jsonschema::validator_for(&root).expect("bol's schema compiles")
}

/// Every line of a bol feed, each checked against v11.
fn assert_bol_valid(text: &str) -> Vec<Value> {
    let validator = bol_validator();
    text.lines()
        .map(|line| {
            let offer: Value = serde_json::from_str(line).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&offer)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "not a v11 offer: {errors:#?}\n{line}");
            offer
        })
        .collect()
}

fn report(catalog: &Catalog) -> Value {
    serde_json::from_str(&catalog.read("feeds/report/report.json")).unwrap()
}

fn channel<'a>(document: &'a Value, name: &str) -> &'a Value {
    document["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no channel {name}"))
}

/// (code, message) of every reason `sku` was left out of `channel`.
fn left_out(report: &Value, name: &str, sku: &str) -> Vec<(String, String)> {
    channel(report, name)["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["sku"] == sku)
        .flat_map(|p| p["reasons"].as_array().unwrap())
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn bol_offers_are_v11_create_offer_requests_and_nothing_more() {
    let validator = bol_validator();
    // The validator is strict: v10's delivery code, or a unit price over 9999, fails it.
    let v10 = json!({
        "ean": "4006381333931", "condition": { "category": "NEW" },
        "pricing": { "bundlePrices": [{ "quantity": 1, "unitPrice": 10.00 }] },
        "fulfilment": { "method": "FBR", "deliveryCode": "1-2d" },
    });
    assert!(!validator.is_valid(&v10));
    let mut dear = v10.clone();
    dear["fulfilment"] = json!({ "method": "FBR" });
    assert!(validator.is_valid(&dear));
    dear["pricing"]["bundlePrices"][0]["unitPrice"] = json!(10000);
    assert!(!validator.is_valid(&dear));

    let catalog = Catalog::fixture("marketplaces");
    catalog.run(&["build"]).expect(0);
    let offers = assert_bol_valid(&catalog.read("feeds/bol.jsonl"));
    assert_eq!(offers.len(), 5);

    // Refurbished and second-hand offers carry v11's grade, margin and state.
    let config = catalog.read("pim.toml");
    let with = |extra: &str| {
        config.replacen(
            "economic_operator_id = \"EO-1234\"",
            &format!("economic_operator_id = \"EO-1234\"\n{extra}"),
            1,
        )
    };
    catalog.write(
        "pim.toml",
        &with("condition = \"refurbished\"\ncondition_grade = \"B\"\ncondition_margin = true"),
    );
    catalog.run(&["build"]).expect(0);
    let offers = assert_bol_valid(&catalog.read("feeds/bol.jsonl"));
    assert_eq!(
        offers[0]["condition"],
        json!({ "category": "REFURBISHED", "grade": "B", "margin": true })
    );
    catalog.write(
        "pim.toml",
        &with("condition = \"used\"\ncondition_state = \"AS_NEW\""),
    );
    catalog.run(&["build"]).expect(0);
    let offers = assert_bol_valid(&catalog.read("feeds/bol.jsonl"));
    assert_eq!(
        offers[0]["condition"],
        json!({ "category": "SECONDHAND", "state": "AS_NEW" })
    );

    // Shipping via bol and the retailer's own promise have no deliveryPromise.
    for schedule in ["SHIPPING_VIA_BOL", "MY_DELIVERY_PROMISE"] {
        catalog.write(
            "pim.toml",
            &config.replacen(
                "delivery_schedule = \"BOL_DELIVERY_PROMISE\"\ndelivery_promise = { minimum_days = 1, maximum_days = 2 }",
                &format!("delivery_schedule = \"{schedule}\""),
                1,
            ),
        );
        catalog.run(&["build"]).expect(0);
        let offers = assert_bol_valid(&catalog.read("feeds/bol.jsonl"));
        let dr1 = offers.iter().find(|o| o["reference"] == "DR-1").unwrap();
        assert_eq!(
            dr1["fulfilment"],
            json!({ "method": "FBR", "schedule": schedule })
        );
    }
}

#[test]
fn bol_unit_prices_stay_within_one_and_9999_euros() {
    let catalog = Catalog::fixture("marketplaces");
    let mut erp = catalog.read("erp/items.csv");
    for (sku, price) in [("DEAR", "10000.00"), ("CHEAP", "0.99"), ("EDGE", "9999.00")] {
        catalog.write(
            &format!("content/products/tools/{sku}.toml"),
            &format!(
                "sku = \"{sku}\"\nfamily = \"tools\"\nbrand = \"Acme\"\ntitle.nl-NL = \"Boor {sku}\"\n\
                 description.nl-NL = \"Een boor.\"\n\n[[images]]\nurl = \"https://cdn.example/x.jpg\"\n"
            ),
        );
        erp.push_str(&format!(
            "{sku},{price},5,EUR,,4006381333931,,,,,,piece,1,true,\n"
        ));
    }
    catalog.write("erp/items.csv", &erp);
    catalog.run(&["build"]).expect(0);
    let offers = assert_bol_valid(&catalog.read("feeds/bol.jsonl"));
    let references: BTreeSet<&str> = offers
        .iter()
        .map(|o| o["reference"].as_str().unwrap())
        .collect();
    assert!(references.contains("EDGE"));
    let report = report(&catalog);
    for (sku, price) in [("DEAR", "10000.00"), ("CHEAP", "0.99")] {
        assert!(!references.contains(sku));
        let reasons = left_out(&report, "bol", sku);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert_eq!(reasons[0].0, "price");
        assert!(
            reasons[0].1.contains(&format!(
                "the unit price {price} (from 1 pieces) is outside bol's 1–9999 EUR"
            )),
            "{reasons:?}"
        );
    }
}

#[test]
fn a_bol_channel_without_an_economic_operator_is_told_on_every_build() {
    let catalog = Catalog::fixture("marketplaces");
    catalog.write(
        "pim.toml",
        &catalog
            .read("pim.toml")
            .replacen("economic_operator_id = \"EO-1234\"\n", "", 1),
    );
    for _ in 0..2 {
        let run = catalog.run(&["build"]).expect(0);
        assert!(
            run.stderr().contains(
                "note: channel `bol`: no `economic_operator_id`: bol does not put an offer on sale"
            ),
            "{}",
            run.stderr()
        );
        let notes = channel(&report(&catalog), "bol")["notes"].clone();
        assert!(
            notes[0]
                .as_str()
                .unwrap()
                .contains("no `economic_operator_id`"),
            "{notes}"
        );
        let offers = assert_bol_valid(&catalog.read("feeds/bol.jsonl"));
        assert!(offers.iter().all(|o| o.get("economicOperatorId").is_none()));
    }
    assert!(
        catalog
            .read("feeds/report/index.html")
            .contains("no `economic_operator_id`")
    );
}

#[test]
fn a_v10_delivery_code_attribute_in_the_schema_is_an_error_saying_what_to_write() {
    let catalog = Catalog::fixture("marketplaces");
    let schema = catalog
        .read("content/schema.toml")
        .replace("bol_delivery_days", "bol_delivery_code");
    catalog.write("content/schema.toml", &schema);
    let product = "content/products/tools/DR-2.toml";
    catalog.write(
        product,
        &catalog.read(product).replace(
            "bol_delivery_days = \"0-1\"",
            "bol_delivery_code = \"24uurs-16\"",
        ),
    );
    let run = catalog.run(&["check"]).expect(2);
    assert!(
        run.stderr().contains(
            "defines `bol_delivery_code`, bol v10's delivery code, which v11 offers do not have: \
             rename it to `bol_delivery_days`"
        ),
        "{}",
        run.stderr()
    );
}

#[test]
fn an_amazon_channel_no_product_reaches_writes_no_document() {
    let catalog = Catalog::fixture("marketplaces");
    catalog.write(
        "pim.toml",
        &catalog.read("pim.toml").replacen(
            "output = \"amazon.json\"",
            "output = \"amazon.json\"\nfilter = \"false\"",
            1,
        ),
    );
    // A document from an earlier build must not stay behind either.
    catalog.run(&["build"]).expect(0);
    let run = catalog.run(&["build"]).expect(0);
    let said = "note: channel `amazon`: no product reached this channel, so no `amazon.json` \
                was written: Amazon refuses a feed document without messages";
    assert!(run.stderr().contains(said), "{}", run.stderr());
    assert!(!catalog.path().join("feeds/amazon.json").exists());
    let manifest: Value = serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    let amazon = channel(&manifest, "amazon");
    assert_eq!(amazon["items"], 0);
    assert!(amazon.get("sha256").is_none(), "{amazon}");
    assert!(
        amazon["note"]
            .as_str()
            .unwrap()
            .contains("Amazon refuses a feed document without messages"),
        "{amazon}"
    );
    // The other channels are built as ever, and a refresh and a cached build agree.
    assert!(catalog.path().join("feeds/bol.jsonl").exists());
    catalog.run(&["refresh"]).expect(0);
    assert!(!catalog.path().join("feeds/amazon.json").exists());
    let json = catalog.run(&["build", "--format", "json"]).expect(0).json();
    let amazon = channel(&json["manifest"], "amazon");
    assert!(amazon["note"].is_string(), "{amazon}");

    // With products again, the document is back.
    catalog.write(
        "pim.toml",
        &catalog.read("pim.toml").replace("filter = \"false\"\n", ""),
    );
    catalog.run(&["build"]).expect(0);
    let document: Value = serde_json::from_str(&catalog.read("feeds/amazon.json")).unwrap();
    assert!(!document["messages"].as_array().unwrap().is_empty());
}

// --- Per-channel validators, written from the channels' documents ---------------------------

/// A character no one-line field may carry: controls (C0, DEL, C1), the Unicode line and
/// paragraph separators, and the bidi embeddings, overrides and isolates.
fn forbidden_in_line(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn assert_one_line(what: &str, value: &str) {
    assert!(
        !value.chars().any(forbidden_in_line),
        "{what}: control or bidi character in {value:?}"
    );
}

/// Plain text: line breaks only as `\n`, nothing else forbidden, and no HTML tags or
/// entities (Meta: "plain text; no HTML tags or entities"; Google: plain text).
fn assert_plain_text(what: &str, value: &str) {
    assert!(
        !value.chars().any(|c| c != '\n' && forbidden_in_line(c)),
        "{what}: control or bidi character in {value:?}"
    );
    let tag = regex::Regex::new(r"<[A-Za-z/!?]").unwrap();
    let entity = regex::Regex::new(r"&(#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z]+);").unwrap();
    assert!(!tag.is_match(value), "{what}: an HTML tag in {value:?}");
    assert!(
        !entity.is_match(value),
        "{what}: an HTML entity in {value:?}"
    );
}

/// `15.00 EUR`: the amount and the currency of a Google or Meta price.
fn price(what: &str, text: &str, currency: &str) -> f64 {
    let (amount, code) = text
        .split_once(' ')
        .unwrap_or_else(|| panic!("{what}: `{text}` is not `15.00 {currency}`"));
    assert_eq!(code, currency, "{what}: `{text}` in the wrong currency");
    let (_, decimals) = amount.split_once('.').expect("two decimals");
    assert_eq!(decimals.len(), 2, "{what}: `{text}`");
    amount.parse().unwrap()
}

/// Google Merchant Center's product data specification, for one primary feed.
fn validate_google(xml: &str, currency: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for item in crate::common::rss_items(xml) {
        let get = |name: &str| crate::common::field(&item, name);
        let id = get("g:id").expect("g:id");
        assert!(ids.insert(id.to_string()), "duplicate id {id}");
        for (name, value) in &item {
            if name != "g:description" {
                assert_one_line(&format!("{id} {name}"), value);
            }
        }
        assert!(id.chars().count() <= 50, "{id}");
        assert!(get("g:title").unwrap().chars().count() <= 150, "{id}");
        let description = get("g:description").unwrap();
        assert!(description.chars().count() <= 5000, "{id}");
        assert_plain_text(&format!("{id} description"), description);
        assert!(
            ["in_stock", "out_of_stock", "preorder", "backorder"]
                .contains(&get("g:availability").unwrap())
        );
        assert!(["new", "refurbished", "used"].contains(&get("g:condition").unwrap()));
        let list = price(id, get("g:price").unwrap(), currency);
        assert!(list > 0.0, "{id}");
        if let Some(sale) = get("g:sale_price") {
            assert!(
                price(id, sale, currency) < list,
                "{id}: sale {sale} not below {list}"
            );
        }
        if let Some(weight) = get("g:shipping_weight") {
            let kg: f64 = weight.strip_suffix(" kg").expect("kg").parse().unwrap();
            assert!(
                (0.0..=1000.0).contains(&kg),
                "{id}: shipping_weight {weight}"
            );
        }
        for url in std::iter::once(get("g:link").unwrap())
            .chain(get("g:image_link"))
            .chain(crate::common::fields(&item, "g:additional_image_link"))
        {
            assert!(
                url.starts_with("https://") && url.len() <= 2000,
                "{id}: {url}"
            );
        }
    }
    ids
}

/// Google's supplemental feed: id, price, sale price and availability of ids its primary has.
fn validate_google_inventory(xml: &str, currency: &str, primary: &BTreeSet<String>) -> usize {
    let items = crate::common::rss_items(xml);
    for item in &items {
        let get = |name: &str| crate::common::field(item, name);
        let id = get("g:id").unwrap();
        assert!(primary.contains(id), "{id} is not in the primary feed");
        let list = price(id, get("g:price").unwrap(), currency);
        if let Some(sale) = get("g:sale_price") {
            assert!(price(id, sale, currency) < list, "{id}");
        }
        for (name, _) in item {
            assert!(
                ["g:id", "g:price", "g:sale_price", "g:availability"].contains(&name.as_str()),
                "{id}: {name} in a supplemental feed"
            );
        }
    }
    items.len()
}

/// Meta's catalog fields: plain-text description, Meta's enums, prices in the currency.
fn validate_meta(catalog: &Catalog, file: &str) -> usize {
    let (headers, rows) = catalog.csv(file);
    for row in &rows {
        let get = |name: &str| &row[headers.iter().position(|h| h == name).unwrap()];
        let id = get("id");
        for (name, value) in headers.iter().zip(row.iter()) {
            if name != "description" {
                assert_one_line(&format!("{id} {name}"), value);
            }
        }
        assert!(id.chars().count() <= 100 && get("title").chars().count() <= 200);
        let description = get("description");
        assert!(description.chars().count() <= 9999);
        assert_plain_text(&format!("{id} description"), description);
        assert!(["in stock", "out of stock"].contains(&get("availability")));
        assert!(["new", "refurbished", "used"].contains(&get("condition")));
        let list = price(id, get("price"), "EUR");
        if !get("sale_price").is_empty() {
            assert!(price(id, get("sale_price"), "EUR") < list, "{id}");
        }
        assert!(!get("gtin").is_empty() || (!get("mpn").is_empty() && !get("brand").is_empty()));
    }
    rows.len()
}

/// Every string of a JSON value that is not multi-line text (`multi_line` names the keys
/// whose values may carry `\n`), checked as one-line.
fn assert_json_strings(what: &str, value: &Value, multi_line: &[&str], key: &str) {
    match value {
        Value::String(text) if multi_line.contains(&key) => {
            assert_plain_text(&format!("{what} {key}"), text)
        }
        Value::String(text) => assert_one_line(&format!("{what} {key}"), text),
        Value::Array(items) => items
            .iter()
            .for_each(|v| assert_json_strings(what, v, multi_line, key)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            let key = if k == "value" { key } else { k.as_str() };
            assert_json_strings(what, v, multi_line, key)
        }),
        _ => {}
    }
}

/// Amazon's JSON_LISTINGS_FEED schema (vendored), plus what its product types ask of texts and
/// offers: one-line texts, seller SKUs of at most 40 characters, a sale price below the list
/// price.
fn validate_amazon(text: &str) -> usize {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vendor/amazon/listings-feed-schema-v2.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let document: Value = serde_json::from_str(text).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let messages = document["messages"].as_array().unwrap();
    for message in messages {
        let sku = message["sku"].as_str().unwrap();
        assert!(sku.chars().count() <= 40, "{sku}");
        assert_one_line("sku", sku);
        assert_json_strings(sku, &message["attributes"], &["product_description"], "");
        let offer = &message["attributes"]["purchasable_offer"][0];
        let amount = |v: &Value| {
            v["schedule"][0]["value_with_tax"]
                .to_string()
                .parse::<f64>()
        };
        if let Some(sale) = offer["discounted_price"].get(0) {
            assert!(amount(sale).unwrap() < amount(&offer["our_price"][0]).unwrap());
            assert!(sale["schedule"][0]["start_at"].is_string());
            assert!(sale["schedule"][0]["end_at"].is_string());
        }
    }
    messages.len()
}

/// The hostile catalog through every preset: each feed passes its channel's validator, and
/// what could not be made valid is left out with its reason.
#[test]
fn hostile_copy_passes_every_channels_validator() {
    let catalog = Catalog::fixture("hostile");
    catalog.run(&["build"]).expect(0);
    // The terminal sees the SKU with a right-to-left override escaped, not applied.
    let run = catalog.run(&["check"]).expect(0);
    assert!(
        run.stderr()
            .contains("\"H-\\u{202e}RTL\" (content/products/tools/H-BIDIRTL.toml:1), complete: "),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains('\u{202E}'));

    let google_nl = validate_google(&catalog.read("feeds/google-nl.xml"), "EUR");
    let google_uk = validate_google(&catalog.read("feeds/google-uk.xml"), "GBP");
    let inventory = validate_google_inventory(
        &catalog.read("feeds/google-nl-inventory.xml"),
        "EUR",
        &google_nl,
    );
    assert_eq!(inventory, google_nl.len());
    let meta = validate_meta(&catalog, "feeds/meta.csv");
    let bol = assert_bol_valid(&catalog.read("feeds/bol.jsonl"));
    for offer in &bol {
        assert_json_strings("bol", offer, &[], "");
    }
    let amazon = validate_amazon(&catalog.read("feeds/amazon.json"));
    let webshop: Value = serde_json::from_str(&catalog.read("feeds/webshop.json")).unwrap();
    for product in webshop["products"].as_array().unwrap() {
        let sku = product["sku"].as_str().unwrap();
        assert_one_line("webshop sku", sku);
        for (name, value) in product["attributes"].as_object().unwrap() {
            let multi: &[&str] = if name == "description" {
                &["nl-NL", "en-GB"]
            } else {
                &[]
            };
            for (locale, text) in value.as_object().into_iter().flatten() {
                if let Some(text) = text.as_str() {
                    match multi.contains(&locale.as_str()) {
                        true => assert!(!text.chars().any(|c| c != '\n' && forbidden_in_line(c))),
                        false => assert_one_line(&format!("{sku} {name}"), text),
                    }
                }
            }
        }
        assert!(product["erp"]["sale_price"].is_null() || sku != "H-SALE");
    }
    let (_, rows) = catalog.csv("feeds/order-entry.csv");
    for row in &rows {
        row.iter()
            .for_each(|cell| assert_one_line("order-entry", cell));
    }

    // The copy arrives cleaned, not lost.
    let items = crate::common::rss_items(&catalog.read("feeds/google-nl.xml"));
    let item = items
        .iter()
        .find(|i| crate::common::field(i, "g:id") == Some("H-ENTITIES"))
        .unwrap();
    let get = |name: &str| crate::common::field(item, name).unwrap();
    assert_eq!(get("g:title"), "Accuboor 18V neppilk met koffer en lader");
    assert_eq!(get("g:brand"), "Acme Tools");
    assert_eq!(
        get("g:description"),
        "Een krachtige boor alert(1) voor hout en staal.\n\nTweede alinea met omgekeerde tekst \
         en een link."
    );
    assert_eq!(get("g:sale_price"), "39.95 EUR");
    let uk = crate::common::rss_items(&catalog.read("feeds/google-uk.xml"));
    let uk_item = uk
        .iter()
        .find(|i| crate::common::field(i, "g:id") == Some("H-ENTITIES"))
        .unwrap();
    assert_eq!(crate::common::field(uk_item, "g:price"), Some("42.99 GBP"));
    assert_eq!(
        crate::common::field(uk_item, "g:sale_price"),
        Some("33.99 GBP")
    );

    // Left out where the channel cannot take it, with the reason.
    let report = report(&catalog);
    let codes = |name: &str, sku: &str| -> Vec<String> {
        left_out(&report, name, sku)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    };
    assert_eq!(codes("google-nl", "H-HEAVY"), ["shipping-weight"]);
    assert_eq!(codes("google-nl-inventory", "H-HEAVY"), ["not-in-primary"]);
    assert!(!google_nl.contains("H-HEAVY") && !google_uk.contains("H-HEAVY"));
    assert_eq!(codes("google-uk", "H-NOGBP"), ["currency"]);
    assert_eq!(codes("bol", "H-DEAR"), ["price"]);
    let long = "H-A-SKU-THAT-IS-LONGER-THAN-AMAZON-TAKES-1";
    assert_eq!(codes("amazon", long), ["too-long"]);
    for name in [
        "google-nl",
        "meta",
        "bol",
        "amazon",
        "webshop",
        "order-entry",
    ] {
        assert_eq!(codes(name, "H-\u{202E}RTL"), ["sku-characters"], "{name}");
    }
    // Sale prices that are not below the price reach no channel (not even the UK one, whose
    // price list has the same mistake), with a warning in each.
    for text in [
        catalog.read("feeds/google-nl.xml"),
        catalog.read("feeds/google-uk.xml"),
    ] {
        let items = crate::common::rss_items(&text);
        let sale = items
            .iter()
            .find(|i| crate::common::field(i, "g:id") == Some("H-SALE"))
            .unwrap();
        assert_eq!(crate::common::field(sale, "g:sale_price"), None);
    }
    assert_eq!((meta, bol.len(), amazon), (6, 5, 5));
}

/// Amazon's sample PRODUCT definition (vendored): the example catalog's listings are gated
/// against it once the catalog keeps it as `amazon/PRODUCT.json`.
#[test]
fn amazon_listings_are_gated_against_the_product_type_definition_the_catalog_keeps() {
    let catalog = Catalog::example();
    // Without a definition: the envelope only, and the report says so.
    let run = catalog.run(&["build"]).expect(0);
    assert!(
        run.stderr().contains(
            "note: channel `amazon-nl`: product-type rules were not checked for PRODUCT, SHIRT"
        ),
        "{}",
        run.stderr()
    );
    let before: Value = serde_json::from_str(&catalog.read("feeds/amazon-nl.json")).unwrap();

    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vendor/amazon/product-type-PRODUCT-sample.json"
    ))
    .unwrap();
    catalog.write("amazon/PRODUCT.json", &sample);
    // Gated against the definition, listings that lack what it requires leave the feed: more
    // than the guard lets through unasked.
    let run = catalog.run(&["build", "--allow-drop"]).expect(0);
    assert!(
        run.stderr()
            .contains("product-type rules were not checked for SHIRT:"),
        "{}",
        run.stderr()
    );
    let after: Value = serde_json::from_str(&catalog.read("feeds/amazon-nl.json")).unwrap();
    let messages = after["messages"].as_array().unwrap();
    assert_eq!(messages.len(), before["messages"].as_array().unwrap().len());
    let makita = messages
        .iter()
        .find(|m| m["sku"] == "MK-DHP485")
        .expect("a complete PRODUCT listing passes");
    let attributes = &makita["attributes"];
    assert_eq!(
        attributes["country_of_origin"],
        json!([{ "value": "JP", "marketplace_id": "A1805IZSGTT6HS" }])
    );
    assert_eq!(attributes["item_type_keyword"][0]["value"], "power-drills");
    assert_eq!(
        attributes["supplier_declared_dg_hz_regulation"][0]["value"],
        "not_applicable"
    );
    // The 2023 definition has no `audience` in purchasable_offer: it is not sent.
    assert!(attributes["purchasable_offer"][0].get("audience").is_none());
    assert!(
        before["messages"][0]["attributes"]["purchasable_offer"][0]
            .get("audience")
            .is_some()
    );

    // Without the mapping, every PRODUCT listing is left out, naming the attribute.
    let config = catalog.read("pim.toml");
    let mapping = config
        .lines()
        .find(|l| l.starts_with("country_of_origin = "))
        .unwrap();
    catalog.write("pim.toml", &config.replace(&format!("{mapping}\n"), ""));
    catalog.run(&["build", "--allow-drop"]).expect(0);
    let gated = report(&catalog);
    let reasons = channel(&gated, "amazon-nl")["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "MK-DHP485")
        .map(|p| p["reasons"].clone())
        .expect("MK-DHP485 left out");
    assert_eq!(reasons[0]["code"], "product-type", "{reasons}");
    assert_eq!(reasons[0]["attribute"], "country_of_origin", "{reasons}");
    assert!(
        reasons[0]["message"].as_str().unwrap().contains(
            "Amazon's PRODUCT definition: `country_of_origin` is required and the listing has \
             none; map it under `[channels.amazon-nl.attributes.country_of_origin]`"
        ),
        "{reasons}"
    );
    // A value the definition does not allow is named too.
    catalog.write(
        "pim.toml",
        &config.replace(mapping, "country_of_origin = { default = \"Holland\" }"),
    );
    catalog.run(&["build"]).expect(0);
    let gated = report(&catalog);
    let reasons = left_out(&gated, "amazon-nl", "MK-DHP485");
    assert!(
        reasons.iter().any(|(code, m)| code == "product-type"
            && m.contains("`country_of_origin`")
            && m.contains("Holland")),
        "{reasons:?}"
    );
    // A broken definition is a configuration error that names the file.
    catalog.write("pim.toml", &config);
    catalog.write("amazon/PRODUCT.json", "{ not json");
    let run = catalog.run(&["check"]).expect(2);
    assert!(
        run.stderr().contains("amazon/PRODUCT.json: not JSON"),
        "{}",
        run.stderr()
    );
}

/// A channel's country must pay in its currency; its prices come from the ERP's price list of
/// that currency, whose bad rows fail the pull with their file and line; a supplemental feed
/// needs a primary feed.
#[test]
fn countries_price_lists_and_primaries_are_checked_with_fixes() {
    let catalog = Catalog::fixture("hostile");
    let config = catalog.read("pim.toml");
    let cases: &[(&str, &str, &str)] = &[
        (
            "currency = \"GBP\"\n",
            "",
            "channel `google-uk`: `country = \"GB\"` pays in GBP, but the channel's currency is \
             EUR: set `currency = \"GBP\"` and give GB its prices with an ERP price list, \
             `[price_lists.GBP]` with `path = \"erp/prices-gbp.csv\"`",
        ),
        (
            "country = \"GB\"",
            "country = \"UK\"",
            "the ISO 3166-1 code of the United Kingdom is `GB`",
        ),
        (
            "output = \"google-nl-inventory.xml\"",
            "output = \"google-nl-inventory.xml\"\nprimary = \"meta\"",
            "channel `google-nl-inventory`: `primary = \"meta\"` is not a google-merchant channel",
        ),
        (
            "locale = \"nl-NL\"\noutput = \"google-nl.xml\"",
            "locale = \"en-GB\"\noutput = \"google-nl.xml\"",
            "channel `google-nl-inventory`: a supplemental feed updates the items of a primary \
             feed: add a google-merchant channel in nl-NL (EUR), or name it with `primary`",
        ),
        (
            "output = \"meta.csv\"",
            "output = \"meta.csv\"\nprimary = \"google-nl\"",
            "channel `meta`: `primary` applies to the google-merchant-inventory preset only",
        ),
    ];
    for (from, to, expected) in cases {
        assert!(config.contains(from), "{from}");
        catalog.write("pim.toml", &config.replacen(from, to, 1));
        let run = catalog.run(&["check"]).expect(2);
        assert!(
            run.stderr_flat().contains(&crate::common::flat(expected)),
            "{to}: {}",
            run.stderr()
        );
    }

    catalog.write("pim.toml", &config);
    let prices = catalog.read("erp/prices-gbp.csv");
    catalog.write(
        "erp/prices-gbp.csv",
        &prices.replace("H-HEAVY,2149.00,", "H-HEAVY,2.149,00,"),
    );
    catalog.run(&["build"]).expect(2);
    catalog.write(
        "erp/prices-gbp.csv",
        &prices.replace("H-HEAVY,2149.00,", "H-HEAVY,twelve,"),
    );
    let run = catalog.run(&["build"]).expect(2);
    assert!(
        run.stderr()
            .contains("erp/prices-gbp.csv:4: price `twelve` of `H-HEAVY` is not an amount"),
        "{}",
        run.stderr()
    );
    assert!(
        !catalog.path().join("feeds").exists(),
        "nothing is published"
    );
    std::fs::remove_file(catalog.path().join("erp/prices-gbp.csv")).unwrap();
    let run = catalog.run(&["build"]).expect(2);
    assert!(
        run.stderr()
            .contains("cannot read price list erp/prices-gbp.csv"),
        "{}",
        run.stderr()
    );
}

/// The repository's example catalog passes the same validators as the hostile one.
#[test]
fn the_example_catalog_passes_every_channels_validator() {
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let google_nl = validate_google(&catalog.read("feeds/google-nl.xml"), "EUR");
    let google_uk = validate_google(&catalog.read("feeds/google-uk.xml"), "GBP");
    let inventory = validate_google_inventory(
        &catalog.read("feeds/google-nl-inventory.xml"),
        "EUR",
        &google_nl,
    );
    assert_eq!(inventory, google_nl.len());
    let meta = validate_meta(&catalog, "feeds/meta.csv");
    let bol = assert_bol_valid(&catalog.read("feeds/bol.jsonl"));
    let amazon = validate_amazon(&catalog.read("feeds/amazon-nl.json"));
    assert!(
        google_nl.len() >= 25 && google_uk.len() >= 25,
        "{google_nl:?}"
    );
    assert!(meta >= 25 && bol.len() >= 25 && amazon >= 15);
    // The product the GBP price list has no price for is left out of the UK feed only.
    assert!(google_nl.contains("KN-0302180") && !google_uk.contains("KN-0302180"));
    // SN-2822's own delivery days.
    let shirt = bol
        .iter()
        .find(|o| o["reference"] == "SN-2822-NAV-M")
        .unwrap();
    assert_eq!(
        shirt["fulfilment"],
        json!({
            "method": "FBR",
            "schedule": "BOL_DELIVERY_PROMISE",
            "deliveryPromise": {
                "minimumDaysToCustomer": 2,
                "maximumDaysToCustomer": 3,
                "ultimateOrderTime": "16:00",
            },
        })
    );
}
