//! The steps of a run, each on its own, over the `basic` test catalog (read, never written).

use std::path::{Path, PathBuf};

use super::prepare::Prepared;
use super::sources::{ContentSoFar, FileWork, ReadingTime};
use super::timings::Stopwatch;
use super::{Build, Failure, Mode, erp_pull, product_step};

fn basic() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic")
}

#[test]
fn prepare_loads_the_catalog_and_lists_its_product_files_in_order() {
    let (prepared, last_build) = Prepared::load(&basic(), Mode::Check).unwrap();
    assert!(last_build.is_none(), "only a refresh reads the last build");
    assert_eq!(prepared.output_dir, basic().join("feeds"));
    let mut names: Vec<&str> = prepared.channels.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["google", "orders", "partner", "prices", "webshop"]);
    assert_eq!(prepared.renderers().unwrap().len(), names.len());
    let files = prepared.product_files(false).unwrap().0;
    assert!(!files.is_empty());
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted, "catalog order");
}

#[test]
fn a_refresh_without_a_build_before_it_stops_in_prepare() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(basic().join("pim.toml"), dir.path().join("pim.toml")).unwrap();
    let loaded = Prepared::load(dir.path(), Mode::Refresh);
    assert!(
        matches!(loaded, Err(Failure::NoLastBuild)),
        "{:?}",
        loaded.err()
    );
}

/// The working tree yields every product file in one batch (the catalog is smaller than a
/// batch), and the per-product step a `diff` runs channel by channel decides and renders as
/// the build's step for all channels at once.
#[test]
fn the_working_tree_source_and_the_per_product_step_for_build_and_diff() {
    let root = basic();
    let (prepared, _) = Prepared::load(&root, Mode::Check).unwrap();
    let renderers = prepared.renderers().unwrap();
    let files = prepared.product_files(false).unwrap().0;
    let (records, _) = erp_pull::pull_erp(&prepared.config, &root).unwrap();
    let build = Build::new(&prepared, &renderers, &files, &records);

    let reading = ReadingTime::default();
    let names: Vec<String> = prepared.channels.iter().map(|c| c.name.clone()).collect();
    let mut source = build.source(None, None, &reading, &names).unwrap();
    let mut so_far = ContentSoFar::default();
    let mut stopwatch = Stopwatch::start();
    let batch = source
        .next_batch(&mut so_far, &mut stopwatch)
        .unwrap()
        .expect("a batch");
    assert_eq!(batch.progressed, files.len());
    assert!(
        source
            .next_batch(&mut so_far, &mut stopwatch)
            .unwrap()
            .is_none()
    );
    assert_eq!(so_far.reuse.files_reused, 0, "no cache was offered");

    let shared_needs =
        product_step::SharedNeeds::new(&prepared.channels, &renderers, build.merge.schema);
    let mut products = 0;
    for work in &batch.works {
        let FileWork::Fresh(fresh) = work else {
            panic!("nothing comes from a cache that was not offered")
        };
        for product in &fresh.products {
            products += 1;
            let all = product_step::process_product(
                product,
                &prepared.channels,
                &renderers,
                &shared_needs,
                &build.by_sku,
                &build.merge,
                true,
            )
            .unwrap();
            for ((channel, renderer), (verdict, item)) in
                prepared.channels.iter().zip(&renderers).zip(&all)
            {
                let requirements = crate::validate::Requirements::new(
                    std::slice::from_ref(channel),
                    build.merge.schema,
                );
                let (alone, alone_item) = product_step::gate_and_render(
                    product,
                    channel,
                    &requirements,
                    renderer,
                    &build.by_sku,
                    &build.merge,
                    true,
                )
                .unwrap();
                assert_eq!(
                    alone.included, verdict.included,
                    "{} in {}",
                    product.sku, channel.name
                );
                assert_eq!(&alone_item, item, "{} in {}", product.sku, channel.name);
            }
        }
    }
    assert_eq!(products, so_far.skus.len());
    assert!(products > 0);
}
