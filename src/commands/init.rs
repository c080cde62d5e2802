use std::path::Path;

use super::exit;
use crate::cli::InitArgs;
use crate::content::json_schema::{self, SCHEMA_PATH, TAPLO_CONFIG};

/// The example catalog, embedded so `init` works offline and matches this version.
/// `{{name}}` and `{{version}}` are filled in.
const FILES: &[(&str, &str)] = &[
    ("pim.toml", include_str!("../init/pim.toml")),
    ("README.md", include_str!("../init/README.md")),
    (".gitignore", include_str!("../init/gitignore")),
    (
        ".github/workflows/pimfeed.yml",
        include_str!("../init/github/pimfeed.yml"),
    ),
    (
        "content/schema.toml",
        include_str!("../init/content/schema.toml"),
    ),
    (
        "content/categories.toml",
        include_str!("../init/content/categories.toml"),
    ),
    (
        "content/products/power-tools/DR-100.toml",
        include_str!("../init/content/products/power-tools/DR-100.toml"),
    ),
    (
        "content/products/power-tools/DR-200.toml",
        include_str!("../init/content/products/power-tools/DR-200.toml"),
    ),
    (
        "content/products/hand-tools/HM-10.toml",
        include_str!("../init/content/products/hand-tools/HM-10.toml"),
    ),
    (
        "content/products/hand-tools/SD-6.toml",
        include_str!("../init/content/products/hand-tools/SD-6.toml"),
    ),
    ("erp/items.csv", include_str!("../init/erp/items.csv")),
    (
        "templates/comparison.xml",
        include_str!("../init/templates/comparison.xml"),
    ),
];

/// The repository whose GitHub releases hold the pimfeed binaries the workflow installs: the
/// release workflow builds with it set to its own repository.
const RELEASE_REPOSITORY: &str = match option_env!("PIMFEED_RELEASE_REPOSITORY") {
    Some(repository) => repository,
    None => "pimfeed/pimfeed",
};

const WORKFLOW_PATH: &str = ".github/workflows/pimfeed.yml";

/// A catalog file's text with the placeholders filled in.
fn fill(text: &str, name: &str, branch: &str) -> String {
    text.replace("{{name}}", name)
        .replace("{{version}}", env!("CARGO_PKG_VERSION"))
        .replace("{{repository}}", RELEASE_REPOSITORY)
        .replace("{{branch}}", branch)
}

pub fn run(args: &InitArgs) -> u8 {
    let done = match args.ci_only {
        true => init_ci_only(&args.dir),
        false => init(&args.dir, !args.no_git),
    };
    match done {
        Ok(()) => exit::OK,
        Err(message) => {
            eprintln!("error: {message}");
            exit::OPERATIONAL
        }
    }
}

fn init(dir: &Path, git: bool) -> Result<(), String> {
    check_empty(dir)?;
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let name = catalog_name(dir);
    for (relative, text) in FILES {
        write(dir, relative, &fill(text, &name, "main"))?;
    }
    write_editor_schema(dir)?;
    let committed = if git { git_init(dir)? } else { false };

    let shown = dir.display();
    eprintln!("created the catalog `{name}` in {shown}");
    if committed {
        eprintln!("  a git repository with a first commit on `main`");
    }
    eprintln!(
        "\nnext:\n  cd {shown}\n  pimfeed build                # feeds/ with every channel\n  \
         pimfeed check                # what is missing where (SD-6 has no images yet)\n  \
         pimfeed new --missing        # a stub for SD-8, which the ERP has and content has not\n  \
         git switch -c my-change      # edit content/products/…, then:\n  \
         pimfeed diff main            # exactly which channel items your change touches"
    );
    Ok(())
}

