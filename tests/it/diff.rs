//! `pimfeed diff`: a git history of the basic catalog with the changes a marketer makes
//! (a product becoming complete, one losing its image, a copy change, a renamed file), and
//! what each does to every channel, in human, JSON and Markdown output.

use serde_json::Value;

use crate::common::Catalog;

/// A fixture catalog in a git repository, committed by one marketer at a fixed date.
struct History {
    catalog: Catalog,
    repo: git2::Repository,
}

impl History {
    fn new(fixture: &str) -> History {
        let catalog = Catalog::fixture(fixture);
        let mut options = git2::RepositoryInitOptions::new();
        options.initial_head("main");
        let repo = git2::Repository::init_opts(catalog.path(), &options).unwrap();
        let history = History { catalog, repo };
        history.commit("Base catalog");
        history
    }

    /// Commits every change in the working tree (new, changed and deleted files).
    fn commit(&self, message: &str) -> String {
        let mut index = self.repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        // 2026-01-01 12:00 UTC.
        let when = git2::Time::new(1_767_268_800, 0);
        let author = git2::Signature::new("Mia Marketer", "mia@example.com", &when).unwrap();
        let parent = self.repo.head().ok().map(|h| h.peel_to_commit().unwrap());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &author, &author, message, &tree, &parents)
            .unwrap()
            .to_string()
    }

    fn edit(&self, file: &str, edit: impl FnOnce(String) -> String) {
        let text = self.catalog.read(file);
        let changed = edit(text.clone());
        assert_ne!(text, changed, "the edit of {file} changed nothing");
        self.catalog.write(file, &changed);
    }

    fn diff_json(&self, args: &[&str]) -> Value {
        let mut full = vec!["diff"];
        full.extend(args);
        full.extend(["--format", "json"]);
        self.catalog.run(&full).expect(0).json()
    }
}

fn channel<'a>(diff: &'a Value, name: &str) -> &'a Value {
    diff["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no channel {name} in {diff:#}"))
}

fn skus(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect()
}

/// The basic catalog, then: DR-2 gets its image, DR-3 loses its image, DR-1's Dutch
/// description is reworded, and TS.toml moves to another folder.
fn marketer_history() -> (History, [String; 5]) {
    let history = History::new("basic");
    let base = history.repo.head().unwrap().target().unwrap().to_string();
    history.edit("content/products/tools/DR-2.toml", |text| {
        text + "\n[[images]]\nurl = \"https://cdn.example/DR-2.jpg\"\n"
    });
    let complete = history.commit("DR-2: add its photo");
    history.edit("content/products/tools/DR-3.toml", |text| {
        text.replace("[[images]]\nurl = \"https://cdn.example/DR-3.jpg\"\n", "")
    });
    let image_lost = history.commit("DR-3: remove the old photo");
    history.edit("content/products/tools/DR-1.toml", |text| {
        text.replace(
            "Een **krachtige** boormachine.",
            "Een **lichte** boormachine.",
        )
    });
    let copy = history.commit("DR-1: reword the description");
    std::fs::create_dir_all(history.catalog.path().join("content/products/apparel")).unwrap();
    std::fs::rename(
        history
            .catalog
            .path()
            .join("content/products/shirts/TS.toml"),
        history
            .catalog
            .path()
            .join("content/products/apparel/TS.toml"),
    )
    .unwrap();
    let renamed = history.commit("Move the shirts to apparel/");
    (history, [base, complete, image_lost, copy, renamed])
}

#[test]
fn a_product_becoming_complete_becomes_live_everywhere_it_was_left_out() {
    let (history, [base, complete, ..]) = marketer_history();
    let diff = history.diff_json(&[&base, &complete]);
    assert_eq!(diff["base"]["commit"], base.as_str());
    assert_eq!(diff["head"]["commit"], complete.as_str());
    for name in ["google", "webshop", "orders", "partner", "prices"] {
        let channel = channel(&diff, name);
        assert_eq!(skus(&channel["becomes_live"]), ["DR-2"], "{name}");
        assert!(skus(&channel["drops_out"]).is_empty(), "{name}");
        assert!(skus(&channel["changed"]).is_empty(), "{name}");
    }
    let google = channel(&diff, "google");
    assert_eq!(
        google["items_before"].as_u64().unwrap() + 1,
        google["items_after"].as_u64().unwrap()
    );
    let was = &google["becomes_live"][0];
    assert_eq!(was["new"], false);
    assert_eq!(was["reasons"][0]["code"], "missing-attribute");
    assert_eq!(was["reasons"][0]["attribute"], "images");

    let human = history
        .catalog
        .run(&["diff", &base, &complete])
        .expect(0)
        .stdout();
    assert!(
        human.contains(
            "  + DR-2 becomes live (was left out: `images` is required and has no value)\n"
        ),
        "{human}"
    );
    let markdown = history
        .catalog
        .run(&["diff", &base, &complete, "--format", "markdown"])
        .expect(0)
        .stdout();
    assert!(
        markdown.contains("**Becomes live** (1)\n\n- `DR-2` (was left out: `images` is required and has no value) · `content/products/tools/DR-2.toml:2`"),
        "{markdown}"
    );
}

