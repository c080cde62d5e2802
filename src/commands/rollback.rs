use std::path::Path;

use super::exit;
use super::publish::{publish_config, report_error};
use crate::cli::{PublishFormat, RollbackArgs};
use crate::publish::{self, ReleaseIndex, target::Target};

/// `rollback`: an earlier release back at the stable keys, or `--list` of them.
pub fn run(root: &Path, args: &RollbackArgs) -> u8 {
    let json = args.format == PublishFormat::Json;
    let fail = |message: String| {
        report_error(&message, json);
        exit::OPERATIONAL
    };
    let (config, _, _) = match publish_config(root, json) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let target = match Target::open(&config, root) {
        Ok(target) => target,
        Err(err) => return fail(err.to_string()),
    };
    if args.list {
        return match ReleaseIndex::read(&target) {
            Ok(index) => list(&index, json),
            Err(err) => fail(err.to_string()),
        };
    }
    match publish::rollback(&config, &target, args.id.as_deref()) {
        Ok(done) if json => {
            super::write_stdout(&format!(
                "{}\n",
                serde_json::json!({ "ok": true, "rollback": done })
            ));
            exit::OK
        }
        Ok(done) => {
            for key in &done.restored {
                eprintln!("restored  {key}");
            }
            for key in &done.removed {
                eprintln!("removed   {key}");
            }
            eprintln!(
                "{} now serves release {} (was {})",
                target.describe(&config),
                done.release,
                done.from.as_deref().unwrap_or("unknown")
            );
            exit::OK
        }
        Err(err) => fail(err.to_string()),
    }
}

fn list(index: &ReleaseIndex, json: bool) -> u8 {
    if json {
        let document =
            serde_json::json!({ "ok": true, "current": index.current, "releases": index.releases });
        super::write_stdout(&format!("{document}\n"));
        return exit::OK;
    }
    if index.releases.is_empty() {
        eprintln!("the target has no releases yet: run `pimfeed publish`");
        return exit::OK;
    }
    let mut out = String::new();
    for release in index.releases.iter().rev() {
        let mark = if index.current.as_deref() == Some(release.id.as_str()) {
            "*"
        } else {
            " "
        };
        let commit = release
            .commit
            .as_deref()
            .map_or("-", |c| &c[..c.len().min(12)]);
        let items: Vec<String> = release
            .channels
            .iter()
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        out.push_str(&format!(
            "{mark} {}  built {}  published {}  commit {commit}  {}\n",
            release.id,
            release.built_at,
            release.published_at,
            items.join(" ")
        ));
    }
    super::print_stdout(&out)
}
