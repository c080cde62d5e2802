//! The build cache: a build that reuses the last build's work writes exactly what a cold
//! build writes, and reuses only what cannot have changed.

use std::path::PathBuf;

use crate::common::Catalog;

/// Everything a build publishes or keeps that must not depend on the cache: every feed file,
/// the report and manifest without their timestamps, and the snapshot `refresh` reads.
pub(crate) fn outputs(catalog: &Catalog) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = catalog
        .feeds_snapshot()
        .into_iter()
        .filter(|(path, _)| !path.starts_with("report") && path != &PathBuf::from("manifest.json"))
        .collect();
    let mut report: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/report/report.json")).unwrap();
    report["generated_at"] = serde_json::Value::Null;
    files.push(("report.json".into(), report.to_string().into_bytes()));
    let manifest: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    files.push((
        "manifest channels".into(),
        manifest["channels"].to_string().into_bytes(),
    ));
    files.push((
        "the last build's products".into(),
        catalog.last_build_products().into_bytes(),
    ));
    files
}

pub(crate) fn assert_same(cached: &[(PathBuf, Vec<u8>)], cold: &[(PathBuf, Vec<u8>)]) {
    let names =
        |files: &[(PathBuf, Vec<u8>)]| files.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(cached), names(cold));
    for ((path, a), (_, b)) in cached.iter().zip(cold) {
        assert!(
            a == b,
            "{} differs between the cached and the cold build:\n--- cached\n{}\n--- cold\n{}",
            path.display(),
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    }
}

pub(crate) fn cache_use(run: &crate::common::Run) -> (u64, u64) {
    let json = run.json();
    (
        json["cache"]["files_reused"].as_u64().unwrap(),
        json["cache"]["files_checked"].as_u64().unwrap(),
    )
}

/// Feed files a run built by splicing and verified by their pieces rather than parsed whole.
pub(crate) fn spliced(run: &crate::common::Run) -> u64 {
    run.json()["cache"]["feeds_spliced"].as_u64().unwrap()
}

/// How many feed files a build linked to the last build's, the same byte for byte.
pub(crate) fn linked(run: &crate::common::Run) -> u64 {
    run.json()["cache"]["feeds_linked"].as_u64().unwrap()
}

/// Edits of every kind a day brings, then the same catalog built with and without the cache.
#[test]
fn a_build_from_the_cache_is_byte_identical_to_a_cold_one() {
    let catalog = Catalog::example();
    let first = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&first), (0, 30), "nothing to reuse at first");

    // A copy edit.
    let drill = "content/products/power-tools/MK-DHP485.toml";
    let text = catalog
        .read(drill)
        .replacen("title.nl-NL = \"", "title.nl-NL = \"Nieuw: ", 1);
    catalog.write(drill, &text);
    // New numbers for one ERP item.
    let erp =
        catalog
            .read("erp/items.csv")
            .replacen("MK-DTD153,139.95,21,", "MK-DTD153,134.95,0,", 1);
    assert!(erp.contains("MK-DTD153,134.95,0,"));
    catalog.write("erp/items.csv", &erp);
    // Files removed; the first power tool is an Amazon message, so every later message's
    // `messageId` moves up.
    assert!(catalog.read("feeds/amazon-nl.json").contains("BO-GSR18V55"));
    for gone in ["fasteners/FI-UX6X35.toml", "power-tools/BO-GSR18V55.toml"] {
        std::fs::remove_file(catalog.path().join("content/products").join(gone)).unwrap();
    }
    // A new file early in catalog order that takes a SKU from a file after it (an error on
    // that later file) and shifts every later Amazon message's number.
    let taken = catalog.read("content/products/hand-tools/KN-7002160.toml");
    catalog.write("content/products/fasteners/AA-COPY.toml", &taken);

    let cached = catalog.run(&["build", "--format", "json"]).expect(1);
    let (reused, checked) = cache_use(&cached);
    assert_eq!(reused, 25, "the other files come from the cache");
    // The edited file, the one with new ERP numbers and the new file; the file that lost its
    // SKU to it is read again too, but has no product left.
    assert_eq!(checked, 3, "only what changed is read again");
    assert!(
        catalog
            .read("feeds/report/report.json")
            .contains("duplicate-sku")
    );
    let with_cache = outputs(&catalog);

    std::fs::remove_dir_all(catalog.path().join(".pimfeed/cache")).unwrap();
    let cold = catalog.run(&["build", "--format", "json"]).expect(1);
    assert_eq!(cache_use(&cold), (0, 28));
    assert_same(&with_cache, &outputs(&catalog));
}

