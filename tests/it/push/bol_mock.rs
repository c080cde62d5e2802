//! A bol.com Retailer API for the push tests: Prism serves bol's own OpenAPI document
//! (tests/fixtures/vendor/bol/offers-v11.json) and rejects every request that does not match
//! it; a small stand-in in front of it adds what a generated mock cannot have: the token
//! endpoint, offers that stay created (ids, `GET /retailer/offers`), rate limits and refusals.
//! Every request is forwarded to Prism first, so no request the real API would reject passes.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "pimfeed-test-client";
pub const CLIENT_SECRET: &str = "s3cret-bol-Client-Secret-42";
const TOKEN: &str = "bol-access-token-7f3a9c";

/// The Prism process; killed when dropped.
pub struct Prism {
    child: Child,
    pub port: u16,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts Prism on bol's document, or says how to install it. `PIMFEED_SKIP_PRISM=1` skips the
/// test on a machine without Node; CI never sets it (`.ci/run` installs Prism).
pub fn start_prism() -> Option<Prism> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let prism = manifest.join("tests/prism/node_modules/.bin/prism");
    if !prism.exists() {
        if std::env::var_os("PIMFEED_SKIP_PRISM").is_some() {
            eprintln!("skipped: Prism is not installed and PIMFEED_SKIP_PRISM is set");
            return None;
        }
        panic!(
            "Prism is not installed: run tests/prism/setup.sh (.ci/run does), or set PIMFEED_SKIP_PRISM=1"
        );
    }
    let port = free_port();
    let child = Command::new(prism)
        .args(["mock", "--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(manifest.join("tests/fixtures/vendor/bol/offers-v11.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prism");
    let prism = Prism { child, port };
    // Bounded wait until it answers (a few seconds; a cold CI disk takes longer).
    let deadline = Instant::now() + Duration::from_secs(90);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "Prism did not start on port {port}"
        );
        thread::sleep(Duration::from_millis(100));
    }
    Some(prism)
}

/// A request as the stand-in saw it, with the status it answered.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub target: String,
    pub body: String,
    pub status: u16,
}

/// What the stand-in keeps between requests.
#[derive(Default)]
struct Bol {
    prism: u16,
    /// One client, so connections to Prism are kept alive between requests.
    client: reqwest::blocking::Client,
    /// offer id → the offer as `GET /retailer/offers` shows it.
    offers: Mutex<BTreeMap<String, Value>>,
    next_id: AtomicUsize,
    /// This many API requests are answered 429 before any is served.
    throttle: AtomicUsize,
    /// Creating an offer for this EAN is refused the way bol refuses a price.
    refuse_ean: Mutex<Option<String>>,
    log: Mutex<Vec<Logged>>,
}

/// The stand-in on a free loopback port, in front of Prism; it stops when dropped.
pub struct BolMock {
    pub port: u16,
    stop: Arc<AtomicBool>,
    bol: Arc<Bol>,
    _prism: Prism,
}

impl BolMock {
    pub fn start(prism: Prism) -> BolMock {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let bol = Arc::new(Bol {
            prism: prism.port,
            client: reqwest::blocking::Client::new(),
            ..Bol::default()
        });
        let (stop_flag, state) = (stop.clone(), bol.clone());
        thread::spawn(move || {
            // Bounded: a server left behind by a failed test ends on its own.
            let deadline = Instant::now() + Duration::from_secs(300);
            while !stop_flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let state = state.clone();
                        thread::spawn(move || {
                            let _ = serve(stream, &state);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        BolMock {
            port,
            stop,
            bol,
            _prism: prism,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The API requests (not the token requests) seen so far, and forgets them.
    pub fn take_calls(&self) -> Vec<Logged> {
        std::mem::take(&mut *self.bol.log.lock().unwrap())
            .into_iter()
            .filter(|r| r.target != "/token")
            .collect()
    }

    pub fn offers(&self) -> BTreeMap<String, Value> {
        self.bol.offers.lock().unwrap().clone()
    }

    pub fn throttle(&self, requests: usize) {
        self.bol.throttle.store(requests, Ordering::SeqCst);
    }

    pub fn refuse(&self, ean: &str) {
        *self.bol.refuse_ean.lock().unwrap() = Some(ean.to_string());
    }

    /// Sends a request straight to the stand-in (as pimfeed would), for checking the mock.
    pub fn send(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let client = reqwest::blocking::Client::new();
        let response = client
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(TOKEN)
            .header("Accept", "application/vnd.retailer.v11+json")
            .header("Content-Type", "application/vnd.retailer.v11+json")
            .body(body.to_string())
            .send()
            .unwrap();
        (response.status().as_u16(), response.text().unwrap())
    }
}

impl Drop for BolMock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Request {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    body: String,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
    }
}

fn serve(stream: TcpStream, bol: &Bol) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    // One request per connection would make every call pay a TCP handshake that the real
    // API's keep-alive spares; serve requests until the client closes.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = HashMap::new();
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_lowercase(), value.trim().to_string());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let request = Request {
            method,
            target,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let answer = handle(&request, bol);
        bol.log.lock().unwrap().push(Logged {
            method: request.method.clone(),
            target: request.target.clone(),
            body: request.body.clone(),
            status: answer.status,
        });
        let mut stream = reader.get_ref().try_clone()?;
        let content_type = if answer.status >= 400 {
            "application/problem+json"
        } else {
            "application/vnd.retailer.v11+json"
        };
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
            answer.status,
            answer.body.len()
        );
        for (name, value) in &answer.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        // One write: head and body in two packets would wait out Nagle's algorithm.
        head.push_str(&answer.body);
        stream.write_all(head.as_bytes())?;
        stream.flush()?;
    }
}

fn handle(request: &Request, bol: &Bol) -> Reply {
    if request.target == "/token" {
        return token(request);
    }
    if request.headers.get("authorization").map(String::as_str) != Some(&format!("Bearer {TOKEN}"))
    {
        return reply(401, json!({"title": "Unauthorized", "status": 401}));
    }
    let throttled = bol
        .throttle
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if throttled {
        let mut answer = reply(429, json!({"title": "Too Many Requests", "status": 429}));
        answer.headers.push(("Retry-After".into(), "1".into()));
        return answer;
    }
    // bol's own document decides whether the request is valid at all.
    if let Some(rejected) = forward_to_prism(request, bol) {
        return rejected;
    }
    let path = request.target.split('?').next().unwrap_or_default();
    let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
    match (
        request.method.as_str(),
        path.strip_prefix("/retailer/offers"),
    ) {
        ("POST", Some("")) => create(bol, body),
        ("GET", Some("")) => list(bol, &request.target),
        ("PATCH", Some(id)) => {
            let id = id.trim_start_matches('/');
            let mut offers = bol.offers.lock().unwrap();
            let Some(offer) = offers.get_mut(id) else {
                return reply(404, json!({"title": "Not Found", "status": 404}));
            };
            for (key, value) in body.as_object().into_iter().flatten() {
                offer[key] = value.clone();
            }
            reply(204, Value::Null)
        }
        ("DELETE", Some(id)) => match bol
            .offers
            .lock()
            .unwrap()
            .remove(id.trim_start_matches('/'))
        {
            Some(_) => reply(204, Value::Null),
            None => reply(404, json!({"title": "Not Found", "status": 404})),
        },
        _ => reply(404, json!({"title": "Not Found", "status": 404})),
    }
}

/// OAuth2 client credentials, as bol's login server takes them: basic auth. Like many token
/// servers, it echoes what it got when it refuses, so a leak would show.
fn token(request: &Request) -> Reply {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let got = request
        .headers
        .get("authorization")
        .cloned()
        .unwrap_or_default();
    if got != expected || !request.body.contains("grant_type=client_credentials") {
        return reply(
            401,
            json!({"error": "invalid_client", "error_description": format!("bad client credentials in {got}")}),
        );
    }
    reply(
        200,
        json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 299, "scope": "retailer"}),
    )
}

