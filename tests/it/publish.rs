//! `pimfeed publish` and `pimfeed rollback`, against a folder and against a real S3 server:
//! `s3s-fs` (a SigV4 S3 implementation over a folder, installed by `.ci/run`) started by each
//! test on 127.0.0.1. Both targets go through the same cases.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Catalog, Run, sha256_hex};

const ACCESS_KEY: &str = "AKIAPIMFEEDTEST";
const SECRET_KEY: &str = "pimfeed-test-secret-8c1f0e";
const BUCKET: &str = "feeds";

/// Two channels, so that a price change changes one feed: `prices` has the price, `google`
/// does not.
const PIM_TOML: &str = r#"
[catalog]
name = "Fixture Tools"
base_url = "https://shop.example"
locales = ["nl-NL", "en-GB"]
currency = "EUR"

[erp]
source = "file"
path = "erp/items.csv"

[channels.prices]
format = "csv"
locale = "en-GB"
output = "prices.csv"

[channels.prices.columns]
"SKU" = "product.sku"
"Price" = "erp.price"

[channels.google]
format = "csv"
locale = "en-GB"
output = "titles.csv"

[channels.google.columns]
"SKU" = "product.sku"
"Title" = "product.title"
"#;

/// The s3s-fs server; killed when dropped.
struct S3Server {
    child: Child,
    port: u16,
    /// The folder it serves: bucket `feeds` is `dir/feeds`, key K is the file `dir/feeds/K`.
    dir: tempfile::TempDir,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The s3s-fs binary: on PATH or in cargo's bin folder.
fn s3s_fs() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|p| p.join("s3s-fs"))
                .collect()
        })
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        candidates.push(Path::new(&home).join("bin/s3s-fs"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join(".cargo/bin/s3s-fs"));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// Starts s3s-fs with one bucket, or says how to install it. `PIMFEED_SKIP_S3=1` skips the
/// S3 cases on a machine without it; CI installs it and never sets it.
fn start_s3() -> Option<S3Server> {
    let Some(binary) = s3s_fs() else {
        if std::env::var_os("PIMFEED_SKIP_S3").is_some() {
            eprintln!("skipped: s3s-fs is not installed and PIMFEED_SKIP_S3 is set");
            return None;
        }
        panic!(
            "s3s-fs is not installed: `cargo install s3s-fs --version 0.14.1 --features binary --locked` (.ci/run does), or set PIMFEED_SKIP_S3=1"
        );
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(BUCKET)).unwrap();
    let port = free_port();
    let child = Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start s3s-fs");
    let server = S3Server { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "s3s-fs did not start on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(server)
}

/// Where a test publishes to, and how it reads what the target holds.
enum Target {
    Folder(tempfile::TempDir),
    S3(S3Server),
}

impl Target {
    /// A folder on another file system than the catalog's where there is one (`/dev/shm`
    /// is a tmpfs on Linux): a publish that renamed files out of `feeds/` would fail there.
    fn folder() -> Target {
        let other = Path::new("/dev/shm");
        let dir = match other.is_dir() {
            true => tempfile::tempdir_in(other).or_else(|_| tempfile::tempdir()),
            false => tempfile::tempdir(),
        };
        Target::Folder(dir.unwrap())
    }

    /// The folder that holds the published keys.
    fn root(&self) -> PathBuf {
        match self {
            Target::Folder(dir) => dir.path().to_path_buf(),
            Target::S3(server) => server.dir.path().join(BUCKET).join("prod"),
        }
    }

    fn publish_section(&self) -> String {
        match self {
            Target::Folder(dir) => format!(
                "\n[publish]\nto = \"{}\"\npublic_url = \"https://feeds.example/prod\"\n",
                dir.path().display()
            ),
            Target::S3(server) => format!(
                "\n[publish]\nto = \"s3://{BUCKET}/prod\"\nendpoint = \"http://127.0.0.1:{}\"\nregion = \"us-east-1\"\npublic_url = \"https://feeds.example/prod\"\n",
                server.port
            ),
        }
    }

    fn env(&self, secret: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", secret.to_string()),
        ]
    }

    fn read(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root().join(key)).ok()
    }

    /// Every stable key (not under releases/) with its bytes.
    fn stable(&self) -> BTreeMap<String, Vec<u8>> {
        let root = self.root();
        walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                let key = e
                    .path()
                    .strip_prefix(&root)
                    .ok()?
                    .to_string_lossy()
                    .into_owned();
                let stored =
                    !key.starts_with("releases/") && !key.contains(".s3s") && !key.starts_with('.');
                stored.then(|| (key, std::fs::read(e.path()).unwrap()))
            })
            .collect()
    }
}

