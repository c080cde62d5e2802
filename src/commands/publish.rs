use std::path::Path;
use std::time::Duration;

use super::{exit, fail};
use crate::cli::{Cli, Format, PublishArgs, PublishFormat};
use crate::config::{GuardConfig, PublishConfig};
use crate::lock::CatalogLock;
use crate::pipeline;
use crate::publish::{self, PublishError, target::Target};
use crate::ui::Progress;

/// `publish`: the last build's feeds to `[publish] to`.
pub fn run(root: &Path, args: &PublishArgs, cli: &Cli) -> u8 {
    let json = args.format == PublishFormat::Json;
    let (config, guard, feeds) = match publish_config(root, json) {
        Ok(found) => found,
        Err(code) => return code,
    };
    // A refresh swapping feeds/ while they are uploaded would mix two builds in one release.
    let _lock = match CatalogLock::acquire(root, Duration::from_secs(args.wait), || {
        if !json {
            eprintln!(
                "waiting for a pimfeed build or refresh of this catalog to finish (at most {}s, see --wait)",
                args.wait
            );
        }
    }) {
        Ok(lock) => lock,
        Err(err) => return operational(&err.to_string(), json),
    };
    let target = match Target::open(&config, root) {
        Ok(target) => target,
        Err(err) => return operational(&err.to_string(), json),
    };
    let progress = Progress::new(!cli.quiet && !json);
    let result = publish::publish(&config, &guard, &target, &feeds, args.allow_drop, &progress);
    progress.finish();
    let published = match result {
        Ok(published) => published,
        Err(err) => {
            let code = match err {
                PublishError::Guard(_) => exit::CONTENT,
                _ => exit::OPERATIONAL,
            };
            report_error(&err.to_string(), json);
            if !json {
                eprintln!(
                    "the feeds at {} were left as they were",
                    target.describe(&config)
                );
            }
            return code;
        }
    };
    if json {
        let document = serde_json::json!({ "ok": true, "published": published });
        super::write_stdout(&format!(
            "{document}
"
        ));
        return exit::OK;
    }
    let where_to = target.describe(&config);
    if published.uploaded.is_empty() {
        eprintln!(
            "{where_to} already serves this build (release {}): nothing to upload",
            published.release
        );
    } else {
        for key in &published.uploaded {
            eprintln!("uploaded  {key}");
        }
        for key in &published.removed {
            eprintln!("removed   {key}");
        }
        eprintln!(
            "published release {} to {where_to}: {} files uploaded, {} unchanged",
            published.release,
            published.uploaded.len(),
            published.unchanged
        );
        if !published.pruned.is_empty() {
            eprintln!("dropped old releases {}", published.pruned.join(", "));
        }
    }
    for (channel, url) in &published.urls {
        eprintln!("{channel}  {url}");
    }
    exit::OK
}

/// `[publish]` from pim.toml and the folder of the last build.
/// On failure, it has been reported (a bad pim.toml with its line) and this is the exit code.
pub(super) fn publish_config(
    root: &Path,
    json: bool,
) -> Result<(PublishConfig, GuardConfig, std::path::PathBuf), u8> {
    let format = if json { Format::Json } else { Format::Human };
    let config = pipeline::load_config(root).map_err(|failure| fail(&failure, root, format))?;
    let feeds = root.join(&config.build.output);
    let guard = config.guard;
    let publish = config.publish.ok_or_else(|| {
        operational(
            "pim.toml has no [publish] section: add one with `to = \"s3://bucket/prefix\"` or a folder (see `pimfeed publish --help`)",
            json,
        )
    })?;
    Ok((publish, guard, feeds))
}

pub(super) fn report_error(message: &str, json: bool) {
    if json {
        super::write_stdout(&format!(
            "{}\n",
            serde_json::json!({ "ok": false, "error": message })
        ));
    } else {
        eprintln!("error: {message}");
    }
}

fn operational(message: &str, json: bool) -> u8 {
    report_error(message, json);
    exit::OPERATIONAL
}
