//! The crate's top-level modules import one way: each sits in a layer and uses only modules of
//! the layers below it, so a reader can learn the code bottom-up and a change to a leaf cannot
//! loop back through the pipeline. The layers are written out here (bottom first); an import
//! that points up or sideways fails this test with the file and line that makes it.
//!
//! Imports are read from the source text: `crate::module` paths outside comments and outside
//! the `#[cfg(test)]` module that ends a file (tests may use anything).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom first. A module may use the modules of any lower layer, never one of its own layer
/// or above.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "leaves",
        &[
            "wording",
            "suggest",
            "redact",
            "ui",
            "money",
            "gtin",
            "text",
            "pimfeed_folder",
            "staging",
            "positioned",
            "one_shot",
        ],
    ),
    ("the catalog lock", &["lock"]),
    ("problems with their place", &["diagnostics"]),
    ("the settings in pim.toml", &["config"]),
    ("ERP records", &["erp"]),
    ("content files", &["content", "config_check"]),
    ("history", &["git"]),
    ("marketplace APIs", &["push"]),
    ("channels", &["channels"]),
    ("merge", &["merge"]),
    ("the gate's vocabulary", &["verdict"]),
    ("feed files", &["output"]),
    ("feed files verified by their pieces", &["feed_fragments"]),
    ("the presets", &["presets"]),
    (
        "channels from pim.toml, and the gate",
        &["channel_resolution", "validate"],
    ),
    ("items", &["render"]),
    ("the report", &["report"]),
    ("the last build", &["last_build"]),
    ("what a build keeps", &["cache", "keep", "guard"]),
    ("going live", &["swap"]),
    ("the build", &["pipeline"]),
    ("after a build", &["diff", "publish", "serve"]),
    ("the command line", &["cli"]),
    ("commands", &["commands"]),
];

#[test]
fn top_level_modules_import_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = top_level_modules(&src);
    let layer_of: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(index, (_, modules))| modules.iter().map(move |module| (*module, index)))
        .collect();
    let unplaced: Vec<&String> = modules
        .iter()
        .filter(|module| !layer_of.contains_key(module.as_str()))
        .collect();
    assert!(
        unplaced.is_empty(),
        "put these modules in a layer of tests/it/module_graph.rs: {unplaced:?}"
    );

    let mut upward = Vec::new();
    for import in imports(&src, &modules) {
        let (from, to) = (layer_of[import.from.as_str()], layer_of[import.to.as_str()]);
        if to < from {
            continue;
        }
        upward.push(format!(
            "{}:{}: `{}` ({}) uses `{}` ({})",
            import.file.display(),
            import.line,
            import.from,
            LAYERS[from].0,
            import.to,
            LAYERS[to].0
        ));
    }
    assert!(
        upward.is_empty(),
        "imports that point up or sideways:\n{}",
        upward.join("\n")
    );
}

/// The names of `src/`'s modules, but for the binary's and the library's roots.
fn top_level_modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_string();
            if path.is_dir() {
                // A folder without `mod.rs` holds data (`init/`'s templates), or the
                // submodules of a `NAME.rs` beside it.
                path.join("mod.rs").exists().then_some(name)
            } else {
                name.strip_suffix(".rs").map(str::to_string)
            }
        })
        .filter(|name| name != "main" && name != "lib")
        .collect()
}

struct Import {
    file: PathBuf,
    line: usize,
    from: String,
    to: String,
}

fn imports(src: &Path, modules: &BTreeSet<String>) -> Vec<Import> {
    let mut found = Vec::new();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).unwrap().to_path_buf();
        let first = relative.components().next().unwrap();
        let first = first.as_os_str().to_str().unwrap();
        let from = first.strip_suffix(".rs").unwrap_or(first).to_string();
        if !modules.contains(&from) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = code_of(&text);
        for (offset, to) in crate_paths(&code) {
            if to != from && modules.contains(&to) {
                found.push(Import {
                    file: Path::new("src").join(&relative),
                    line: code[..offset].matches('\n').count() + 1,
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    found
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The file up to its `#[cfg(test)]` module, with comments blanked out (lines kept, so
/// offsets still tell the line).
fn code_of(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|pair| {
            pair[0].trim() == "#[cfg(test)]" && pair[1].trim_start().starts_with("mod ")
        })
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules named after `crate::`, in `crate::a::b` and `crate::{a, b::c}` (also across
/// lines), each with the byte offset of its name.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::") {
        let start = from + at;
        from = start + "crate::".len();
        let preceded_by_ident = code[..start]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if preceded_by_ident {
            continue;
        }
        let rest = &code[from..];
        let Some(group) = rest.strip_prefix('{') else {
            found.push((from, identifier(rest)));
            continue;
        };
        let mut depth = 0;
        let mut item_start = true;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => item_start = true,
                c if item_start && (c.is_alphabetic() || c == '_') => {
                    found.push((from + 1 + i, identifier(&group[i..])));
                    item_start = false;
                }
                _ => {}
            }
        }
    }
    found
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn crate_paths_reads_single_paths_and_groups() {
    let names = |code: &str| -> Vec<String> {
        crate_paths(code)
            .into_iter()
            .map(|(_, name)| name)
            .collect()
    };
    assert_eq!(names("use crate::render::ItemSpan;"), ["render"]);
    assert_eq!(
        names("use crate::{\n    cache::{self, Digest},\n    erp::ErpRecord,\n};"),
        ["cache", "erp"]
    );
    assert_eq!(
        names("x: crate::merge::money(a), y: crate::ui::bar()"),
        ["merge", "ui"]
    );
    assert!(names("use foocrate::x;").is_empty());
}
