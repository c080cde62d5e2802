//! `pimfeed serve`: the pages in a real browser (headless Chromium, driven over the DevTools
//! protocol), live reload after a save, and the errors a user can run into.
//!
//! Screenshots of every page are kept in `target/tmp/serve-screenshots/`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::common::{Catalog, commit_all, debug_build_has};

/// `pimfeed serve` on a free port; stopped when dropped.
struct Server {
    child: Child,
    base: String,
    /// Everything it printed on stderr so far, line by line.
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(catalog: &Catalog, extra: &[&str]) -> Server {
        Server::start_with(catalog, extra, |_| {})
    }

    /// [`Server::start`], with the command set up further by `configure` first.
    fn start_with(
        catalog: &Catalog,
        extra: &[&str],
        configure: impl FnOnce(&mut Command),
    ) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pimfeed"));
        command
            .args(["serve", "--port", "0", "--debounce-ms", "100"])
            .args(extra)
            .current_dir(catalog.path())
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        configure(&mut command);
        let mut child = command.spawn().expect("start pimfeed serve");
        let (sender, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("serve: {line}");
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            lines,
        };
        let line =
            server.wait_for_line("the server to listen", |line| line.contains(" on http://"));
        server.base = line
            .rsplit(" on ")
            .next()
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_string();
        server
    }

    fn wait_for_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(_) => continue,
                Err(_) => panic!("gave up waiting for {what}"),
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A page's status and body, over plain HTTP.
    fn get(&self, path: &str) -> (u16, String) {
        let address = self.base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connect to pimfeed serve");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response[9..12].parse().expect("an HTTP status");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("");
        (status, body.to_string())
    }

    /// Waits until the first build is on the pages.
    fn wait_for_first_build(&self) {
        wait_for("the first build", || {
            let (status, body) = self.get("/");
            status == 200 && !body.contains("id=\"waiting\"")
        });
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `serve`'s server-sent events, read as an open page's script reads them.
struct Events {
    reader: BufReader<TcpStream>,
}

impl Events {
    fn open(server: &Server) -> Events {
        let address = server.base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connect to pimfeed serve");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        write!(
            stream,
            "GET /events HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        Events {
            reader: BufReader::new(stream),
        }
    }

    /// Waits for the next `built` event: a build is on the pages.
    fn next_built(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut line = String::new();
        while Instant::now() < deadline {
            line.clear();
            let read = self.reader.read_line(&mut line).expect("the event stream");
            assert!(read > 0, "the event stream ended");
            if line.trim_end() == "event: built" {
                return;
            }
        }
        panic!("no build in 60 s");
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Headless Chromium, one tab, driven over the DevTools protocol.
struct Browser {
    child: Child,
    socket: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// None (and a loud note) when Chromium is not installed, outside CI; in CI, where
    /// `.ci/run` installs it, its absence fails the test.
    fn start() -> Option<Browser> {
        let Some(binary) = ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find(|name| {
                Command::new(name)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
        else {
            assert!(
                std::env::var_os("CI").is_none(),
                "Chromium is not installed: .ci/run installs the Debian package `chromium`"
            );
            eprintln!(
                "SKIPPED: Chromium is not installed (apt-get install chromium); the browser checks did not run"
            );
            return None;
        };
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
                // Pages show the catalog's image URLs; nothing but the server is reachable
                // from a test, so fail those at once rather than wait for DNS.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().unwrap();
        let (sender, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = sender.send(url.trim().to_string());
                }
            }
        });
        let url = received
            .recv_timeout(Duration::from_secs(60))
            .expect("Chromium's DevTools address");
        let (socket, _) = tungstenite::connect(url.as_str()).expect("connect to Chromium");
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let target = target["targetId"].as_str().unwrap().to_string();
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        Some(browser)
    }

    /// Sends a command (to the tab, once attached) and waits for its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(tungstenite::Message::text(message.to_string()))
            .expect("send to Chromium");
        loop {
            let reply = self.socket.read().expect("read from Chromium");
            let Ok(text) = reply.to_text() else { continue };
            let reply: Value = serde_json::from_str(text).unwrap();
            if reply["id"].as_u64() == Some(id) {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        wait_for(&format!("{url} to load"), || {
            self.eval("document.readyState") == json!("complete")
        });
    }

    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        result["result"]["value"].clone()
    }

    /// The text a person sees on the page.
    fn text(&mut self) -> String {
        self.eval("document.body.innerText")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn screenshot(&mut self, name: &str) {
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    fn width(&mut self, width: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}),
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_page_shows_the_catalog_as_each_channel_will() {
    let catalog = Catalog::example();
    let server = Server::start(&catalog, &[]);
    server.wait_for_first_build();
    let Some(mut browser) = Browser::start() else {
        return;
    };

    browser.open(&server.url("/"));
    let text = browser.text();
    for wanted in [
        "Acme Tools Wholesale",
        "Channels",
        "amazon-nl",
        "bol.jsonl",
        "What the last save changed",
        "Content problems",
    ] {
        assert!(text.contains(wanted), "overview misses {wanted:?}:\n{text}");
    }
    browser.screenshot("overview");

    browser.open(&server.url("/products"));
    assert!(browser.text().contains("37 products"), "{}", browser.text());
    browser.screenshot("products");
    // Searching as you type asks the server, which sends one page of matches.
    browser.eval(
        "(() => { const q = document.querySelector('#search input[name=q]'); \
         q.value = 'makita'; q.dispatchEvent(new Event('input', {bubbles: true})); })()",
    );
    wait_for("the search results", || {
        browser
            .eval("document.getElementById('count').innerText")
            .as_str()
            .is_some_and(|count| count.starts_with("6 products"))
    });
    assert!(browser.eval("location.search") == json!("?q=makita"));
    let rows = browser.text();
    assert!(
        rows.contains("MK-DHP485") && !rows.contains("BO-GSR18V55"),
        "{rows}"
    );

    browser.open(&server.url("/products/BO-GSR18V55"));
    let text = browser.text();
    for wanted in [
        "Bosch Professional GSR 18V-55 accu boorschroefmachine (solo)",
        "ERP numbers",
        "119.00",
        // The Google Shopping card names the shop's host and the price.
        "www.acme-tools.example",
        "119.00 EUR",
        // The Amazon listing has its bullets; bol its delivery promise.
        "Koolborstelloze motor",
        "1-2 days (order by 16:00)",
        // The webshop's JSON, pretty-printed.
        "\"sku\": \"BO-GSR18V55\"",
    ] {
        assert!(
            text.contains(wanted),
            "product page misses {wanted:?}:\n{text}"
        );
    }
    let editor =
        browser.eval("document.querySelector('a[href^=\"vscode://file/\"]').getAttribute('href')");
    let editor = editor.as_str().unwrap();
    assert!(
        editor.ends_with("content/products/power-tools/BO-GSR18V55.toml:1")
            && !editor.contains("file//"),
        "{editor}"
    );
    browser.screenshot("product");

    // A product left out of a channel: the reason, where to fix it, and no green bar.
    browser.open(&server.url("/products/FI-DUOPOWER-6X30"));
    let text = browser.text();
    assert!(text.contains("has no Amazon product type"), "{text}");
    let bar = browser.eval("document.querySelector('#channel-amazon-nl') && [...document.querySelectorAll('tr')].find(r => r.innerText.startsWith('amazon-nl')).querySelector('.bar').className");
    assert_eq!(bar, json!("bar out"));
    browser.screenshot("product-left-out");

    browser.open(&server.url("/feeds"));
    let text = browser.text();
    assert!(
        text.contains("google-nl.xml") && text.contains("manifest.json"),
        "{text}"
    );
    browser.screenshot("feeds");
    let (status, feed) = server.get("/feeds/bol.jsonl");
    assert_eq!(status, 200);
    assert!(feed.contains("\"reference\":\"BO-GSR18V55\""));
    assert_eq!(server.get("/feeds/../pim.toml").0, 404);

    browser.open(&server.url("/report"));
    let text = browser.text();
    assert!(
        text.contains("left out") && text.contains("FI-DUOPOWER-6X30"),
        "{text}"
    );
    // Times read like times, not ISO strings.
    let built = browser.eval("document.querySelector('h1 + p.meta time').innerText");
    assert!(built.as_str().unwrap().ends_with(" UTC"), "{built}");
    browser.screenshot("report");

    // At 420 px nothing overflows: tables become cards, and every reason is there.
    browser.width(420);
    for (path, name) in [
        ("/report", "report-420px"),
        ("/products/FI-DUOPOWER-6X30", "product-420px"),
        ("/products", "products-420px"),
        ("/", "overview-420px"),
    ] {
        browser.open(&server.url(path));
        let overflow = browser.eval("document.documentElement.scrollWidth");
        assert!(
            overflow.as_u64().unwrap() <= 420,
            "{path} is {overflow} px wide at 420 px"
        );
        browser.screenshot(name);
    }
    browser.open(&server.url("/report"));
    assert!(browser.text().contains("has no Amazon product type"));
}

#[test]
fn a_save_shows_on_the_open_page_and_a_broken_file_shows_its_error() {
    let catalog = Catalog::fixture("basic");
    let mut server = Server::start(&catalog, &[]);
    server.wait_for_first_build();
    let Some(mut browser) = Browser::start() else {
        return;
    };
    browser.open(&server.url("/products/DR-1"));
    let title = || "document.getElementById('title') && document.getElementById('title').innerText";
    assert_eq!(browser.eval(title()), json!("Accuboormachine DR-1 18V"));

    let product = "content/products/tools/DR-1.toml";
    let original = catalog.read(product);
    let saved = Instant::now();
    catalog.write(
        product,
        &original.replace(
            "Accuboormachine DR-1 18V",
            "Accuboormachine DR-1 18V, nieuw model",
        ),
    );
    wait_for("the edit on the open page", || {
        browser.eval(title()) == json!("Accuboormachine DR-1 18V, nieuw model")
    });
    let shown_after = saved.elapsed();
    assert!(
        shown_after < Duration::from_secs(2),
        "the edit took {shown_after:?} to show"
    );
    browser.screenshot("live-reload");

    // A file that no longer parses: its error on the page, the server still up.
    catalog.write(product, &original.replace("sku = ", "sku == "));
    wait_for("the error on the open page", || {
        browser.eval("document.getElementById('content-errors') !== null") == json!(true)
    });
    let text = browser.text();
    assert!(text.contains("content/products/tools/DR-1.toml"), "{text}");
    // DR-1 was published, so the typo does not delist it: the page says it is kept.
    assert!(
        text.contains("kept as in the last good build: its content file has an error"),
        "{text}"
    );
    browser.screenshot("broken-file");
    assert!(server.running(), "the server stopped on a broken file");
    assert_eq!(server.get("/").0, 200);

    // Fixed again: the page follows.
    catalog.write(product, &original);
    wait_for("the fixed product", || {
        browser.eval(title()) == json!("Accuboormachine DR-1 18V")
    });
    assert_eq!(
        browser.eval("document.getElementById('content-errors')"),
        Value::Null
    );
}

#[test]
fn each_save_is_on_the_pages_when_its_event_reaches_them() {
    let catalog = Catalog::fixture("basic");
    let server = Server::start(&catalog, &[]);
    server.wait_for_first_build();
    let mut events = Events::open(&server);
    let product = "content/products/tools/DR-1.toml";
    let original = catalog.read(product);
    for save in 1..=3 {
        let title = format!("Accuboormachine DR-1 18V, versie {save}");
        catalog.write(
            product,
            &original.replace("Accuboormachine DR-1 18V", &title),
        );
        // The page reloads on the event and must find the save there. (A save the watcher
        // sees half-written builds twice: the edit must be there after the second build.)
        let heading = format!("<h1 id=\"title\">{title}</h1>");
        let shown = (0..2).any(|_| {
            events.next_built();
            server.get("/products/DR-1").1.contains(&heading)
        });
        assert!(
            shown,
            "save {save} is not on the product page after its build"
        );
        let (_, list) = server.get(&format!("/products?q=versie+{save}"));
        assert!(list.contains("1 product,"), "save {save}: {list}");
        let (_, home) = server.get("/");
        assert!(home.contains("content changed"), "save {save}: {home}");
    }
}

#[test]
fn a_catalog_that_does_not_load_shows_why_and_recovers() {
    let catalog = Catalog::fixture("basic");
    let good = catalog.read("pim.toml");
    catalog.write(
        "pim.toml",
        &good.replace("[catalog]", "[catalog]\ndefaut_locale = \"nl-NL\""),
    );
    let mut server = Server::start(&catalog, &[]);
    server.wait_for_line("the failed build", |line| line.starts_with("error:"));
    let (status, body) = server.get("/");
    assert_eq!(status, 503);
    assert!(body.contains("defaut_locale"), "{body}");
    assert!(body.contains("The catalog could not be built"), "{body}");
    assert!(server.running());

    catalog.write("pim.toml", &good);
    server.wait_for_line("the good build", |line| line.starts_with("built "));
    let (status, body) = server.get("/");
    assert_eq!(status, 200);
    assert!(!body.contains("id=\"problem\""), "{body}");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let catalog = Catalog::fixture("basic");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = catalog.run(&["serve", "--port", &port]);
    assert_eq!(run.0.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.0.stderr);
    assert!(
        stderr.contains(&format!("port {port} on 127.0.0.1 is in use")),
        "{stderr}"
    );
}

#[test]
fn binding_beyond_this_machine_warns() {
    let catalog = Catalog::fixture("basic");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pimfeed"))
        .args(["serve", "--port", "0", "--bind", "0.0.0.0"])
        .current_dir(catalog.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.starts_with("warning: serving on 0.0.0.0"), "{first}");
}

/// `--open` starts the desktop's browser (here a stand-in `xdg-open` that notes what it was
/// given): it gets the page's address, and the system's transparent huge pages rather than the
/// setting pimfeed makes for itself (`src/main.rs`), which a process it starts would keep.
#[cfg(target_os = "linux")]
#[test]
fn open_starts_the_browser_on_the_pages_with_the_systems_settings() {
    use std::os::unix::fs::PermissionsExt;
    let catalog = Catalog::fixture("basic");
    let bin = catalog.path().join("stand-in-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let opener = bin.join("xdg-open");
    std::fs::write(
        &opener,
        "#!/bin/sh
{ echo \"$1\"; grep '^THP_enabled:' /proc/$$/status; } > \"$OPENED.part\"
\
         mv \"$OPENED.part\" \"$OPENED\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let opened = catalog.path().join("opened.txt");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let server = Server::start_with(&catalog, &["--open"], |command| {
        command.env("PATH", &path).env("OPENED", &opened);
    });
    wait_for("the browser to be opened", || opened.exists());
    let noted = std::fs::read_to_string(&opened).unwrap();
    let mut lines = noted.lines();
    assert_eq!(lines.next(), Some(server.base.as_str()), "{noted}");
    // This test's own process has the system's setting.
    let ours = std::fs::read_to_string("/proc/self/status").unwrap();
    let ours = ours.lines().find(|l| l.starts_with("THP_enabled:"));
    assert_eq!(lines.next(), ours, "{noted}");
}

/// The report page a build writes: bars that are not green for products left out, SKUs and
/// paths that do not break mid-word, who changed a line said once per product, readable
/// times, links to the feeds and the source files.
#[test]
fn the_report_page_reads_well() {
    let catalog = Catalog::example();
    let repo = git2::Repository::init(catalog.path()).unwrap();
    // Committed on 1 Jan 2026, as every commit of `commit_all`.
    commit_all(&repo, "Jane Doe", "catalog");
    catalog.run(&["build"]).expect(0);
    let html = catalog.read("feeds/report/index.html");

    // FI-DUOPOWER-6X30 is left out of amazon-nl for one reason on one line; bol leaves out
    // products for several reasons on the same lines.
    assert!(html.contains("class=\"bar out\""), "no red bars");
    assert!(
        !html.contains("class=\"bar live\""),
        "a left-out product has a green bar"
    );
    let rows: Vec<&str> = html
        .split("<tr>")
        .filter(|row| row.contains("class=\"reasons\""))
        .collect();
    assert!(!rows.is_empty());
    for row in &rows {
        assert!(
            row.matches("last changed by").count() <= row.matches("<li>").count(),
            "{row}"
        );
    }
    let repeated = rows
        .iter()
        .filter(|row| row.matches("<li>").count() > 1)
        .find(|row| row.matches("last changed by Jane Doe").count() > 1);
    assert!(
        repeated.is_none(),
        "a row repeats who changed it: {repeated:?}"
    );
    assert!(html.contains("last changed by Jane Doe on 1 Jan 2026"));

    // SKUs never break, paths only after a slash; times are written out.
    assert!(html.contains("<code class=\"sku\">FI-DUOPOWER-6X30</code>"));
    assert!(html.contains("<span>content/</span><wbr><span>products/</span><wbr><span>fasteners/</span><wbr><span>FI-DUOPOWER-6X30.toml</span>"));
    assert!(
        html.contains(" UTC</time>"),
        "the build time is not written out"
    );
    // Links to the feeds beside the report, and to the source files in the catalog.
    assert!(html.contains("href=\"../amazon-nl.json\""));
    assert!(html.contains("href=\"../../content/products/fasteners/FI-DUOPOWER-6X30.toml\""));
    // Nothing of serve's in the published page.
    assert!(!html.contains("<script"));
}

#[test]
fn a_template_error_shows_on_the_pages_which_keep_the_last_good_build() {
    let catalog = Catalog::fixture("basic");
    let mut server = Server::start(&catalog, &[]);
    server.wait_for_first_build();
    let template = catalog.read("templates/partner.json");
    catalog.write(
        "templates/partner.json",
        &template.replacen("{{", "{{ product.title | no_such_filter }}{{", 1),
    );
    server.wait_for_line("the failed build", |line| line.starts_with("error:"));
    let (status, body) = server.get("/products/DR-1");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("The last build failed; these pages still show the build before it."));
    assert!(body.contains("no_such_filter"), "{body}");
    assert!(body.contains("Accuboormachine DR-1 18V"), "{body}");
    assert!(server.running());
}

#[test]
fn a_build_without_a_cache_still_has_every_product_page() {
    let catalog = Catalog::fixture("basic");
    // A file where the cache folder goes: the build cannot keep a cache, and says nothing.
    catalog.write(".pimfeed/cache", "not a folder");
    let server = Server::start(&catalog, &[]);
    server.wait_for_first_build();
    let (status, body) = server.get("/products/DR-1");
    assert_eq!(status, 200);
    assert!(
        body.contains("<h1 id=\"title\">Accuboormachine DR-1 18V</h1>"),
        "{body}"
    );
    assert!(body.contains("id=\"no-item-google\""), "{body}");
    let (_, list) = server.get("/products?q=dr-1");
    assert!(list.contains("1 product,"), "{list}");
}

#[test]
fn a_rebuild_takes_the_files_the_watcher_saw_unchanged_without_checking_them() {
    let catalog = Catalog::fixture("basic");
    let mut server = Server::start(&catalog, &["--timings"]);
    let first = server.wait_for_line("the first build's cache", |line| line.starts_with("cache "));
    assert!(first.contains("(0 on the watcher's word)"), "{first}");
    let product = "content/products/tools/DR-1.toml";
    catalog.write(
        product,
        &catalog.read(product).replace(
            "Accuboormachine DR-1 18V",
            "Accuboormachine DR-1 18V, nieuw",
        ),
    );
    let second = server.wait_for_line("the rebuild's cache", |line| line.starts_with("cache "));
    let reused: usize = second
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{second}"));
    assert!(reused >= 2, "{second}");
    assert!(
        second.contains(&format!("({reused} on the watcher's word)")),
        "{second}"
    );
    assert!(!second.ends_with(" 0 read again"), "{second}");
}

#[test]
fn a_rebuild_keeps_the_listing_and_erp_numbers_until_the_export_changes() {
    let catalog = Catalog::fixture("basic");
    let mut server = Server::start(&catalog, &["--timings"]);
    server.wait_for_line("the first build's cache", |line| line.starts_with("cache "));
    let product = "content/products/tools/DR-1.toml";
    catalog.write(
        product,
        &catalog.read(product).replace(
            "Accuboormachine DR-1 18V",
            "Accuboormachine DR-1 18V, nieuw",
        ),
    );
    server.wait_for_line("the kept listing", |line| {
        line.contains("listing the product files (kept")
    });
    server.wait_for_line("the kept ERP numbers", |line| {
        line.contains("the numbers kept from the last build")
    });
    server.wait_for_line("the rebuild's cache", |line| line.starts_with("cache "));

    // The export changes: its new numbers are in the feed the rebuild makes.
    let export = "erp/items.csv";
    catalog.write(
        export,
        &catalog.read(export).replace("DR-1,149.95,", "DR-1,151.95,"),
    );
    wait_for("the new price in the feed", || {
        std::fs::read_to_string(catalog.path().join("feeds/google.xml"))
            .is_ok_and(|xml| xml.contains("151.95 EUR"))
    });
}

/// `serve` keeps every line file of the build it shows open (a later build replaces them),
/// some 380 at a million products, more than the 256 or 1,024 open files some systems allow
/// a process by default: pimfeed raises its soft limit as far as the hard limit allows. Here
/// 300 products, one line file each, under a soft limit of 64.
#[test]
fn a_build_of_many_line_files_is_served_under_a_low_soft_limit_of_open_files() {
    use std::os::unix::process::CommandExt;
    if !debug_build_has("PIMFEED_LAST_BUILD_FILE_BYTES") {
        return;
    }
    let catalog = Catalog::example();
    let drill = catalog.read("content/products/power-tools/MK-DHP485.toml");
    for index in 0..300 {
        let sku = format!("MK-MANY{index:03}");
        catalog.write(
            &format!("content/products/many/{sku}.toml"),
            &drill.replace("MK-DHP485", &sku),
        );
    }
    let server = Server::start_with(&catalog, &[], |command| {
        command.env("PIMFEED_LAST_BUILD_FILE_BYTES", "1");
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                let mut limit = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                limit.rlim_cur = limit.rlim_cur.min(64);
                match libc::setrlimit(libc::RLIMIT_NOFILE, &limit) {
                    0 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                }
            });
        }
    });
    server.wait_for_first_build();
    let files = std::fs::read_dir(catalog.path().join(".pimfeed/last-build/products"))
        .unwrap()
        .count();
    assert!(files > 300, "{files} line files");
    let (status, page) = server.get("/products/MK-MANY150");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("MK-MANY150"), "{page}");
}
