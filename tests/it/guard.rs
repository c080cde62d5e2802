//! The guard: a build or refresh that would cut a channel by more than `[guard]
//! max_drop_percent` stops with exit 1, says what would go, and leaves the feeds as they were.

use crate::common::Catalog;

/// The basic catalog's ERP export with only its first `rows` records.
fn cut_export(catalog: &Catalog, rows: usize) {
    let text = catalog.read("erp/items.csv");
    let kept: Vec<&str> = text.lines().take(rows + 1).collect();
    catalog.write("erp/items.csv", &(kept.join("\n") + "\n"));
}

#[test]
fn a_build_that_halves_a_channel_is_stopped_and_changes_nothing() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build", "-q"]).expect(0);
    let before = catalog.feeds_snapshot();
    cut_export(&catalog, 3);
    let stopped = catalog.run(&["build", "-q"]).expect(1);
    let stderr = stopped.stderr();
    assert!(stderr.contains("the ERP's records: 6 → 3"), "{stderr}");
    assert!(stderr.contains("channel `webshop`: 4 → 2"), "{stderr}");
    assert!(
        stderr.contains("TS-B-M"),
        "the SKUs that disappear are not named:\n{stderr}"
    );
    assert!(stderr.contains("--allow-drop"), "{stderr}");
    assert_eq!(
        catalog.feeds_snapshot(),
        before,
        "the guard let the feeds change"
    );

    let json = catalog.run(&["build", "--format", "json"]).expect(1).json();
    assert_eq!(json["ok"], false);
    assert!(json["error"].as_str().unwrap().contains("webshop"));

    catalog.run(&["build", "-q", "--allow-drop"]).expect(0);
    assert_ne!(catalog.feeds_snapshot(), before);
    // The new counts are the reference from now on.
    catalog.run(&["build", "-q"]).expect(0);
}

#[test]
fn the_limit_is_set_in_pim_toml_and_small_drops_pass() {
    let catalog = Catalog::fixture("basic");
    let pim = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &format!("{pim}\n[guard]\nmax_drop_percent = 70\n"),
    );
    catalog.run(&["build", "-q"]).expect(0);
    cut_export(&catalog, 3);
    catalog.run(&["build", "-q"]).expect(0);
    catalog.write("pim.toml", &format!("{pim}\n[guard]\nmax_drop = 70\n"));
    let bad = catalog.run(&["build", "-q"]).expect(2);
    assert!(bad.stderr().contains("pim.toml"), "{}", bad.stderr());
}
