//! Loading the enrichment: schema, categories and every product file.
//!
//! Every file is read and checked even when others are broken, so one run reports every
//! problem (ripgrep's "keep going, fail at the end"). Files are found in a stable order and
//! parsed in parallel batches; the order of products never depends on thread timing, and a
//! catalog never has to fit in memory at once.

pub mod categories;
pub mod derived;
pub mod json_line;
pub mod json_schema;
pub mod kept_listing;
pub mod named;
pub mod product;
pub mod schema;
pub mod source;
pub mod stub;
pub mod value;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

pub use categories::{Categories, Category};
pub use product::{AttrValue, Product};
pub use schema::{AttributeDef, AttributeType, Family, Schema};
pub use source::CatalogSource;

use crate::diagnostics::Diagnostic;

pub const PRODUCTS_DIR: &str = "content/products";

/// The files every product is checked against.
#[derive(Debug)]
pub struct Model {
    pub schema: Schema,
    pub categories: Categories,
    /// Warnings found in the schema and categories (errors make loading fail).
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads `content/schema.toml` and `content/categories.toml`. `Err` when products cannot be
/// checked at all because one of them is unreadable or broken.
pub fn load_model(root: &CatalogSource) -> Result<Model, Vec<Diagnostic>> {
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
    Ok(Model {
        schema,
        categories,
        diagnostics,
    })
}

/// A whole catalog in memory, for comparing two revisions (`pimfeed diff`). Builds stream
/// through [`parse_files`] in batches instead.
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

/// [`load_from`] the catalog folder `root`.
pub fn load(root: &Path, config: &crate::config::Config) -> Result<Content, Vec<Diagnostic>> {
    load_from(&CatalogSource::dir(root), config)
}

/// Reads and checks a whole catalog from `root` (the working tree or a git revision). `Err`
/// only when nothing can be checked at all (the schema is unreadable or broken).
pub fn load_from(
    root: &CatalogSource,
    config: &crate::config::Config,
) -> Result<Content, Vec<Diagnostic>> {
    let model = load_model(root)?;
    let files = product_files(root).map_err(|d| vec![*d])?;
    let channels: Vec<String> = config.channels.keys().cloned().collect();
    let ctx = product::ParseContext {
        schema: &model.schema,
        categories: &model.categories,
        locales: &config.catalog.locales,
        channels: &channels,
        // `pimfeed diff` checks quality once per revision: nothing to share.
        description_text_locales: &[],
    };
    let mut diagnostics = model.diagnostics;
    let mut products = Vec::new();
    let mut broken_files = Vec::new();
    let mut skus = SkuRegistry::default();
    for file in parse_files(root, &files, &ctx) {
        let (admitted, duplicates) = skus.admit(root, file.products);
        if file.diagnostics.iter().any(Diagnostic::is_error) || !duplicates.is_empty() {
            broken_files.push(file.path);
        }
        diagnostics.extend(file.diagnostics);
        diagnostics.extend(duplicates);
        products.extend(admitted);
    }
    Ok(Content {
        schema: model.schema,
        categories: model.categories,
        products,
        broken_files,
        diagnostics,
        file_count: files.len(),
    })
}

/// One product file, read and checked.
pub struct ParsedFile {
    pub path: PathBuf,
    /// Empty when the file has errors: its products are left out everywhere.
    pub products: Vec<Product>,
    pub diagnostics: Vec<Diagnostic>,
    /// The SKUs (with their lines) of a file with errors: products left out because of them.
    pub skus_with_errors: Vec<(String, u32)>,
}

/// Reads and checks `files` (catalog-relative) in parallel, keeping their order.
pub fn parse_files(
    root: &CatalogSource,
    files: &[PathBuf],
    ctx: &product::ParseContext<'_>,
) -> Vec<ParsedFile> {
    files
        .par_iter()
        .map(|relative| match root.read_bytes(relative) {
            Ok(bytes) => parse_bytes(relative, bytes, ctx),
            Err(err) => unreadable(relative, read_error(relative, &err)),
        })
        .collect()
}

/// Checks one product file already read.
pub fn parse_text(relative: &Path, text: &str, ctx: &product::ParseContext<'_>) -> ParsedFile {
    let (products, diagnostics) = product::parse_file(relative, text, ctx);
    let skus_with_errors = match diagnostics.iter().any(Diagnostic::is_error) {
        true => named::skus_named(text),
        false => Vec::new(),
    };
    ParsedFile {
        path: relative.to_path_buf(),
        products,
        diagnostics,
        skus_with_errors,
    }
}

/// Checks one product file's bytes: one that is not UTF-8 is an error at its first bad byte.
pub fn parse_bytes(relative: &Path, bytes: Vec<u8>, ctx: &product::ParseContext<'_>) -> ParsedFile {
    match String::from_utf8(bytes) {
        Ok(text) => parse_text(relative, &text, ctx),
        Err(err) => {
            let bytes = err.into_bytes();
            let diagnostic = named::utf8_error(relative, &bytes).expect("not UTF-8");
            ParsedFile {
                skus_with_errors: named::skus_named(&String::from_utf8_lossy(&bytes)),
                ..unreadable(relative, diagnostic)
            }
        }
    }
}

/// A product file that could not be read: no products, one error.
pub fn unreadable(relative: &Path, diagnostic: Diagnostic) -> ParsedFile {
    ParsedFile {
        path: relative.to_path_buf(),
        products: Vec::new(),
        diagnostics: vec![diagnostic],
        skus_with_errors: Vec::new(),
    }
}

/// The error for a product file that cannot be read.
pub fn read_error(relative: &Path, err: &std::io::Error) -> Diagnostic {
    Diagnostic::file_error(
        "io",
        relative,
        format!("cannot read {}: {err}", relative.display()),
    )
}

/// Remembers every SKU seen so far, so a catalog streamed in batches still finds a SKU that
/// two files define. The first file (in path order) keeps it.
///
/// Every product of a build passes through it on one core, in catalog order: keys are hashed
/// with foldhash rather than SipHash, and each SKU is stored once, shared with the title
/// check (see [`SkuRegistry::claim`]).
#[derive(Default)]
pub struct SkuRegistry {
    seen: HashMap<Arc<str>, (Arc<str>, u32), foldhash::fast::RandomState>,
}

impl SkuRegistry {
    /// Keeps the products whose SKU is new; for each repeat, an error naming the first file.
    pub fn admit(
        &mut self,
        root: &CatalogSource,
        products: Vec<Product>,
    ) -> (Vec<Product>, Vec<Diagnostic>) {
        let mut admitted = Vec::with_capacity(products.len());
        let mut diagnostics = Vec::new();
        for product in products {
            match self.seen.entry(product.sku.as_str().into()) {
                Entry::Occupied(first) => {
                    let (file, line) = first.get();
                    diagnostics.push(duplicate_sku(root, &product, file, *line));
                }
                Entry::Vacant(vacant) => {
                    vacant.insert((product.file.clone(), product.line));
                    admitted.push(product);
                }
            }
        }
        (admitted, diagnostics)
    }