/// `init --ci-only`: only the GitHub Actions workflow, in an existing catalog repository, for
/// its `main` or `master` branch.
fn init_ci_only(dir: &Path) -> Result<(), String> {
    let root = crate::config::find_root(dir).ok_or_else(|| {
        format!(
            "no pim.toml in {} or above it: `pimfeed init --ci-only` adds CI to an existing catalog",
            dir.display()
        )
    })?;
    let path = root.join(WORKFLOW_PATH);
    if path.exists() {
        return Err(format!(
            "{} exists; pimfeed init never overwrites files: move it aside to get the new one",
            path.display()
        ));
    }
    let branch = default_branch(&root)?;
    let (_, text) = FILES
        .iter()
        .find(|(relative, _)| *relative == WORKFLOW_PATH)
        .ok_or("the workflow is missing from this pimfeed; this is a bug")?;
    write(
        &root,
        WORKFLOW_PATH,
        &fill(text, &catalog_name(&root), &branch),
    )?;
    eprintln!(
        "wrote {}: checks pull requests, builds and publishes on merge to `{branch}`, refreshes every 15 minutes",
        path.display()
    );
    eprintln!(
        "next: add a [publish] section to pim.toml (see `pimfeed publish --help`) and the repository secrets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    );
    Ok(())
}

/// `main` or `master`, whichever the repository has (its current branch first).
fn default_branch(root: &Path) -> Result<String, String> {
    let repo = git2::Repository::discover(root).map_err(|_| {
        format!(
            "{} is not in a git repository: run `git init` first",
            root.display()
        )
    })?;
    // HEAD's branch, also in a repository without commits yet.
    let current = repo
        .find_reference("HEAD")
        .ok()
        .and_then(|head| head.symbolic_target().ok().flatten().map(str::to_string))
        .map(|target| target.trim_start_matches("refs/heads/").to_string());
    let has = |name: &str| repo.find_branch(name, git2::BranchType::Local).is_ok();
    match current.as_deref() {
        Some(name @ ("main" | "master")) => Ok(name.to_string()),
        _ if has("main") => Ok("main".to_string()),
        _ if has("master") => Ok("master".to_string()),
        _ => Err(format!(
            "the repository has neither a `main` nor a `master` branch (it is on `{}`): the workflow publishes on merge to one of them",
            current.unwrap_or_default()
        )),
    }
}

/// `init` never overwrites: the folder must be new or empty (an empty `git init` is fine).
fn check_empty(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(format!("{} exists and is not a folder", dir.display()));
    }
    let entries =
        std::fs::read_dir(dir).map_err(|err| format!("cannot read {}: {err}", dir.display()))?;
    let mut found: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".git")
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    found.sort();
    found.truncate(3);
    Err(format!(
        "{} is not empty ({}…); pimfeed init never overwrites files: give it a new folder, e.g. `pimfeed init shop`",
        dir.display(),
        found.join(", ")
    ))
}

/// The folder's name, without characters that would need escaping in pim.toml.
fn catalog_name(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let name: String = absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .filter(|c| !matches!(c, '"' | '\\') && !c.is_control())
        .collect();
    if name.is_empty() {
        "My catalog".to_string()
    } else {
        name
    }
}

fn write(dir: &Path, relative: &str, text: &str) -> Result<(), String> {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
    }
    std::fs::write(&path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
}

/// The JSON Schema and Taplo configuration, so editors help from the first file on.
fn write_editor_schema(dir: &Path) -> Result<(), String> {
    let config = crate::pipeline::load_config(dir).map_err(|err| err.to_string())?;
    let content = crate::content::load(dir, &config)
        .map_err(|_| "the example schema does not load; this is a bug in pimfeed".to_string())?;
    let schema = json_schema::generate(&config, &content.schema, &content.categories);
    let json = serde_json::to_string_pretty(&schema).map_err(|err| err.to_string())?;
    write(dir, SCHEMA_PATH, &(json + "\n"))?;
    write(dir, TAPLO_CONFIG, &json_schema::taplo_config())
}

/// Makes `dir` a git repository with a first commit on `main`, so `pimfeed diff main`
/// works from the first branch on. Returns whether it committed; a folder that already was
/// a repository is left for its owner to commit.
fn git_init(dir: &Path) -> Result<bool, String> {
    if dir.join(".git").exists() {
        eprintln!(
            "{} is already a git repository: add and commit the new files yourself",
            dir.display()
        );
        return Ok(false);
    }
    let git_error = |err: git2::Error| {
        format!(
            "cannot create a git repository in {}: {}",
            dir.display(),
            err.message()
        )
    };
    let mut options = git2::RepositoryInitOptions::new();
    options.initial_head("main");
    let repo = git2::Repository::init_opts(dir, &options).map_err(git_error)?;
    let mut index = repo.index().map_err(git_error)?;
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .map_err(git_error)?;
    index.write().map_err(git_error)?;
    let tree = repo
        .find_tree(index.write_tree().map_err(git_error)?)
        .map_err(git_error)?;
    // CI machines often have no user.name; the first commit still needs an author.
    let signature = repo
        .signature()
        .or_else(|_| git2::Signature::now("pimfeed init", "pimfeed@localhost"))
        .map_err(git_error)?;
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "Start the catalog with pimfeed init",
        &tree,
        &[],
    )
    .map_err(git_error)?;
    Ok(true)
}