fn create(bol: &Bol, body: Value) -> Reply {
    let ean = body["ean"].as_str().unwrap_or_default().to_string();
    if bol.refuse_ean.lock().unwrap().as_deref() == Some(ean.as_str()) {
        return reply(
            400,
            json!({
                "type": "https://api.bol.com/problems",
                "title": "Error validating request. Please check the logs for more information.",
                "status": 400,
                "detail": "Bad request",
                "violations": [{"name": "pricing.bundlePrices[0].unitPrice",
                                "reason": "Unit price is lower than the minimum allowed price for this product."}]
            }),
        );
    }
    if bol
        .offers
        .lock()
        .unwrap()
        .values()
        .any(|o| o["ean"] == ean.as_str())
    {
        return reply(
            400,
            json!({"title": "Bad Request", "status": 400,
                   "detail": format!("An offer for EAN {ean} and this condition already exists.")}),
        );
    }
    let number = bol.next_id.fetch_add(1, Ordering::SeqCst) + 1;
    let id = format!("00000000-0000-4000-8000-{number:012}");
    let mut offer = body;
    offer["offerId"] = json!(id);
    offer["onHoldByRetailer"] = json!(offer["onHoldByRetailer"].as_bool().unwrap_or(false));
    bol.offers.lock().unwrap().insert(id.clone(), offer);
    reply(201, json!({"offerId": id}))
}

/// `GET /retailer/offers`, a page at a time; the cursor is the offset.
fn list(bol: &Bol, target: &str) -> Reply {
    let query = |name: &str| {
        target.split_once('?').and_then(|(_, q)| {
            q.split('&')
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_string))
        })
    };
    let size: usize = query("page-size")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let start: usize = query("cursor").and_then(|s| s.parse().ok()).unwrap_or(0);
    let eans = query("eans");
    let offers = bol.offers.lock().unwrap();
    let offers: Vec<&Value> = offers
        .values()
        .filter(|o| eans.as_deref().is_none_or(|e| o["ean"] == e))
        .collect();
    let page: Vec<Value> = offers
        .iter()
        .skip(start)
        .take(size)
        .map(|offer| {
            json!({
                "offerId": offer["offerId"], "ean": offer["ean"], "reference": offer["reference"],
                "onHoldByRetailer": offer["onHoldByRetailer"], "lastModifiedDateTime": "2026-11-30T05:00:00Z",
                "condition": offer["condition"], "pricing": offer["pricing"], "fulfilment": {"method": "FBR"}
            })
        })
        .collect();
    let next = (start + size < offers.len()).then(|| (start + size).to_string());
    reply(
        200,
        json!({"offers": page, "page": {"pageSize": size.max(25), "nextCursor": next}}),
    )
}

/// Sends the request to Prism; its answer when Prism rejects it, `None` when it is valid.
fn forward_to_prism(request: &Request, bol: &Bol) -> Option<Reply> {
    let mut forwarded = bol.client.request(
        request.method.parse().unwrap(),
        format!("http://127.0.0.1:{}{}", bol.prism, request.target),
    );
    for name in ["authorization", "accept", "content-type"] {
        if let Some(value) = request.headers.get(name) {
            forwarded = forwarded.header(name, value);
        }
    }
    if !request.body.is_empty() {
        forwarded = forwarded.body(request.body.clone());
    }
    let response = forwarded.send().expect("Prism answers");
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    if (200..300).contains(&status) {
        None
    } else {
        Some(Reply {
            status,
            headers: Vec::new(),
            body: text,
        })
    }
}
