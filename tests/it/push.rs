//! `pimfeed push` against bol.com's Retailer API as its own OpenAPI document describes it
//! (Prism, with a stateful stand-in in front: `push/bol_mock.rs`).

mod amazon_mock;
mod bol_mock;
mod standin;

use std::time::Instant;

use amazon_mock::AmazonMock;
use bol_mock::{BolMock, CLIENT_ID, CLIENT_SECRET};
use standin::{Logged, start_prism};

use crate::common::{Catalog, Run};

/// The marketplaces fixture, built, with a push table pointing at the mock.
fn catalog(mock: &BolMock, extra: &str) -> Catalog {
    let catalog = Catalog::fixture("marketplaces");
    let config = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &format!(
            "{config}\n[channels.bol.push]\napi_url = \"{}\"\ntoken_url = \"{}\"\n\
             client_id_env = \"TEST_BOL_ID\"\nclient_secret_env = \"TEST_BOL_SECRET\"\n{extra}",
            mock.url(""),
            mock.url("/token")
        ),
    );
    catalog.run(&["build", "--quiet"]).expect(0);
    catalog
}

fn push(catalog: &Catalog, args: &[&str]) -> Run {
    push_as(catalog, args, CLIENT_ID, CLIENT_SECRET)
}

fn push_as(catalog: &Catalog, args: &[&str], id: &str, secret: &str) -> Run {
    let mut all = vec!["push"];
    all.extend_from_slice(args);
    catalog.run_env(&all, &[("TEST_BOL_ID", id), ("TEST_BOL_SECRET", secret)])
}

fn methods(calls: &[Logged]) -> Vec<String> {
    calls
        .iter()
        .map(|c| format!("{} {}", c.method, c.target.split('?').next().unwrap()))
        .collect()
}

/// Every call the mock saw was valid by bol's document (Prism answers 422 or 400 otherwise).
fn assert_all_valid(calls: &[Logged]) {
    for call in calls {
        assert!(
            call.status < 400 || call.status == 429,
            "bol's document rejected {} {}: {}\n{}",
            call.method,
            call.target,
            call.status,
            call.body
        );
    }
}

fn started() -> Option<BolMock> {
    start_prism("bol/offers-v11.json").map(BolMock::start)
}

#[test]
fn the_mock_rejects_what_bols_document_does_not_allow() {
    let Some(mock) = started() else { return };
    let (status, _) = mock.send(
        "POST",
        "/retailer/offers",
        r#"{"ean":"4006381333931","condition":{"category":"NEW"},"pricing":{"bundlePrices":[{"quantity":1,"unitPrice":"cheap"}]},"fulfilment":{"method":"FBR"}}"#,
    );
    assert_eq!(
        status, 422,
        "a price that is not a number is refused by the schema"
    );
    let (status, _) = mock.send(
        "PATCH",
        "/retailer/offers/not-a-uuid",
        r#"{"onHoldByRetailer":"yes"}"#,
    );
    assert!(status >= 400, "{status}");
}

