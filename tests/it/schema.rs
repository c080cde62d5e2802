//! `pimfeed schema`: the generated JSON Schema, checked with a real validator against the
//! example catalog, `init`'s example, stubs and broken files.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::Catalog;

/// A product file as editors and validators see it: TOML dates become `YYYY-MM-DD` strings.
fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
    }
}

fn product_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    toml_to_json(toml::from_str::<toml::Value>(&text).unwrap())
}

/// The validator for the schema `pimfeed schema --stdout` prints in `root`.
fn validator(root: &Path) -> jsonschema::Validator {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .args(["schema", "--stdout", "--root"])
        .arg(root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let schema: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

/// Errors as `instance path: message`, split into missing required attributes (what
/// `check` calls incomplete: a failed `anyOf` at the top of the file) and everything else.
fn errors(validator: &jsonschema::Validator, instance: &Value) -> (usize, Vec<String>) {
    let mut incomplete = 0;
    let mut other = Vec::new();
    for error in validator.iter_errors(instance) {
        let at = error.instance_path().as_str().to_string();
        if at.is_empty() && error.schema_path().as_str().ends_with("/anyOf") {
            incomplete += 1;
        } else {
            other.push(format!("{at}: {error}"));
        }
    }
    (incomplete, other)
}

fn product_files(root: &Path) -> Vec<std::path::PathBuf> {
    walkdir::WalkDir::new(root.join("content/products"))
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect()
}

#[test]
fn the_example_catalog_validates_and_incomplete_products_show_what_is_missing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let validator = validator(root);
    let files = product_files(root);
    assert!(files.len() >= 20);
    for file in &files {
        let (_, other) = errors(&validator, &product_json(file));
        assert!(other.is_empty(), "{}: {other:#?}", file.display());
    }
    // FI-UX6X35 has no images on purpose: the schema says so, and with one it is complete.
    let mut incomplete = product_json(&root.join("content/products/fasteners/FI-UX6X35.toml"));
    assert!(errors(&validator, &incomplete).0 > 0);
    incomplete["images"] = json!([{ "url": "https://cdn.example/x.jpg" }]);
    assert!(
        validator.is_valid(&incomplete),
        "{:?}",
        errors(&validator, &incomplete)
    );
}

#[test]
fn broken_files_fail_for_the_same_reasons_check_gives() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let validator = validator(root);
    let good = product_json(&root.join("content/products/power-tools/MK-DHP485.toml"));
    assert!(validator.is_valid(&good), "{:?}", errors(&validator, &good));
    let model = product_json(&root.join("content/products/workwear/SN-2822.toml"));
    assert!(
        validator.is_valid(&model),
        "{:?}",
        errors(&validator, &model)
    );

    // Each case breaks a good product the way `check` would reject.
    type Breakage = fn(&mut Value);
    let broken: Vec<(&str, Breakage)> = vec![
        ("ERP-owned price", |p| p["price"] = json!(129)),
        ("unknown attribute", |p| {
            p["titel"] = json!({"nl-NL": "Boor"})
        }),
        ("unknown option", |p| p["color"] = json!("purple")),
        ("wrong type", |p| p["voltage"] = json!("18 V")),
        ("below the minimum", |p| p["voltage"] = json!(-1)),
        ("unknown locale", |p| p["title"]["nl-BE"] = json!("Boor")),
        ("not localized", |p| p["title"] = json!("Boor")),
        ("too long", |p| p["title"]["nl-NL"] = json!("x".repeat(151))),
        ("not in the family", |p| p["size"] = json!("M")),
        ("unknown family", |p| p["family"] = json!("power-tool")),
        ("sku and model", |p| p["model"] = json!("MK")),
        ("unknown category", |p| p["category"] = json!("tools/drils")),
        ("unknown channel", |p| {
            p["channels"]["google-de"] = json!({})
        }),
        ("image without url", |p| {
            p["images"][0] = json!({"alt": "x"})
        }),
        ("not a URL", |p| p["images"][0]["url"] = json!("cdn/x.jpg")),
        ("not a date", |p| p["release_date"] = json!("1 Feb 2019")),
    ];
    for (case, break_it) in broken {
        let mut product = good.clone();
        break_it(&mut product);
        let (_, other) = errors(&validator, &product);
        assert!(!other.is_empty(), "{case}: valid, but check rejects it");
    }
    // The description says who owns an ERP field, for the editor's hover.
    let schema: Value = serde_json::from_str(
        &Catalog::fixture("basic")
            .run(&["schema", "--stdout"])
            .expect(0)
            .stdout(),
    )
    .unwrap();
    assert!(
        schema["properties"]["price"]["description"]
            .as_str()
            .unwrap()
            .contains("owned by the ERP")
    );
}

#[test]
fn schema_writes_the_schema_and_a_taplo_configuration_but_keeps_an_existing_one() {
    let catalog = Catalog::fixture("basic");
    let run = catalog.run(&["schema"]).expect(0);
    assert!(run.stderr().contains("wrote content/product.schema.json"));
    let schema: Value = serde_json::from_str(&catalog.read("content/product.schema.json")).unwrap();
    assert_eq!(
        schema["properties"]["family"]["enum"],
        json!(["shirts", "tools"])
    );
    let taplo = catalog.read(".taplo.toml");
    assert!(
        taplo.contains("include = [\"content/products/**/*.toml\"]"),
        "{taplo}"
    );
    assert!(
        taplo.contains("path = \"content/product.schema.json\""),
        "{taplo}"
    );
    // The taplo file itself is valid TOML.
    toml::from_str::<toml::Value>(&taplo).unwrap();

    catalog.write(".taplo.toml", "[formatting]\nalign_entries = true\n");
    let run = catalog.run(&["schema"]).expect(0);
    assert!(
        run.stderr()
            .contains(".taplo.toml exists and does not use the schema")
    );
    assert_eq!(
        catalog.read(".taplo.toml"),
        "[formatting]\nalign_entries = true\n"
    );
    // The catalog still checks: the schema file is not a product.
    catalog.run(&["check"]).expect(0);
}

#[test]
fn init_example_and_new_stubs_validate_except_for_what_is_still_missing() {
    let dir = Catalog::empty();
    dir.run(&["init", "shop"]).expect(0);
    let root = dir.path().join("shop");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("content/product.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for file in product_files(&root) {
        let (incomplete, other) = errors(&validator, &product_json(&file));
        assert!(other.is_empty(), "{}: {other:#?}", file.display());
        // SD-6 has no images on purpose.
        assert_eq!(
            incomplete > 0,
            file.ends_with("SD-6.toml"),
            "{}",
            file.display()
        );
    }
    let new = std::process::Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .args(["new", "--missing"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(new.status.success());
    let stub = product_json(&root.join("content/products/hand-tools/SD-8.toml"));
    let (incomplete, other) = errors(&validator, &stub);
    assert!(other.is_empty(), "{other:#?}");
    assert!(incomplete > 0, "a stub misses its required attributes");
}