    /// Room for `additional` more SKUs, so that the registry does not grow (and rehash) a
    /// step at a time while a large catalog streams through.
    pub fn reserve(&mut self, additional: usize) {
        self.seen.reserve(additional);
    }

    /// Registers `sku` for `file`, in one lookup, unless a file has it already (an earlier
    /// one, or `file` itself at another line): the SKU as stored, to share, or `None`. A file
    /// taken from the build cache claims each of its SKUs this way, and gives back what it
    /// claimed with [`SkuRegistry::release_file`] when one is taken. The SKU is stored as the
    /// cache entry holds it, shared rather than copied.
    pub fn claim(&mut self, sku: &Arc<str>, file: &Arc<str>, line: u32) -> Option<Arc<str>> {
        match self.seen.entry(sku.clone()) {
            Entry::Vacant(vacant) => {
                let sku = vacant.key().clone();
                vacant.insert((file.clone(), line));
                Some(sku)
            }
            Entry::Occupied(_) => None,
        }
    }

    /// Forgets those of `skus` that `file` claimed. A file is checked once per build, so
    /// every SKU registered to it was claimed by this check of it.
    pub fn release_file<'s>(&mut self, file: &str, skus: impl Iterator<Item = &'s str>) {
        for sku in skus {
            if self
                .seen
                .get(sku)
                .is_some_and(|(owner, _)| &**owner == file)
            {
                self.seen.remove(sku);
            }
        }
    }

