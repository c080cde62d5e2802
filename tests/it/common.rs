//! Shared test helpers: a fresh copy of a fixture catalog, and running the real binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary copy of a fixture catalog; deleted when dropped.
pub struct Catalog {
    dir: tempfile::TempDir,
}

impl Catalog {
    /// Copies `tests/fixtures/<name>`.
    pub fn fixture(name: &str) -> Catalog {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(&fixtures().join(name), dir.path());
        Catalog { dir }
    }

    /// A copy of the example catalog at the repository's root (ten channels).
    pub fn example() -> Catalog {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        fs::copy(root.join("pim.toml"), dir.path().join("pim.toml")).unwrap();
        for folder in ["content", "templates", "erp"] {
            fs::create_dir_all(dir.path().join(folder)).unwrap();
            copy_dir(&root.join(folder), &dir.path().join(folder));
        }
        Catalog { dir }
    }

    /// The basic catalog with the files of `tests/fixtures/invalid/<case>` laid over it.
    pub fn invalid(case: &str) -> Catalog {
        Catalog::overlay("basic", &format!("invalid/{case}"))
    }

    /// Fixture `base` with the files of fixture `overlay` laid over it.
    pub fn overlay(base: &str, overlay: &str) -> Catalog {
        let catalog = Catalog::fixture(base);
        copy_dir(&fixtures().join(overlay), catalog.path());
        catalog
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    pub fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.path().join(relative))
            .unwrap_or_else(|err| panic!("cannot read {relative}: {err}"))
    }

    /// The last build's product lines, every line file's in order, as one text.
    pub fn last_build_products(&self) -> String {
        let dir = self.path().join(".pimfeed/last-build/products");
        let mut names: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".jsonl"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|name| fs::read_to_string(dir.join(name)).unwrap())
            .collect()
    }

    /// The header and rows of a CSV file, parsed with the `csv` crate.
    pub fn csv(&self, relative: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
        let text = self.read(relative);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().expect("CSV header").clone();
        let rows = reader.records().map(|r| r.expect("CSV row")).collect();
        (headers, rows)
    }

    /// Runs `pimfeed ARGS` in the catalog folder.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_pimfeed"))
            .args(args)
            .current_dir(self.path())
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("NO_COLOR", "1")
            .output()
            .expect("run pimfeed");
        Run(output)
    }

    /// Runs `pimfeed ARGS` in the catalog folder with extra environment variables.
    pub fn run_env<V: AsRef<std::ffi::OsStr>>(&self, args: &[&str], env: &[(&str, V)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pimfeed"));
        command
            .args(args)
            .current_dir(self.path())
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("NO_COLOR", "1");
        for (key, value) in env {
            command.env(key, value);
        }
        Run(command.output().expect("run pimfeed"))
    }

    /// An empty temporary folder (for `pimfeed init`).
    pub fn empty() -> Catalog {
        Catalog {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Every file under `feeds/` with its bytes, for byte-identity checks.
    pub fn feeds_snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let root = self.path().join("feeds");
        let mut files: Vec<_> = walkdir::WalkDir::new(&root)
            .sort_by_file_name()
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let bytes = fs::read(e.path()).unwrap();
                (e.path().strip_prefix(&root).unwrap().to_path_buf(), bytes)
            })
            .collect();
        files.sort();
        files
    }
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().expect("exit code")
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    /// stderr without white space: a long message that the diagnostic renderer wrapped
    /// (behind its `│` gutter, anywhere, even after a `/`) still reads as it was written.
    /// Compare with [`flat`] of the text.
    pub fn stderr_flat(&self) -> String {
        flat(&self.stderr())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.0.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", self.stdout()))
    }

    /// Asserts the exit code, showing the output when it differs.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Items of an RSS feed as maps of element name (with prefix) → text.
pub fn rss_items(xml: &str) -> Vec<Vec<(String, String)>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut items = Vec::new();
    let mut current: Option<Vec<(String, String)>> = None;
    let mut element = String::new();
    let mut text = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(start) => {
                let name = start.name().as_ref().to_string();
                if name == "item" {
                    current = Some(Vec::new());
                }
                element = name;
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0)),
            Event::GeneralRef(r) => {
                let resolved = match &*r {
                    "amp" => "&".to_string(),
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "quot" => "\"".to_string(),
                    "apos" => "'".to_string(),
                    _ => r.resolve_char_ref().unwrap().unwrap().to_string(),
                };
                text.push_str(&resolved);
            }
            Event::End(end) => {
                let name = end.name().as_ref().to_string();
                if name == "item" {
                    items.push(current.take().unwrap());
                } else if let Some(item) = current.as_mut()
                    && name == element
                {
                    item.push((name, std::mem::take(&mut text)));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    items
}

/// The text of the first `name` element of an RSS item.
pub fn field<'a>(item: &'a [(String, String)], name: &str) -> Option<&'a str> {
    item.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The values of every `name` element of an RSS item.
pub fn fields<'a>(item: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    item.iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The SHA-256 of `bytes` in lowercase hex, as the manifest names a feed's.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `text` without the diagnostic renderer's gutter and without white space, so a message can
/// be found however it was wrapped (anywhere, even after a `/`).
pub fn flat(text: &str) -> String {
    text.replace('│', " ").split_whitespace().collect()
}

/// Whether this is a debug build of pimfeed, where `setting` (a test-only environment
/// variable or fault-injection point) exists; says that the test is skipped when it is not.
pub fn debug_build_has(setting: &str) -> bool {
    if !cfg!(debug_assertions) {
        eprintln!("SKIPPED: {setting} exists in debug builds only");
    }
    cfg!(debug_assertions)
}

/// Commits every file of the catalog as `author`; returns the commit id.
pub fn commit_all(repo: &git2::Repository, author: &str, message: &str) -> String {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let when = git2::Time::new(1_767_268_800, 0);
    let signature = git2::Signature::new(author, "someone@example.com", &when).unwrap();
    let parent = repo.head().ok().map(|h| h.peel_to_commit().unwrap());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        message,
        &tree,
        &parents,
    )
    .unwrap()
    .to_string()
}
