//! Loading the enrichment: schema, categories and every product file.
//!
//! Every file is read and checked even when others are broken, so one run reports every
//! problem (ripgrep's "keep going, fail at the end"). Files are found in a stable order and
//! parsed in parallel; the order of products never depends on thread timing.

pub mod categories;
pub mod json_schema;
pub mod product;
pub mod schema;
pub mod source;
pub mod stub;
pub mod value;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use categories::{Categories, Category};
pub use product::{AttrValue, Product};
pub use schema::{AttributeDef, AttributeType, Family, Schema};
pub use source::CatalogSource;

use crate::config::Config;
use crate::diagnostics::Diagnostic;

pub const PRODUCTS_DIR: &str = "content/products";

/// Everything the content files say, with every problem found in them.
#[derive(Debug)]
pub struct Content {
    pub schema: Schema,
    pub categories: Categories,
    /// In file path order; variants in file order.
    pub products: Vec<Product>,
    /// Files that had errors; their products are left out everywhere.
    pub broken_files: Vec<PathBuf>,
    pub diagnostics: Vec<Diagnostic>,
    pub file_count: usize,
}

/// Reads and checks all content under `root`. `Err` only when nothing can be checked at all
/// (the schema itself is unreadable or broken); file-level problems are diagnostics.
pub fn load(root: &Path, config: &Config) -> Result<Content, Vec<Diagnostic>> {
    load_from(&CatalogSource::dir(root), config)
}

/// [`load`] from any source: the working tree, or a git revision (for `pimfeed diff`).
pub fn load_from(root: &CatalogSource, config: &Config) -> Result<Content, Vec<Diagnostic>> {
    let schema_path = Path::new(schema::SCHEMA_FILE);
    let schema_text = read(root, schema_path).map_err(|d| vec![*d])?;
    let (schema, mut diagnostics) = Schema::parse(&schema_text, schema_path);
    let schema = match schema {
        Some(schema) if !diagnostics.iter().any(Diagnostic::is_error) => schema,
        _ => return Err(diagnostics),
    };

    let categories_path = Path::new(categories::CATEGORIES_FILE);
    let categories = if root.is_file(categories_path) {
        let text = read(root, categories_path).map_err(|d| vec![*d])?;
        match Categories::parse(&text, categories_path) {
            Ok(categories) => categories,
            Err(diagnostic) => {
                diagnostics.push(*diagnostic);
                return Err(diagnostics);
            }
        }
    } else {
        Categories::default()
    };

    let files = product_files(root).map_err(|d| vec![*d])?;
    let channels: Vec<String> = config.channels.keys().cloned().collect();
    let ctx = product::ParseContext {
        schema: &schema,
        categories: &categories,
        locales: &config.catalog.locales,
        channels: &channels,
    };
    let parsed: Vec<(PathBuf, Vec<Product>, Vec<Diagnostic>)> = files
        .par_iter()
        .map(|relative| match read(root, relative) {
            Ok(text) => {
                let (products, diagnostics) = product::parse_file(relative, &text, &ctx);
                (relative.clone(), products, diagnostics)
            }
            Err(diagnostic) => (relative.clone(), Vec::new(), vec![*diagnostic]),
        })
        .collect();

    let file_count = parsed.len();
    let mut products = Vec::new();
    let mut broken_files = Vec::new();
    for (file, file_products, file_diagnostics) in parsed {
        if file_diagnostics.iter().any(Diagnostic::is_error) {
            broken_files.push(file);
        }
        diagnostics.extend(file_diagnostics);
        products.extend(file_products);
    }
    let duplicates = duplicate_skus(root, &products);
    if !duplicates.is_empty() {
        let dropped: std::collections::HashSet<(String, String)> = duplicates
            .iter()
            .map(|(d, sku)| (d.file.to_string_lossy().into_owned(), sku.clone()))
            .collect();
        products.retain(|p| !dropped.contains(&(p.file.to_string(), p.sku.clone())));
        for (diagnostic, _) in duplicates {
            broken_files.push(diagnostic.file.clone());
            diagnostics.push(diagnostic);
        }
    }
    Ok(Content {
        schema,
        categories,
        products,
        broken_files,
        diagnostics,
        file_count,
    })
}

/// Catalog-relative paths of every `*.toml` under `content/products`, sorted.
fn product_files(root: &CatalogSource) -> Result<Vec<PathBuf>, Box<Diagnostic>> {
    root.files_under(Path::new(PRODUCTS_DIR), "toml")
        .map_err(|err| {
            Box::new(Diagnostic::file_error(
                "io",
                &err.path,
                format!("cannot read: {}", err.message),
            ))
        })
}

fn read(root: &CatalogSource, relative: &Path) -> Result<String, Box<Diagnostic>> {
    root.read_to_string(relative).map_err(|err| {
        Box::new(Diagnostic::file_error(
            "io",
            relative,
            format!("cannot read {}: {err}", relative.display()),
        ))
    })
}

/// A SKU defined in two places: an error on the later one, naming the first. Both are
/// returned so the later definition can be dropped.
fn duplicate_skus(root: &CatalogSource, products: &[Product]) -> Vec<(Diagnostic, String)> {
    let mut first_seen: HashMap<&str, &Product> = HashMap::with_capacity(products.len());
    let mut duplicates = Vec::new();
    for product in products {
        let Some(first) = first_seen.get(product.sku.as_str()).copied() else {
            first_seen.insert(&product.sku, product);
            continue;
        };
        let file = Path::new(&*product.file);
        let text = root.read_to_string(file).unwrap_or_default();
        let start = line_start(&text, product.line);
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let diagnostic = Diagnostic::error(
            "duplicate-sku",
            file,
            &text,
            start..end,
            format!(
                "SKU `{}` is also defined in {} (line {})",
                product.sku, first.file, first.line
            ),
        )
        .with_help("each ERP item has exactly one content file; merge the two or fix the SKU");
        duplicates.push((diagnostic, product.sku.clone()));
    }
    duplicates
}

fn line_start(text: &str, line: u32) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum()
}
