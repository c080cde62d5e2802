//! `content/categories.toml`: the category tree and each channel's taxonomy mapping.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diagnostics::Diagnostic;

pub const CATEGORIES_FILE: &str = "content/categories.toml";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Locale → display name.
    #[serde(default)]
    pub name: BTreeMap<String, String>,
    /// Google product taxonomy id.
    pub google: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Categories {
    /// Keyed by the category's path in the tree, e.g. `tools/drills/cordless`.
    #[serde(default)]
    pub categories: BTreeMap<String, Category>,
}

impl Categories {
    pub fn parse(text: &str, file: &Path) -> Result<Categories, Box<Diagnostic>> {
        toml::from_str(text).map_err(|err| {
            Box::new(Diagnostic::from_toml_error(
                &err,
                file,
                text,
                "categories",
                "a category has `name.<locale>` and an optional `google` taxonomy id",
            ))
        })
    }

    pub fn get(&self, path: &str) -> Option<&Category> {
        self.categories.get(path)
    }

    /// The category's name in `locale`, falling back to its path.
    pub fn display_name<'a>(&'a self, path: &'a str, locale: &str) -> &'a str {
        self.get(path)
            .and_then(|c| c.name.get(locale))
            .map_or(path, String::as_str)
    }
}
