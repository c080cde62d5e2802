//! Microbenchmark of parsing product files alone: no reading from disk, no ERP, no rendering.
//!
//! Reads every product file of a catalog into memory once, then times, on one thread, the
//! TOML syntax alone (`toml::de::DeTable::parse`) and the whole check of a file
//! (`content::parse_text`: syntax, schema, rules, variants), in µs of CPU time per file,
//! best and median of several rounds; then writing the files' products as the last build's
//! `products.jsonl` lines (`content::json_line`, the hottest loop of a cold build's writer
//! thread). The catalog is one the end-to-end benchmark generated.
//!
//! ```sh
//! cargo bench --bench catalog -- 10000        # once, to generate target/bench-catalogs/10000
//! cargo bench --bench parse                   # that catalog
//! cargo bench --bench parse -- path/to/catalog 5   # another catalog, 5 rounds
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use pimfeed::config::Config;
use pimfeed::content::{self, CatalogSource, product::ParseContext};

/// The allocator of the `pimfeed` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = args
        .first()
        .map_or_else(|| repo.join("target/bench-catalogs/10000"), PathBuf::from);
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(7);
    if !dir.join("pim.toml").is_file() {
        eprintln!(
            "no catalog at {}: run `cargo bench --bench catalog -- 10000` first, or name one",
            dir.display()
        );
        std::process::exit(2);
    }

    let config_text = std::fs::read_to_string(dir.join("pim.toml")).expect("read pim.toml");
    let config = Config::parse(&config_text, Path::new("pim.toml")).expect("parse pim.toml");
    let source = CatalogSource::dir(&dir);
    let model = content::load_model(&source).expect("load the schema and categories");
    let channels: Vec<String> = config.channels.keys().cloned().collect();
    let ctx = ParseContext {
        schema: &model.schema,
        categories: &model.categories,
        locales: &config.catalog.locales,
        channels: &channels,
        description_text_locales: &config.catalog.locales,
    };
    let files: Vec<(PathBuf, String)> = content::product_files(&source)
        .expect("list the product files")
        .into_iter()
        .map(|path| {
            let text = source.read_to_string(&path).expect("read a product file");
            (path, text)
        })
        .collect();
    let bytes: usize = files.iter().map(|(_, text)| text.len()).sum();
    println!(
        "{} product files, {:.1} MB, from {}; {rounds} rounds on one thread",
        files.len(),
        bytes as f64 / 1e6,
        dir.display()
    );

    let syntax = time_rounds(rounds, || {
        for (_, text) in &files {
            std::hint::black_box(toml::de::DeTable::parse(text).expect("valid TOML"));
        }
    });
    report("TOML syntax only (DeTable::parse)", &syntax, files.len());

    let whole = time_rounds(rounds, || {
        for (path, text) in &files {
            let parsed = content::parse_text(path, text, &ctx);
            assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
            std::hint::black_box(parsed);
        }
    });
    report("whole check (content::parse_text)", &whole, files.len());

    let products: Vec<content::product::Product> = files
        .iter()
        .flat_map(|(path, text)| content::parse_text(path, text, &ctx).products)
        .collect();
    let mut line = Vec::new();
    let mut written = 0;
    let lines = time_rounds(rounds, || {
        written = 0;
        for product in &products {
            line.clear();
            content::json_line::write_product(&mut line, product);
            written += std::hint::black_box(&line).len();
        }
    });
    report(
        "products.jsonl lines (content::json_line::write_product)",
        &lines,
        files.len(),
    );
    println!(
        "  ({} products, {:.1} MB of lines, {:.0} MB/s at the median)",
        products.len(),
        written as f64 / 1e6,
        written as f64 / 1e6 / lines[lines.len() / 2].as_secs_f64()
    );
}

/// The CPU time of each round (best first): on a machine shared with other work, wall time
/// also counts the time other processes had the core.
fn time_rounds(rounds: usize, mut work: impl FnMut()) -> Vec<Duration> {
    work(); // warm-up
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let started = thread_cpu_time();
            work();
            thread_cpu_time() - started
        })
        .collect();
    times.sort();
    times
}

fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill in.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn report(label: &str, times: &[Duration], files: usize) {
    let per_file = |d: Duration| d.as_secs_f64() * 1e6 / files as f64;
    println!(
        "{label}: best {:.2} µs/file, median {:.2} µs/file ({:.3} s of CPU per round)",
        per_file(times[0]),
        per_file(times[times.len() / 2]),
        times[times.len() / 2].as_secs_f64()
    );
}
