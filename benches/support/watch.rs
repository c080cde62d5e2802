//! `watch` after a one-line edit: the figure a marketer feels on every save. A `watch`
//! process runs on the catalog; the benchmark saves an edit to one product file, then the
//! edit undone, several times, and times each rebuild from the moment `watch` says it builds
//! again to the moment it prints the build's JSON (the feeds verified and swapped in), and
//! from the save to that moment (which adds the watcher's event and the debounce).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How long `watch` waits for more saves before it rebuilds (`--debounce-ms`).
const DEBOUNCE_MS: u64 = 50;
/// Saves timed: an edit, then the edit undone, and so on (an odd number, for a median).
const SAVES: usize = 7;
/// Longer than any build of the benchmark's sizes: a `watch` that stays silent this long has
/// failed, and the benchmark says so instead of waiting for ever.
const PATIENCE: Duration = Duration::from_secs(600);

/// The medians over the saves: a rebuild's wall time, the time from the save to the swap,
/// and the `watch` process's peak RSS at the end.
pub struct WatchFigures {
    pub rebuild: f64,
    pub save_to_swap: f64,
    pub peak_rss: String,
}

/// Runs `watch` on the catalog in `dir` and times a rebuild after each save of `edited`,
/// whose text alternates between `original` and `changed`.
pub fn measure(
    binary: &Path,
    dir: &Path,
    edited: &Path,
    original: &str,
    changed: &str,
) -> WatchFigures {
    let mut watch = Command::new(binary)
        .args(["watch", "--format", "json", "--debounce-ms"])
        .arg(DEBOUNCE_MS.to_string())
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pimfeed watch");
    let lines = read_lines(&mut watch);
    wait_for_build(&lines).expect("watch's first build");
    let mut rebuilds = Vec::new();
    let mut saves = Vec::new();
    for save in 0..SAVES {
        let text = if save % 2 == 0 { changed } else { original };
        // Lets the watcher settle, so every save is one rebuild of its own, and the disk
        // take the rebuild before (see `floors::settle`).
        std::thread::sleep(Duration::from_millis(300));
        crate::floors::settle();
        let saved = Instant::now();
        std::fs::write(edited, text).expect("save the edit");
        let (started, built) = wait_for_build(&lines).expect("watch's rebuild after a save");
        rebuilds.push((built - started.unwrap_or(saved)).as_secs_f64());
        saves.push((built - saved).as_secs_f64());
    }
    let peak_rss = peak_rss(watch.id());
    let _ = watch.kill();
    let _ = watch.wait();
    let figures = WatchFigures {
        rebuild: median(&mut rebuilds),
        save_to_swap: median(&mut saves),
        peak_rss,
    };
    println!(
        "  watch: rebuilds {} s (median {:.3} s), save to swap median {:.3} s (debounce {DEBOUNCE_MS} ms), peak RSS {}",
        rebuilds
            .iter()
            .map(|s| format!("{s:.3}"))
            .collect::<Vec<_>>()
            .join(" "),
        figures.rebuild,
        figures.save_to_swap,
        figures.peak_rss
    );
    figures
}

/// A line `watch` printed, when it arrived, and whether it came on stdout (a build's JSON).
struct Line {
    at: Instant,
    stdout: bool,
    text: String,
}

/// Both of the child's outputs, line by line, each line stamped as it arrives.
fn read_lines(child: &mut Child) -> Receiver<Line> {
    let (send, receive) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    for (stream, stdout) in [
        (Box::new(stdout) as Box<dyn std::io::Read + Send>, true),
        (Box::new(stderr), false),
    ] {
        let send = send.clone();
        std::thread::spawn(move || {
            for text in BufReader::new(stream).lines().map_while(Result::ok) {
                let line = Line {
                    at: Instant::now(),
                    stdout,
                    text,
                };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
    }
    receive
}

/// Waits for the next build's JSON: when `watch` said it builds again (if it did), and when
/// the build's JSON arrived. An error when `watch` exits or stays silent too long.
fn wait_for_build(lines: &Receiver<Line>) -> Result<(Option<Instant>, Instant), String> {
    let mut started = None;
    loop {
        let line = lines
            .recv_timeout(PATIENCE)
            .map_err(|err| format!("no build from watch: {err}"))?;
        if line.stdout {
            if !line.text.starts_with("{\"ok\":true") {
                return Err(format!("watch's build failed: {}", line.text));
            }
            return Ok((started, line.at));
        }
        if line.text.contains("changed: building again") {
            started = Some(line.at);
        }
    }
}

/// The process's peak resident set so far (Linux), as `--timings` prints it.
fn peak_rss(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(|| "?".to_string(), |kb| format!("{:.1} MiB", kb / 1024.0))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
