//! The user guide in `docs/` (an mdBook): every relative link and `#anchor` resolves, every
//! chapter is in `SUMMARY.md`, and every command and preset the binary knows has its chapter.
//! External links are not fetched. mdBook itself builds the guide in CI (`.ci/run`); these
//! checks need no tool and point at the file and line of each broken link.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::common::Catalog;

const REPOSITORY: &str = env!("CARGO_MANIFEST_DIR");

/// A Markdown file's heading anchors and the links it makes, each with its line.
struct Page {
    anchors: BTreeSet<String>,
    links: Vec<(usize, String)>,
}

/// The anchor mdBook gives a heading: its text, lower-cased, spaces as `-`, punctuation
/// dropped; a repeated heading gets `-1`, `-2`, … (mdBook's `normalize_id` and `unique_id`).
fn anchor(text: &str, seen: &mut BTreeMap<String, usize>) -> String {
    let id: String = text
        .trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().next().unwrap_or(c))
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect();
    let count = seen.entry(id.clone()).or_insert(0);
    let unique = if *count == 0 {
        id
    } else {
        format!("{id}-{count}")
    };
    *count += 1;
    unique
}

fn parse(text: &str) -> Page {
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut page = Page {
        anchors: BTreeSet::new(),
        links: Vec::new(),
    };
    let mut seen = BTreeMap::new();
    let mut heading: Option<String> = None;
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => {
                if let Some(text) = heading.take() {
                    page.anchors.insert(anchor(&text, &mut seen));
                }
            }
            Event::Text(part) | Event::Code(part) => {
                if let Some(heading) = &mut heading {
                    heading.push_str(&part);
                }
            }
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                page.links
                    .push((line_of(range.start), dest_url.to_string()));
            }
            _ => {}
        }
    }
    page
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Every relative link in `files` whose target file or anchor does not exist, as
/// `file:line: message`. Links to other sites (`https:`, `mailto:`) are not checked.
fn broken_links(root: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut pages: BTreeMap<PathBuf, Page> = BTreeMap::new();
    let mut page_of = |path: &Path| -> Option<BTreeSet<String>> {
        if !pages.contains_key(path) {
            let text = std::fs::read_to_string(path).ok()?;
            pages.insert(path.to_path_buf(), parse(&text));
        }
        Some(pages[path].anchors.clone())
    };
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).expect("a readable Markdown file");
        let shown = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (line, link) in parse(&text).links {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (target, fragment) = match link.split_once('#') {
                Some((target, fragment)) => (target, Some(fragment)),
                None => (link.as_str(), None),
            };
            let target_path = if target.is_empty() {
                file.clone()
            } else {
                normalise(&file.parent().expect("a file has a folder").join(target))
            };
            if !target_path.exists() {
                problems.push(format!("{shown}:{line}: `{link}`: no file {target}"));
                continue;
            }
            let Some(fragment) = fragment else { continue };
            let is_markdown = target_path.extension().is_some_and(|e| e == "md");
            match page_of(&target_path) {
                Some(anchors) if is_markdown && !anchors.contains(fragment) => {
                    problems.push(format!(
                        "{shown}:{line}: `{link}`: no heading with anchor #{fragment}"
                    ));
                }
                _ => {}
            }
        }
    }
    problems
}

fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            files.extend(markdown_files(&path));
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn guide() -> PathBuf {
    Path::new(REPOSITORY).join("docs/src")
}

#[test]
fn every_relative_link_and_anchor_in_the_guide_and_readme_resolves() {
    let root = Path::new(REPOSITORY);
    let mut files = markdown_files(&guide());
    files.push(root.join("README.md"));
    assert!(files.len() > 20, "the guide has its chapters: {files:?}");
    let problems = broken_links(root, &files);
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_chapter_is_in_the_summary() {
    let summary_path = guide().join("SUMMARY.md");
    let summary = parse(&std::fs::read_to_string(&summary_path).expect("SUMMARY.md"));
    let listed: BTreeSet<PathBuf> = summary
        .links
        .iter()
        .map(|(_, link)| normalise(&guide().join(link)))
        .collect();
    let orphans: Vec<String> = markdown_files(&guide())
        .into_iter()
        .filter(|file| *file != summary_path && !listed.contains(file))
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        orphans.is_empty(),
        "chapters missing from docs/src/SUMMARY.md (mdBook would not build them):\n{}",
        orphans.join("\n")
    );
}