#[test]
fn first_push_creates_every_offer_then_a_stock_refresh_patches_only_the_changed_one_and_a_removed_product_is_held()
 {
    let Some(mock) = started() else { return };
    let catalog = catalog(&mock, "");
    let feed = catalog.read("feeds/bol.jsonl");
    let offers = feed.lines().count();
    assert_eq!(offers, 5);

    // First push: no pushed state, so bol's offers are read back (none), then all created.
    let run = push(&catalog, &["--format", "json"]).expect(0);
    let calls = mock.take_calls();
    assert_all_valid(&calls);
    let mut expected = vec!["GET /retailer/offers".to_string()];
    expected.extend(std::iter::repeat_n(
        "POST /retailer/offers".to_string(),
        offers,
    ));
    assert_eq!(methods(&calls), expected);
    let json = run.json();
    let channel = &json["channels"][0];
    assert_eq!(channel["created"], 5);
    assert_eq!(channel["accepted"], 5);
    assert_eq!(channel["refused"].as_array().unwrap().len(), 0);
    assert_eq!(mock.offers().len(), 5);

    // Nothing changed: nothing is sent.
    push(&catalog, &[]).expect(0);
    assert_eq!(methods(&mock.take_calls()), Vec::<String>::new());

    // DR-3's stock changes in the ERP; a refresh re-renders; one PATCH, to DR-3's offer.
    let erp = catalog.read("erp/items.csv");
    catalog.write(
        "erp/items.csv",
        &erp.replace("DR-3,59.50,4,", "DR-3,59.50,2,"),
    );
    catalog.run(&["refresh", "--quiet"]).expect(0);
    let run = push(&catalog, &[]).expect(0);
    let calls = mock.take_calls();
    assert_all_valid(&calls);
    assert_eq!(methods(&calls).len(), 1, "{calls:?}");
    assert_eq!(calls[0].method, "PATCH");
    let patched = mock
        .offers()
        .into_values()
        .find(|o| o["reference"] == "DR-3")
        .unwrap();
    assert_eq!(patched["stock"]["amount"], 2);
    assert!(run.stderr().contains("1 updated"), "{}", run.stderr());

    // DR-2 leaves the catalog: its offer goes on hold (1 of 5 live offers: 20% needs --allow-drop).
    std::fs::remove_file(catalog.path().join("content/products/tools/DR-2.toml")).unwrap();
    // The build's own guard is let through: the push must guard the marketplace on its own.
    catalog.run(&["build", "--quiet", "--allow-drop"]).expect(0);
    let guarded = push(&catalog, &[]).expect(1);
    assert!(
        guarded.stderr().contains("--allow-drop"),
        "{}",
        guarded.stderr()
    );
    assert!(
        mock.take_calls().is_empty(),
        "the guard stops before any call"
    );
    push(&catalog, &["--allow-drop"]).expect(0);
    let calls = mock.take_calls();
    assert_all_valid(&calls);
    assert_eq!(methods(&calls).len(), 1, "{calls:?}");
    assert_eq!(calls[0].method, "PATCH");
    assert_eq!(calls[0].body, r#"{"onHoldByRetailer":true}"#);
    let held = mock
        .offers()
        .into_values()
        .find(|o| o["reference"] == "DR-2")
        .unwrap();
    assert_eq!(held["onHoldByRetailer"], true);
    // Held once, not again.
    push(&catalog, &[]).expect(0);
    assert!(mock.take_calls().is_empty());
}

#[test]
fn a_rate_limit_is_waited_out_and_a_refused_offer_is_reported_with_its_sku_and_bols_reason() {
    let Some(mock) = started() else { return };
    let catalog = catalog(&mock, "concurrency = 2\n");
    mock.throttle(3);
    mock.refuse("4006381333948"); // DR-3
    let started = Instant::now();
    let run = push(&catalog, &[]).expect(1);
    let calls = mock.take_calls();
    assert!(calls.iter().all(|c| c.status != 422), "{calls:?}");
    assert_eq!(calls.iter().filter(|c| c.status == 429).count(), 3);
    assert!(
        started.elapsed().as_secs_f64() >= 1.0,
        "Retry-After: 1 was waited out"
    );
    let stderr = run.stderr();
    assert!(
        stderr.contains("DR-3 (EAN 4006381333948) refused (create)")
            && stderr.contains("Unit price is lower than the minimum allowed price"),
        "{stderr}"
    );
    assert_eq!(mock.offers().len(), 4, "every other offer was created");
    let report: serde_json::Value =
        serde_json::from_str(&catalog.read(".pimfeed/push/bol-report.json")).unwrap();
    assert_eq!(report["refused"][0]["sku"], "DR-3");
    assert!(
        report["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("unitPrice")
    );

    // The refused offer is tried again by the next push, and only it.
    let run = push(&catalog, &["--format", "json"]).expect(1);
    assert_eq!(methods(&mock.take_calls()), ["POST /retailer/offers"]);
    assert_eq!(run.json()["channels"][0]["refused"][0]["sku"], "DR-3");
}

#[test]
fn wrong_credentials_exit_2_and_no_secret_appears_anywhere() {
    let Some(mock) = started() else { return };
    let catalog = catalog(&mock, "");
    let wrong = "wrong-Secret-9f8e7d6c";
    for format in ["human", "json"] {
        let run = push_as(&catalog, &["--format", format], CLIENT_ID, wrong).expect(2);
        let output = format!("{}{}", run.stdout(), run.stderr());
        assert!(
            output.contains("refused the client credentials"),
            "{output}"
        );
        assert!(!output.contains(wrong), "{output}");
        let basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{CLIENT_ID}:{wrong}"),
        );
        assert!(!output.contains(&basic), "{output}");
    }
    assert!(mock.take_calls().is_empty(), "no API call without a token");
    for entry in walkdir::WalkDir::new(catalog.path().join(".pimfeed")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(wrong),
                "{}",
                entry.path().display()
            );
        }
    }
    // A missing variable is named, not guessed.
    let run = catalog.run(&["push"]).expect(2);
    assert!(run.stderr().contains("TEST_BOL_ID"), "{}", run.stderr());
}

