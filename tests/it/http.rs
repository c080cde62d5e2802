//! The `http` ERP source against a real HTTP server on 127.0.0.1, started by each test: every
//! paging style and auth kind, and the faults real ERPs produce. A failed pull never changes
//! `feeds/`.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Catalog, flat};
use crate::loopback::{Request, read_request};

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

fn ok(body: Value) -> Reply {
    Reply {
        status: 200,
        headers: Vec::new(),
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

fn status(code: u16, body: &str) -> Reply {
    Reply {
        status: code,
        headers: Vec::new(),
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

/// A server on a free loopback port; it stops when dropped. Each connection gets a thread,
/// so a slow reply does not hold up the next request.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn start(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let count = Arc::new(AtomicUsize::new(0));
        let (stop_flag, log) = (stop.clone(), requests.clone());
        thread::spawn(move || {
            // Bounded: a server left behind by a failed test ends on its own.
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop_flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (handler, log, count) = (handler.clone(), log.clone(), count.clone());
                        thread::spawn(move || {
                            let _ = serve(stream, &*handler, &log, &count);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            port,
            stop,
            requests,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    stream: TcpStream,
    handler: &(dyn Fn(&Request, usize) -> Reply + Send + Sync),
    log: &Mutex<Vec<Request>>,
    count: &AtomicUsize,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let Some(request) = read_request(&mut reader)? else {
        return Ok(());
    };
    let number = count.fetch_add(1, Ordering::SeqCst) + 1;
    log.lock().unwrap().push(request.clone());
    let reply = handler(&request, number);
    thread::sleep(reply.delay);
    let mut stream = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(reply.body.as_bytes())?;
    stream.flush()
}

/// The basic fixture's ERP export as API records, with the API's own names for two fields.
fn api_records(catalog: &Catalog) -> Vec<Value> {
    let (headers, rows) = catalog.csv("erp/items.csv");
    rows.iter()
        .map(|row| {
            let mut record = serde_json::Map::new();
            for (name, value) in headers.iter().zip(row.iter()) {
                if value.is_empty() {
                    continue;
                }
                let name = match name {
                    "sku" => "ItemCode",
                    "active" => "Blocked",
                    other => other,
                };
                let value = match name {
                    "Blocked" => json!(value != "true"),
                    "price" | "stock" => value.parse::<Value>().unwrap(),
                    _ => json!(value),
                };
                record.insert(name.to_string(), value);
            }
            Value::Object(record)
        })
        .collect()
}

const FIELDS: &str = r#"
[erp.fields]
sku = "/ItemCode"
active = { pointer = "/Blocked", not = true, default = true }
"#;

/// The basic catalog reading its ERP numbers from `erp` (the `[erp]` table's body).
fn catalog_with_erp(erp: &str) -> Catalog {
    let catalog = Catalog::fixture("basic");
    let config = catalog.read("pim.toml").replace(
        "[erp]\nsource = \"file\"\npath = \"erp/items.csv\"\n",
        &format!("[erp]\nsource = \"http\"\nretries = 2\nbackoff_ms = 10\ntimeout_seconds = 0.5\n{erp}\n{FIELDS}\n"),
    );
    assert!(
        config.contains("source = \"http\""),
        "the fixture's [erp] changed"
    );
    catalog.write("pim.toml", &config);
    catalog
}

/// Pages of `size` records in the OData v4 shape with relative next links.
fn odata_pages(
    records: Vec<Value>,
    size: usize,
) -> impl Fn(&Request, usize) -> Reply + Send + Sync {
    move |request, _| {
        let skip: usize = request
            .query("$skiptoken")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let page: Vec<Value> = records.iter().skip(skip).take(size).cloned().collect();
        let mut body = json!({ "value": page });
        if skip + size < records.len() {
            body["@odata.nextLink"] = json!(format!("Products?$skiptoken={}", skip + size));
        }
        ok(body)
    }
}

fn feeds_without_metadata(catalog: &Catalog) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    catalog
        .feeds_snapshot()
        .into_iter()
        .filter(|(path, _)| !path.starts_with("report") && path.as_os_str() != "manifest.json")
        .collect()
}

#[test]
fn odata_next_links_with_basic_auth_give_the_same_feeds_as_the_csv_export() {
    let csv_catalog = Catalog::fixture("basic");
    csv_catalog.run(&["build"]).expect(0);

    let records = api_records(&csv_catalog);
    let pages = odata_pages(records, 2);
    let server = Server::start(move |request, number| {
        let expected = format!("Basic {}", "ZXJwLXJlYWRlcjpzM2NyZXQ="); // erp-reader:s3cret
        if request.headers.get("authorization") != Some(&expected) {
            return status(401, "{\"error\": \"who are you\"}");
        }
        pages(request, number)
    });
    let catalog = catalog_with_erp(&format!(
        "preset = \"odata-v4\"\nurl = \"{}\"\n[erp.auth]\nkind = \"basic\"\nusername_env = \"PIMFEED_TEST_USER\"\npassword_env = \"PIMFEED_TEST_PASSWORD\"\n",
        server.url("/odata/v4/catalog/Products")
    ));
    let run = catalog.run_env(
        &["build"],
        &[
            ("PIMFEED_TEST_USER", "erp-reader"),
            ("PIMFEED_TEST_PASSWORD", "s3cret"),
        ],
    );
    run.expect(0);
    assert_eq!(
        feeds_without_metadata(&catalog),
        feeds_without_metadata(&csv_catalog)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "6 records in pages of 2");
    assert_eq!(
        requests[2].target,
        "/odata/v4/catalog/Products?$skiptoken=4"
    );
    let manifest: Value = serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    assert_eq!(manifest["erp"]["records"], 6);
    assert!(!catalog.read("feeds/manifest.json").contains("s3cret"));
}

#[test]
fn offset_page_cursor_and_link_header_paging() {
    let records = api_records(&Catalog::fixture("basic"));
    let all = records.clone();
    let offset = Server::start(move |request, _| {
        let from: usize = request.query("offset").unwrap().parse().unwrap();
        let size: usize = request.query("limit").unwrap().parse().unwrap();
        ok(json!(
            all.iter()
                .skip(from)
                .take(size)
                .cloned()
                .collect::<Vec<_>>()
        ))
    });
    let all = records.clone();
    let page = Server::start(move |request, _| {
        let page: usize = request.query("page").unwrap().parse().unwrap();
        let items: Vec<Value> = all.iter().skip((page - 1) * 4).take(4).cloned().collect();
        ok(json!({ "rows": items }))
    });
    let all = records.clone();
    let cursor = Server::start(move |request, _| {
        let at: usize = request
            .query("cursor")
            .map_or(0, |c| c.trim_start_matches('c').parse().unwrap());
        let items: Vec<Value> = all.iter().skip(at).take(3).cloned().collect();
        let next = if at + 3 < all.len() {
            json!(format!("c{}", at + 3))
        } else {
            Value::Null
        };
        ok(json!({ "data": items, "meta": { "next": next } }))
    });
    let all = records;
    let link_port = Arc::new(Mutex::new(0u16));
    let port = link_port.clone();
    let link = Server::start(move |request, _| {
        let page: usize = request.query("p").map_or(0, |p| p.parse().unwrap());
        let items: Vec<Value> = all.iter().skip(page * 5).take(5).cloned().collect();
        let mut reply = ok(json!(items));
        if page == 0 {
            let next = format!(
                "<http://127.0.0.1:{}/items?p=1>; rel=\"next\"",
                port.lock().unwrap()
            );
            reply.headers.push(("Link".into(), next));
        }
        reply
    });
    *link_port.lock().unwrap() = link.port;

    let configurations = [
        format!(
            "url = \"{}\"\n[erp.paging]\nkind = \"offset\"\nsize = 4\nsize_param = \"limit\"\n[erp.auth]\nkind = \"bearer\"\ntoken_env = \"PIMFEED_TEST_TOKEN\"\n",
            offset.url("/items")
        ),
        format!(
            "url = \"{}\"\nrecords = \"/rows\"\n[erp.paging]\nkind = \"page\"\nsize = 4\n",
            page.url("/items")
        ),
        format!(
            "url = \"{}\"\nrecords = \"/data\"\n[erp.paging]\nkind = \"cursor\"\npointer = \"/meta/next\"\nparam = \"cursor\"\n[erp.auth]\nkind = \"header\"\nname = \"AfasToken\"\nvalue_env = \"PIMFEED_TEST_TOKEN\"\n",
            cursor.url("/items")
        ),
        format!(
            "url = \"{}\"\n[erp.paging]\nkind = \"link-header\"\n",
            link.url("/items")
        ),
    ];
    for erp in configurations {
        let catalog = catalog_with_erp(&erp);
        catalog
            .run_env(&["build"], &[("PIMFEED_TEST_TOKEN", "t0ken-123")])
            .expect(0);
        let manifest: Value = serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
        assert_eq!(manifest["erp"]["records"], 6, "{erp}");
    }
    assert!(
        offset
            .requests()
            .iter()
            .all(|r| r.headers["authorization"] == "Bearer t0ken-123")
    );
    // Offsets are known in advance: four pages go out at once, and the short second page
    // (4 + 2 records) ends the pull once the page after its records is empty.
    let mut offsets: Vec<usize> = offset
        .requests()
        .iter()
        .map(|r| r.query("offset").unwrap().parse().unwrap())
        .collect();
    offsets.sort_unstable();
    // The short page's records end at 6: offset 6 confirms there are no more.
    assert_eq!(offsets, [0, 4, 6, 8, 12]);
    assert!(
        cursor
            .requests()
            .iter()
            .all(|r| r.headers["afastoken"] == "t0ken-123")
    );
    assert_eq!(link.requests().len(), 2);
}

#[test]
fn oauth2_client_credentials_token_is_fetched_once_and_sent() {
    let records = api_records(&Catalog::fixture("basic"));
    let server = Server::start(move |request, _| {
        if request.target == "/token" {
            assert_eq!(request.method, "POST");
            assert!(request.body.contains("grant_type=client_credentials"));
            assert!(request.body.contains("client_secret=sh-secret"));
            return ok(json!({ "access_token": "acc-777", "expires_in": 3600 }));
        }
        if request.headers.get("authorization").map(String::as_str) != Some("Bearer acc-777") {
            return status(401, "{}");
        }
        let page: usize = request.query("page").unwrap().parse().unwrap();
        ok(json!(
            records
                .iter()
                .skip((page - 1) * 2)
                .take(2)
                .cloned()
                .collect::<Vec<_>>()
        ))
    });
    let catalog = catalog_with_erp(&format!(
        "url = \"{}\"\n[erp.paging]\nkind = \"page\"\nsize = 2\n[erp.auth]\nkind = \"oauth2\"\ntoken_url = \"{}\"\nclient_id_env = \"PIMFEED_TEST_ID\"\nclient_secret_env = \"PIMFEED_TEST_SECRET\"\nscope = \"erp.read\"\n",
        server.url("/items"),
        server.url("/token"),
    ));
    catalog
        .run_env(
            &["build"],
            &[
                ("PIMFEED_TEST_ID", "pimfeed"),
                ("PIMFEED_TEST_SECRET", "sh-secret"),
            ],
        )
        .expect(0);
    let tokens = server
        .requests()
        .iter()
        .filter(|r| r.target == "/token")
        .count();
    assert_eq!(tokens, 1, "the token is cached across pages");
}

#[test]
fn transient_faults_are_retried_and_retry_after_is_honoured() {
    let records = api_records(&Catalog::fixture("basic"));
    let pages = odata_pages(records, 3);
    let server = Server::start(move |request, number| match number {
        1 => status(500, "{\"error\": \"database restarting\"}"),
        2 => Reply {
            headers: vec![("Retry-After".into(), "1".into())],
            ..status(429, "{}")
        },
        _ => pages(request, number),
    });
    let catalog = catalog_with_erp(&format!(
        "preset = \"odata-v4\"\nurl = \"{}\"\n",
        server.url("/Products")
    ));
    let started = Instant::now();
    catalog.run(&["build"]).expect(0);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(server.requests().len(), 4);
}

/// A first good build, then a pull that fails: exit 2, the error named, feeds unchanged.
fn assert_failed_pull_changes_nothing(
    handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static,
    extra: &str,
    expected: &[&str],
) -> Catalog {
    let records = api_records(&Catalog::fixture("basic"));
    let good = Arc::new(AtomicBool::new(true));
    let good_flag = good.clone();
    let pages = odata_pages(records, 2);
    let server = Server::start(move |request, number| {
        if good_flag.load(Ordering::SeqCst) {
            pages(request, number)
        } else {
            handler(request, number)
        }
    });
    let catalog = catalog_with_erp(&format!(
        "preset = \"odata-v4\"\nurl = \"{}\"\n{extra}\n[erp.auth]\nkind = \"bearer\"\ntoken_env = \"PIMFEED_TEST_TOKEN\"\n",
        server.url("/Products")
    ));
    let env = [("PIMFEED_TEST_TOKEN", "very-secret-token")];
    catalog.run_env(&["build"], &env).expect(0);
    let before = catalog.feeds_snapshot();
    good.store(false, Ordering::SeqCst);
    let run = catalog.run_env(&["build"], &env).expect(2);
    let stderr = run.stderr();
    for text in expected {
        assert!(stderr.contains(text), "missing {text:?} in:\n{stderr}");
    }
    assert!(
        !stderr.contains("very-secret-token"),
        "the token leaked:\n{stderr}"
    );
    assert_eq!(catalog.feeds_snapshot(), before);
    catalog
}

#[test]
fn a_401_fails_at_once_without_leaking_the_token() {
    // The server echoes the credentials it got, as some error pages do.
    assert_failed_pull_changes_nothing(
        |request, _| {
            status(
                401,
                &format!(
                    "{{\"error\": \"bad token {}\"}}",
                    request.headers["authorization"]
                ),
            )
        },
        "",
        &["page 1", "401", "***"],
    );
}

#[test]
fn a_page_past_the_timeout_fails() {
    assert_failed_pull_changes_nothing(
        |_, _| Reply {
            delay: Duration::from_millis(900),
            ..ok(json!({ "value": [] }))
        },
        "",
        &["no answer within", "gave up after 3 attempts"],
    );
}

#[test]
fn truncated_json_fails() {
    assert_failed_pull_changes_nothing(
        |_, _| status(200, "{\"value\": [{\"ItemCode\": \"DR-1\", \"pri"),
        "",
        &["page 1", "not valid JSON"],
    );
}

#[test]
fn a_next_link_that_loops_fails() {
    assert_failed_pull_changes_nothing(
        |_, _| {
            ok(
                json!({ "value": [{ "ItemCode": "DR-1", "price": 1, "stock": 1 }], "@odata.nextLink": "Products" }),
            )
        },
        "",
        &["links back to a page it already sent"],
    );
}

#[test]
fn a_duplicate_sku_on_page_three_fails() {
    let catalog = assert_failed_pull_changes_nothing(
        |request, _| {
            let page: usize = request
                .query("$skiptoken")
                .map_or(1, |s| s.parse().unwrap());
            let sku = if page == 2 { "P2" } else { "DR-1" };
            let mut body = json!({ "value": [{ "ItemCode": sku, "price": 1, "stock": 1 }] });
            if page < 3 {
                body["@odata.nextLink"] = json!(format!("Products?$skiptoken={}", page + 1));
            }
            ok(body)
        },
        "",
        &["SKU `DR-1` also on"],
    );
    assert!(catalog.path().join("feeds/google.xml").is_file());
}

#[test]
fn a_down_erp_falls_back_to_the_last_good_pull_within_max_age() {
    let records = api_records(&Catalog::fixture("basic"));
    let up = Arc::new(AtomicBool::new(true));
    let flag = up.clone();
    let pages = odata_pages(records, 10);
    let server = Server::start(move |request, number| {
        if flag.load(Ordering::SeqCst) {
            pages(request, number)
        } else {
            status(503, "{\"error\": \"maintenance\"}")
        }
    });
    let catalog = catalog_with_erp(&format!(
        "preset = \"odata-v4\"\nurl = \"{}\"\nmax_age_minutes = 60\n",
        server.url("/Products")
    ));
    catalog.run(&["build"]).expect(0);
    up.store(false, Ordering::SeqCst);
    let run = catalog.run(&["build"]).expect(0);
    assert!(run.stderr().contains("last good pull"), "{}", run.stderr());
    let manifest: Value = serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    assert_eq!(manifest["erp"]["stale"]["age_minutes"], 0);
    assert!(
        manifest["erp"]["stale"]["because"]
            .as_str()
            .unwrap()
            .contains("503")
    );
    let report: Value = serde_json::from_str(&catalog.read("feeds/report/report.json")).unwrap();
    assert!(
        report["erp_stale"]
            .as_str()
            .unwrap()
            .contains("minutes old")
    );

    // Without a fallback allowance, the same outage fails the build.
    let strict = catalog
        .read("pim.toml")
        .replace("max_age_minutes = 60\n", "");
    catalog.write("pim.toml", &strict);
    catalog.run(&["build"]).expect(2);
}

/// Every spelling in which an error page may echo a basic-auth pair back.
fn echoed_credentials(authorization: &str, password: &str) -> Vec<String> {
    let percent: String = password
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    vec![
        authorization.to_string(),
        authorization.replace('/', "\\/"),
        format!("password={percent}"),
        format!("password={}", percent.to_lowercase()),
        password.replace('/', "\\/"),
    ]
}

#[test]
fn an_erp_that_echoes_basic_auth_leaks_no_form_of_it_into_any_output() {
    const USER: &str = "feed-reader";
    const PASSWORD: &str = "s3cr/et+pa?ss";
    // base64("feed-reader:s3cr/et+pa?ss"), as the Authorization header carries it.
    const ENCODED: &str = "ZmVlZC1yZWFkZXI6czNjci9ldCtwYT9zcw==";
    let records = api_records(&Catalog::fixture("basic"));
    let up = Arc::new(AtomicBool::new(true));
    let flag = up.clone();
    let pages = odata_pages(records, 10);
    let server = Server::start(move |request, number| {
        if flag.load(Ordering::SeqCst) {
            return pages(request, number);
        }
        let authorization = request.headers["authorization"].clone();
        // Padding puts the last echo across the 300-character excerpt's cut.
        let padding = "x".repeat(300 - 20);
        let echoes = echoed_credentials(&authorization, PASSWORD).join(" | ");
        status(
            500,
            &format!(
                "{{\"trace\": \"{echoes}\", \"pad\": \"{padding}\", \"again\": \"{authorization}\"}}"
            ),
        )
    });
    let catalog = catalog_with_erp(&format!(
        "preset = \"odata-v4\"\nurl = \"{}\"\nmax_age_minutes = 60\n[erp.auth]\nkind = \"basic\"\nusername_env = \"PIMFEED_TEST_USER\"\npassword_env = \"PIMFEED_TEST_PASSWORD\"\n",
        server.url("/Products")
    ));
    let env = [
        ("PIMFEED_TEST_USER", USER),
        ("PIMFEED_TEST_PASSWORD", PASSWORD),
    ];
    catalog.run_env(&["build"], &env).expect(0);
    up.store(false, Ordering::SeqCst);
    let human = catalog.run_env(&["build"], &env).expect(0);
    assert!(
        human.stderr().contains("the ERP server said: ") && human.stderr().contains("***"),
        "the server's answer, masked, belongs on the terminal:\n{}",
        human.stderr()
    );
    let json = catalog
        .run_env(&["build", "--format", "json"], &env)
        .expect(0);

    let published = [
        "feeds/manifest.json",
        "feeds/report/report.json",
        "feeds/report/index.html",
    ];
    let mut texts: Vec<(String, String)> = published
        .iter()
        .map(|path| (path.to_string(), catalog.read(path)))
        .collect();
    texts.push(("stdout".into(), human.stdout() + &json.stdout()));
    texts.push(("stderr".into(), human.stderr() + &json.stderr()));
    let fragments = [
        PASSWORD,
        "s3cr",
        "et+pa",
        "s3cr%2F",
        "s3cr%2f",
        "s3cr\\/",
        &ENCODED[..12],
        &ENCODED[8..20],
    ];
    for (name, text) in &texts {
        for fragment in fragments {
            assert!(
                !text.contains(fragment),
                "{fragment:?} leaked into {name}:\n{text}"
            );
        }
    }
    let manifest: Value = serde_json::from_str(&catalog.read("feeds/manifest.json")).unwrap();
    let because = manifest["erp"]["stale"]["because"].as_str().unwrap();
    assert!(
        because.contains("page 1") && because.contains("500"),
        "{because}"
    );
    for (name, text) in &texts[..3] {
        assert!(
            !text.contains("trace") && !text.contains("xxxxxxxx"),
            "what the server said reached {name}:\n{text}"
        );
    }
}
mod paging_caps;

#[test]
fn a_bad_record_is_named_by_its_source_and_number_in_every_format() {
    let mut records = api_records(&Catalog::fixture("basic"));
    let sku = records[2]["ItemCode"].as_str().unwrap().to_string();
    records[2]["price"] = json!("12.5x");
    let server = Server::start(move |_, _| ok(json!({ "value": records.clone() })));
    let url = server.url("/Products");
    let catalog = catalog_with_erp(&format!("preset = \"odata-v4\"\nurl = \"{url}\"\n"));

    let human = catalog.run(&["check"]).expect(2);
    let stderr = human.stderr_flat();
    let named = format!("record 3, SKU `{sku}`: price `12.5x`");
    assert!(
        stderr.contains(&flat(&named)),
        "missing {named:?} in:\n{stderr}"
    );
    let summary = format!("ERP source {url} has 1 problem; nothing was built");
    assert!(stderr.contains(&flat(&summary)), "{stderr}");
    assert!(!stderr.contains(&flat("ERP export")), "{stderr}");
    assert!(!stderr.contains(&flat("row 3")), "{stderr}");

    let github = catalog.run(&["check", "--format", "github"]).expect(2);
    let annotation = format!(
        "::error file={},title=erp-row::{named}",
        url.replace(':', "%3A")
    );
    assert!(
        github.stdout().contains(&annotation),
        "missing {annotation:?} in:\n{}",
        github.stdout()
    );

    let json = catalog.run(&["check", "--format", "json"]).expect(2).json();
    let diagnostics = json["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{json}");
    assert_eq!(diagnostics[0]["file"], url.as_str());
    assert_eq!(diagnostics[0]["severity"], "error");
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .starts_with(&named),
        "{json}"
    );
    assert!(
        !json["error"].as_str().unwrap().contains("ERP export"),
        "{json}"
    );
}
