use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::exit;
use crate::cli::{Format, NewArgs};
use crate::content::{self, PRODUCTS_DIR, stub};
use crate::erp::ErpRecord;
use crate::pipeline::{self, Failure};

pub fn run(root: &Path, args: &NewArgs) -> u8 {
    let config = match pipeline::load_config(root) {
        Ok(config) => config,
        Err(failure) => return super::fail(&failure, root, Format::Human),
    };
    let content = match content::load(root, &config) {
        Ok(content) => content,
        Err(diagnostics) => {
            return super::fail(&Failure::Schema(diagnostics), root, Format::Human);
        }
    };
    let families: Vec<&str> = content.schema.families.keys().map(String::as_str).collect();
    let text = std::fs::read_to_string(root.join(crate::config::CONFIG_FILE)).unwrap_or_default();
    let unknown = crate::config_check::stub_families(&config, &families, &text);
    if !unknown.is_empty() {
        super::show_diagnostics(&unknown, root, Format::Human);
        return exit::OPERATIONAL;
    }
    if let Some(family) = &args.family
        && !content.schema.families.contains_key(family)
    {
        let known = content.schema.families.keys().map(String::as_str);
        let hint = match crate::suggest::nearest(family, known.clone()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("families: {}", known.collect::<Vec<_>>().join(", ")),
        };
        eprintln!("error: unknown family `{family}`; {hint}");
        return exit::OPERATIONAL;
    }
    let records = match pipeline::pull_erp(&config, root) {
        Ok((records, _)) => records,
        Err(failure) if !args.missing => {
            eprintln!("warning: {failure}; writing the stubs without ERP details");
            Vec::new()
        }
        Err(failure) => return super::fail(&failure, root, Format::Human),
    };

    let known = known_skus(root, &content);
    let targets: Vec<String> = if args.missing {
        records
            .iter()
            .filter(|r| !known.contains(r.sku.as_str()))
            .map(|r| r.sku.clone())
            .collect()
    } else {
        args.skus.clone()
    };
    if args.missing && targets.is_empty() {
        eprintln!("every ERP item has a content file; nothing to do");
        return exit::OK;
    }

    let ctx = stub::StubContext {
        schema: &content.schema,
        categories: &content.categories,
        locales: &config.catalog.locales,
    };
    let mut written = 0;
    let mut failed = false;
    for sku in &targets {
        if let Some(file) = content
            .products
            .iter()
            .find(|p| &p.sku == sku)
            .map(|p| &p.file)
        {
            eprintln!("{sku}: already has content in {file}; left as it is");
            continue;
        }
        if known.contains(sku.as_str()) {
            eprintln!(
                "{sku}: already named in a content file with errors; fix it (pimfeed check) instead"
            );
            continue;
        }
        let family = args
            .family
            .as_deref()
            .or_else(|| config.new.family_for(sku))
            .or_else(|| {
                (content.schema.families.len() == 1)
                    .then(|| content.schema.families.keys().next().map(String::as_str))
                    .flatten()
            });
        let Some((family_name, family)) =
            family.and_then(|name| content.schema.families.get_key_value(name))
        else {
            failed = true;
            match family {
                Some(name) => eprintln!(
                    "{sku}: [new.family_by_sku_prefix] in pim.toml names family `{name}`, which content/schema.toml does not define"
                ),
                None => eprintln!(
                    "{sku}: which family? Pass --family NAME, or map SKU prefixes in pim.toml:\n  [new.family_by_sku_prefix]\n  \"{}\" = \"{}\"",
                    prefix_of(sku),
                    content
                        .schema
                        .families
                        .keys()
                        .next()
                        .map_or("…", String::as_str)
                ),
            }
            continue;
        };
        let record: Option<&ErpRecord> = records.iter().find(|r| &r.sku == sku);
        if record.is_none() && !records.is_empty() {
            eprintln!("{sku}: not in the ERP export; writing the stub anyway");
        }
        let relative = PathBuf::from(PRODUCTS_DIR)
            .join(family_name)
            .join(stub::file_name(sku));
        let text = stub::render(sku, family_name, family, record, &ctx);
        match create_new(&root.join(&relative), &text) {
            Ok(()) => {
                written += 1;
                eprintln!("wrote {} ({family_name})", relative.display());
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                eprintln!(
                    "{sku}: {} already exists; left as it is",
                    relative.display()
                );
            }
            Err(err) => {
                failed = true;
                eprintln!("{sku}: cannot write {}: {err}", relative.display());
            }
        }
    }
    if written > 0 {
        eprintln!(
            "{} written: fill in the values, then run `pimfeed check` to see what each channel still misses",
            crate::wording::count(written, "stub")
        );
    }
    if failed { exit::OPERATIONAL } else { exit::OK }
}

/// SKUs that have content, including those in files that have errors (so `--missing` never
/// writes a second file for a product whose file is merely broken).
fn known_skus(root: &Path, content: &content::Content) -> HashSet<String> {
    static SKU_LINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?m)^\s*sku\s*=\s*["']([^"']+)["']"#).expect("valid regex")
    });
    let mut known: HashSet<String> = content.products.iter().map(|p| p.sku.clone()).collect();
    for file in &content.broken_files {
        if let Ok(text) = std::fs::read_to_string(root.join(file)) {
            known.extend(
                SKU_LINE
                    .captures_iter(&text)
                    .map(|c| c[1].trim().to_string()),
            );
        }
    }
    known
}

/// `MK-DHP482` → `MK-`: a suggestion for the prefix map.
fn prefix_of(sku: &str) -> &str {
    sku.find(['-', '_', '.'])
        .map_or(sku, |index| &sku[..=index])
}

/// Writes a new file; never replaces one.
fn create_new(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}
