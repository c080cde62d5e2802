//! End to end against an OData server nobody here wrote: SAP's CAP runtime, installed by
//! `tests/cap/setup.sh` (which `.ci/run` calls), serving the basic fixture's ERP rows with
//! server-driven paging (5 per page) and basic auth on 127.0.0.1. A build against it must give
//! the same feeds as a build against the equivalent CSV export.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::Catalog;

/// The CAP server; killed when dropped.
struct Cap(Child);

impl Drop for Cap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts CAP, or says how to install it. `PIMFEED_SKIP_CAP=1` skips the test on a machine
/// without Node; CI never sets it.
fn start_cap() -> Option<(Cap, u16)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cap");
    let serve = dir.join("node_modules/.bin/cds-serve");
    if !serve.exists() {
        if std::env::var_os("PIMFEED_SKIP_CAP").is_some() {
            eprintln!("skipped: SAP CAP is not installed and PIMFEED_SKIP_CAP is set");
            return None;
        }
        panic!(
            "SAP CAP is not installed: run tests/cap/setup.sh (.ci/run does), or set PIMFEED_SKIP_CAP=1"
        );
    }
    let port = free_port();
    let child = Command::new(serve)
        .arg("--in-memory")
        .current_dir(&dir)
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cds-serve");
    let cap = Cap(child);
    // Bounded wait until it answers (it needs under a second; a cold CI disk takes longer).
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "CAP did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((cap, port))
}

#[test]
fn a_build_against_sap_cap_gives_the_same_feeds_as_the_csv_export() {
    let Some((_cap, port)) = start_cap() else {
        return;
    };
    let csv_catalog = Catalog::fixture("basic");
    csv_catalog.run(&["build"]).expect(0);

    let catalog = Catalog::fixture("basic");
    let config = catalog.read("pim.toml").replace(
        "[erp]\nsource = \"file\"\npath = \"erp/items.csv\"\n",
        &format!(
            "[erp]\nsource = \"http\"\npreset = \"odata-v4\"\nurl = \"http://127.0.0.1:{port}/odata/v4/catalog/Products\"\n\
             [erp.auth]\nkind = \"basic\"\nusername_env = \"PIMFEED_CAP_USER\"\npassword_env = \"PIMFEED_CAP_PASSWORD\"\n\
             [erp.fields]\nsku = \"/ID\"\n"
        ),
    );
    catalog.write("pim.toml", &config);
    catalog
        .run_env(
            &["build"],
            &[
                ("PIMFEED_CAP_USER", "erp-reader"),
                ("PIMFEED_CAP_PASSWORD", "s3cret"),
            ],
        )
        .expect(0);

    let feeds = |catalog: &Catalog| -> Vec<_> {
        catalog
            .feeds_snapshot()
            .into_iter()
            .filter(|(path, _)| !path.starts_with("report") && path.as_os_str() != "manifest.json")
            .collect()
    };
    assert_eq!(feeds(&catalog), feeds(&csv_catalog));
    let manifest: serde_json::Value =
        serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    assert_eq!(
        manifest["erp"]["records"], 6,
        "two pages of CAP's maximum of 5"
    );

    // Wrong credentials: CAP answers 401, the build fails and changes nothing.
    let before = catalog.feeds_snapshot();
    let run = catalog
        .run_env(
            &["build"],
            &[
                ("PIMFEED_CAP_USER", "erp-reader"),
                ("PIMFEED_CAP_PASSWORD", "wrong"),
            ],
        )
        .expect(2);
    assert!(run.stderr().contains("401"), "{}", run.stderr());
    assert!(
        !run.stderr().contains("wrong"),
        "the password leaked: {}",
        run.stderr()
    );
    assert_eq!(catalog.feeds_snapshot(), before);
}
