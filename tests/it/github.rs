//! `pimfeed check --format github` and quality warnings: annotations for every diagnostic
//! and for products left out, a Markdown step summary, and warnings that never fail a run.

use crate::common::Catalog;

/// The basic catalog with one of each quality problem.
fn catalog_with_quality_problems() -> Catalog {
    let catalog = Catalog::fixture("basic");
    let edit = |file: &str, from: &str, to: &str| {
        let text = catalog.read(file);
        assert!(text.contains(from), "{file} has no {from:?}");
        catalog.write(file, &text.replace(from, to));
    };
    edit(
        "content/products/tools/DR-3.toml",
        "title.nl-NL = \"Schroefboor DR-3\"",
        "title.nl-NL = \"SCHROEFBOOR VOOR THUIS DR-3\"",
    );
    // The same English title as DR-1's.
    edit(
        "content/products/tools/DR-2.toml",
        "title.en-GB = \"Hammer drill DR-2\"",
        "title.en-GB = \"Cordless drill DR-1 18V\"",
    );
    catalog.write(
        "content/products/tools/DR-1.toml",
        &(catalog.read("content/products/tools/DR-1.toml")
            + "\n[channels.google]\ntitle.nl-NL = \"Accuboormachine DR-1 18V met koolborstelloze motor, twee snelheden en LED-lamp\"\n"),
    );
    catalog
}

#[test]
fn quality_warnings_show_everywhere_and_never_fail_the_check() {
    let catalog = catalog_with_quality_problems();
    let json = catalog.run(&["check", "--format", "json"]).expect(0).json();
    assert_eq!(json["ok"], true);
    let warnings: Vec<(&str, &str, u64, &str)> = json["report"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "warning")
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                d["file"].as_str().unwrap(),
                d["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap(),
            )
        })
        .collect();
    let expected = [
        (
            "duplicate-title",
            "content/products/tools/DR-2.toml",
            7,
            "the en-GB title is the same as that of `DR-1` (content/products/tools/DR-1.toml)",
        ),
        (
            "all-caps-title",
            "content/products/tools/DR-3.toml",
            6,
            "the nl-NL title is in capitals",
        ),
        (
            "title-visible-length",
            "content/products/tools/DR-1.toml",
            67,
            "the nl-NL title is 78 characters; Google Shopping shows about the first 70",
        ),
        (
            "short-description",
            "content/products/tools/DR-1.toml",
            7,
            "the nl-NL description is 65 characters; aim for at least 150",
        ),
    ];
    for warning in expected {
        assert!(
            warnings.contains(&warning),
            "{warning:?} not in {warnings:#?}"
        );
    }
    assert_eq!(json["warnings"].as_u64().unwrap() as usize, warnings.len());

    let human = catalog.run(&["check"]).expect(0).stderr();
    assert!(human.contains("the nl-NL title is in capitals"), "{human}");
    assert!(human.contains("help: write it in sentence case"), "{human}");
}

#[test]
fn github_format_annotates_diagnostics_and_left_out_products_and_writes_a_summary() {
    let catalog = catalog_with_quality_problems();
    let summary = catalog.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let run = catalog
        .run_env(
            &["check", "--format", "github"],
            &[("GITHUB_STEP_SUMMARY", summary.as_path())],
        )
        .expect(0);
    let stdout = run.stdout();
    for annotation in [
        "::warning file=content/products/tools/DR-3.toml,line=6,col=1,title=all-caps-title::the nl-NL title is in capitals%0Ahelp: write it in sentence case",
        "::warning file=content/products/tools/DR-2.toml,line=7,col=1,title=duplicate-title::the en-GB title is the same as that of `DR-1`",
        "::notice file=content/products/tools/DR-2.toml,line=2,title=left out of google%2C orders%2C partner%2C prices%2C webshop::DR-2: `images` is required and has no value\n",
        "::notice file=content/products/tools/DR-3.toml,line=2,title=left out of google::DR-3: GTIN `4006381333932`: check digit is 2, it should be 1",
        "::notice file=content/products/tools/DR-4.toml,line=2,title=left out of google%2C orders%2C partner%2C prices%2C webshop::DR-4: SKU `DR-4` is not in the ERP export",
    ] {
        assert!(
            stdout.contains(annotation),
            "missing {annotation}\nin:\n{stdout}"
        );
    }
    // A channel filter is a choice, not a problem: no annotation.
    assert!(
        !stdout.contains("left out by the channel filter"),
        "{stdout}"
    );

    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(
        markdown.starts_with("earlier step\n### pimfeed check: Fixture Tools\n"),
        "{markdown}"
    );
    assert!(markdown.contains("✅ passed · 0 errors · "), "{markdown}");
    assert!(
        markdown.contains("| Channel | Live | Left out | Feed |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| google | 3 | 3 | `google.xml` |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("<details><summary>google: 3 left out, 1 with warnings</summary>"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| `DR-2` | left out | `images` is required and has no value | `content/products/tools/DR-2.toml:2` |"),
        "{markdown}"
    );
    assert!(markdown.contains("#### Warnings ("), "{markdown}");
    assert!(
        markdown.contains(
            "| `content/products/tools/DR-3.toml:6:1` | the nl-NL title is in capitals |"
        ),
        "{markdown}"
    );
    assert!(
        markdown.contains("`pimfeed new --missing` writes a stub"),
        "{markdown}"
    );
}

#[test]
fn strict_turns_left_out_annotations_into_errors() {
    let catalog = Catalog::fixture("basic");
    let stdout = catalog
        .run(&["check", "--format", "github", "--strict"])
        .expect(1)
        .stdout();
    assert!(
        stdout.contains("::error file=content/products/tools/DR-2.toml,line=2,title=left out of "),
        "{stdout}"
    );
}

#[test]
fn errors_are_annotated_and_summarised_as_failed() {
    let catalog = Catalog::invalid("erp-owned-field");
    let summary = catalog.path().join("summary.md");
    let run = catalog
        .run_env(
            &["check", "--format", "github"],
            &[("GITHUB_STEP_SUMMARY", summary.as_path())],
        )
        .expect(1);
    assert!(run.stdout().contains(
        "::error file=content/products/tools/BROKEN.toml,line=5,col=1,title=erp-owned::"
    ));
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(markdown.contains("❌ failed · 1 error ·"), "{markdown}");
    assert!(markdown.contains("#### Errors (1)"), "{markdown}");
    assert!(
        markdown.contains("`price` is owned by the ERP"),
        "{markdown}"
    );
}
