//! Hugo beside pimfeed: the same catalog, the Dutch Google Merchant feed only, cold (a fresh
//! output folder and no cache for either), timed in the same run so the ratio holds on a busy
//! machine. Hugo reads the product files as data through the site in `benches/peers/hugo/`,
//! mounted onto the catalog by a config file written here. Skipped when `hugo` is absent.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// How many times each tool runs, alternating, after one warm-up run of each.
const ROUNDS: usize = 3;

/// The google-only `pim.toml` both tools render from: the bench catalog's settings with one
/// channel.
const GOOGLE_ONLY: &str = r#"[catalog]
name = "Acme Tools Wholesale"
base_url = "https://www.acme-tools.example"
locales = ["nl-NL", "en-GB"]
currency = "EUR"

[erp]
source = "file"
path = "erp/items.csv"

[channels.google-nl]
preset = "google-merchant"
locale = "nl-NL"
output = "google-nl.xml"
require = ["brand"]
"#;

pub fn installed() -> bool {
    Command::new("hugo")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A wall time in seconds and a peak RSS in MiB.
pub struct Run {
    pub wall: f64,
    pub peak_mib: f64,
}

/// Times `pimfeed build --no-cache` and `hugo` on `catalog` (a generated catalog whose
/// `pim.toml` this replaces with the one-channel one) and prints both, and the ratio.
pub fn compare(repo: &Path, binary: &Path, catalog: &Path) {
    fs::write(catalog.join("pim.toml"), GOOGLE_ONLY).expect("write the google-only pim.toml");
    let site = repo.join("benches/peers/hugo");
    let mounts = catalog.join("hugo-mounts.toml");
    fs::write(
        &mounts,
        format!(
            "[[module.mounts]]\nsource = \"layouts\"\ntarget = \"layouts\"\n\
             [[module.mounts]]\nsource = {content:?}\ntarget = \"data\"\n\
             [[module.mounts]]\nsource = {erp:?}\ntarget = \"assets/erp\"\n",
            content = catalog.join("content"),
            erp = catalog.join("erp"),
        ),
    )
    .expect("write the Hugo mounts");

    let pimfeed = || {
        // A fresh clone: no feeds, no snapshot, no build cache.
        let _ = fs::remove_dir_all(catalog.join("feeds"));
        let _ = fs::remove_dir_all(catalog.join(".pimfeed"));
        let mut command = Command::new(binary);
        command
            .args(["build", "--no-cache", "--quiet"])
            .current_dir(catalog);
        measure(command)
    };
    let hugo = || {
        let out = catalog.join("hugo-out");
        for dir in ["hugo-out", "hugo-cache", "hugo-resources"] {
            let _ = fs::remove_dir_all(catalog.join(dir));
        }
        let mut command = Command::new("hugo");
        command
            .arg("--quiet")
            .arg("--ignoreCache")
            .arg("--source")
            .arg(&site)
            .arg("--config")
            .arg(format!("hugo.toml,{}", mounts.display()))
            .arg("--destination")
            .arg(&out)
            .arg("--cacheDir")
            .arg(catalog.join("hugo-cache"))
            .env("HUGO_RESOURCEDIR", catalog.join("hugo-resources"));
        let run = measure(command);
        let feed = fs::read_to_string(out.join("google-nl.xml")).unwrap_or_default();
        (run, feed.matches("<item>").count())
    };

    println!("== Hugo peer: google-nl only, cold (fresh output, no cache), warm page cache");
    pimfeed();
    hugo();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(pimfeed());
        theirs.push(hugo());
    }
    let our_items = fs::read_to_string(catalog.join("feeds/google-nl.xml"))
        .unwrap_or_default()
        .matches("<item>")
        .count();
    for (round, (ours, (theirs, _))) in ours.iter().zip(&theirs).enumerate() {
        println!(
            "  round {}: pimfeed {:.2} s, {:.0} MiB; hugo {:.2} s, {:.0} MiB; ratio {:.2}",
            round + 1,
            ours.wall,
            ours.peak_mib,
            theirs.wall,
            theirs.peak_mib,
            ours.wall / theirs.wall
        );
    }
    let median = |mut walls: Vec<f64>| {
        walls.sort_by(f64::total_cmp);
        walls[walls.len() / 2]
    };
    let ours_median = median(ours.iter().map(|r| r.wall).collect());
    let theirs_median = median(theirs.iter().map(|(r, _)| r.wall).collect());
    println!(
        "  median: pimfeed {ours_median:.2} s ({our_items} items), hugo {theirs_median:.2} s \
         ({} items): {:.2}× Hugo's time",
        theirs.last().map_or(0, |(_, items)| *items),
        ours_median / theirs_median
    );
}

/// Runs `command` to its end, output discarded; its wall time and peak RSS (from `wait4`).
// wait4 reaps the child, which `Child::wait` cannot do while also reporting its rusage.
#[allow(clippy::zombie_processes)]
pub fn measure(mut command: Command) -> Run {
    let started = Instant::now();
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the command");
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct the kernel fills in; the child is ours and not
    // waited for anywhere else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let waited = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(waited, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) <= 1,
        "{command:?} failed with status {status}"
    );
    Run {
        wall,
        // Linux reports ru_maxrss in KiB.
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}
