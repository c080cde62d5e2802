//! Keep-last-good: a product whose content file breaks stays in the channels it was in, as
//! the last good build had it, for `[guard] keep_last_good_days`; the gate still decides.

use crate::common::Catalog;

const BROKEN: &str = "content/products/tools/DR-1.toml";

fn google_ids(catalog: &Catalog) -> Vec<String> {
    crate::common::rss_items(&catalog.read("feeds/google.xml"))
        .iter()
        .filter_map(|item| {
            item.iter()
                .find(|(name, _)| name == "g:id")
                .map(|(_, v)| v.clone())
        })
        .collect()
}

/// The `since` of DR-1's kept warning in the report, if it has one.
fn kept_since(catalog: &Catalog) -> Option<String> {
    let report: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/report/report.json")).unwrap();
    let google = report["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "google")?;
    let warning = google["warnings"]
        .as_array()?
        .iter()
        .filter(|w| w["sku"] == "DR-1")
        .flat_map(|w| w["reasons"].as_array().unwrap())
        .find(|r| r["code"] == "kept-last-good")?;
    let message = warning["message"].as_str()?;
    Some(
        message
            .split("since ")
            .nth(1)?
            .split(';')
            .next()?
            .to_string(),
    )
}

fn break_file(catalog: &Catalog) {
    let text = catalog
        .read(BROKEN)
        .replace("sku = \"DR-1\"", "sku = \"DR-1");
    catalog.write(BROKEN, &text);
}

#[test]
fn a_typo_keeps_the_last_good_item_until_it_is_fixed() {
    let catalog = Catalog::fixture("basic");
    let good = catalog.read(BROKEN);
    catalog.run(&["build", "-q"]).expect(0);
    let before = google_ids(&catalog);
    assert!(before.contains(&"DR-1".to_string()));

    break_file(&catalog);
    let run = catalog.run(&["build", "-q"]).expect(1);
    assert!(run.stderr().contains("DR-1.toml:1"), "{}", run.stderr());
    assert_eq!(google_ids(&catalog), before, "the typo delisted DR-1");
    let since = kept_since(&catalog).expect("the report does not say DR-1 is kept");

    // Kept from the same moment on by the next build, a refresh and `check`.
    catalog.run(&["build", "-q"]).expect(1);
    assert_eq!(kept_since(&catalog).as_deref(), Some(since.as_str()));
    catalog.run(&["refresh", "-q"]).expect(0);
    assert_eq!(google_ids(&catalog), before);
    assert_eq!(kept_since(&catalog).as_deref(), Some(since.as_str()));
    let check = catalog.run(&["check"]).expect(1);
    let listing = check.stderr();
    let dr1 = listing
        .split_once("DR-1 (content/products/tools/DR-1.toml:1)")
        .map(|(_, after)| after.split("\nDR-2").next().unwrap_or(after))
        .unwrap_or_default();
    assert!(
        dr1.contains(
            "warning in google, orders, partner, prices, webshop: kept as in the last good build"
        ),
        "{}",
        check.stderr()
    );
    let github = catalog.run(&["check", "--format", "github"]).expect(1);
    assert!(
        github.stdout().contains("kept as in the last good build"),
        "{}",
        github.stdout()
    );

    // Fixed: an ordinary product again.
    catalog.write(BROKEN, &good);
    catalog.run(&["build", "-q"]).expect(0);
    assert_eq!(google_ids(&catalog), before);
    assert_eq!(kept_since(&catalog), None);
}

#[test]
fn the_gate_still_decides_and_zero_days_turn_keeping_off() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build", "-q"]).expect(0);
    break_file(&catalog);
    // Gone from the ERP while its file is broken: not kept.
    let erp = catalog.read("erp/items.csv");
    let without: Vec<&str> = erp.lines().filter(|l| !l.starts_with("DR-1,")).collect();
    catalog.write("erp/items.csv", &(without.join("\n") + "\n"));
    catalog.run(&["build", "-q", "--allow-drop"]).expect(1);
    assert!(!google_ids(&catalog).contains(&"DR-1".to_string()));
    catalog.write("erp/items.csv", &erp);

    let fresh = Catalog::fixture("basic");
    let pim = fresh.read("pim.toml");
    fresh.write(
        "pim.toml",
        &format!("{pim}\n[guard]\nkeep_last_good_days = 0\n"),
    );
    fresh.run(&["build", "-q"]).expect(0);
    break_file(&fresh);
    fresh.run(&["build", "-q", "--allow-drop"]).expect(1);
    assert!(!google_ids(&fresh).contains(&"DR-1".to_string()));
    assert_eq!(kept_since(&fresh), None);
}

#[test]
fn a_value_that_breaks_its_rule_keeps_the_last_good_item_too() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build", "-q"]).expect(0);
    let before = google_ids(&catalog);
    let text = catalog
        .read(BROKEN)
        .replace("color = \"blue\"", "color = \"purple-ish\"");
    catalog.write(BROKEN, &text);
    let run = catalog.run(&["build", "-q"]).expect(1);
    assert!(
        run.stderr().contains("not an option of `color`"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("kept as in the last good build"),
        "{}",
        run.stderr()
    );
    assert_eq!(google_ids(&catalog), before);
    assert!(kept_since(&catalog).is_some());
}