#[test]
fn an_interrupted_push_resumes_without_creating_an_offer_twice_and_a_lost_state_is_read_back() {
    let Some(mock) = started() else { return };
    let catalog = catalog(&mock, "");
    let state = catalog.path().join(".pimfeed/push/bol.jsonl");
    push(&catalog, &[]).expect(0);
    let created = mock.offers();
    assert_eq!(created.len(), 5);
    mock.take_calls();

    // Simulate a kill: two creates recorded; two more sent (one reached bol before the kill,
    // one did not) but their answers never recorded; the fifth never sent; a torn last line.
    let journal = std::fs::read_to_string(&state).unwrap();
    let lines: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pending = |n: usize| {
        serde_json::json!({"ean": lines[n]["ean"], "sku": lines[n]["sku"], "pending": true})
            .to_string()
    };
    let kept = format!(
        "{}\n{}\n{}\n{}\n{{\"ean\":\"12",
        lines[0],
        lines[1],
        pending(2),
        pending(3)
    );
    std::fs::write(&state, kept).unwrap();
    for (id, offer) in &created {
        if offer["ean"] == lines[3]["ean"] || offer["ean"] == lines[4]["ean"] {
            mock.send("DELETE", &format!("/retailer/offers/{id}"), "");
        }
    }
    mock.take_calls();
    push(&catalog, &[]).expect(0);
    let calls = mock.take_calls();
    assert_all_valid(&calls);
    let mut sent = methods(&calls);
    sent.sort();
    let reached = created
        .iter()
        .find(|(_, offer)| offer["ean"] == lines[2]["ean"])
        .unwrap()
        .0;
    assert_eq!(
        sent,
        [
            "GET /retailer/offers".to_string(),
            "GET /retailer/offers".to_string(),
            format!("PATCH /retailer/offers/{reached}"),
            "POST /retailer/offers".to_string(),
            "POST /retailer/offers".to_string(),
        ],
        "the two in-flight creates are looked up; the one bol has is updated, not created again"
    );
    assert_eq!(mock.offers().len(), 5);

    // The state is lost: it is read back from bol, and nothing is created again.
    std::fs::remove_file(&state).unwrap();
    let run = push(&catalog, &[]).expect(0);
    let calls = mock.take_calls();
    assert_all_valid(&calls);
    assert_eq!(calls[0].method, "GET");
    assert!(calls.iter().all(|c| c.method != "POST"), "{calls:?}");
    assert!(
        run.stderr().contains("read 5 offers back"),
        "{}",
        run.stderr()
    );
    assert_eq!(mock.offers().len(), 5);
}