fn catalog_for(target: &Target) -> Catalog {
    let catalog = Catalog::fixture("basic");
    catalog.write(
        "pim.toml",
        &format!("{PIM_TOML}{}", target.publish_section()),
    );
    catalog
}

fn publish(catalog: &Catalog, target: &Target, args: &[&str]) -> Run {
    let mut all = vec!["publish", "--format", "json"];
    all.extend_from_slice(args);
    catalog.run_env(&all, &target.env(SECRET_KEY))
}

fn uploaded(run: &Run) -> Vec<String> {
    let json = run.json();
    json["published"]["uploaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn set_price(catalog: &Catalog, sku: &str, price: &str) {
    let text = catalog.read("erp/items.csv");
    let lines: Vec<String> = text
        .lines()
        .map(|line| match line.strip_prefix(&format!("{sku},")) {
            Some(rest) => {
                let (_, tail) = rest.split_once(',').unwrap();
                format!("{sku},{price},{tail}")
            }
            None => line.to_string(),
        })
        .collect();
    catalog.write("erp/items.csv", &(lines.join("\n") + "\n"));
}

/// Every case of the issue, against one target.
fn publish_cycle(target: &Target) {
    let catalog = catalog_for(target);
    catalog.run(&["build", "-q"]).expect(0);

    // The first publish uploads everything, the second nothing.
    let first = publish(&catalog, target, &[]).expect(0);
    assert_eq!(
        uploaded(&first),
        ["prices.csv", "titles.csv", "manifest.json"]
    );
    assert_eq!(
        first.json()["published"]["urls"]["prices"],
        "https://feeds.example/prod/prices.csv"
    );
    let v1 = target.stable();
    assert_eq!(
        v1["prices.csv"],
        std::fs::read(catalog.path().join("feeds/prices.csv")).unwrap()
    );
    assert_eq!(v1.len(), 3, "{:?}", v1.keys());
    let second = publish(&catalog, target, &[]).expect(0);
    assert!(uploaded(&second).is_empty(), "{}", second.stdout());
    assert_eq!(target.stable(), v1);

    // A price change uploads the one feed with prices, and the manifest.
    set_price(&catalog, "DR-1", "151.25");
    catalog.run(&["refresh", "-q"]).expect(0);
    let third = publish(&catalog, target, &[]).expect(0);
    assert_eq!(uploaded(&third), ["prices.csv", "manifest.json"]);
    let v2 = target.stable();
    assert!(String::from_utf8_lossy(&v2["prices.csv"]).contains("151.25"));
    assert_eq!(v2["titles.csv"], v1["titles.csv"]);

    // An export cut in half: the guard stops the refresh, and a publish of a build let
    // through with --allow-drop; the target is unchanged.
    let items = catalog.read("erp/items.csv");
    let half: Vec<&str> = items.lines().take(4).collect();
    catalog.write("erp/items.csv", &(half.join("\n") + "\n"));
    let stopped = catalog.run(&["refresh", "-q"]).expect(1);
    assert!(
        stopped.stderr().contains("channel `prices`"),
        "{}",
        stopped.stderr()
    );
    assert!(
        stopped.stderr().contains("--allow-drop"),
        "{}",
        stopped.stderr()
    );
    catalog.run(&["refresh", "-q", "--allow-drop"]).expect(0);
    let guarded = publish(&catalog, target, &[]).expect(1);
    assert!(
        guarded.stdout().contains("channel `prices`"),
        "{}",
        guarded.stdout()
    );
    assert!(guarded.stdout().contains("TS-B-M"), "{}", guarded.stdout());
    assert_eq!(target.stable(), v2, "the guard changed the target");
    catalog.write("erp/items.csv", &items);
    catalog.run(&["refresh", "-q", "--allow-drop"]).expect(0);

    // Rollback puts the earlier bytes back at the stable keys.
    let listed = catalog
        .run_env(&["rollback", "--list"], &target.env(SECRET_KEY))
        .expect(0);
    assert_eq!(listed.stdout().lines().count(), 2, "{}", listed.stdout());
    assert!(listed.stdout().starts_with('*'), "{}", listed.stdout());
    catalog
        .run_env(&["rollback"], &target.env(SECRET_KEY))
        .expect(0);
    assert_eq!(
        target.stable(),
        v1,
        "rollback did not restore the first release"
    );
    // And forward again, by id.
    let index: serde_json::Value =
        serde_json::from_slice(&target.read("releases/index.json").unwrap()).unwrap();
    let newest = index["releases"][1]["id"].as_str().unwrap().to_string();
    catalog
        .run_env(&["rollback", &newest], &target.env(SECRET_KEY))
        .expect(0);
    assert_eq!(target.stable(), v2);
    let unknown = catalog
        .run_env(&["rollback", "nope"], &target.env(SECRET_KEY))
        .expect(2);
    assert!(unknown.stderr().contains(&newest), "{}", unknown.stderr());
}

#[test]
fn folder_target_publishes_only_what_differs_guards_and_rolls_back() {
    publish_cycle(&Target::folder());
}

#[test]
fn s3_target_publishes_only_what_differs_guards_and_rolls_back() {
    let Some(server) = start_s3() else { return };
    publish_cycle(&Target::S3(server));
}

/// A publish that stops while uploading (here: a key it must write is blocked, after the
/// changed feed went up) leaves the
/// stable keys serving the previous release, and the next publish completes.
fn interrupted_publish(target: &Target) {
    let catalog = catalog_for(target);
    catalog.run(&["build", "-q"]).expect(0);
    publish(&catalog, target, &[]).expect(0);
    let before = target.stable();
    set_price(&catalog, "DR-1", "1.50");
    set_price(&catalog, "DR-2", "2.50");
    catalog.run(&["build", "-q"]).expect(0);
    let manifest = std::fs::read(catalog.path().join("feeds/manifest.json")).unwrap();
    let id = release_id(&manifest);
    // Blocks the release's manifest, written after its feeds: a folder where a file must go.
    let blocked = target.root().join(format!("releases/{id}/manifest.json"));
    std::fs::create_dir_all(blocked.join("x")).unwrap();
    let failed = publish(&catalog, target, &[]).expect(2);
    assert!(
        failed.stdout().contains("manifest.json"),
        "{}",
        failed.stdout()
    );
    assert!(target.read(&format!("releases/{id}/prices.csv")).is_some());
    assert_eq!(
        target.stable(),
        before,
        "a failed publish changed the stable keys"
    );
    std::fs::remove_dir_all(blocked).unwrap();
    let done = publish(&catalog, target, &[]).expect(0);
    assert_eq!(uploaded(&done), ["prices.csv", "manifest.json"]);
    assert_ne!(target.stable(), before);
}

/// The id `publish` gives a build: its time and the start of its manifest's SHA-256.
fn release_id(manifest: &[u8]) -> String {
    let json: serde_json::Value = serde_json::from_slice(manifest).unwrap();
    let time: String = json["generated_at"]
        .as_str()
        .unwrap()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("{time}-{}", &sha256_hex(manifest)[..8])
}

#[test]
fn folder_target_keeps_the_old_release_when_a_publish_stops_halfway() {
    interrupted_publish(&Target::folder());
}

#[test]
fn s3_target_keeps_the_old_release_when_a_publish_stops_halfway() {
    let Some(server) = start_s3() else { return };
    interrupted_publish(&Target::S3(server));
}

#[test]
fn wrong_s3_credentials_exit_2_without_the_secret() {
    let Some(server) = start_s3() else { return };
    let target = Target::S3(server);
    let catalog = catalog_for(&target);
    catalog.run(&["build", "-q"]).expect(0);
    let wrong = "wrong-secret-7d1e55aa";
    for format in ["human", "json"] {
        let run = catalog
            .run_env(&["publish", "--format", format], &target.env(wrong))
            .expect(2);
        let output = format!("{}{}", run.stdout(), run.stderr());
        assert!(!output.contains(wrong), "the secret leaked:\n{output}");
        assert!(!output.contains(SECRET_KEY), "{output}");
        assert!(
            output.contains("feeds"),
            "the error does not say where:\n{output}"
        );
    }
    assert!(target.stable().is_empty());
}

#[test]
fn a_folder_target_is_replaced_file_by_file_and_old_releases_are_dropped() {
    let target = Target::folder();
    let catalog = catalog_for(&target);
    let section = target
        .publish_section()
        .replace("[publish]\n", "[publish]\nkeep = 2\n");
    catalog.write("pim.toml", &format!("{PIM_TOML}{section}"));
    let mut versions = Vec::new();
    for price in ["10.00", "11.00", "12.00", "13.00"] {
        set_price(&catalog, "DR-1", price);
        catalog.run(&["build", "-q"]).expect(0);
        publish(&catalog, &target, &[]).expect(0);
        versions.push(target.stable());
    }
    let index: serde_json::Value =
        serde_json::from_slice(&target.read("releases/index.json").unwrap()).unwrap();
    assert_eq!(index["releases"].as_array().unwrap().len(), 2);
    let kept: Vec<_> = std::fs::read_dir(target.root().join("releases"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .collect();
    assert_eq!(kept.len(), 2, "dropped releases' folders remain");
    // titles.csv never changed: it was held by the first release, which is gone; rolling back
    // to the oldest kept release still restores every file.
    catalog.run(&["rollback"]).expect(0);
    assert_eq!(target.stable(), versions[2]);
    let oldest = catalog.run(&["rollback"]).expect(2);
    assert!(oldest.stderr().contains("oldest"), "{}", oldest.stderr());
    // No temporary files left beside the feeds.
    let leftovers: Vec<_> = std::fs::read_dir(target.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Standard base64 with the URL-safe alphabet and no padding: how s3s-fs names the file that
/// holds an object's metadata.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The content type and cache control s3s-fs stored for `key` (under the `prod` prefix).
fn served(server: &S3Server, key: &str) -> (String, String) {
    let name = format!(
        ".bucket-{}.object-{}.metadata.json",
        base64_url(BUCKET.as_bytes()),
        base64_url(format!("prod/{key}").as_bytes())
    );
    let text = std::fs::read(server.dir.path().join(&name))
        .unwrap_or_else(|err| panic!("no metadata for {key} ({name}): {err}"));
    let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
    (
        json["content_type"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        json["cache_control"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[test]
fn s3_serves_every_file_with_its_content_type_and_cache_control() {
    let Some(server) = start_s3() else { return };
    let target = Target::S3(server);
    let catalog = Catalog::fixture("basic");
    let section = target.publish_section().replace(
        "[publish]\n",
        "[publish]\ncache_control = \"public, max-age=60\"\n",
    );
    let pim = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &format!("{pim}\n[build]\ngzip = true\n{section}"),
    );
    catalog.run(&["build", "-q"]).expect(0);
    let run = publish(&catalog, &target, &[]).expect(0);
    assert!(
        uploaded(&run).contains(&"google.xml.gz".to_string()),
        "{}",
        run.stdout()
    );
    let Target::S3(server) = &target else {
        unreachable!()
    };
    for (key, expected) in [
        ("google.xml", "application/xml"),
        ("google.xml.gz", "application/gzip"),
        ("orders.csv", "text/csv; charset=utf-8"),
        ("webshop.json", "application/json"),
        ("manifest.json", "application/json"),
    ] {
        assert_eq!(
            served(server, key),
            (expected.to_string(), "public, max-age=60".to_string()),
            "{key}"
        );
    }
    assert_eq!(
        pimfeed::publish::content_type("bol.jsonl"),
        "application/x-ndjson"
    );
    // report/ stays private unless asked for.
    assert!(target.stable().keys().all(|k| !k.starts_with("report/")));
}

/// A TCP proxy to s3s-fs that lets `puts` PUT requests through and then holds every further
/// one, so a test can kill a publish at a known point of its uploads.
fn stalling_proxy(upstream: u16, puts: usize) -> (u16, std::sync::mpsc::Receiver<()>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, mpsc};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let (stalled, notice) = mpsc::channel();
    std::thread::spawn(move || {
        for client in listener.incoming().take(64) {
            let Ok(mut client) = client else { break };
            let mut server = std::net::TcpStream::connect(("127.0.0.1", upstream)).unwrap();
            let (mut client_in, mut server_out) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server, &mut client);
            });
            let seen = seen.clone();
            let stalled = stalled.clone();
            std::thread::spawn(move || {
                let mut buffer = [0u8; 64 * 1024];
                while let Ok(n) = client_in.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    let chunk = &buffer[..n];
                    let new_puts = chunk.windows(5).filter(|w| w == b"PUT /").count();
                    if new_puts > 0 && seen.fetch_add(new_puts, Ordering::SeqCst) + new_puts > puts
                    {
                        let _ = stalled.send(());
                        // Hold the request (bounded) until the test has killed the publish.
                        std::thread::sleep(Duration::from_secs(30));
                        break;
                    }
                    if server_out.write_all(chunk).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, notice)
}

#[test]
fn s3_publish_killed_halfway_leaves_the_stable_keys_serving_the_old_release() {
    let Some(server) = start_s3() else { return };
    let direct = server.port;
    let target = Target::S3(server);
    let catalog = catalog_for(&target);
    catalog.run(&["build", "-q"]).expect(0);
    publish(&catalog, &target, &[]).expect(0);
    let before = target.stable();
    set_price(&catalog, "DR-1", "3.75");
    catalog.run(&["build", "-q"]).expect(0);
    let id = release_id(&std::fs::read(catalog.path().join("feeds/manifest.json")).unwrap());

    // The changed feed reaches the release folder; the release's manifest never does.
    let (proxy, stalled) = stalling_proxy(direct, 1);
    let pim = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &pim.replace(&format!(":{direct}\""), &format!(":{proxy}\"")),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .args(["publish", "--quiet"])
        .current_dir(catalog.path())
        .envs(target.env(SECRET_KEY))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    stalled
        .recv_timeout(Duration::from_secs(60))
        .expect("the publish never reached its second upload");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(target.read(&format!("releases/{id}/prices.csv")).is_some());
    assert!(
        target
            .read(&format!("releases/{id}/manifest.json"))
            .is_none()
    );
    assert_eq!(
        target.stable(),
        before,
        "a killed publish changed the stable keys"
    );

    // The next publish completes the release.
    catalog.write("pim.toml", &pim);
    let done = publish(&catalog, &target, &[]).expect(0);
    assert_eq!(uploaded(&done), ["prices.csv", "manifest.json"]);
    assert!(String::from_utf8_lossy(&target.stable()["prices.csv"]).contains("3.75"));
}

#[test]
fn publish_without_a_target_or_with_a_bad_one_exits_2_and_says_where() {
    let catalog = Catalog::fixture("basic");
    catalog.run(&["build", "-q"]).expect(0);
    let none = catalog.run(&["publish"]).expect(2);
    assert!(none.stderr().contains("[publish]"), "{}", none.stderr());
    let pim = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &format!("{pim}\n[publish]\nto = \"out\"\nkep = 3\n"),
    );
    let typo = catalog.run(&["publish"]).expect(2);
    assert!(typo.stderr().contains("pim.toml:"), "{}", typo.stderr());
    assert!(typo.stderr().contains("kep"), "{}", typo.stderr());
    catalog.write("pim.toml", &format!("{pim}\n[publish]\nto = \"s3://\"\n"));
    let no_bucket = catalog.run(&["publish"]).expect(2);
    assert!(
        no_bucket.stderr().contains("names no bucket"),
        "{}",
        no_bucket.stderr()
    );
    catalog.write("pim.toml", &format!("{pim}\n[publish]\nto = \"out\"\n"));
    let none_yet = catalog.run(&["rollback", "--list"]).expect(0);
    assert!(
        none_yet.stderr().contains("no releases"),
        "{}",
        none_yet.stderr()
    );
}

#[test]
fn the_report_is_published_only_when_asked_for() {
    let target = Target::folder();
    let catalog = catalog_for(&target);
    catalog.run(&["build", "-q"]).expect(0);
    publish(&catalog, &target, &[]).expect(0);
    assert!(target.read("report/report.json").is_none());
    let section = target
        .publish_section()
        .replace("[publish]\n", "[publish]\nreport = true\n");
    catalog.write("pim.toml", &format!("{PIM_TOML}{section}"));
    catalog.run(&["build", "-q"]).expect(0);
    let run = publish(&catalog, &target, &[]).expect(0);
    assert!(
        uploaded(&run).contains(&"report/index.html".to_string()),
        "{}",
        run.stdout()
    );
    assert_eq!(
        target.read("report/report.json").unwrap(),
        std::fs::read(catalog.path().join("feeds/report/report.json")).unwrap()
    );
}
