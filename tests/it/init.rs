//! `pimfeed init`, then the newcomer's loop: check, build, a change on a branch, `diff main`;
//! and `pimfeed new` stubs that check then points into.

use crate::common::Catalog;

/// `pimfeed init shop` in a fresh folder; the catalog is `shop/`.
fn init_shop() -> (Catalog, std::path::PathBuf) {
    let dir = Catalog::empty();
    let run = dir.run(&["init", "shop"]).expect(0);
    assert!(
        run.stderr().contains("created the catalog `shop`"),
        "{}",
        run.stderr()
    );
    let root = dir.path().join("shop");
    (dir, root)
}

fn pimfeed(root: &std::path::Path, args: &[&str]) -> crate::common::Run {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .args(args)
        .current_dir(root)
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    crate::common::Run(output)
}

#[test]
fn init_then_check_and_build_pass_and_leave_the_repository_clean() {
    let (_dir, root) = init_shop();
    for file in [
        "pim.toml",
        "README.md",
        ".gitignore",
        ".taplo.toml",
        ".github/workflows/pimfeed.yml",
        "content/schema.toml",
        "content/categories.toml",
        "content/product.schema.json",
        "erp/items.csv",
        "templates/comparison.xml",
    ] {
        assert!(root.join(file).is_file(), "{file}");
    }
    assert!(
        std::fs::read_to_string(root.join("pim.toml"))
            .unwrap()
            .contains("name = \"shop\"")
    );

    let json = pimfeed(&root, &["check", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(json["errors"], 0);
    assert_eq!(json["warnings"], 0);
    let google = &json["report"]["channels"][1];
    assert_eq!(google["name"], "google");
    assert_eq!(google["items"], 3);
    assert_eq!(google["left_out"][0]["sku"], "SD-6");
    assert_eq!(
        json["report"]["erp_without_content"],
        serde_json::json!(["SD-8"])
    );

    pimfeed(&root, &["build"]).expect(0);
    for feed in [
        "google.xml",
        "webshop.json",
        "comparison.xml",
        "manifest.json",
    ] {
        assert!(root.join("feeds").join(feed).is_file(), "{feed}");
    }

    let repo = git2::Repository::open(&root).unwrap();
    let head = repo.head().unwrap();
    assert_eq!(head.shorthand().unwrap(), "main");
    assert_eq!(
        head.peel_to_commit().unwrap().summary().unwrap(),
        Some("Start the catalog with pimfeed init")
    );
    // feeds/ is ignored: a build leaves nothing to commit.
    let mut options = git2::StatusOptions::new();
    options.include_untracked(true).include_ignored(false);
    let statuses = repo.statuses(Some(&mut options)).unwrap();
    let dirty: Vec<String> = statuses
        .iter()
        .map(|s| s.path().unwrap().to_string())
        .collect();
    assert!(dirty.is_empty(), "{dirty:?}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("feeds/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["git"]["dirty"], false);
}

#[test]
fn a_change_on_a_branch_shows_in_diff_main() {
    let (_dir, root) = init_shop();
    let repo = git2::Repository::open(&root).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.branch("more-photos", &head, false).unwrap();
    repo.set_head("refs/heads/more-photos").unwrap();
    let file = root.join("content/products/hand-tools/SD-6.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text + "\n[[images]]\nurl = \"https://cdn.shop.example/img/SD-6-1.jpg\"\n",
    )
    .unwrap();
    let human = pimfeed(&root, &["diff", "main"]).expect(0).stdout();
    assert!(
        human.contains("google (google.xml): 3 → 4 items\n  + SD-6 becomes live (was left out: `images` is required and has no value)"),
        "{human}"
    );
    // SD-6 has no stock: the comparison channel's filter keeps it out either way.
    assert!(
        human.contains("comparison (comparison.xml): no changes"),
        "{human}"
    );
}

#[test]
fn init_refuses_a_folder_that_is_not_empty() {
    let dir = Catalog::empty();
    dir.write("shop/notes.txt", "mine");
    let run = dir.run(&["init", "shop"]).expect(2);
    assert!(
        run.stderr().contains("is not empty (notes.txt…)"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("never overwrites"),
        "{}",
        run.stderr()
    );
    assert!(!dir.path().join("shop/pim.toml").exists());
    assert_eq!(dir.read("shop/notes.txt"), "mine");
}

#[test]
fn new_writes_stubs_that_check_points_into_and_never_overwrites() {
    let (_dir, root) = init_shop();
    let run = pimfeed(&root, &["new", "--missing"]).expect(0);
    assert!(
        run.stderr()
            .contains("wrote content/products/hand-tools/SD-8.toml (hand-tools)"),
        "{}",
        run.stderr()
    );
    let stub_path = root.join("content/products/hand-tools/SD-8.toml");
    let stub = std::fs::read_to_string(&stub_path).unwrap();
    for expected in [
        "# In the ERP: 27.50 EUR, 40 in stock, GTIN 8712345000059, MPN SD8.",
        "sku = \"SD-8\"\nfamily = \"hand-tools\"\n",
        "# Family `hand-tools` requires: title, description, images.",
        "# title (required): text, localized, 10–150 characters.\n# title.en-GB = \"\"\n",
        "# length_mm: measurement in mm (a number, without the unit), whole number, at least 1.\n# length_mm = 1\n",
        "# color: enum, one of: black, blue, red, yellow, green.\n# color = \"black\"\n",
        "# [[images]]",
    ] {
        assert!(stub.contains(expected), "missing {expected:?} in:\n{stub}");
    }
    // Tables come last: every key after `[[images]]` would belong to it.
    assert!(stub.rfind("# [[images]]").unwrap() > stub.rfind("# color").unwrap());

    // Valid as it is, incomplete, and check says what is missing where.
    let json = pimfeed(&root, &["check", "--format", "json"])
        .expect(0)
        .json();
    assert_eq!(json["errors"], 0);
    let google = &json["report"]["channels"][1];
    let sd8 = google["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "SD-8")
        .unwrap();
    let missing: Vec<&str> = sd8["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attribute"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(missing, ["title", "description", "images", "brand"]);

    // Filled in by the marketer; `new` never touches it again.
    std::fs::write(
        &stub_path,
        stub.replace(
            "# title.en-GB = \"\"",
            "title.en-GB = \"Forgewell SD-8 screwdrivers\"",
        ),
    )
    .unwrap();
    let run = pimfeed(&root, &["new", "SD-8"]).expect(0);
    assert!(
        run.stderr()
            .contains("SD-8: already has content in content/products/hand-tools/SD-8.toml"),
        "{}",
        run.stderr()
    );
    let run = pimfeed(&root, &["new", "--missing"]).expect(0);
    assert!(
        run.stderr().contains("every ERP item has a content file"),
        "{}",
        run.stderr()
    );
    assert!(
        std::fs::read_to_string(&stub_path)
            .unwrap()
            .contains("title.en-GB = \"Forgewell SD-8 screwdrivers\"")
    );

    // A SKU without a family rule needs --family.
    let run = pimfeed(&root, &["new", "XX-1"]).expect(2);
    assert!(
        run.stderr().contains("which family? Pass --family NAME"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("\"XX-\" = "), "{}", run.stderr());
    pimfeed(&root, &["new", "XX-1", "--family", "power-tools"]).expect(0);
    assert!(
        root.join("content/products/power-tools/XX-1.toml")
            .is_file()
    );
    let run = pimfeed(&root, &["new", "XX-2", "--family", "power-tool"]).expect(2);
    assert!(
        run.stderr().contains("did you mean `power-tools`?"),
        "{}",
        run.stderr()
    );
}

#[test]
fn the_workflow_checks_pull_requests_comments_the_diff_and_publishes_on_main() {
    let (_dir, root) = init_shop();
    let workflow = std::fs::read_to_string(root.join(".github/workflows/pimfeed.yml")).unwrap();
    for expected in [
        "pull_request:",
        "branches: [main]",
        "fetch-depth: 0",
        &format!("PIMFEED_VERSION: \"{}\"", env!("CARGO_PKG_VERSION")),
        "releases/download/v$PIMFEED_VERSION",
        "sha256sum --check",
        "pimfeed check --format github",
        "pimfeed diff \"origin/${{ github.base_ref }}\" --format markdown > pimfeed-diff.md",
        "marocchino/sticky-pull-request-comment@v2",
        "pimfeed build",
        "pimfeed publish",
        "actions/upload-pages-artifact@v3",
        "path: feeds",
        "actions/deploy-pages@v4",
    ] {
        assert!(workflow.contains(expected), "missing {expected:?}");
    }
    let gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(gitignore.contains("/feeds/") && gitignore.contains("/.pimfeed/"));
}
