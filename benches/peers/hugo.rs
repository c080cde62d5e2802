//! Hugo beside pimfeed: the same catalog, the Dutch Google Merchant feed only, cold (a fresh
//! output folder and no cache for either), timed in the same run so the ratio holds on a busy
//! machine. Hugo reads the product files as data through the site in `benches/peers/hugo/`,
//! mounted onto the catalog by a config file written here. Skipped when `hugo` is absent.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// How many times each tool runs, alternating, after one warm-up run of each: five, so that
/// one round slowed by other work on a shared machine moves neither median.
const ROUNDS: usize = 5;

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
    // Each round's two runs follow each other, so their ratio sees the same load on the
    // machine; the median of those ratios is the figure least moved by load that changes
    // from round to round.
    let paired = median(
        ours.iter()
            .zip(&theirs)
            .map(|(ours, (theirs, _))| ours.wall / theirs.wall)
            .collect(),
    );
    println!(
        "  median: pimfeed {ours_median:.2} s ({our_items} items), hugo {theirs_median:.2} s \
         ({} items): {:.3}× Hugo's time; median of the rounds' ratios {paired:.3}×",
        theirs.last().map_or(0, |(_, items)| *items),
        ours_median / theirs_median
    );
}

/// Runs `command` to its end, output discarded; its wall time and peak RSS.
///
/// The peak comes from GNU time (`/usr/bin/time`), which forks the command from its own
/// small process. `wait4`'s `ru_maxrss` from here would be wrong: Linux keeps the peak of the
/// memory a process had before `exec`, so the command would be charged this benchmark's own
/// RSS (hundreds of MiB after generating a catalog). Without GNU time the peak is unknown
/// (NaN, printed as such); the wall time is the same either way.
pub fn measure(command: Command) -> Run {
    let peak_file = std::env::temp_dir().join(format!("pimfeed-peer-peak-{}", std::process::id()));
    let gnu_time = Path::new("/usr/bin/time");
    let mut timed = if gnu_time.is_file() {
        let mut timed = Command::new(gnu_time);
        timed
            .arg("--format=%M")
            .arg("--output")
            .arg(&peak_file)
            .arg(command.get_program())
            .args(command.get_args());
        if let Some(dir) = command.get_current_dir() {
            timed.current_dir(dir);
        }
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => timed.env(key, value),
                None => timed.env_remove(key),
            };
        }
        timed
    } else {
        command
    };
    crate::floors::settle();
    let started = Instant::now();
    let status = timed
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("start the command");
    let wall = started.elapsed().as_secs_f64();
    assert!(
        status.code().is_some_and(|code| code <= 1),
        "{timed:?} failed with {status}"
    );
    // GNU time writes the peak in KiB, on the last line (after "Command exited with non-zero
    // status 1" when pimfeed found content problems).
    let peak_kib = fs::read_to_string(&peak_file)
        .ok()
        .and_then(|text| text.lines().last()?.trim().parse::<f64>().ok());
    let _ = fs::remove_file(&peak_file);
    Run {
        wall,
        peak_mib: peak_kib.map_or(f64::NAN, |kib| kib / 1024.0),
    }
}
