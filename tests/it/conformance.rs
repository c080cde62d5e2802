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
