//! Every GitHub Actions workflow (this repository's, and the one `pimfeed init` writes) is
//! valid YAML, and every pimfeed command and flag its scripts run exists in this pimfeed.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::common::Catalog;

/// The scripts of every `run:` step of a workflow, after YAML parsing (anchors resolved).
fn run_scripts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let yaml: serde_norway::Value = serde_norway::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not valid YAML: {err}", path.display()));
    assert!(
        yaml["jobs"].as_mapping().is_some_and(|j| !j.is_empty()),
        "{}: no jobs",
        path.display()
    );
    let mut scripts = Vec::new();
    for (_, job) in yaml["jobs"].as_mapping().unwrap() {
        for step in job["steps"].as_sequence().into_iter().flatten() {
            assert!(
                step.get("uses").is_some() || step.get("run").is_some(),
                "{}: a step with neither `uses` nor `run`",
                path.display()
            );
            if let Some(script) = step["run"].as_str() {
                scripts.push(script.to_string());
            }
        }
    }
    scripts
}

/// Each pimfeed invocation in a script: its subcommand (if any) and its `--flags`.
fn invocations(script: &str) -> Vec<(Option<String>, Vec<String>)> {
    const SEPARATORS: &[&str] = &["&&", "||", ";", "|", "then", "else", "do", "if", "!"];
    let mut found = Vec::new();
    for line in script.lines() {
        let line = line.split(" #").next().unwrap_or_default();
        let tokens: Vec<&str> = line.split_whitespace().collect();
        for (at, token) in tokens.iter().enumerate() {
            let program = token.rsplit('/').next().unwrap_or_default();
            let command_position = at == 0 || SEPARATORS.contains(&tokens[at - 1]);
            if !command_position || !matches!(program, "pimfeed" | "pimfeed.exe") {
                continue;
            }
            let rest: Vec<&str> = tokens[at + 1..]
                .iter()
                .take_while(|t| !SEPARATORS.contains(t) && !t.starts_with('>'))
                .copied()
                .collect();
            let subcommand = rest
                .first()
                .filter(|t| !t.starts_with('-'))
                .map(|t| t.to_string());
            let flags = rest
                .iter()
                .filter(|t| t.starts_with("--"))
                .map(|t| t.split('=').next().unwrap().to_string())
                .collect();
            found.push((subcommand, flags));
        }
    }
    found
}

/// Panics unless `pimfeed SUBCOMMAND --FLAG…` exists in this build's command line.
fn assert_exists(workflow: &Path, subcommand: Option<&str>, flags: &[String]) {
    let mut root = pimfeed::cli::Cli::command();
    root.build();
    let command = match subcommand {
        Some(name) => root.find_subcommand(name).unwrap_or_else(|| {
            panic!(
                "{}: `pimfeed {name}` is not a pimfeed command",
                workflow.display()
            )
        }),
        None => &root,
    };
    for flag in flags {
        let long = flag.trim_start_matches("--");
        let known = command
            .get_arguments()
            .chain(root.get_arguments())
            .any(|arg| arg.get_long() == Some(long));
        assert!(
            known,
            "{}: `pimfeed {} {flag}` is not a flag of that command",
            workflow.display(),
            subcommand.unwrap_or("")
        );
    }
}

fn check_workflow(path: &Path) -> usize {
    let mut checked = 0;
    for script in run_scripts(path) {
        for (subcommand, flags) in invocations(&script) {
            assert_exists(path, subcommand.as_deref(), &flags);
            checked += 1;
        }
    }
    checked
}

#[test]
fn the_checker_finds_commands_and_catches_unknown_ones() {
    let found = invocations(
        "if [ -d x ]; then\n  pimfeed refresh --quiet\nelse pimfeed build --allow-drop > out # --nope\nfi\ncargo install pimfeed",
    );
    assert_eq!(
        found,
        [
            (Some("refresh".to_string()), vec!["--quiet".to_string()]),
            (Some("build".to_string()), vec!["--allow-drop".to_string()]),
        ]
    );
    let bad = std::panic::catch_unwind(|| {
        assert_exists(
            Path::new("x.yml"),
            Some("publish"),
            &["--dry-runn".to_string()],
        )
    });
    assert!(bad.is_err());
    let bad = std::panic::catch_unwind(|| assert_exists(Path::new("x.yml"), Some("deploy"), &[]));
    assert!(bad.is_err());
}

#[test]
fn this_repositorys_workflows_parse_and_use_only_real_commands() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    assert!(files.iter().any(|f| f.ends_with("release.yml")));
    for file in &files {
        check_workflow(file);
    }
    // The template `init` writes, as it is in the source.
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/init/github/pimfeed.yml");
    assert!(check_workflow(&template) >= 6);
}

#[test]
fn init_ci_only_writes_the_workflow_for_master_and_never_overwrites() {
    let catalog = Catalog::fixture("basic");
    let mut options = git2::RepositoryInitOptions::new();
    options.initial_head("master");
    git2::Repository::init_opts(catalog.path(), &options).unwrap();
    let run = catalog.run(&["init", "--ci-only"]).expect(0);
    assert!(run.stderr().contains("`master`"), "{}", run.stderr());
    let path = catalog.path().join(".github/workflows/pimfeed.yml");
    let workflow = std::fs::read_to_string(&path).unwrap();
    assert!(workflow.contains("branches: [master]"));
    assert!(workflow.contains(&format!(
        "PIMFEED_VERSION: \"{}\"",
        env!("CARGO_PKG_VERSION")
    )));
    for placeholder in ["{{name}}", "{{version}}", "{{branch}}", "{{repository}}"] {
        assert!(
            !workflow.contains(placeholder),
            "{placeholder} is left:\n{workflow}"
        );
    }
    let yaml: serde_norway::Value = serde_norway::from_str(&workflow).unwrap();
    // Installs a release binary with its checksum checked, never compiles.
    let install = yaml["jobs"]["publish"]["steps"][1]["run"].as_str().unwrap();
    assert!(install.contains("sha256sum --check"), "{install}");
    assert!(!workflow.contains("cargo install"));
    // Refresh on a schedule, with .pimfeed/ restored; merge and schedule never overlap.
    assert!(yaml["on"]["schedule"][0]["cron"].as_str().is_some());
    assert_eq!(
        yaml["jobs"]["publish"]["steps"][2]["with"]["path"],
        ".pimfeed"
    );
    assert_eq!(
        yaml["jobs"]["publish"]["concurrency"]["cancel-in-progress"],
        false
    );
    // Content errors (exit 1: products kept or left out) still publish, then fail the job.
    let build = yaml["jobs"]["publish"]["steps"][3]["run"].as_str().unwrap();
    assert!(build.contains("[ \"$status\" -le 1 ]"), "{build}");
    assert_eq!(
        yaml["jobs"]["publish"]["steps"][4]["run"],
        "pimfeed publish --quiet"
    );
    assert!(check_workflow(&path) >= 6);
    catalog.run(&["init", "--ci-only"]).expect(2);
}
