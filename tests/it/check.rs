//! `pimfeed check`: every problem in every file, with file, line, column and a fix.

use crate::common::Catalog;

#[test]
fn the_basic_catalog_is_clean_and_reports_what_each_channel_gets() {
    let catalog = Catalog::fixture("basic");
    let run = catalog.run(&["check", "--format", "json"]).expect(0);
    let json = run.json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["errors"], 0);
    let channels = json["report"]["channels"].as_array().unwrap();
    let google = channels.iter().find(|c| c["name"] == "google").unwrap();
    // DR-1, TS-B-M, TS-K-L in; DR-2 (no images), DR-3 (bad GTIN), DR-4 (no ERP item) out.
    assert_eq!(google["items"], 3);
    let left_out: Vec<(&str, &str)> = google["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["sku"].as_str().unwrap(),
                p["reasons"][0]["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        left_out,
        [
            ("DR-2", "missing-attribute"),
            ("DR-3", "gtin"),
            ("DR-4", "not-in-erp")
        ]
    );
    assert_eq!(
        json["report"]["erp_without_content"],
        serde_json::json!(["X-1"])
    );
    assert_eq!(json["report"]["content_without_erp"][0]["sku"], "DR-4");
    // check writes nothing.
    assert!(!catalog.path().join("feeds").exists());
}

#[test]
fn strict_fails_when_a_product_is_left_out_for_being_incomplete() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["check", "--strict"]).expect(1);
}

/// Each broken catalog: the diagnostic's file, line, column, code and message.
#[test]
fn broken_files_are_pointed_at() {
    let cases: &[(&str, &str, usize, usize, &str, &str)] = &[
        (
            "syntax-error",
            "content/products/tools/BROKEN.toml",
            3,
            43,
            "toml-syntax",
            "invalid basic string",
        ),
        (
            "unknown-attribute",
            "content/products/tools/BROKEN.toml",
            4,
            1,
            "unknown-attribute",
            "unknown attribute `titel`",
        ),
        (
            "erp-owned-field",
            "content/products/tools/BROKEN.toml",
            5,
            1,
            "erp-owned",
            "`price` is owned by the ERP",
        ),
        (
            "wrong-type",
            "content/products/tools/BROKEN.toml",
            4,
            11,
            "wrong-type",
            "`voltage` is a measurement attribute: expected a number, found string",
        ),
        (
            "rule-violation",
            "content/products/tools/BROKEN.toml",
            4,
            9,
            "unknown-option",
            "`purple` is not an option of `color`",
        ),
        (
            "duplicate-sku",
            "content/products/tools/DR-1.toml",
            1,
            1,
            "duplicate-sku",
            "SKU `DR-1` is also defined in content/products/tools/DR-1-copy.toml",
        ),
        (
            "unknown-locale",
            "content/products/tools/BROKEN.toml",
            3,
            7,
            "unknown-locale",
            "`nl-BE` is not one of the catalog's locales",
        ),
    ];
    for (case, file, line, column, code, message) in cases {
        let catalog = Catalog::invalid(case);
        let run = catalog.run(&["check", "--format", "json"]).expect(1);
        let json = run.json();
        // Errors only: the fixture's short descriptions also earn quality warnings.
        let diagnostics: Vec<_> = json["report"]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert_eq!(diagnostics.len(), 1, "{case}: {diagnostics:#?}");
        let d = &diagnostics[0];
        assert_eq!(d["file"], *file, "{case}");
        assert_eq!(
            (d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap()),
            (*line as u64, *column as u64),
            "{case}: {d}"
        );
        assert_eq!(d["code"], *code, "{case}");
        assert!(
            d["message"].as_str().unwrap().contains(message),
            "{case}: {d}"
        );
    }
}

#[test]
fn human_output_shows_the_snippet_and_the_fix() {
    let catalog = Catalog::invalid("unknown-attribute");
    let run = catalog.run(&["check"]).expect(1);
    let stderr = run.stderr();
    assert!(stderr.contains("unknown attribute `titel`"), "{stderr}");
    assert!(
        stderr.contains("content/products/tools/BROKEN.toml:4:1"),
        "{stderr}"
    );
    assert!(stderr.contains("titel.nl-NL = \"Boor\""), "{stderr}");
    assert!(stderr.contains("did you mean `title`?"), "{stderr}");
}

#[test]
fn github_format_prints_annotations() {
    let catalog = Catalog::invalid("erp-owned-field");
    let run = catalog.run(&["check", "--format", "github"]).expect(1);
    let stdout = run.stdout();
    assert!(
        stdout.contains("::error file=content/products/tools/BROKEN.toml,line=5,col=1,title=erp-owned::`price` is owned by the ERP"),
        "{stdout}"
    );
}

