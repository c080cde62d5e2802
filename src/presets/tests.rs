//! The registry checked as a whole, so that a new preset is checked without editing anything
//! but its own module and its line in [`PRESETS`]. `tests/it/presets.rs` builds a catalog with
//! a channel of every preset.

use super::*;

#[test]
fn every_preset_has_a_unique_name_and_a_chapter_in_the_guide() {
    let guide = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src");
    let summary = std::fs::read_to_string(guide.join("SUMMARY.md")).unwrap();
    let mut names = Vec::new();
    for preset in Preset::all() {
        let name = preset.name();
        assert!(!names.contains(&name), "two presets are called `{name}`");
        names.push(name);
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "`{name}`: a preset's name is kebab-case"
        );
        assert_eq!(Preset::from_name(name), Some(preset));
        let chapter = format!("channels/{name}.md");
        assert!(guide.join(&chapter).is_file(), "no docs/src/{chapter}");
        assert!(
            summary.contains(&format!("({chapter})")),
            "docs/src/SUMMARY.md does not list {chapter}"
        );
    }
    assert_eq!(names.len(), PRESETS.len());
}

#[test]
fn built_in_templates_have_the_blocks_the_renderer_needs() {
    for preset in Preset::all() {
        let Some(template) = preset.def().builtin_template() else {
            continue;
        };
        for block in ["header", "item", "footer"] {
            assert!(
                template.contains(&format!("block {block}")),
                "{}: the built-in template has no `{block}` block",
                preset.name()
            );
        }
    }
}
