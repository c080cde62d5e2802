//! Honest verdicts: every output says why a product is where it is, in the user's words.

use serde_json::Value;

use crate::common::{Catalog, commit_all};

/// The basic catalog with `titel` instead of `title` in DR-1's file: DR-1 is a product with
/// a content error, not an ERP item without content.
fn catalog_with_a_typo_in_dr1() -> Catalog {
    let catalog = Catalog::fixture("basic");
    let text =
        catalog
            .read("content/products/tools/DR-1.toml")
            .replacen("title.nl-NL", "titel.nl-NL", 1);
    catalog.write("content/products/tools/DR-1.toml", &text);
    catalog
}

fn left_out_codes(report: &Value, sku: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for channel in report["channels"].as_array().unwrap() {
        for product in channel["left_out"].as_array().unwrap() {
            if product["sku"] == sku {
                found.push((
                    channel["name"].as_str().unwrap().to_string(),
                    product["reasons"][0]["code"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    found
}

#[test]
fn a_product_whose_file_has_an_error_is_left_out_for_that_reason_everywhere() {
    let catalog = catalog_with_a_typo_in_dr1();

    let json = catalog.run(&["check", "--format", "json"]).expect(1).json();
    let report = &json["report"];
    assert_eq!(report["erp_without_content"], serde_json::json!(["X-1"]));
    assert_eq!(report["content_with_errors"][0]["sku"], "DR-1");
    assert_eq!(
        report["content_with_errors"][0]["file"],
        "content/products/tools/DR-1.toml"
    );
    let codes = left_out_codes(report, "DR-1");
    assert_eq!(codes.len(), report["channels"].as_array().unwrap().len());
    assert!(
        codes.iter().all(|(_, code)| code == "content-error"),
        "{codes:?}"
    );
    let google = &report["channels"][0];
    let dr1 = google["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "DR-1")
        .unwrap();
    let reason = &dr1["reasons"][0];
    assert!(
        reason["message"]
            .as_str()
            .unwrap()
            .contains("unknown attribute `titel`"),
        "{reason}"
    );
    assert_eq!(reason["line"], 5);

    let human = catalog.run(&["check"]).expect(1).stderr();
    assert!(
        !human.contains("ERP items without content: DR-1"),
        "{human}"
    );
    assert!(
        human.contains("left out of every channel until their file's errors are fixed: DR-1"),
        "{human}"
    );

    let github = catalog
        .run(&["check", "--format", "github"])
        .expect(1)
        .stdout();
    assert!(
        github.contains("DR-1: its file has an error: unknown attribute `titel`"),
        "{github}"
    );

    catalog.run(&["build"]).expect(1);
    let built: Value = serde_json::from_str(&catalog.read("feeds/report/report.json")).unwrap();
    assert_eq!(built["content_with_errors"][0]["sku"], "DR-1");
    assert!(!built["erp_without_content"].to_string().contains("DR-1"));
    let manifest: Value = serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    let webshop = manifest["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "webshop")
        .unwrap();
    // DR-2 (no images), DR-4 (no ERP item) and now DR-1 (its error).
    assert_eq!(webshop["excluded"], 3, "{webshop}");
    let html = catalog.read("feeds/report/index.html");
    assert!(html.contains("its file has an error"));

    // A refresh reads no content, and still tells the same story.
    let stderr = catalog.run(&["refresh"]).expect(0).stderr();
    assert!(
        !stderr.contains("ERP items without content: DR-1"),
        "{stderr}"
    );
    // It renders again what the ERP changed; it reads no file "again".
    assert!(!stderr.contains("read again"), "{stderr}");
    assert!(
        stderr.contains("files unchanged, 0 rendered again with new ERP numbers"),
        "{stderr}"
    );
    let refreshed: Value = serde_json::from_str(&catalog.read("feeds/report/report.json")).unwrap();
    assert_eq!(refreshed["content_with_errors"][0]["sku"], "DR-1");
    assert_eq!(
        left_out_codes(&refreshed, "DR-1").len(),
        refreshed["channels"].as_array().unwrap().len()
    );
}

#[test]
fn a_file_that_does_not_parse_still_names_its_product() {
    let catalog = Catalog::fixture("basic");
    catalog.write(
        "content/products/tools/DR-1.toml",
        "sku = \"DR-1\"\nfamily = \"tools\nbrand = \"Bosch\"\n",
    );
    let json = catalog.run(&["check", "--format", "json"]).expect(1).json();
    assert_eq!(json["report"]["content_with_errors"][0]["sku"], "DR-1");
    assert_eq!(
        json["report"]["erp_without_content"],
        serde_json::json!(["X-1"])
    );
}

#[test]
fn invalid_utf8_in_a_content_file_says_line_and_column() {
    let catalog = Catalog::fixture("basic");
    let path = catalog.path().join("content/products/tools/DR-1.toml");
    let mut bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    // `é` in Latin-1 at the start of the brand's value.
    let at = text.find("brand = \"").unwrap() + "brand = \"".len();
    bytes.insert(at, 0xe9);
    std::fs::write(&path, bytes).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;

    let json = catalog.run(&["check", "--format", "json"]).expect(1).json();
    let error = json["report"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "invalid-utf8")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(error["file"], "content/products/tools/DR-1.toml");
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(line as u64), Some(column as u64))
    );
    assert_eq!(json["report"]["content_with_errors"][0]["sku"], "DR-1");
}

#[test]
fn check_lists_problems_by_product_and_disabled_products_apart() {
    let catalog = Catalog::fixture("basic");
    let text = catalog.read("content/products/tools/DR-3.toml");
    catalog.write(
        "content/products/tools/DR-3.toml",
        &text.replacen(
            "family = \"tools\"",
            "family = \"tools\"\nenabled = false",
            1,
        ),
    );
    let human = catalog.run(&["check"]).expect(0).stderr();
    // DR-2 misses its images in all five channels: one heading, one line.
    assert!(
        human.contains("DR-2 (content/products/tools/DR-2.toml:"),
        "{human}"
    );
    assert_eq!(
        human
            .matches("`images` is required and has no value")
            .count(),
        1,
        "{human}"
    );
    assert!(
        human
            .contains("left out of google, orders, partner, prices, webshop: `images` is required"),
        "{human}"
    );
    assert!(!human.contains("DR-3 (content/"), "{human}");
    assert!(!human.contains("is disabled"), "{human}");
    assert!(
        human.contains(
            "disabled (`enabled = false`), not published: DR-3 (google, orders, partner, prices, webshop)"
        ),
        "{human}"
    );
    assert!(human.contains(": 0 errors, "), "{human}");
}

#[test]
fn counts_of_one_are_singular() {
    let catalog = catalog_with_a_typo_in_dr1();
    let human = catalog.run(&["check"]).expect(1).stderr();
    assert!(human.contains(": 1 error, "), "{human}");
    assert!(!human.contains("1 errors"), "{human}");

    let stderr = Catalog::fixture("basic")
        .run(&["new", "X-1", "--family", "tools"])
        .expect(0)
        .stderr();
    assert!(stderr.contains("1 stub written"), "{stderr}");
}

#[test]
fn a_negative_stock_counts_as_zero_with_a_warning_naming_the_row() {
    let catalog = Catalog::fixture("basic");
    let export = catalog
        .read("erp/items.csv")
        .replacen("DR-1,149.95,12,", "DR-1,149.95,-4,", 1);
    catalog.write("erp/items.csv", &export);

    let json = catalog.run(&["check", "--format", "json"]).expect(0).json();
    let warning = json["report"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "negative-stock")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["file"], "erp/items.csv");
    assert_eq!(warning["line"], 2);
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("row 1") && message.contains("DR-1"),
        "{message}"
    );
    assert!(message.contains("counted as 0"), "{message}");

    let github = catalog
        .run(&["check", "--format", "github"])
        .expect(0)
        .stdout();
    assert!(
        github.contains("::warning file=erp/items.csv,line=2,col=1,title=negative-stock::"),
        "{github}"
    );

    catalog.run(&["build"]).expect(0);
    let (header, rows) = catalog.csv("feeds/orders.csv");
    let stock = header.iter().position(|h| h == "stock").unwrap();
    let dr1 = rows.iter().find(|r| &r[0] == "DR-1").unwrap();
    assert_eq!(&dr1[stock], "0");
}

#[test]
fn a_sku_that_differs_only_in_case_is_named() {
    let catalog = Catalog::fixture("basic");
    // DR-4 has content but no ERP item; give the ERP one, typed in lower case.
    let export = catalog.read("erp/items.csv").replacen("X-1,", "dr-4,", 1);
    catalog.write("erp/items.csv", &export);

    let json = catalog.run(&["check", "--format", "json"]).expect(0).json();
    let report = &json["report"];
    let warning = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "sku-case")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(warning["file"], "content/products/tools/DR-4.toml");
    assert_eq!(warning["line"], 2);
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("SKU `DR-4` is not in the ERP, but `dr-4` is"),
        "{warning}"
    );
    let google = &report["channels"][0];
    let dr4 = google["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "DR-4")
        .unwrap();
    assert!(
        dr4["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("differs only in case"),
        "{dr4}"
    );
    let human = catalog.run(&["check"]).expect(0).stderr();
    assert!(
        human.contains("at content/products/tools/DR-4.toml:2:1"),
        "{human}"
    );
}

#[test]
fn csv_headers_in_the_wrong_case_are_named() {
    let catalog = Catalog::fixture("basic");
    let export = catalog
        .read("erp/items.csv")
        .replacen("sku,price,", "SKU,Price,", 1);
    catalog.write("erp/items.csv", &export);
    let stderr = catalog.run(&["check"]).expect(2).stderr();
    assert!(
        stderr.contains("column `SKU` must be spelled `sku`: column names are case-sensitive"),
        "{stderr}"
    );
    assert!(
        stderr.contains("column `Price` must be spelled `price`"),
        "{stderr}"
    );
    assert!(!stderr.contains("must be a header row"), "{stderr}");
}

/// The basic catalog's `pim.toml` with `from` replaced by `to`.
fn catalog_with_config(from: &str, to: &str) -> Catalog {
    let catalog = Catalog::fixture("basic");
    let config = catalog.read("pim.toml");
    assert!(config.contains(from), "{from}");
    catalog.write("pim.toml", &config.replacen(from, to, 1));
    catalog
}

/// The 1-based line of the first line of `pim.toml` that contains `text`.
fn config_line(catalog: &Catalog, text: &str) -> usize {
    catalog
        .read("pim.toml")
        .lines()
        .position(|line| line.contains(text))
        .unwrap_or_else(|| panic!("{text} not in pim.toml"))
        + 1
}

#[test]
fn every_channel_problem_points_at_its_pim_toml_line_in_every_format() {
    let cases: &[(&str, &str, &str, &str, Option<&str>)] = &[
        (
            "preset = \"webshop-json\"",
            "preset = \"webshop-jsn\"",
            "webshop-jsn",
            "unknown preset `webshop-jsn`; did you mean `webshop-json`?",
            None,
        ),
        (
            "require = [\"brand\"]",
            "require = [\"brand\", \"colour\"]",
            "colour",
            "`require` names unknown attribute `colour`",
            Some("did you mean `color`?"),
        ),
        (
            "template = \"partner.json\"",
            "template = \"partnr.json\"",
            "partnr.json",
            "template `templates/partnr.json` does not exist",
            None,
        ),
        (
            "filter = \"erp.stock > 0\"",
            "filter = \"erp.stock >> 0\"",
            "erp.stock >> 0",
            "`filter` is not a valid expression",
            None,
        ),
    ];
    for (from, to, on_line, message, help) in cases {
        let catalog = catalog_with_config(from, to);
        let line = config_line(&catalog, on_line);

        let json = catalog.run(&["check", "--format", "json"]).expect(2).json();
        let diagnostic = &json["diagnostics"][0];
        assert_eq!(diagnostic["file"], "pim.toml", "{json}");
        assert_eq!(diagnostic["line"], line, "{to}: {json}");
        assert!(
            diagnostic["message"].as_str().unwrap().contains(message),
            "{json}"
        );
        if let Some(help) = help {
            assert_eq!(diagnostic["help"], *help, "{json}");
        }

        let github = catalog
            .run(&["check", "--format", "github"])
            .expect(2)
            .stdout();
        assert!(
            github.contains(&format!("::error file=pim.toml,line={line},")),
            "{to}: {github}"
        );

        let human = catalog.run(&["build"]).expect(2).stderr();
        assert!(
            human.contains(&format!("[pim.toml:{line}:")),
            "{to}: {human}"
        );
    }
}

#[test]
fn a_misspelt_setting_key_or_value_gets_a_did_you_mean() {
    for (from, to, help) in [
        ("require = [", "requre = [", "did you mean `require`?"),
        (
            "format = \"csv\"",
            "format = \"cvs\"",
            "did you mean `csv`?",
        ),
    ] {
        let catalog = catalog_with_config(from, to);
        let json = catalog.run(&["check", "--format", "json"]).expect(2).json();
        assert_eq!(json["diagnostics"][0]["help"], help, "{json}");
        assert_eq!(json["diagnostics"][0]["file"], "pim.toml", "{json}");
    }
}

#[test]
fn a_filter_typo_shows_the_users_expression_not_pimfeeds_template() {
    let catalog = catalog_with_config("filter = \"erp.stock > 0\"", "filter = \"erp.stock >> 0\"");
    let human = catalog.run(&["check"]).expect(2).stderr();
    assert!(!human.contains("__pimfeed"), "{human}");
    assert!(!human.contains("{% if"), "{human}");
    assert!(human.contains("erp.stock >> 0"), "{human}");

    // A filter that parses but fails on a product: the expression and its line too.
    let catalog = catalog_with_config("filter = \"erp.stock > 0\"", "filter = \"erp.stok > 0\"");
    let line = config_line(&catalog, "erp.stok");
    let human = catalog.run(&["check"]).expect(2).stderr();
    assert!(!human.contains("__pimfeed"), "{human}");
    assert!(!human.contains("{% if"), "{human}");
    assert!(
        human.contains(&format!("filter (pim.toml line {line})")),
        "{human}"
    );
    assert!(human.contains("    erp.stok > 0\n"), "{human}");
}

fn dr2_blame(catalog: &Catalog) -> Value {
    let json = catalog.run(&["check", "--format", "json"]).expect(0).json();
    dr2_blame_in(&json["report"])
}

/// The blame of DR-2's first reason for being left out of the Google channel, in `report`.
fn dr2_blame_in(report: &Value) -> Value {
    let google = &report["channels"][0];
    let dr2 = google["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "DR-2")
        .unwrap();
    dr2["reasons"][0]["blame"].clone()
}

#[test]
fn a_shallow_clone_does_not_blame_the_wrong_author() {
    let catalog = Catalog::fixture("basic");
    let repo = git2::Repository::init(catalog.path()).unwrap();
    commit_all(&repo, "Alice Author", "Catalog");
    let text = catalog.read("content/products/tools/DR-1.toml");
    catalog.write(
        "content/products/tools/DR-1.toml",
        &(text + "\n# checked\n"),
    );
    let head = commit_all(&repo, "Bob Bystander", "DR-1: a note");

    // A full history: DR-2's line was last changed by Alice.
    assert_eq!(dr2_blame(&catalog)["author"], "Alice Author");

    // What `git clone --depth 1` leaves: the head commit is where the history stops, and
    // blame would give it every line.
    std::fs::write(repo.path().join("shallow"), format!("{head}\n")).unwrap();
    let blame = dr2_blame(&catalog);
    assert_eq!(blame["history_cut_off"], true, "{blame}");
    assert!(blame.get("author").is_none(), "{blame}");

    let human = catalog.run(&["check"]).expect(0).stderr();
    assert!(!human.contains("Bob Bystander"), "{human}");
    assert!(human.contains("this clone is shallow"), "{human}");
    let github = catalog
        .run(&["check", "--format", "github"])
        .expect(0)
        .stdout();
    assert!(!github.contains("Bob Bystander"), "{github}");
}

/// The basic catalog reading an ERP API at `url` that is down (nothing listens there), with
/// a last good pull from `pulled_from`, `age_minutes` old, kept in `.pimfeed/`.
fn catalog_with_a_down_erp(url: &str, pulled_from: &str, age_minutes: i64) -> Catalog {
    let catalog = Catalog::fixture("basic");
    let config = catalog.read("pim.toml").replace(
        "[erp]\nsource = \"file\"\npath = \"erp/items.csv\"\n",
        &format!(
            "[erp]\nsource = \"http\"\nurl = \"{url}\"\nretries = 0\ntimeout_seconds = 2\n\
             max_age_minutes = 60\n\n[erp.fields]\nsku = \"/sku\"\n"
        ),
    );
    catalog.write("pim.toml", &config);
    let pulled_at = chrono::Utc::now() - chrono::Duration::minutes(age_minutes);
    let record = |sku: &str| {
        serde_json::json!({
            "sku": sku, "price": "10", "stock": 1, "currency": "EUR", "sale_price": null,
            "gtin": null, "mpn": null, "weight": null, "length": null, "width": null,
            "height": null, "unit": null, "pack_size": null, "active": true, "price_tiers": []
        })
    };
    let last = serde_json::json!({
        "pulled_at": pulled_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "source": pulled_from,
        "records": [record("DR-1"), record("DR-2")],
    });
    catalog.write(".pimfeed/erp-snapshot.json", &last.to_string());
    catalog
}

/// A url on 127.0.0.1 where nothing listens.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/items")
}

#[test]
fn a_fallback_uses_only_a_recent_pull_from_the_same_url_and_says_why_not() {
    let url = closed_url();

    // The same url, 5 minutes old: the build falls back to it.
    let catalog = catalog_with_a_down_erp(&url, &url, 5);
    let stderr = catalog.run(&["build"]).expect(0).stderr();
    assert!(stderr.contains("5 minutes old"), "{stderr}");

    // A pull from another ERP is never used.
    let catalog = catalog_with_a_down_erp(&url, "https://other-erp.example/items", 5);
    let stderr = catalog.run(&["build"]).expect(2).stderr();
    assert!(
        stderr
            .contains("the last good pull came from another url (https://other-erp.example/items)"),
        "{stderr}"
    );
    assert!(!catalog.path().join("feeds").exists());

    // Too old: the error says how old.
    let catalog = catalog_with_a_down_erp(&url, &url, 185);
    let stderr = catalog.run(&["build"]).expect(2).stderr();
    assert!(
        stderr.contains("is 3 h 5 min old, more than max_age_minutes = 60 allows"),
        "{stderr}"
    );
}

#[test]
fn watch_names_the_file_that_changed_and_when() {
    let catalog = Catalog::fixture("basic");
    // In the catalog folder, which the watcher watches, and read every 50 ms below: reading
    // it must not put the rebuild off.
    let log_path = catalog.path().join("watch.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .args(["watch", "--debounce-ms", "100"])
        .current_dir(catalog.path())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start pimfeed watch");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let wait = |what: &str, done: &dyn Fn(&str) -> bool| loop {
        let log = read_log();
        if done(&log) {
            break log;
        }
        if std::time::Instant::now() > deadline {
            panic!("gave up waiting for {what}:\n{log}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    wait("the first build", &|log: &str| log.contains("watching"));
    let product = "content/products/tools/DR-1.toml";
    let edited = catalog.read(product).replace("DR-1 18V", "DR-1 18V nieuw");
    catalog.write(product, &edited);
    let log = wait("the rebuild", &|log: &str| log.contains("building again"));
    let _ = child.kill();
    let _ = child.wait();
    let line = log
        .lines()
        .find(|line| line.contains("building again"))
        .unwrap();
    assert!(
        line.ends_with("content/products/tools/DR-1.toml changed: building again"),
        "{line}"
    );
    // `HH:MM:SS ` first.
    let time = &line[..8];
    assert!(
        chrono::NaiveTime::parse_from_str(time, "%H:%M:%S").is_ok(),
        "{line}"
    );
}

#[test]
fn a_misspelt_erp_field_points_at_its_pim_toml_line() {
    let catalog = catalog_with_config(
        "path = \"erp/items.csv\"\n",
        "path = \"erp/items.csv\"\n\n[erp.mapping]\nprise = \"price\"\n",
    );
    let line = config_line(&catalog, "prise");
    let json = catalog.run(&["check", "--format", "json"]).expect(2).json();
    let diagnostic = &json["diagnostics"][0];
    assert_eq!(diagnostic["file"], "pim.toml", "{json}");
    assert_eq!(diagnostic["line"], line, "{json}");
    assert_eq!(diagnostic["help"], "did you mean `price`?", "{json}");
    let github = catalog
        .run(&["check", "--format", "github"])
        .expect(2)
        .stdout();
    assert!(
        github.contains(&format!("::error file=pim.toml,line={line},")),
        "{github}"
    );
}

/// Answers every request on 127.0.0.1 with `body` as JSON, for at most 30 seconds.
fn serve_json(body: String) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/items", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            };
            stream.set_nonblocking(false).unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_negative_stock_from_an_erp_api_counts_as_zero_with_a_warning() {
    let (_, rows) = Catalog::fixture("basic").csv("erp/items.csv");
    let records: Vec<Value> = rows
        .iter()
        .map(|row| {
            let stock: i64 = if &row[0] == "DR-1" {
                -7
            } else {
                row[2].parse().unwrap()
            };
            serde_json::json!({ "sku": &row[0], "price": &row[1], "stock": stock })
        })
        .collect();
    let url = serve_json(Value::Array(records).to_string());
    let catalog = Catalog::fixture("basic");
    let config = catalog.read("pim.toml").replace(
        "[erp]\nsource = \"file\"\npath = \"erp/items.csv\"\n",
        &format!(
            "[erp]\nsource = \"http\"\nurl = \"{url}\"\nrecords = \"\"\nretries = 0\n\n\
             [erp.paging]\nkind = \"none\"\n"
        ),
    );
    catalog.write("pim.toml", &config);
    let json = catalog.run(&["check", "--format", "json"]).expect(0).json();
    let warning = json["report"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "negative-stock")
        .unwrap_or_else(|| panic!("{json}"));
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("record 1, SKU `DR-1`: stock is -7"),
        "{message}"
    );
    assert_eq!(warning["file"], url.as_str());
}

#[test]
fn json_keys_in_the_wrong_case_are_named() {
    let catalog = catalog_with_config("path = \"erp/items.csv\"", "path = \"erp/items.json\"");
    catalog.write(
        "erp/items.json",
        r#"[{"SKU": "DR-1", "price": 1, "stock": 1}, {"SKU": "DR-2", "price": 1, "stock": 1}]"#,
    );
    let stderr = catalog.run(&["check"]).expect(2).stderr();
    assert!(
        stderr.contains(
            "no record has the required key `sku` (the records have `SKU`: keys are case-sensitive)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_stub_family_that_the_schema_lacks_points_at_its_pim_toml_line() {
    let catalog = Catalog::fixture("basic");
    let config = catalog.read("pim.toml") + "\n[new.family_by_sku_prefix]\n\"X-\" = \"tool\"\n";
    catalog.write("pim.toml", &config);
    let line = config_line(&catalog, "\"X-\"");
    let stderr = catalog.run(&["new", "--missing"]).expect(2).stderr();
    assert!(stderr.contains(&format!("[pim.toml:{line}:")), "{stderr}");
    assert!(stderr.contains("did you mean `tools`?"), "{stderr}");
    assert!(!catalog.path().join("content/products/tool").exists());
}

/// DR-2's first reason's blame in the report of a `build`.
fn dr2_blame_after_a_build(catalog: &Catalog) -> Value {
    catalog.run(&["build"]).expect(0);
    let report: Value = serde_json::from_str(&catalog.read("feeds/report/report.json")).unwrap();
    dr2_blame_in(&report)
}

#[test]
fn a_build_blames_an_unchanged_file_again_when_its_history_changed() {
    let catalog = Catalog::fixture("basic");
    catalog.write(".gitignore", "/feeds\n/.pimfeed\n");
    let repo = git2::Repository::init(catalog.path()).unwrap();
    commit_all(&repo, "Alice Author", "Catalog");
    assert_eq!(dr2_blame_after_a_build(&catalog)["author"], "Alice Author");
    assert!(catalog.path().join(".pimfeed/blame.bin").exists());
    // Nothing changed: the same blame, from what the last build kept.
    assert_eq!(dr2_blame_after_a_build(&catalog)["author"], "Alice Author");

    // The history is rewritten (the same files, now committed by someone else): the files'
    // bytes did not change, their blame did.
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    let when = git2::Time::new(1_767_355_200, 0);
    let carol = git2::Signature::new("Carol Rewriter", "carol@example.com", &when).unwrap();
    let rewritten = repo
        .commit(None, &carol, &carol, "Catalog, squashed", &tree, &[])
        .unwrap();
    repo.head()
        .unwrap()
        .set_target(rewritten, "rewrite history")
        .unwrap();
    let blame = dr2_blame_after_a_build(&catalog);
    assert_eq!(blame["author"], "Carol Rewriter", "{blame}");
    assert_eq!(blame["commit"], rewritten.to_string(), "{blame}");
}