#[test]
fn a_product_losing_its_image_drops_out_with_the_reason_and_who_changed_it() {
    let (history, [_, complete, image_lost, ..]) = marketer_history();
    let diff = history.diff_json(&[&complete, &image_lost]);
    // Google already left DR-3 out (its GTIN is wrong); every other channel loses it.
    assert!(skus(&channel(&diff, "google")["drops_out"]).is_empty());
    for name in ["webshop", "orders", "partner", "prices"] {
        let channel = channel(&diff, name);
        assert_eq!(skus(&channel["drops_out"]), ["DR-3"], "{name}");
        assert!(skus(&channel["becomes_live"]).is_empty(), "{name}");
    }
    let dropped = &channel(&diff, "webshop")["drops_out"][0];
    assert_eq!(dropped["file"], "content/products/tools/DR-3.toml");
    let reason = &dropped["reasons"][0];
    assert_eq!(reason["code"], "missing-attribute");
    assert_eq!(reason["message"], "`images` is required and has no value");
    // No line sets `images` any more: the reason points at the product (its `sku` line),
    // blamed at the head revision.
    assert_eq!(dropped["line"], 2);
    assert_eq!(reason["blame"]["committed"], true);
    assert_eq!(reason["blame"]["author"], "Mia Marketer");
    assert_eq!(reason["blame"]["date"], "2026-01-01");
    assert_eq!(reason["blame"]["summary"], "Base catalog");

    let human = history
        .catalog
        .run(&["diff", &complete, &image_lost])
        .expect(0)
        .stdout();
    assert!(
        human.contains(
            "  - DR-3 drops out: `images` is required and has no value (content/products/tools/DR-3.toml:2, last changed in "
        ),
        "{human}"
    );
    assert!(human.contains("by Mia Marketer on 2026-01-01)"), "{human}");
    assert!(human.contains("google (google.xml): no changes"), "{human}");

    let markdown = history
        .catalog
        .run(&["diff", &complete, &image_lost, "--format", "markdown"])
        .expect(0)
        .stdout();
    assert!(
        markdown.contains("#### webshop\n\n**Drops out** (1)\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!(
            "- `DR-3`: `images` is required and has no value · `content/products/tools/DR-3.toml:2` (last changed in {} by Mia Marketer on 2026-01-01)",
            &reason["blame"]["commit"].as_str().unwrap()[..7]
        )),
        "{markdown}"
    );
}

#[test]
fn a_copy_change_shows_the_changed_fields_only_where_the_copy_is_used() {
    let (history, [.., image_lost, copy, _]) = marketer_history();
    let diff = history.diff_json(&[&image_lost, &copy]);
    let google = channel(&diff, "google");
    assert_eq!(skus(&google["changed"]), ["DR-1"]);
    let fields = google["changed"][0]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 1, "{fields:#?}");
    assert_eq!(fields[0]["field"], "g:description");
    assert!(
        fields[0]["before"]
            .as_str()
            .unwrap()
            .starts_with("Een krachtige boormachine.")
    );
    assert!(
        fields[0]["after"]
            .as_str()
            .unwrap()
            .starts_with("Een lichte boormachine.")
    );
    let webshop_fields: Vec<&str> = channel(&diff, "webshop")["changed"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        webshop_fields.contains(&"attributes.description.nl-NL"),
        "{webshop_fields:?}"
    );
    // The English channels and the CSV price list do not carry the Dutch description.
    for name in ["orders", "partner", "prices"] {
        let channel = channel(&diff, name);
        assert!(skus(&channel["changed"]).is_empty(), "{name}: {channel:#}");
    }

    let human = history
        .catalog
        .run(&["diff", &image_lost, &copy])
        .expect(0)
        .stdout();
    assert!(
        human.contains("  ~ DR-1 changes g:description\n"),
        "{human}"
    );
    assert!(
        human.contains(
            "      g:description: \"Een krachtige boormachine.⏎⏎- Koolborstelloze motor⏎- 2 snelheden\" → \"Een lichte boormachine.⏎⏎- Koolborstelloze motor⏎- 2 snelheden\""
        ),
        "{human}"
    );
    assert!(
        human.ends_with(
            "2 of 5 channels change: 0 products become live, 0 drop out, 2 items change\n"
        ),
        "{human}"
    );

    let markdown = history
        .catalog
        .run(&["diff", &image_lost, &copy, "--format", "markdown"])
        .expect(0)
        .stdout();
    assert!(
        markdown.contains("| Channel | Feed | Items | Becomes live | Drops out | Changed |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| google | `google.xml` | 4 → 4 | 0 | 0 | 1 |"),
        "{markdown}"
    );
    assert!(markdown.contains("#### google\n"), "{markdown}");
    assert!(
        markdown
            .contains("<details><summary><code>DR-1</code>: <code>g:description</code></summary>"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| `g:description` | \"Een krachtige boormachine.⏎⏎- Koolborstelloze motor⏎- 2 snelheden\" | \"Een lichte boormachine."),
        "{markdown}"
    );
    assert!(!markdown.contains("#### orders"), "{markdown}");
    assert!(
        markdown.contains(&format!(
            "Compared `{}` with `{}`;",
            &image_lost[..7],
            &copy[..7]
        )),
        "{markdown}"
    );
}