#[test]
fn an_unchanged_catalog_reuses_every_file_and_a_template_edit_none() {
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let before = outputs(&catalog);
    let again = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&again), (30, 0));
    assert_same(&outputs(&catalog), &before);

    let template = catalog
        .read("templates/beslist.xml")
        .replace("<sku>", "<sku type=\"erp\">");
    catalog.write("templates/beslist.xml", &template);
    let edited = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&edited), (0, 30), "a template edit changes items");
    assert!(
        catalog
            .read("feeds/beslist.xml")
            .contains("<sku type=\"erp\">")
    );

    let no_cache = catalog
        .run(&["build", "--no-cache", "--format", "json"])
        .expect(0);
    assert_eq!(cache_use(&no_cache), (0, 30));
}

#[test]
fn feeds_changed_by_hand_are_not_trusted() {
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let before = outputs(&catalog);
    let path = catalog.path().join("feeds/google-nl.xml");
    let tampered = std::fs::read_to_string(&path)
        .unwrap()
        .replace("<g:price>", "<g:price>1");
    std::fs::write(&path, tampered).unwrap();
    let run = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&run), (0, 30));
    assert_same(&outputs(&catalog), &before);
}

#[test]
fn a_refresh_renders_only_products_with_new_numbers_and_matches_a_full_one() {
    let catalog = Catalog::example();
    catalog.run(&["build"]).expect(0);
    let erp =
        catalog
            .read("erp/items.csv")
            .replacen("MK-DTD153,139.95,21,", "MK-DTD153,129.95,3,", 1);
    catalog.write("erp/items.csv", &erp);
    let refreshed = catalog.run(&["refresh", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&refreshed), (29, 1));
    assert!(spliced(&refreshed) + linked(&refreshed) >= 9);
    assert!(catalog.read("feeds/order-entry.csv").contains("129.95"));
    let with_cache = outputs(&catalog);

    let full = catalog
        .run(&["refresh", "--no-cache", "--format", "json"])
        .expect(0);
    assert_eq!(cache_use(&full), (0, 0), "no cache: the whole snapshot");
    assert_same(&with_cache, &outputs(&catalog));

    // A refresh that finds no usable cache (after an upgrade of pimfeed, say) renders
    // everything and leaves a cache for the refreshes after it; a build reads every file
    // again, as such a cache does not know their bytes.
    std::fs::remove_dir_all(catalog.path().join(".pimfeed/cache")).unwrap();
    let reseeding = catalog.run(&["refresh", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&reseeding), (0, 0));
    let erp = erp.replacen("MK-DTD153,129.95,3,", "MK-DTD153,129.95,2,", 1);
    catalog.write("erp/items.csv", &erp);
    let next = catalog.run(&["refresh", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&next), (29, 1));
    let refreshed_from_seed = outputs(&catalog);
    catalog.run(&["refresh", "--no-cache"]).expect(0);
    assert_same(&refreshed_from_seed, &outputs(&catalog));
    let build = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&build), (0, 30));
    let after_build = catalog.run(&["refresh", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&after_build), (30, 0));
}

#[test]
fn gzip_twins_from_a_cached_build_match_a_cold_one() {
    let catalog = Catalog::example();
    let config = catalog.read("pim.toml") + "\n[build]\ngzip = true\n";
    catalog.write("pim.toml", &config);
    catalog.run(&["build"]).expect(0);
    let drill = "content/products/power-tools/MK-DHP485.toml";
    let text = catalog.read(drill).replacen("Makita", "MAKITA", 1);
    catalog.write(drill, &text);
    let cached = catalog.run(&["build", "--format", "json"]).expect(0);
    assert_eq!(cache_use(&cached), (29, 1));
    let with_cache = outputs(&catalog);
    assert!(
        with_cache
            .iter()
            .any(|(path, _)| path.ends_with("webshop.json.gz"))
    );

    catalog.run(&["build", "--no-cache"]).expect(0);
    assert_same(&with_cache, &outputs(&catalog));
}

