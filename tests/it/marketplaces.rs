//! The marketplace presets (`meta-catalog`, `bol-offers`, `amazon-listings`): every feed
//! parsed back and checked field by field against its channel's rules, every limit probed
//! just at and just over it, and the Amazon documents validated against Amazon's published
//! JSON Schema.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::common::Catalog;

/// Amazon's JSON_LISTINGS_FEED schema, vendored (see tests/fixtures/vendor/amazon/README.txt).
fn amazon_validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vendor/amazon/listings-feed-schema-v2.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("Amazon's schema compiles")
}

fn assert_amazon_valid(validator: &jsonschema::Validator, document: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid JSON_LISTINGS_FEED: {errors:#?}"
    );
}

/// The rows of a CSV feed by their `id` column, as column → cell.
fn csv_by_id(catalog: &Catalog, file: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let (headers, rows) = catalog.csv(file);
    rows.iter()
        .map(|row| {
            let cells: BTreeMap<String, String> = headers
                .iter()
                .zip(row.iter())
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect();
            (cells["id"].clone(), cells)
        })
        .collect()
}

/// Every line of a JSON Lines feed, parsed.
fn json_lines(catalog: &Catalog, file: &str) -> Vec<Value> {
    catalog
        .read(file)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn report(catalog: &Catalog) -> Value {
    serde_json::from_str(&catalog.read("feeds/report/report.json")).unwrap()
}

/// (code, message) of every reason `sku` was left out of `channel`; empty when it is in.
fn left_out(report: &Value, channel: &str, sku: &str) -> Vec<(String, String)> {
    reasons(report, channel, "left_out", sku)
}

fn warnings(report: &Value, channel: &str, sku: &str) -> Vec<(String, String)> {
    reasons(report, channel, "warnings", sku)
}

fn reasons(report: &Value, channel: &str, list: &str, sku: &str) -> Vec<(String, String)> {
    let channel = report["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == channel)
        .unwrap_or_else(|| panic!("no channel {channel}"));
    channel[list]
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

fn codes(reasons: &[(String, String)]) -> Vec<&str> {
    reasons.iter().map(|(code, _)| code.as_str()).collect()
}

#[test]
fn meta_csv_has_metas_fields_enums_and_plain_text() {
    let catalog = Catalog::fixture("marketplaces");
    catalog.run(&["build"]).expect(0);
    let text = catalog.read("feeds/meta.csv");
    // Meta wants fields with whitespace or commas quoted: every field is.
    assert!(text.starts_with("\"id\",\"title\",\"description\",\"availability\","));

    let rows = csv_by_id(&catalog, "feeds/meta.csv");
    let skus: Vec<&str> = rows.keys().map(String::as_str).collect();
    assert_eq!(
        skus,
        ["DR-1", "DR-2", "DR-3", "GA-1", "GA-2", "TS-B-M", "TS-K-L"]
    );

    let dr1 = &rows["DR-1"];
    assert_eq!(dr1["title"], "Makita DR-1 accuboormachine 18V");
    // Markdown and HTML gone, the text intact.
    assert_eq!(
        dr1["description"],
        "Een krachtige boormachine, licht & \"compact\".\n\n- Koolborstelloze motor\n- 2 snelheden"
    );
    assert_eq!(dr1["availability"], "in stock");
    assert_eq!(dr1["condition"], "new");
    assert_eq!(dr1["price"], "149.95 EUR");
    assert_eq!(dr1["sale_price"], "");
    assert_eq!(dr1["link"], "https://shop.example/nl/p/dr-1");
    assert_eq!(dr1["image_link"], "https://cdn.example/DR-1-1.jpg");
    // 11 additional images; Meta takes 10.
    let additional: Vec<&str> = dr1["additional_image_link"].split(',').collect();
    assert_eq!(additional.len(), 10);
    assert_eq!(additional[0], "https://cdn.example/DR-1-2.jpg");
    assert_eq!(additional[9], "https://cdn.example/DR-1-11.jpg");
    assert_eq!(dr1["brand"], "Makita");
    assert_eq!(dr1["gtin"], "4006381333931");
    assert_eq!(dr1["mpn"], "DHP485Z");
    assert_eq!(dr1["google_product_category"], "1217");
    assert_eq!(dr1["product_type"], "Boormachines");
    assert_eq!(dr1["color"], "blue");

    assert_eq!(rows["DR-2"]["sale_price"], "89.00 EUR");
    assert_eq!(rows["DR-2"]["gtin"], "012000007897");
    // No GTIN: an MPN and a brand identify it.
    assert_eq!(rows["GA-1"]["gtin"], "");
    assert_eq!(rows["GA-1"]["mpn"], "GA-1-MPN");

    // Variants: one group, each with its own color and size.
    let (blue, black) = (&rows["TS-B-M"], &rows["TS-K-L"]);
    assert_eq!(blue["item_group_id"], "TS");
    assert_eq!(black["item_group_id"], "TS");
    assert_eq!(
        (blue["color"].as_str(), blue["size"].as_str()),
        ("blue", "M")
    );
    assert_eq!(
        (black["color"].as_str(), black["size"].as_str()),
        ("black", "L")
    );
    assert_eq!(black["availability"], "out of stock");
    // `boys` is not one of Meta's genders: left empty, with a warning.
    assert_eq!(blue["gender"], "");

    let report = report(&catalog);
    assert_eq!(
        codes(&warnings(&report, "meta", "TS-B-M")),
        ["enum"],
        "{report:#}"
    );
    assert_eq!(
        codes(&warnings(&report, "meta", "DR-1")),
        ["too-many-images"]
    );
    let en1 = left_out(&report, "meta", "EN-1");
    assert_eq!(codes(&en1), ["missing-attribute", "missing-attribute"]);
    assert!(en1[0].1.contains("`title` is required in nl-NL"), "{en1:?}");
}

#[test]
fn bol_offers_are_retailer_api_bodies_with_falling_bundle_prices() {
    let catalog = Catalog::fixture("marketplaces");
    catalog.run(&["build"]).expect(0);
    let offers = json_lines(&catalog, "feeds/bol.jsonl");
    let by_reference: BTreeMap<&str, &Value> = offers
        .iter()
        .map(|o| (o["reference"].as_str().unwrap(), o))
        .collect();
    let references: Vec<&str> = by_reference.keys().copied().collect();
    assert_eq!(references, ["DR-1", "DR-2", "DR-3", "TS-B-M", "TS-K-L"]);

    for offer in &offers {
        // Bundle prices: first quantity 1, quantities rising, unit prices falling, each an
        // exact number with two decimals.
        let prices = offer["pricing"]["bundlePrices"].as_array().unwrap();
        assert_eq!(prices[0]["quantity"], 1, "{offer}");
        for pair in prices.windows(2) {
            assert!(
                pair[1]["quantity"].as_u64() > pair[0]["quantity"].as_u64(),
                "{offer}"
            );
            let unit = |p: &Value| p["unitPrice"].to_string().parse::<f64>().unwrap();
            assert!(unit(&pair[1]) < unit(&pair[0]), "{offer}");
        }
        for price in prices {
            let text = price["unitPrice"].to_string();
            let decimals = text.split_once('.').map(|(_, d)| d.len());
            assert_eq!(decimals, Some(2), "{text}");
        }
        assert_eq!(offer["ean"].as_str().unwrap().len(), 13, "{offer}");
        assert_eq!(offer["condition"], json!({ "category": "NEW" }));
        assert_eq!(
            offer["countryAvailabilities"],
            json!([{ "countryCode": "NL" }, { "countryCode": "BE" }])
        );
        assert_eq!(offer["economicOperatorId"], "EO-1234");
        assert_eq!(offer["onHoldByRetailer"], false);
    }

    let dr1 = by_reference["DR-1"];
    assert_eq!(dr1["ean"], "4006381333931");
    let tiers: Vec<(u64, String)> = dr1["pricing"]["bundlePrices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["quantity"].as_u64().unwrap(), p["unitPrice"].to_string()))
        .collect();
    assert_eq!(
        tiers,
        [
            (1, "149.95".to_string()),
            (10, "139.95".to_string()),
            (50, "129.50".to_string())
        ]
    );
    assert_eq!(
        dr1["stock"],
        json!({ "amount": 12, "managedByRetailer": false })
    );
    assert_eq!(
        dr1["fulfilment"],
        json!({
            "method": "FBR",
            "schedule": "BOL_DELIVERY_PROMISE",
            "deliveryPromise": { "minimumDaysToCustomer": 1, "maximumDaysToCustomer": 2 },
        })
    );
    assert_eq!(
        dr1["unknownProductTitle"],
        "Makita DR-1 accuboormachine 18V"
    );

    // A UPC-A as its 13-digit EAN; the sale price is the price of one, the tier above it is
    // dropped; stock capped at 999; the product's own delivery days.
    let dr2 = by_reference["DR-2"];
    assert_eq!(dr2["ean"], "0012000007897");
    assert_eq!(
        dr2["pricing"]["bundlePrices"].to_string(),
        r#"[{"quantity":1,"unitPrice":89.00},{"quantity":10,"unitPrice":85.00}]"#
    );
    assert_eq!(dr2["stock"]["amount"], 999);
    assert_eq!(
        dr2["fulfilment"]["deliveryPromise"],
        json!({ "minimumDaysToCustomer": 0, "maximumDaysToCustomer": 1 })
    );

    let report = report(&catalog);
    // Bol's content rules are warnings: the offer is in the feed.
    let dr2_warnings = warnings(&report, "bol", "DR-2");
    assert_eq!(
        codes(&dr2_warnings),
        ["bundle-prices", "title-length", "bol-content"]
    );
    assert!(dr2_warnings[2].1.contains("`gratis`"), "{dr2_warnings:?}");
    let ga1 = left_out(&report, "bol", "GA-1");
    assert_eq!(codes(&ga1), ["ean"]);
    let ga2 = left_out(&report, "bol", "GA-2");
    assert_eq!(codes(&ga2), ["ean"]);
    assert!(ga2[0].1.contains("13-digit EAN"), "{ga2:?}");
    // No Dutch copy, no bol.
    let en1 = left_out(&report, "bol", "EN-1");
    assert!(
        en1.iter()
            .any(|(c, m)| c == "missing-attribute" && m.contains("in nl-NL")),
        "{en1:?}"
    );
}

#[test]
fn amazon_listings_validate_against_amazons_schema() {
    let catalog = Catalog::fixture("marketplaces");
    catalog.run(&["build"]).expect(0);
    let document: Value = serde_json::from_str(&catalog.read("feeds/amazon.json")).unwrap();
    let validator = amazon_validator();
    assert_amazon_valid(&validator, &document);

    assert_eq!(
        document["header"],
        json!({ "sellerId": "A3FIXTURESELLER", "version": "2.0", "issueLocale": "nl_NL" })
    );
    let messages = document["messages"].as_array().unwrap();
    let ids: Vec<u64> = messages
        .iter()
        .map(|m| m["messageId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    let by_sku: BTreeMap<&str, &Value> = messages
        .iter()
        .map(|m| (m["sku"].as_str().unwrap(), m))
        .collect();
    let skus: Vec<&str> = by_sku.keys().copied().collect();
    assert_eq!(skus, ["DR-1", "DR-2", "GA-1", "TS-B-M", "TS-K-L"]);

    let market = "A1805IZSGTT6HS";
    let text = |value: &str| json!([{ "value": value, "language_tag": "nl_NL", "marketplace_id": market }]);
    let dr1 = by_sku["DR-1"];
    assert_eq!(dr1["operationType"], "UPDATE");
    assert_eq!(dr1["productType"], "DRILL");
    assert_eq!(dr1["requirements"], "LISTING");
    let attributes = &dr1["attributes"];
    assert_eq!(
        attributes["item_name"],
        text("Makita DR-1 accuboormachine 18V")
    );
    assert_eq!(attributes["brand"], text("Makita"));
    assert_eq!(
        attributes["bullet_point"],
        json!([
            { "value": "Koolborstelloze motor", "language_tag": "nl_NL", "marketplace_id": market },
            { "value": "2 snelheden", "language_tag": "nl_NL", "marketplace_id": market },
        ])
    );
    assert_eq!(
        attributes["product_description"][0]["value"],
        "Een krachtige boormachine, licht & \"compact\".\n\n- Koolborstelloze motor\n- 2 snelheden"
    );
    assert_eq!(
        attributes["externally_assigned_product_identifier"],
        json!([{ "type": "ean", "value": "4006381333931", "marketplace_id": market }])
    );
    assert_eq!(attributes["color"], text("blue"));
    assert_eq!(
        attributes["condition_type"],
        json!([{ "value": "new_new", "marketplace_id": market }])
    );
    let offer = &attributes["purchasable_offer"][0];
    assert_eq!(offer["currency"], "EUR");
    assert_eq!(offer["marketplace_id"], market);
    assert_eq!(offer["audience"], "ALL");
    assert_eq!(
        offer["our_price"][0]["schedule"][0]["value_with_tax"].to_string(),
        "149.95"
    );
    assert_eq!(
        attributes["fulfillment_availability"],
        json!([{ "fulfillment_channel_code": "DEFAULT", "quantity": 12 }])
    );
    assert_eq!(
        attributes["main_product_image_locator"][0]["media_location"],
        "https://cdn.example/DR-1-1.jpg"
    );
    assert_eq!(
        attributes["other_product_image_locator_8"][0]["media_location"],
        "https://cdn.example/DR-1-9.jpg"
    );
    assert!(attributes.get("other_product_image_locator_9").is_none());

    let dr2 = &by_sku["DR-2"]["attributes"];
    assert_eq!(
        dr2["externally_assigned_product_identifier"][0],
        json!({ "type": "upc", "value": "012000007897", "marketplace_id": market })
    );
    // The list price in our_price, the sale price in discounted_price (Amazon strikes the
    // list price through).
    assert_eq!(
        dr2["purchasable_offer"][0]["our_price"][0]["schedule"][0]["value_with_tax"].to_string(),
        "99.00"
    );
    let sale = &dr2["purchasable_offer"][0]["discounted_price"][0]["schedule"][0];
    assert_eq!(sale["value_with_tax"].to_string(), "89.00");
    assert_eq!(sale["start_at"], "2020-01-01T00:00:00Z");
    assert_eq!(sale["end_at"], "2099-12-31T23:59:59Z");
    assert!(
        by_sku["DR-1"]["attributes"]["purchasable_offer"][0]
            .get("discounted_price")
            .is_none()
    );

    // An offer on an existing product page: its ASIN, no content of ours.
    let ga1 = by_sku["GA-1"];
    assert_eq!(ga1["requirements"], "LISTING_OFFER_ONLY");
    assert_eq!(ga1["productType"], "PRODUCT");
    assert_eq!(
        ga1["attributes"]["merchant_suggested_asin"],
        json!([{ "value": "B0EXAMPLE1", "marketplace_id": market }])
    );
    assert!(ga1["attributes"].get("item_name").is_none());
    assert_eq!(
        ga1["attributes"]["fulfillment_availability"][0]["quantity"],
        40
    );

    assert_eq!(by_sku["TS-K-L"]["productType"], "SHIRT");
    assert_eq!(by_sku["TS-K-L"]["attributes"]["size"], text("L"));

    let report = report(&catalog);
    let dr3 = left_out(&report, "amazon", "DR-3");
    assert_eq!(codes(&dr3), ["missing-attribute"]);
    assert!(
        dr3[0].1.contains("`bullets` is required in nl-NL"),
        "{dr3:?}"
    );
    assert_eq!(
        codes(&left_out(&report, "amazon", "GA-2")),
        ["product-type"]
    );

    // The validator is not a rubber stamp.
    let mut broken = document.clone();
    broken["messages"][0]["messageId"] = json!(0);
    assert!(!validator.is_valid(&broken));
    let mut broken = document.clone();
    broken["messages"][1]
        .as_object_mut()
        .unwrap()
        .remove("productType");
    assert!(!validator.is_valid(&broken));
    let mut broken = document;
    broken["header"]["version"] = json!("1.0");
    assert!(!validator.is_valid(&broken));
}

/// A product of family `tools` with an ERP row, for probing one limit.
fn add_product(catalog: &Catalog, sku: &str, extra: &str) {
    catalog.write(
        &format!("content/products/limits/{sku}.toml"),
        &format!(
            "sku = \"{sku}\"\nfamily = \"tools\"\n{extra}\n\n[[images]]\nurl = \"https://cdn.example/x.jpg\"\n"
        ),
    );
    let mut erp = catalog.read("erp/items.csv");
    erp.push_str(&format!(
        "{sku},10.00,5,EUR,,4006381333931,,,,,,piece,1,true,\n"
    ));
    catalog.write("erp/items.csv", &erp);
}

/// Copy that passes every channel, with one field swapped for the probe.
fn copy(title: &str, description: &str, brand: &str) -> String {
    format!(
        "brand = \"{brand}\"\ntitle.nl-NL = \"{title}\"\ndescription.nl-NL = \"{description}\"\nbullets.nl-NL = [\"Sterk\"]"
    )
}

#[test]
fn every_limit_keeps_a_product_at_it_and_leaves_one_just_over_it_out() {
    let catalog = Catalog::fixture("marketplaces");
    let (title, description, brand) = ("Boor", "Een boor.", "Acme");
    // Meta: id 100, title 200, description 9999 characters. (Meta's and Amazon's brand limit
    // of 100 is out of reach: the built-in `brand` attribute allows 70.)
    let id_at = format!("I{}", "D".repeat(99));
    let id_over = format!("I{}", "D".repeat(100));
    add_product(&catalog, &id_at, &copy(title, description, brand));
    add_product(&catalog, &id_over, &copy(title, description, brand));
    add_product(
        &catalog,
        "TITLE-200",
        &copy(&"é".repeat(200), description, brand),
    );
    add_product(
        &catalog,
        "TITLE-201",
        &copy(&"é".repeat(201), description, brand),
    );
    add_product(
        &catalog,
        "DESC-9999",
        &copy(title, &"d".repeat(9999), brand),
    );
    add_product(
        &catalog,
        "DESC-10000",
        &copy(title, &"d".repeat(10_000), brand),
    );
    // bol: delivery days bol cannot read; Amazon: an ASIN one character short.
    add_product(
        &catalog,
        "DELIVERY",
        &format!(
            "{}\nbol_delivery_days = \"2-3 dagen\"",
            copy(title, description, brand)
        ),
    );
    add_product(
        &catalog,
        "ASIN-9",
        &format!("{}\nasin = \"B0EXAMPLE\"", copy(title, description, brand)),
    );
    // Meta: the additional images' cell holds 2000 characters: two URLs fill it exactly.
    let url = |length: usize, n: u8| {
        let prefix = "https://cdn.example/";
        let suffix = format!("-{n}.jpg");
        format!(
            "{prefix}{}{suffix}",
            "i".repeat(length - prefix.len() - suffix.len())
        )
    };
    let images: String = [url(30, 0), url(999, 1), url(1000, 2), url(30, 3)]
        .iter()
        .map(|u| format!("\n[[images]]\nurl = \"{u}\"\n"))
        .collect();
    catalog.write(
        "content/products/limits/IMAGES.toml",
        &format!(
            "sku = \"IMAGES\"\nfamily = \"tools\"\n{}\n{images}",
            copy(title, description, brand)
        ),
    );
    let mut erp = catalog.read("erp/items.csv");
    erp.push_str("IMAGES,10.00,5,EUR,,4006381333931,,,,,,piece,1,true,\n");
    catalog.write("erp/items.csv", &erp);
    catalog.run(&["build"]).expect(0);
    let report = report(&catalog);

    let meta = csv_by_id(&catalog, "feeds/meta.csv");
    let cell = &meta["IMAGES"]["additional_image_link"];
    assert_eq!(cell.len(), 2000);
    assert_eq!(cell, &format!("{},{}", url(999, 1), url(1000, 2)));
    let warned = warnings(&report, "meta", "IMAGES");
    assert_eq!(codes(&warned), ["too-many-images"]);
    assert!(warned[0].1.contains("takes the first 2"), "{warned:?}");
    let in_meta = |sku: &str| meta.contains_key(sku);
    for sku in [id_at.as_str(), "TITLE-200", "DESC-9999"] {
        assert!(
            in_meta(sku),
            "{sku} is at Meta's limit and belongs in the feed"
        );
        assert!(left_out(&report, "meta", sku).is_empty());
    }
    let over = |channel: &str, sku: &str, needle: &str| {
        let reasons = left_out(&report, channel, sku);
        assert_eq!(
            codes(&reasons),
            ["too-long"],
            "{channel} {sku}: {reasons:?}"
        );
        assert!(
            reasons[0].1.contains(needle),
            "{channel} {sku}: {reasons:?}"
        );
    };
    assert!(!in_meta(&id_over));
    over(
        "meta",
        &id_over,
        "the id (SKU) is 101 characters; Meta allows at most 100",
    );
    assert!(!in_meta("TITLE-201"));
    over(
        "meta",
        "TITLE-201",
        "the title is 201 characters; Meta allows at most 200",
    );
    assert!(!in_meta("DESC-10000"));
    over(
        "meta",
        "DESC-10000",
        "the description (as plain text) is 10000 characters; Meta allows at most 9999",
    );

    // bol: the reference (the SKU) takes 100 characters, and the delivery days must be readable.
    let bol: Vec<String> = json_lines(&catalog, "feeds/bol.jsonl")
        .iter()
        .map(|o| o["reference"].as_str().unwrap().to_string())
        .collect();
    assert!(bol.contains(&id_at));
    assert!(!bol.contains(&id_over));
    over("bol", &id_over, "`reference`");
    assert!(!bol.iter().any(|r| r == "DELIVERY"));
    let delivery = left_out(&report, "bol", "DELIVERY");
    assert_eq!(codes(&delivery), ["delivery-promise"]);
    assert!(
        delivery[0]
            .1
            .contains("the days to the customer as \"MIN-MAX\", e.g. \"1-2\", not \"2-3 dagen\""),
        "{delivery:?}"
    );

    // Amazon: an ASIN has 10 characters.
    let amazon: Value = serde_json::from_str(&catalog.read("feeds/amazon.json")).unwrap();
    assert_amazon_valid(&amazon_validator(), &amazon);
    let skus: Vec<&str> = amazon["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["sku"].as_str().unwrap())
        .collect();
    assert!(
        skus.contains(&"TITLE-201"),
        "Amazon takes a title Meta does not"
    );
    assert!(!skus.contains(&"ASIN-9"));
    assert_eq!(codes(&left_out(&report, "amazon", "ASIN-9")), ["asin"]);
}

#[test]
fn marketplace_settings_are_checked_with_fixes() {
    let catalog = Catalog::fixture("marketplaces");
    let config = catalog.read("pim.toml");
    let cases: &[(&str, &str, &str)] = &[
        (
            "output = \"meta.csv\"",
            "output = \"meta.csv\"\ndelivery_schedule = \"MY_DELIVERY_PROMISE\"",
            "channel `meta`: `delivery_schedule` applies to the bol-offers preset only",
        ),
        (
            "output = \"bol.jsonl\"\ndelivery_schedule = \"BOL_DELIVERY_PROMISE\"\n\
             delivery_promise = { minimum_days = 1, maximum_days = 2 }",
            "output = \"bol.jsonl\"",
            "need a `delivery_schedule`: one of BOL_DELIVERY_PROMISE, MY_DELIVERY_PROMISE, SHIPPING_VIA_BOL",
        ),
        (
            "delivery_schedule = \"BOL_DELIVERY_PROMISE\"",
            "delivery_schedule = \"BOL_DELIVERY_PROMIS\"",
            "did you mean `BOL_DELIVERY_PROMISE`?",
        ),
        (
            "delivery_promise = { minimum_days = 1, maximum_days = 2 }",
            "",
            "needs `delivery_promise = { minimum_days = 1",
        ),
        (
            "minimum_days = 1, maximum_days = 2",
            "minimum_days = 3, maximum_days = 2",
            "`minimum_days` (3) is more than `maximum_days` (2)",
        ),
        (
            "maximum_days = 2 }",
            "maximum_days = 2, ultimate_order_time = \"4pm\" }",
            "`ultimate_order_time` is a time of day such as \"14:00\"",
        ),
        (
            "delivery_schedule = \"BOL_DELIVERY_PROMISE\"",
            "delivery_schedule = \"BOL_DELIVERY_PROMISE\"\nfulfilment_method = \"FBB\"",
            "`delivery_schedule` and `delivery_promise` are for FBR only",
        ),
        // A configuration written for v10 is told what v11 says instead.
        (
            "delivery_schedule = \"BOL_DELIVERY_PROMISE\"",
            "delivery_code = \"24uurs-16\"\ndelivery_schedule = \"BOL_DELIVERY_PROMISE\"",
            "`delivery_code` is bol's v10 delivery code; v11 offers have none: write \
             `delivery_schedule = \"BOL_DELIVERY_PROMISE\"` and `delivery_promise = { \
             minimum_days = 1, maximum_days = 1, ultimate_order_time = \"16:00\" }` instead",
        ),
        (
            "delivery_schedule = \"BOL_DELIVERY_PROMISE\"",
            "delivery_code = \"VVB\"\ndelivery_schedule = \"BOL_DELIVERY_PROMISE\"",
            "write `delivery_schedule = \"SHIPPING_VIA_BOL\"` instead",
        ),
        // v11 conditions: a state for second-hand, a grade for refurbished offers.
        (
            "economic_operator_id = \"EO-1234\"",
            "economic_operator_id = \"EO-1234\"\ncondition = \"used\"",
            "bol needs `condition_state` for used (second-hand) offers: one of AS_NEW, GOOD",
        ),
        (
            "economic_operator_id = \"EO-1234\"",
            "economic_operator_id = \"EO-1234\"\ncondition = \"refurbished\"\ncondition_grade = \"D\"",
            "`condition_grade = \"D\"` is not one of bol's: A, B, C",
        ),
        (
            "economic_operator_id = \"EO-1234\"",
            "economic_operator_id = \"EO-1234\"\ncondition_margin = true",
            "`condition_margin` is for refurbished offers only",
        ),
        (
            "locale = \"nl-NL\"\noutput = \"bol.jsonl\"",
            "locale = \"en-GB\"\noutput = \"bol.jsonl\"",
            "bol needs Dutch copy: set `locale` to nl-NL or nl-BE",
        ),
        (
            "seller_id = \"A3FIXTURESELLER\"\n",
            "",
            "Amazon needs `seller_id`",
        ),
        (
            "shirts = \"SHIRT\"",
            "shirtz = \"SHIRT\"",
            "`product_types` names unknown family `shirtz`; did you mean `shirts`?",
        ),
        (
            "tools = \"DRILL\"",
            "tools = \"drill\"",
            "an Amazon product type is written like \"SHIRT\"",
        ),
        (
            "output = \"meta.csv\"",
            "output = \"amazon-2.json\"",
            "which channel `amazon` uses for the later files of its feed",
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
    // A typo in a value is a positioned error from the parser.
    catalog.write(
        "pim.toml",
        &config.replacen(
            "economic_operator_id = \"EO-1234\"",
            "economic_operator_id = \"EO-1234\"\ncondition = \"NEW\"",
            1,
        ),
    );
    let run = catalog.run(&["check"]).expect(2);
    assert!(
        run.stderr().contains("unknown variant `NEW`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn templates_of_the_same_name_replace_the_marketplace_presets() {
    let catalog = Catalog::fixture("marketplaces");
    // CSV: every value becomes one quoted cell, whatever it holds.
    catalog.write(
        "templates/meta-catalog.csv",
        "{% block header %}id,title,price\n{% endblock header %}\n\
         {% block item %}\n{{ product.id }},{{ product.title }},{{ erp.price }}\n{% endblock item %}\n\
         {% block footer %}{% endblock footer %}\n",
    );
    // JSON Lines: each item one line, JSON-escaped.
    catalog.write(
        "templates/bol-offers.jsonl",
        "{% block header %}{% endblock header %}\
         {% block item %}\n{\"ean\": \"{{ erp.gtin }}\", \"title\": \"{{ product.title }}\"}\n{% endblock item %}\
         {% block footer %}{% endblock footer %}",
    );
    // Amazon: a stock-only PATCH feed; pimfeed numbers the messages.
    catalog.write(
        "templates/amazon-listings.json",
        r#"{% block header %}{"header": {"sellerId": "{{ channel.settings.seller_id }}", "version": "2.0"}, "messages": [{% endblock header %}
{% block item %}
{"sku": "{{ product.sku }}", "operationType": "PATCH", "productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability", "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": {{ erp.stock }}}]}]}
{% endblock item %}
{% block footer %}]}{% endblock footer %}"#,
    );
    catalog.run(&["build"]).expect(0);

    let (headers, rows) = catalog.csv("feeds/meta.csv");
    assert_eq!(headers.iter().collect::<Vec<_>>(), ["id", "title", "price"]);
    let dr2 = rows.iter().find(|r| &r[0] == "DR-2").unwrap();
    assert_eq!(
        &dr2[1],
        "Bosch DR-2 klopboormachine met extra lange kabel en koffer, nu met gratis boren"
    );
    assert_eq!(&dr2[2], "99.00");

    let offers = json_lines(&catalog, "feeds/bol.jsonl");
    assert_eq!(offers.len(), 5);
    assert_eq!(offers[2]["title"], "Makita DR-1 accuboormachine 18V");

    let document: Value = serde_json::from_str(&catalog.read("feeds/amazon.json")).unwrap();
    assert_amazon_valid(&amazon_validator(), &document);
    assert_eq!(document["header"]["sellerId"], "A3FIXTURESELLER");
    let messages = document["messages"].as_array().unwrap();
    assert_eq!(messages[0]["messageId"], 1);
    assert_eq!(messages[4]["messageId"], 5);
    assert_eq!(messages[0]["patches"][0]["value"][0]["quantity"], 40);
}

/// The marketplaces fixture's `pim.toml` with one Amazon channel of offers only.
pub const AMAZON_OFFERS_ONLY: &str = "[catalog]\nname = \"Many\"\nbase_url = \"https://shop.example\"\n\
    locales = [\"nl-NL\"]\ncurrency = \"EUR\"\n\n[erp]\nsource = \"file\"\npath = \"erp/items.csv\"\n\n\
    [channels.amazon]\npreset = \"amazon-listings\"\nlocale = \"nl-NL\"\noutput = \"amazon.json\"\n\
    seller_id = \"A3FIXTURESELLER\"\nmarketplace_id = \"A1805IZSGTT6HS\"\noffer_only = true\n";

#[test]
fn more_than_ten_thousand_messages_are_split_into_several_valid_documents() {
    let catalog = Catalog::fixture("marketplaces");
    catalog.write("pim.toml", AMAZON_OFFERS_ONLY);
    std::fs::remove_dir_all(catalog.path().join("content/products")).unwrap();
    let count = 10_001;
    let mut erp = String::from("sku,price,stock\n");
    for i in 1..=count {
        catalog.write(
            &format!("content/products/many/P{i:05}.toml"),
            &format!("sku = \"P{i:05}\"\nfamily = \"gadgets\"\ntitle.nl-NL = \"Product {i}\"\nasin = \"B0{i:08}\"\n"),
        );
        erp.push_str(&format!("P{i:05},1.00,{i}\n"));
    }
    catalog.write("erp/items.csv", &erp);
    catalog.run(&["build"]).expect(0);

    let validator = amazon_validator();
    let first: Value = serde_json::from_str(&catalog.read("feeds/amazon.json")).unwrap();
    let second: Value = serde_json::from_str(&catalog.read("feeds/amazon-2.json")).unwrap();
    assert_amazon_valid(&validator, &first);
    assert_amazon_valid(&validator, &second);
    let first_messages = first["messages"].as_array().unwrap();
    assert_eq!(first_messages.len(), 10_000);
    assert_eq!(first_messages[9_999]["messageId"], 10_000);
    assert_eq!(first_messages[9_999]["sku"], "P10000");
    assert_eq!(second["header"], first["header"]);
    assert_eq!(
        second["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["messageId"].clone(), m["sku"].clone()))
            .collect::<Vec<_>>(),
        [(json!(1), json!("P10001"))]
    );
    assert!(!catalog.path().join("feeds/amazon-3.json").exists());

    let manifest: Value = serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    let channel = &manifest["channels"][0];
    assert_eq!(channel["file"], "amazon.json");
    assert_eq!(channel["items"], count);
    let parts = channel["parts"].as_array().unwrap();
    let files: Vec<(&str, u64)> = parts
        .iter()
        .map(|p| (p["file"].as_str().unwrap(), p["items"].as_u64().unwrap()))
        .collect();
    assert_eq!(files, [("amazon.json", 10_000), ("amazon-2.json", 1)]);
    for part in parts {
        let bytes = std::fs::read(
            catalog
                .path()
                .join("feeds")
                .join(part["file"].as_str().unwrap()),
        )
        .unwrap();
        assert_eq!(part["bytes"], bytes.len() as u64);
        assert_eq!(part["sha256"].as_str().unwrap().len(), 64);
    }
    assert_eq!(channel["bytes"], parts[0]["bytes"]);
}

#[test]
fn meta_needs_a_gtin_or_an_mpn_and_a_brand() {
    let catalog = Catalog::fixture("marketplaces");
    catalog.write(
        "erp/items.csv",
        &catalog.read("erp/items.csv").replace("GA-1-MPN", ""),
    );
    catalog.run(&["build"]).expect(0);
    let reasons = left_out(&report(&catalog), "meta", "GA-1");
    assert_eq!(codes(&reasons), ["identifier"]);
    assert!(
        reasons[0].1.contains("neither a GTIN nor an MPN"),
        "{reasons:?}"
    );
    assert!(!csv_by_id(&catalog, "feeds/meta.csv").contains_key("GA-1"));
}

#[test]
fn an_offer_only_amazon_channel_needs_an_asin_for_every_product() {
    let catalog = Catalog::fixture("marketplaces");
    catalog.write(
        "pim.toml",
        &catalog.read("pim.toml").replace(
            "marketplace_id = \"A1805IZSGTT6HS\"",
            "marketplace_id = \"A1805IZSGTT6HS\"\noffer_only = true",
        ),
    );
    catalog.run(&["build"]).expect(0);
    let document: Value = serde_json::from_str(&catalog.read("feeds/amazon.json")).unwrap();
    assert_amazon_valid(&amazon_validator(), &document);
    let messages = document["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["sku"], "GA-1");
    let reasons = left_out(&report(&catalog), "amazon", "DR-1");
    assert_eq!(codes(&reasons), ["missing-attribute"]);
    assert!(reasons[0].1.contains("`offer_only = true`"), "{reasons:?}");
}

/// Overrides work the same for every preset, not only the marketplaces.
#[test]
fn webshop_and_order_entry_take_template_overrides_too() {
    let catalog = Catalog::fixture("basic");
    catalog.write(
        "templates/webshop-json.json",
        "{% block header %}{\"items\": [{% endblock header %}\
         {% block item %}{\"sku\": \"{{ product.sku }}\"}{% endblock item %}\
         {% block footer %}]}{% endblock footer %}",
    );
    catalog.write(
        "templates/order-entry-csv.csv",
        "{% block header %}sku,title{% endblock header %}\
         {% block item %}{{ product.sku }},{{ product.title }}{% endblock item %}\
         {% block footer %}{% endblock footer %}",
    );
    catalog.write(
        "content/products/tools/DR-1.toml",
        &catalog
            .read("content/products/tools/DR-1.toml")
            .replace("Cordless drill DR-1 18V", "=SUM(A1:A2), \\\"DR-1\\\""),
    );
    catalog.run(&["build"]).expect(0);
    let webshop: Value = serde_json::from_str(&catalog.read("feeds/webshop.json")).unwrap();
    assert_eq!(webshop["items"][2]["sku"], "DR-1");
    let (headers, rows) = catalog.csv("feeds/orders.csv");
    assert_eq!(headers.iter().collect::<Vec<_>>(), ["sku", "title"]);
    let dr1 = rows.iter().find(|r| &r[0] == "DR-1").unwrap();
    // One cell, and spreadsheet-safe: order-entry-csv keeps its formula guard.
    assert_eq!(&dr1[1], "'=SUM(A1:A2), \"DR-1\"");
}

/// Whatever a marketer types, the marketplace feeds stay valid and carry it as written:
/// escaping belongs to the format (csv quoting, serde_json), and a machine-read CSV gets no
/// spreadsheet formula guard.
#[test]
fn nasty_copy_reaches_the_marketplaces_intact() {
    const BULLET: &str = "=1+2, <b>&</b> \"q\"\n{% raw %}";
    // One-line fields carry no control characters: line breaks and tabs become a space.
    const TITLE_CLEAN: &str = "Boor & Co <b>\"18V\"</b> ]]> 'x' 🔧 {{ 7*7 }}";
    const BULLET_CLEAN: &str = "=1+2, <b>&</b> \"q\" {% raw %}";
    let catalog = Catalog::overlay("basic", "nasty");
    let mut config = catalog.read("pim.toml");
    config.push_str(
        "\n[channels.meta]\npreset = \"meta-catalog\"\nlocale = \"nl-NL\"\noutput = \"meta.csv\"\n\
         \n[channels.bol]\npreset = \"bol-offers\"\nlocale = \"nl-NL\"\noutput = \"bol.jsonl\"\n\
         delivery_schedule = \"MY_DELIVERY_PROMISE\"\n\
         \n[channels.amazon]\npreset = \"amazon-listings\"\nlocale = \"nl-NL\"\noutput = \"amazon.json\"\n\
         seller_id = \"A3FIXTURESELLER\"\nmarketplace_id = \"A1805IZSGTT6HS\"\n\
         product_types = { tools = \"DRILL\" }\n",
    );
    catalog.write("pim.toml", &config);
    let product = "content/products/tools/NASTY-1.toml";
    let bullet = serde_json::to_string(BULLET).unwrap();
    catalog.write(
        product,
        &catalog.read(product).replace(
            "[[images]]",
            &format!("bullets.nl-NL = [{bullet}]\n\n[[images]]"),
        ),
    );
    // A price and an EAN, so that bol and Amazon take it too.
    catalog.write(
        "erp/items.csv",
        &catalog
            .read("erp/items.csv")
            .replace("NASTY-1,0,5,EUR,,,", "NASTY-1,10,5,EUR,,4006381333931,"),
    );
    catalog.run(&["build"]).expect(0);

    let meta = csv_by_id(&catalog, "feeds/meta.csv");
    let row = &meta["NASTY-1"];
    assert_eq!(row["title"], TITLE_CLEAN);
    assert_eq!(row["brand"], "Smith & Sons <Tools>");
    assert_eq!(
        row["mpn"], "=cmd|' /C calc'!A0",
        "no formula guard for Meta"
    );
    assert!(row["description"].contains("{% raw %}{{ 7*7 }} en {{ product.sku }}"));

    let bol = json_lines(&catalog, "feeds/bol.jsonl");
    let offer = bol.iter().find(|o| o["reference"] == "NASTY-1").unwrap();
    assert_eq!(offer["unknownProductTitle"], TITLE_CLEAN);

    let document: Value = serde_json::from_str(&catalog.read("feeds/amazon.json")).unwrap();
    assert_amazon_valid(&amazon_validator(), &document);
    let message = document["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["sku"] == "NASTY-1")
        .unwrap();
    assert_eq!(message["attributes"]["item_name"][0]["value"], TITLE_CLEAN);
    assert_eq!(
        message["attributes"]["bullet_point"][0]["value"],
        BULLET_CLEAN
    );
    assert_eq!(
        message["attributes"]["brand"][0]["value"],
        "Smith & Sons <Tools>"
    );
}

/// `format = "jsonl"` works for custom channels too: one line per item, parsed back.
#[test]
fn a_custom_json_lines_channel_writes_one_line_per_item() {
    let catalog = Catalog::fixture("basic");
    let mut config = catalog.read("pim.toml");
    config.push_str(
        "\n[channels.lines]\nformat = \"jsonl\"\ntemplate = \"lines.jsonl\"\nlocale = \"nl-NL\"\n\
         output = \"lines.jsonl\"\n",
    );
    catalog.write("pim.toml", &config);
    catalog.write(
        "templates/lines.jsonl",
        "{% block header %}{% endblock header %}\n{% block item %}\n\
         {\"sku\": \"{{ product.sku }}\", \"title\": \"{{ product.title }}\"}\n\
         {% endblock item %}\n{% block footer %}{% endblock footer %}\n",
    );
    catalog.run(&["build"]).expect(0);
    let text = catalog.read("feeds/lines.jsonl");
    assert_eq!(text.lines().count(), 4, "{text}");
    let lines = json_lines(&catalog, "feeds/lines.jsonl");
    assert_eq!(lines[2]["title"], "Accuboormachine DR-1 18V");
    let manifest: Value = serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    let channel = manifest["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "lines")
        .unwrap();
    assert_eq!(channel["format"], "jsonl");

    // A template that spreads an item over several lines fails the build, not the reader.
    catalog.write(
        "templates/lines.jsonl",
        "{% block header %}{% endblock header %}{% block item %}{\n\"sku\": \"{{ product.sku }}\"\n}{% endblock item %}{% block footer %}{% endblock footer %}",
    );
    let run = catalog.run(&["build"]).expect(2);
    assert!(
        run.stderr().contains("not valid JSON Lines: line 1"),
        "{}",
        run.stderr()
    );
}

/// The repository's own example catalog: all three marketplace feeds, valid.
#[test]
fn the_example_catalog_builds_valid_marketplace_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for part in ["pim.toml", "content", "erp", "templates"] {
        for entry in walkdir::WalkDir::new(root.join(part)) {
            let entry = entry.unwrap();
            let target = dir.path().join(entry.path().strip_prefix(root).unwrap());
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&target).unwrap();
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .args(["build", "--quiet"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let feeds = dir.path().join("feeds");
    let read = |file: &str| std::fs::read_to_string(feeds.join(file)).unwrap();

    let amazon: Value = serde_json::from_str(&read("amazon-nl.json")).unwrap();
    assert_amazon_valid(&amazon_validator(), &amazon);
    let messages = amazon["messages"].as_array().unwrap();
    assert!(messages.len() >= 10, "{}", messages.len());
    assert!(
        messages
            .iter()
            .any(|m| m["requirements"] == "LISTING_OFFER_ONLY")
    );

    let offers: Vec<Value> = read("bol.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(offers.len() >= 10, "{}", offers.len());
    assert!(
        offers
            .iter()
            .all(|o| o["ean"].as_str().unwrap().len() == 13)
    );

    let meta_csv = read("meta.csv");
    let mut meta = csv::Reader::from_reader(meta_csv.as_bytes());
    let availability = meta
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "availability")
        .unwrap();
    let rows: Vec<csv::StringRecord> = meta.records().map(Result::unwrap).collect();
    assert!(rows.len() >= 10, "{}", rows.len());
    assert!(
        rows.iter()
            .all(|r| matches!(&r[availability], "in stock" | "out of stock"))
    );
}