#[test]
fn a_renamed_file_changes_no_feed() {
    let (history, [.., copy, renamed]) = marketer_history();
    let diff = history.diff_json(&[&copy, &renamed]);
    for channel in diff["channels"].as_array().unwrap() {
        assert_eq!(channel["status"], "same");
        assert!(skus(&channel["becomes_live"]).is_empty(), "{channel:#}");
        assert!(skus(&channel["drops_out"]).is_empty(), "{channel:#}");
        assert!(skus(&channel["changed"]).is_empty(), "{channel:#}");
    }
    let human = history
        .catalog
        .run(&["diff", &copy, &renamed])
        .expect(0)
        .stdout();
    assert!(human.ends_with("\nno feed changes\n"), "{human}");
    let markdown = history
        .catalog
        .run(&["diff", &copy, &renamed, "--format", "markdown"])
        .expect(0)
        .stdout();
    assert!(
        markdown.contains("No feed changes: every channel gets exactly the same items."),
        "{markdown}"
    );
}

#[test]
fn the_working_tree_is_the_default_head_and_uncommitted_lines_say_so() {
    let (history, [base, ..]) = marketer_history();
    // The whole history at once, by branch name.
    let diff = history.diff_json(&[&base, "main"]);
    let google = channel(&diff, "google");
    assert_eq!(skus(&google["becomes_live"]), ["DR-2"]);
    assert_eq!(skus(&google["changed"]), ["DR-1"]);

    // Uncommitted: DR-1 is switched off.
    history.edit("content/products/tools/DR-1.toml", |text| {
        text.replace("voltage = 18\n", "voltage = 18\nenabled = false\n")
    });
    let diff = history.diff_json(&["main"]);
    assert_eq!(diff["head"]["label"], "working tree");
    let dropped = &channel(&diff, "google")["drops_out"][0];
    assert_eq!(dropped["sku"], "DR-1");
    let reason = &dropped["reasons"][0];
    assert_eq!(reason["code"], "disabled");
    assert_eq!(reason["line"], 16);
    assert_eq!(reason["blame"]["committed"], false);
    let human = history.catalog.run(&["diff", "main"]).expect(0).stdout();
    assert!(
        human.contains("(content/products/tools/DR-1.toml:16, not committed yet)"),
        "{human}"
    );
}

#[test]
fn a_broken_file_on_the_head_side_drops_its_products_with_the_error() {
    let history = History::new("basic");
    history.edit("content/products/tools/DR-1.toml", |text| {
        text.replace("voltage = 18", "voltage = \"18 V\"")
    });
    let diff = history.diff_json(&["main"]);
    let dropped = &channel(&diff, "google")["drops_out"][0];
    assert_eq!(dropped["sku"], "DR-1");
    assert_eq!(dropped["reasons"][0]["code"], "content-error");
    assert!(
        dropped["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with(
                "content/products/tools/DR-1.toml has errors: `voltage` is a measurement attribute"
            )
    );
    assert_eq!(diff["head_errors"].as_array().unwrap().len(), 1);
}

#[test]
fn an_unknown_base_is_a_clear_error() {
    let history = History::new("basic");
    let run = history.catalog.run(&["diff", "no-such-branch"]).expect(2);
    assert!(
        run.stderr().contains("unknown revision `no-such-branch`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_shallow_clone_without_the_base_says_to_fetch_the_history() {
    let history = History::new("basic");
    let base = history.repo.head().unwrap().target().unwrap();
    history.edit("content/products/tools/DR-2.toml", |text| {
        text + "\n[[images]]\nurl = \"https://cdn.example/DR-2.jpg\"\n"
    });
    let head = history.commit("DR-2: add its photo");
    // What `git clone --depth 1` leaves: the head commit grafted as a root, the base's
    // commit object absent.
    let git_dir = history.repo.path().to_path_buf();
    std::fs::write(git_dir.join("shallow"), format!("{head}\n")).unwrap();
    let hex = base.to_string();
    let object = git_dir.join("objects").join(&hex[..2]).join(&hex[2..]);
    assert!(object.exists(), "the base commit is a loose object");
    std::fs::remove_file(object).unwrap();

    for revision in [hex.as_str(), "HEAD~1"] {
        let run = history.catalog.run(&["diff", revision]).expect(2);
        let stderr = run.stderr();
        assert!(
            stderr.contains("is not in this clone, which is shallow"),
            "{stderr}"
        );
        assert!(stderr.contains("git fetch --unshallow"), "{stderr}");
        assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
    }
}

#[test]
fn outside_a_git_repository_diff_says_what_it_needs() {
    let catalog = Catalog::fixture("basic");
    let run = catalog.run(&["diff", "main"]).expect(2);
    assert!(
        run.stderr().contains("is not inside a git repository"),
        "{}",
        run.stderr()
    );
}
