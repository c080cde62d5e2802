//! A bol.com Retailer API for the push tests: Prism serves bol's own OpenAPI document
//! (tests/fixtures/vendor/bol/offers-v11.json) and rejects every request that does not match
//! it; a small stand-in in front of it adds what a generated mock cannot have: the token
//! endpoint, offers that stay created (ids, `GET /retailer/offers`), rate limits and refusals.
//! Every request is forwarded to Prism first, so no request the real API would reject passes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{Value, json};

use super::standin::{Logged, Prism, Reply, Request, Server, forward_to_prism, reply};

pub const CLIENT_ID: &str = "pimfeed-test-client";
pub const CLIENT_SECRET: &str = "s3cret-bol-Client-Secret-42";
const TOKEN: &str = "bol-access-token-7f3a9c";
const MEDIA_TYPE: &str = "application/vnd.retailer.v11+json";

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
    /// Each create takes this long (milliseconds), so a test can kill a push part-way.
    create_delay_ms: std::sync::atomic::AtomicU64,
}

/// The stand-in in front of Prism; both stop when dropped.
pub struct BolMock {
    server: Server,
    bol: Arc<Bol>,
    _prism: Prism,
}

impl BolMock {
    pub fn start(prism: Prism) -> BolMock {
        let bol = Arc::new(Bol {
            prism: prism.port,
            client: reqwest::blocking::Client::new(),
            ..Bol::default()
        });
        let state = bol.clone();
        let server = Server::start(Arc::new(move |request: &Request| {
            let mut answer = handle(request, &state);
            let content_type = if answer.status >= 400 {
                "application/problem+json"
            } else {
                MEDIA_TYPE
            };
            answer
                .headers
                .push(("Content-Type".into(), content_type.into()));
            answer
        }));
        BolMock {
            server,
            bol,
            _prism: prism,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// The API requests (not the token requests) seen so far, and forgets them.
    pub fn take_calls(&self) -> Vec<Logged> {
        self.server.take_calls()
    }

    pub fn offers(&self) -> BTreeMap<String, Value> {
        self.bol.offers.lock().unwrap().clone()
    }

    pub fn throttle(&self, requests: usize) {
        self.bol.throttle.store(requests, Ordering::SeqCst);
    }

    pub fn slow_creates(&self, millis: u64) {
        self.bol.create_delay_ms.store(millis, Ordering::SeqCst);
    }

    pub fn refuse(&self, ean: &str) {
        *self.bol.refuse_ean.lock().unwrap() = Some(ean.to_string());
    }

    /// Sends a request straight to the stand-in (as pimfeed would), for checking the mock.
    pub fn send(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let response = self
            .bol
            .client
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(TOKEN)
            .header("Accept", MEDIA_TYPE)
            .header("Content-Type", MEDIA_TYPE)
            .body(body.to_string())
            .send()
            .unwrap();
        (response.status().as_u16(), response.text().unwrap())
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
    if let Some(rejected) = forward_to_prism(&bol.client, bol.prism, request) {
        return rejected;
    }
    let path = request.target.split('?').next().unwrap_or_default();
    let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
    match (
        request.method.as_str(),
        path.strip_prefix("/retailer/offers"),
    ) {
        ("POST", Some("")) => {
            let delay = bol.create_delay_ms.load(Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(delay));
            create(bol, body)
        }
        ("GET", Some("")) => list(bol, request),
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
fn list(bol: &Bol, request: &Request) -> Reply {
    let query = |name: &str| request.query(name);
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