#[test]
fn the_link_check_finds_a_missing_file_and_a_missing_anchor() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let page = dir.path().join("page.md");
    std::fs::write(
        dir.path().join("other.md"),
        "# Other page\n\n## The `pim.toml` settings\n\n## Rules\n\n## Rules\n",
    )
    .expect("written");
    std::fs::write(
        &page,
        "# Page\n\n\
         [fine](other.md#the-pimtoml-settings), [second rules](other.md#rules-1),\n\
         [here](#page), [web](https://example.com/missing.md)\n\n\
         [gone](missing.md)\n\n\
         [no anchor](other.md#settings)\n\n\
         ```toml\n[not a link](nowhere.md)\n```\n",
    )
    .expect("written");
    let problems = broken_links(dir.path(), &[page]);
    assert_eq!(
        problems,
        vec![
            "page.md:6: `missing.md`: no file missing.md".to_string(),
            "page.md:8: `other.md#settings`: no heading with anchor #settings".to_string(),
        ]
    );
}

/// The names a `Usage`/`Commands:` listing of `pimfeed --help` shows.
fn commands_in_help(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_has_its_chapter() {
    let help = Catalog::empty().run(&["--help"]).expect(0).stdout();
    let commands = commands_in_help(&help);
    assert!(commands.contains(&"build".to_string()), "{help}");
    for command in commands {
        let chapter = guide().join(format!("commands/{command}.md"));
        assert!(
            chapter.is_file(),
            "`pimfeed {command}` has no chapter: add docs/src/commands/{command}.md and list it \
             in docs/src/SUMMARY.md"
        );
    }
}

#[test]
fn every_preset_has_its_chapter() {
    let catalog = Catalog::example();
    let config = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &config.replace("preset = \"webshop-json\"", "preset = \"x\""),
    );
    let run = catalog.run(&["check"]).expect(2);
    let stderr = run.stderr();
    let listed = stderr
        .split("presets: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("the error lists the presets: {stderr}"));
    let presets: Vec<&str> = listed.split(", ").map(str::trim).collect();
    assert!(presets.contains(&"google-merchant"), "{listed}");
    for preset in presets {
        let chapter = guide().join(format!("channels/{preset}.md"));
        assert!(
            chapter.is_file(),
            "preset `{preset}` has no chapter: add docs/src/channels/{preset}.md with its rules \
             and their sources, and list it in docs/src/SUMMARY.md"
        );
    }
}

/// The keys a table accepts, as serde lists them when it meets one it does not know:
/// "unknown field `x`, expected one of `a`, `b`" (or "expected `a`").
fn expected_keys(stderr: &str) -> Vec<String> {
    let Some(rest) = stderr
        .split("unknown field `zzz_unknown`, expected ")
        .nth(1)
    else {
        panic!("no list of the keys it takes in: {stderr}");
    };
    let list = rest.split([';', '\n']).next().unwrap_or_default();
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

const CATALOG: &str = "[catalog]\nname = \"T\"\nbase_url = \"https://t.example\"\n\
                       locales = [\"nl-NL\"]\ncurrency = \"EUR\"\n";
const FILE_ERP: &str = "[erp]\nsource = \"file\"\npath = \"erp/items.csv\"\n";
const HTTP_ERP: &str = "[erp]\nsource = \"http\"\nurl = \"http://127.0.0.1:9/\"\n";

/// Every key every table of `pim.toml`, `schema.toml` and `categories.toml` takes is named in
/// the guide chapter that documents that table: a new setting comes with its documentation.
#[test]
fn every_setting_the_catalog_files_take_is_in_the_guide() {
    let unknown = "zzz_unknown = 1\n";
    let http_with = |table: &str| format!("{CATALOG}{HTTP_ERP}{table}{unknown}");
    let pim_toml_cases: Vec<(String, &str)> = vec![
        (
            format!("{unknown}{CATALOG}{FILE_ERP}"),
            "configuration/pim-toml.md",
        ),
        (
            format!("{CATALOG}{unknown}{FILE_ERP}"),
            "configuration/pim-toml.md",
        ),
        (
            format!("{CATALOG}{FILE_ERP}[build]\n{unknown}"),
            "configuration/pim-toml.md",
        ),
        (
            format!("{CATALOG}{FILE_ERP}[new]\n{unknown}"),
            "configuration/pim-toml.md",
        ),
        (
            format!("{CATALOG}{FILE_ERP}[publish]\nto = \"out\"\n{unknown}"),
            "configuration/pim-toml.md",
        ),
        (
            format!("{CATALOG}{FILE_ERP}[guard]\n{unknown}"),
            "configuration/pim-toml.md",
        ),
        (format!("{CATALOG}{FILE_ERP}{unknown}"), "erp/file.md"),
        (format!("{CATALOG}{HTTP_ERP}{unknown}"), "erp/http.md"),
        (
            http_with("[erp.paging]\nkind = \"offset\"\n"),
            "erp/http.md",
        ),
        (http_with("[erp.paging]\nkind = \"page\"\n"), "erp/http.md"),
        (
            http_with("[erp.paging]\nkind = \"cursor\"\npointer = \"/c\"\nparam = \"c\"\n"),
            "erp/http.md",
        ),
        (
            http_with("[erp.paging]\nkind = \"next-link\"\npointer = \"/n\"\n"),
            "erp/http.md",
        ),
        (
            http_with("[erp.auth]\nkind = \"bearer\"\ntoken_env = \"T\"\n"),
            "erp/http.md",
        ),
        (
            http_with("[erp.auth]\nkind = \"basic\"\nusername_env = \"U\"\npassword_env = \"P\"\n"),
            "erp/http.md",
        ),
        (
            http_with("[erp.auth]\nkind = \"header\"\nname = \"X\"\nvalue_env = \"V\"\n"),
            "erp/http.md",
        ),
        (
            http_with(
                "[erp.auth]\nkind = \"oauth2\"\ntoken_url = \"https://t.example/token\"\n\
                 client_id_env = \"I\"\nclient_secret_env = \"S\"\n",
            ),
            "erp/http.md",
        ),
        (
            format!("{CATALOG}{FILE_ERP}[channels.x]\npreset = \"webshop-json\"\n{unknown}"),
            "configuration/channels.md",
        ),
        (
            format!(
                "{CATALOG}{FILE_ERP}[channels.x]\npreset = \"bol-offers\"\n[channels.x.push]\n\
                 client_id_env = \"I\"\nclient_secret_env = \"S\"\n{unknown}"
            ),
            "channels/bol-offers.md",
        ),
    ];
    let mut missing = Vec::new();
    let mut check = |stderr: &str, chapter: &str| {
        let text = std::fs::read_to_string(guide().join(chapter)).expect("the chapter");
        for key in expected_keys(stderr) {
            let named = [format!("`{key}`"), format!("[{key}"), format!(".{key}]")]
                .iter()
                .any(|form| text.contains(form.as_str()));
            if !named {
                missing.push(format!("`{key}` is not in docs/src/{chapter}"));
            }
        }
    };
    for (pim_toml, chapter) in &pim_toml_cases {
        let catalog = Catalog::empty();
        catalog.write("pim.toml", pim_toml);
        check(&catalog.run(&["check"]).expect(2).stderr(), chapter);
    }
    let content_cases = [
        (
            "content/schema.toml",
            "[attributes.title]\ntype = \"text\"\nzzz_unknown = 1\n",
        ),
        (
            "content/schema.toml",
            "[families.tools]\nattributes = []\nzzz_unknown = 1\n",
        ),
        (
            "content/categories.toml",
            "[categories.\"tools\"]\nzzz_unknown = 1\n",
        ),
    ];
    for (file, text) in content_cases {
        let catalog = Catalog::example();
        catalog.write(file, text);
        let run = catalog.run(&["check"]);
        let chapter = if file.ends_with("schema.toml") {
            "catalog/schema.md"
        } else {
            "catalog/categories.md"
        };
        check(&run.stderr(), chapter);
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