#[test]
fn dry_run_lists_the_calls_and_their_count_and_sends_nothing() {
    let catalog = Catalog::fixture("marketplaces");
    let config = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &format!(
            "{config}\n[channels.bol.push]\napi_url = \"http://127.0.0.1:9\"\ntoken_url = \"http://127.0.0.1:9/token\"\n\
             client_id_env = \"TEST_BOL_ID\"\nclient_secret_env = \"TEST_BOL_SECRET\"\n"
        ),
    );
    catalog.run(&["build", "--quiet"]).expect(0);
    let run = catalog.run(&["push", "--dry-run"]).expect(0);
    let stderr = run.stderr();
    assert_eq!(
        stderr.matches("POST /retailer/offers").count(),
        5,
        "{stderr}"
    );
    assert!(stderr.contains("5 calls would be sent"), "{stderr}");
    let run = catalog
        .run(&["push", "--dry-run", "--format", "json"])
        .expect(0);
    let json = run.json();
    assert_eq!(json["channels"][0]["planned"], 5);
    assert_eq!(json["channels"][0]["calls"].as_array().unwrap().len(), 5);
    assert!(!catalog.path().join(".pimfeed/push/bol.jsonl").exists());
}

#[test]
fn an_unreachable_api_exits_2_and_a_channel_without_push_settings_is_named() {
    let catalog = Catalog::fixture("marketplaces");
    let config = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &format!(
            "{config}\n[channels.bol.push]\napi_url = \"http://127.0.0.1:9\"\ntoken_url = \"http://127.0.0.1:9/token\"\n\
             client_id_env = \"TEST_BOL_ID\"\nclient_secret_env = \"TEST_BOL_SECRET\"\nretries = 1\n"
        ),
    );
    catalog.run(&["build", "--quiet"]).expect(0);
    let run = push(&catalog, &[]).expect(2);
    assert!(
        run.stderr().contains("127.0.0.1:9/token"),
        "{}",
        run.stderr()
    );
    let run = push(&catalog, &["meta"]).expect(2);
    assert!(
        run.stderr().contains("[channels.meta.push]"),
        "{}",
        run.stderr()
    );
}

/// The figure in the README: calls per second of a first push against the mock (Prism
/// validating every request, the stand-in keeping the offers). Run by hand:
/// `PIMFEED_PUSH_OFFERS=2000 cargo test --release --test it push_rate -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, not a check"]
fn push_rate_against_the_mock() {
    let Some(mock) = started() else { return };
    let concurrency = std::env::var("PIMFEED_PUSH_CONCURRENCY").unwrap_or("8".into());
    let catalog = catalog(&mock, &format!("concurrency = {concurrency}\n"));
    let offers: usize = std::env::var("PIMFEED_PUSH_OFFERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let template: serde_json::Value =
        serde_json::from_str(catalog.read("feeds/bol.jsonl").lines().next().unwrap()).unwrap();
    let mut feed = String::new();
    for n in 0..offers {
        let mut offer = template.clone();
        offer["ean"] = format!("{:013}", 8_700_000_000_000u64 + n as u64).into();
        offer["reference"] = format!("SKU-{n}").into();
        feed.push_str(&offer.to_string());
        feed.push('\n');
    }
    catalog.write("feeds/bol.jsonl", &feed);
    let started = Instant::now();
    let run = push(&catalog, &["--format", "json"]).expect(0);
    let seconds = started.elapsed().as_secs_f64();
    let channel = &run.json()["channels"][0];
    assert_eq!(channel["created"], offers);
    eprintln!(
        "{offers} creates in {seconds:.1}s: {:.0} calls/s (pimfeed's own figure {:.0})",
        offers as f64 / seconds,
        channel["calls_per_second"].as_f64().unwrap()
    );
}

fn amazon_catalog(mock: &AmazonMock) -> Catalog {
    let catalog = Catalog::fixture("marketplaces");
    let config = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &format!(
            "{config}\n[channels.amazon.push]\napi_url = \"{}\"\ntoken_url = \"{}\"\n\
             client_id_env = \"TEST_AMZ_ID\"\nclient_secret_env = \"TEST_AMZ_SECRET\"\n\
             refresh_token_env = \"TEST_AMZ_REFRESH\"\npoll_seconds = 0.1\n",
            mock.url(""),
            mock.url("/token")
        ),
    );
    catalog.run(&["build", "--quiet"]).expect(0);
    catalog
}