    /// Whether none of `skus` has been seen yet.
    pub fn all_new<'s>(&self, mut skus: impl Iterator<Item = &'s str>) -> bool {
        skus.all(|sku| !self.seen.contains_key(sku))
    }

    /// Records a SKU already known to be unique.
    pub fn register_sku(&mut self, sku: &str, file: &Arc<str>, line: u32) {
        self.seen.insert(sku.into(), (file.clone(), line));
    }

    /// Records a product already known to be unique (from the last build's content).
    pub fn register(&mut self, product: &Product) {
        self.register_sku(&product.sku, &product.file, product.line);
    }

    pub fn contains(&self, sku: &str) -> bool {
        self.seen.contains_key(sku)
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// Catalog-relative paths of every `*.toml` under `content/products`, sorted.
pub fn product_files(root: &CatalogSource) -> Result<Vec<PathBuf>, Box<Diagnostic>> {
    root.files_under(Path::new(PRODUCTS_DIR), "toml")
        .map_err(|err| cannot_list(&err))
}

/// The suffix of a product file's name.
pub const PRODUCT_FILE_SUFFIX: &str = ".toml";

/// The error of a folder that cannot be listed.
pub fn cannot_list(err: &source::SourceError) -> Box<Diagnostic> {
    Box::new(Diagnostic::file_error(
        "io",
        &err.path,
        format!("cannot read: {}", err.message),
    ))
}

/// An error on the later definition of a SKU, naming where it was defined first.
fn duplicate_sku(
    root: &CatalogSource,
    product: &Product,
    first_file: &str,
    first_line: u32,
) -> Diagnostic {
    let file = Path::new(&*product.file);
    let text = root.read_to_string(file).unwrap_or_default();
    let start = line_start(&text, product.line);
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    Diagnostic::error(
        "duplicate-sku",
        file,
        &text,
        start..end,
        format!(
            "SKU `{}` is also defined in {first_file} (line {first_line})",
            product.sku
        ),
    )
    .with_help("each ERP item has exactly one content file; merge the two or fix the SKU")
}

fn line_start(text: &str, line: u32) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum()
}

fn read(root: &CatalogSource, relative: &Path) -> Result<String, Box<Diagnostic>> {
    root.read_to_string(relative)
        .map_err(|err| Box::new(read_error(relative, &err)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_sku_is_the_first_files_and_a_released_file_gives_back_only_its_own() {
        let mut skus = SkuRegistry::default();
        let (a, b): (Arc<str>, Arc<str>) = ("a.toml".into(), "b.toml".into());
        let shared = skus.claim(&"A-1".into(), &a, 3).expect("a new SKU");
        assert_eq!(&*shared, "A-1");
        assert!(skus.claim(&"B-1".into(), &b, 1).is_some());
        assert!(
            skus.claim(&"B-1".into(), &b, 9).is_none(),
            "repeated in its own file"
        );
        assert!(
            skus.claim(&"A-1".into(), &b, 5).is_none(),
            "taken by a.toml"
        );

        skus.release_file("b.toml", ["B-1", "A-1"].into_iter());
        assert!(!skus.contains("B-1"));
        assert_eq!(skus.seen.get("A-1"), Some(&(a.clone(), 3)));
        assert_eq!(skus.len(), 1);
    }
}