#[test]
fn variants_need_every_axis_and_distinct_combinations() {
    let catalog = Catalog::invalid("variant-axis");
    let json = catalog.run(&["check", "--format", "json"]).expect(1).json();
    let found: Vec<(u64, &str)> = json["report"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| (d["line"].as_u64().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            (
                11,
                "variant `POLO-B-M2` repeats the color/size of variant `POLO-B-M`"
            ),
            (16, "variant `POLO-B` has no `size`"),
        ]
    );
}

#[test]
fn every_broken_file_is_reported_in_one_run() {
    let catalog = Catalog::invalid("unknown-attribute");
    catalog.write(
        "content/products/tools/ALSO-BROKEN.toml",
        "sku = \"BR-2\"\nfamily = \"tools\"\nstock = 3\n",
    );
    let json = catalog.run(&["check", "--format", "json"]).expect(1).json();
    assert_eq!(json["errors"], 2);
}

#[test]
fn bad_configuration_is_an_operational_failure() {
    let catalog = Catalog::invalid("bad-config");
    let run = catalog.run(&["check"]).expect(2);
    assert!(
        run.stderr().contains("unknown field `defaut_locale`"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("pim.toml:6:1"), "{}", run.stderr());
}

#[test]
fn every_bad_erp_row_is_named() {
    let catalog = Catalog::invalid("bad-erp-row");
    let run = catalog.run(&["check"]).expect(2);
    let stderr = run.stderr();
    for expected in ["row 2", "12.5x", "stock `3x`", "row 3", "row 4", "DR-1"] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}

#[test]
fn no_catalog_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .arg("check")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no pim.toml"));
}

/// `pimfeed check --format json | head -c 100`: the reader goes away before pimfeed writes.
/// That ends the output quietly with the check's own exit code, never a panic.
#[test]
fn a_reader_that_closes_the_pipe_early_is_no_crash() {
    let catalog = Catalog::fixture("basic");
    for format in ["json", "github"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pimfeed"))
            .args(["check", "--format", format])
            .current_dir(catalog.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run pimfeed");
        // Closing the only read end makes every write to stdout fail with a broken pipe.
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("wait for pimfeed");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "--format {format}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "--format {format}: {stderr}");
    }
}

#[test]
fn a_bad_erp_row_is_annotated_at_its_file_and_line_in_github_and_json() {
    let catalog = Catalog::invalid("bad-erp-row");
    let github = catalog.run(&["check", "--format", "github"]).expect(2);
    let annotations = github.stdout();
    // `DR-2,12.5x,3x,…` is data row 2 on line 3 of the export: one annotation per bad value.
    for expected in [
        "::error file=erp/items.csv,line=3,col=1,title=erp-row::row 2, line 3, SKU `DR-2`: ",
        "::error file=erp/items.csv,line=4,col=1,title=erp-row::row 3, line 4",
        "::error file=erp/items.csv,line=5,col=1,title=erp-row::row 4, line 5, SKU `DR-1`: SKU `DR-1` also on row 1",
    ] {
        assert!(
            annotations.contains(expected),
            "missing {expected:?} in:\n{annotations}"
        );
    }
    assert_eq!(
        annotations.matches("title=erp-row::row 2, line 3").count(),
        2,
        "the price and the stock of row 2: {annotations}"
    );
    // The details are in the annotations; the closing line says how many.
    assert!(
        github
            .stderr_flat()
            .contains(&crate::common::flat("has 4 problems; nothing was built")),
        "{}",
        github.stderr()
    );

    let json = catalog.run(&["check", "--format", "json"]).expect(2).json();
    assert_eq!(json["ok"], false);
    let diagnostics = json["diagnostics"].as_array().unwrap();
    let bad_price = diagnostics
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("12.5x"))
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(bad_price["file"], "erp/items.csv");
    assert_eq!(bad_price["line"], 3);
    assert_eq!(bad_price["severity"], "error");
    assert_eq!(diagnostics.len(), 4, "{json}");
    assert!(
        diagnostics.iter().all(|d| d["file"] == "erp/items.csv"),
        "{json}"
    );
}

#[test]
fn a_bad_price_list_row_is_annotated_at_its_line() {
    let catalog = Catalog::fixture("basic");
    let config = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &format!("{config}\n[price_lists.GBP]\npath = \"erp/prices-gbp.csv\"\n"),
    );
    catalog.write("erp/prices-gbp.csv", "sku,price\nDR-1,12.00\nDR-2,twelve\n");
    let github = catalog.run(&["check", "--format", "github"]).expect(2);
    let expected = "::error file=erp/prices-gbp.csv,line=3,col=1,title=price-list::price `twelve` of `DR-2` is not an amount";
    assert!(
        github.stdout().contains(expected),
        "missing {expected:?} in:\n{}",
        github.stdout()
    );
}