fn amazon_push(catalog: &Catalog, args: &[&str], secret: &str) -> Run {
    let mut all = vec!["push", "amazon"];
    all.extend_from_slice(args);
    catalog.run_env(
        &all,
        &[
            ("TEST_AMZ_ID", amazon_mock::CLIENT_ID),
            ("TEST_AMZ_SECRET", secret),
            ("TEST_AMZ_REFRESH", amazon_mock::REFRESH_TOKEN),
        ],
    )
}

fn vendored_schema(file: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vendor/amazon")
        .join(file);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, document: &serde_json::Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
}

#[test]
fn amazon_gets_every_listing_once_then_a_patch_of_what_changed_and_its_report_reaches_the_output() {
    let Some(prism) = start_prism("amazon/feeds_2021-06-30.json") else {
        return;
    };
    let mock = AmazonMock::start(prism);
    let catalog = amazon_catalog(&mock);
    let feed_schema = vendored_schema("listings-feed-schema-v2.json");

    let run = amazon_push(&catalog, &["--format", "json"], amazon_mock::CLIENT_SECRET).expect(0);
    let calls = mock.take_calls();
    assert!(calls.iter().all(|c| c.status < 400), "{calls:#?}");
    let sent = methods(&calls);
    assert_eq!(
        sent,
        [
            "POST /feeds/2021-06-30/documents",
            "PUT /upload/doc-1",
            "POST /feeds/2021-06-30/feeds",
            "GET /feeds/2021-06-30/feeds/feed-2",
            "GET /feeds/2021-06-30/feeds/feed-2",
            "GET /feeds/2021-06-30/documents/report-feed-2",
            "GET /download/report-feed-2",
        ]
    );
    let first = &mock.uploads()[0];
    assert_valid(&feed_schema, first);
    assert_eq!(first["messages"].as_array().unwrap().len(), 5);
    assert_eq!(run.json()["channels"][0]["accepted"], 5);

    // Nothing changed: no feed.
    amazon_push(&catalog, &[], amazon_mock::CLIENT_SECRET).expect(0);
    assert!(mock.take_calls().is_empty());

    // DR-1's stock changes: one PATCH message replacing only its availability. TS-B-M's too,
    // and Amazon refuses it; GA-1 only gets a warning.
    let erp = catalog.read("erp/items.csv");
    catalog.write(
        "erp/items.csv",
        &erp.replace("DR-1,149.95,12,", "DR-1,149.95,3,")
            .replace("TS-B-M,39.95,7,", "TS-B-M,39.95,6,"),
    );
    catalog.run(&["refresh", "--quiet"]).expect(0);
    mock.issue(
        "TS-B-M",
        "ERROR",
        "'item_name' is required but not supplied.",
    );
    let run = amazon_push(&catalog, &[], amazon_mock::CLIENT_SECRET).expect(1);
    mock.take_calls();
    let second = mock.uploads().pop().unwrap();
    assert_valid(&feed_schema, &second);
    let messages = second["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{second:#}");
    for message in messages {
        assert_eq!(message["operationType"], "PATCH");
        assert_eq!(
            message["patches"][0]["path"],
            "/attributes/fulfillment_availability"
        );
        assert_eq!(message["patches"].as_array().unwrap().len(), 1);
    }
    let stderr = run.stderr();
    assert!(
        stderr
            .contains("TS-B-M refused (update): 90220: 'item_name' is required but not supplied."),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&catalog.read(".pimfeed/push/amazon-report.json")).unwrap();
    assert_eq!(report["refused"][0]["sku"], "TS-B-M");
    assert_eq!(report["accepted"], 1);

    // The refused listing is sent again by the next push, and only it.
    let run = amazon_push(&catalog, &["--format", "json"], amazon_mock::CLIENT_SECRET).expect(1);
    let third = mock.uploads().pop().unwrap();
    let skus: Vec<&str> = third["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["TS-B-M"]);
    assert_eq!(run.json()["channels"][0]["refused"][0]["sku"], "TS-B-M");
}

#[test]
fn amazon_processing_reports_served_by_the_stand_in_are_valid_by_amazons_schema() {
    let Some(prism) = start_prism("amazon/feeds_2021-06-30.json") else {
        return;
    };
    let mock = AmazonMock::start(prism);
    let catalog = amazon_catalog(&mock);
    mock.issue("GA-1", "WARNING", "The title is long.");
    let run = amazon_push(&catalog, &["--format", "json"], amazon_mock::CLIENT_SECRET).expect(0);
    assert_eq!(run.json()["channels"][0]["warnings"][0]["sku"], "GA-1");
    let client = reqwest::blocking::Client::new();
    let text = client
        .get(mock.url("/download/report-feed-2"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_valid(
        &vendored_schema("listings-feed-processing-report-schema-v2.json"),
        &report,
    );
}

#[test]
fn amazon_wrong_credentials_exit_2_and_no_secret_appears() {
    let Some(prism) = start_prism("amazon/feeds_2021-06-30.json") else {
        return;
    };
    let mock = AmazonMock::start(prism);
    let catalog = amazon_catalog(&mock);
    let wrong = "wrong-Amazon-Secret-31337";
    let run = amazon_push(&catalog, &[], wrong).expect(2);
    let output = format!("{}{}", run.stdout(), run.stderr());
    assert!(
        output.contains("refused the client credentials"),
        "{output}"
    );
    for secret in [
        wrong,
        amazon_mock::REFRESH_TOKEN,
        "IwEBIpimfeed-refresh-token-77",
    ] {
        assert!(!output.contains(secret), "{output}");
    }
    assert!(mock.take_calls().is_empty());
}

#[test]
fn an_amazon_feed_still_processing_when_the_push_gives_up_is_read_back_by_the_next_push_not_sent_again()
 {
    let Some(prism) = start_prism("amazon/feeds_2021-06-30.json") else {
        return;
    };
    let mock = AmazonMock::start(prism);
    let catalog = amazon_catalog(&mock);
    let config = catalog.read("pim.toml");
    catalog.write("pim.toml", &format!("{config}max_wait_minutes = 0\n"));
    // The mock finishes a feed on its second getFeed; this push asks once and gives up.
    let run = amazon_push(&catalog, &[], amazon_mock::CLIENT_SECRET).expect(2);
    assert!(
        run.stderr().contains("still being processed"),
        "{}",
        run.stderr()
    );
    assert_eq!(mock.uploads().len(), 1);
    mock.take_calls();
    let run = amazon_push(&catalog, &["--format", "json"], amazon_mock::CLIENT_SECRET).expect(0);
    assert_eq!(mock.uploads().len(), 1, "the feed was not sent again");
    assert_eq!(
        methods(&mock.take_calls()),
        [
            "GET /feeds/2021-06-30/feeds/feed-2",
            "GET /feeds/2021-06-30/documents/report-feed-2",
            "GET /download/report-feed-2",
        ]
    );
    assert_eq!(run.json()["channels"][0]["accepted"], 5);
}

#[test]
fn a_push_killed_part_way_continues_without_sending_an_offer_twice() {
    let Some(mock) = started() else { return };
    let catalog = catalog(&mock, "concurrency = 1\n");
    mock.slow_creates(300);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .args(["push", "--quiet"])
        .current_dir(catalog.path())
        .env("TEST_BOL_ID", CLIENT_ID)
        .env("TEST_BOL_SECRET", CLIENT_SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Bounded wait for two creates, then a kill (SIGKILL: no chance to clean up).
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    while mock.offers().len() < 2 {
        assert!(Instant::now() < deadline, "the push made no progress");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = mock.offers().len();
    assert!(before < 5, "killed part-way ({before} of 5 created)");
    mock.slow_creates(0);
    mock.take_calls();

    // The mock refuses a second offer for one EAN (as bol does): exit 0 means none was sent.
    push(&catalog, &[]).expect(0);
    let calls = mock.take_calls();
    assert_all_valid(&calls);
    let posts = calls.iter().filter(|c| c.method == "POST").count();
    assert!(posts <= 5 - before + 1, "{calls:?}");
    assert_eq!(mock.offers().len(), 5);
}