/// A file renamed (its bytes the same, its path new and earlier in catalog order), one
/// edited, one added and one removed between two builds: the build from the cache writes
/// what a build without it writes.
#[test]
fn a_renamed_file_between_two_builds_is_built_as_without_the_cache() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build", "--allow-drop", "--quiet"]).expect(0);
    std::fs::rename(
        catalog.path().join("content/products/tools/DR-4.toml"),
        catalog.path().join("content/products/shirts/A-DR-4.toml"),
    )
    .unwrap();
    let dr1 = "content/products/tools/DR-1.toml";
    catalog.write(dr1, &catalog.read(dr1).replacen("DR-1 18V", "DR-1 19V", 1));
    let dr2 = catalog.read("content/products/tools/DR-2.toml");
    catalog.write(
        "content/products/tools/AA-1.toml",
        &dr2.replace("DR-2", "AA-1"),
    );
    std::fs::remove_file(catalog.path().join("content/products/tools/DR-3.toml")).unwrap();
    let cached = catalog
        .run(&["build", "--allow-drop", "--format", "json"])
        .expect(0);
    let (reused, checked) = cache_use(&cached);
    assert!(reused >= 1, "the unchanged files come from the cache");
    assert_eq!(checked, 3, "the renamed, edited and added files are read");
    let with_cache = outputs(&catalog);
    catalog
        .run(&["build", "--no-cache", "--allow-drop", "--quiet"])
        .expect(0);
    assert_same(&with_cache, &outputs(&catalog));
}

/// The kept listing (`.pimfeed/listing.bin`): once the folders' stamps are old enough to vouch
/// for their entries, a build reads only the folders whose entries changed, and builds what a
/// build without the cache builds.
#[test]
fn a_build_lists_again_only_the_folders_whose_entries_changed() {
    let catalog = Catalog::fixture("basic");
    let listed = |run: &crate::common::Run| {
        let stderr = run.stderr();
        let line = stderr
            .lines()
            .find(|line| line.contains("of which listing the product files"))
            .map(str::to_string);
        line.unwrap_or_else(|| panic!("no listing in --timings:\n{stderr}"))
    };
    let first = catalog
        .run(&["build", "--allow-drop", "--timings"])
        .expect(0);
    assert!(
        listed(&first).contains("(3 of 3 folders read"),
        "{}",
        listed(&first)
    );
    assert!(catalog.path().join(".pimfeed/listing.bin").exists());
    // The folders were made just now: a stamp within a second of the read vouches for nothing.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = catalog
        .run(&["build", "--allow-drop", "--timings"])
        .expect(0);
    assert!(
        listed(&second).contains("(3 of 3 folders read"),
        "{}",
        listed(&second)
    );
    let third = catalog
        .run(&["build", "--allow-drop", "--timings"])
        .expect(0);
    assert!(
        listed(&third).contains("(0 of 3 folders read"),
        "{}",
        listed(&third)
    );

    let dr2 = catalog.read("content/products/tools/DR-2.toml");
    catalog.write(
        "content/products/tools/AA-1.toml",
        &dr2.replace("DR-2", "AA-1"),
    );
    let added = catalog
        .run(&["build", "--allow-drop", "--timings"])
        .expect(0);
    assert!(
        listed(&added).contains("(1 of 3 folders read"),
        "{}",
        listed(&added)
    );
    assert!(catalog.read("feeds/report/report.json").contains("AA-1"));
    let with_cache = outputs(&catalog);
    let cold = catalog
        .run(&["build", "--no-cache", "--allow-drop", "--timings"])
        .expect(0);
    assert!(
        listed(&cold).contains("a walk of content/products"),
        "{}",
        listed(&cold)
    );
    assert_same(&with_cache, &outputs(&catalog));
}
