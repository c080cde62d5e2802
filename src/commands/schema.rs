use std::path::Path;

use super::exit;
use crate::cli::SchemaArgs;
use crate::content::json_schema::{self, SCHEMA_PATH, TAPLO_CONFIG};
use crate::pipeline;

pub fn run(root: &Path, args: &SchemaArgs) -> u8 {
    let json = match generate(root) {
        Ok(json) => json,
        Err(code) => return code,
    };
    if args.stdout {
        return super::print_stdout(&json);
    }
    match write(root, &json) {
        Ok(()) => exit::OK,
        Err(message) => {
            eprintln!("error: {message}");
            exit::OPERATIONAL
        }
    }
}

/// The schema as pretty JSON, or the exit code after reporting why not.
fn generate(root: &Path) -> Result<String, u8> {
    let config = pipeline::load_config(root)
        .map_err(|failure| super::fail(&failure, root, crate::cli::Format::Human))?;
    let content = crate::content::load(root, &config).map_err(|diagnostics| {
        super::fail(
            &pipeline::Failure::Schema(diagnostics),
            root,
            crate::cli::Format::Human,
        )
    })?;
    let schema = json_schema::generate(&config, &content.schema, &content.categories);
    let mut json = serde_json::to_string_pretty(&schema).map_err(|err| {
        eprintln!("error: cannot write the schema as JSON: {err}");
        exit::OPERATIONAL
    })?;
    json.push('\n');
    Ok(json)
}

/// Writes the schema and, when the catalog has no Taplo configuration, one that uses it.
pub fn write(root: &Path, json: &str) -> Result<(), String> {
    let path = root.join(SCHEMA_PATH);
    std::fs::write(&path, json).map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    eprintln!("wrote {SCHEMA_PATH}");
    let taplo = root.join(TAPLO_CONFIG);
    match std::fs::read_to_string(&taplo) {
        Ok(existing) if existing.contains(SCHEMA_PATH) => {}
        Ok(_) => eprintln!(
            "{TAPLO_CONFIG} exists and does not use the schema; add this rule to it:\n\n{}",
            json_schema::taplo_config()
        ),
        Err(_) => {
            std::fs::write(&taplo, json_schema::taplo_config())
                .map_err(|err| format!("cannot write {}: {err}", taplo.display()))?;
            eprintln!(
                "wrote {TAPLO_CONFIG}: editors with Taplo (VS Code: Even Better TOML) now check content/products/**/*.toml"
            );
        }
    }
    Ok(())
}
