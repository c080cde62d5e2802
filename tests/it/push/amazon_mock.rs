//! Amazon's SP-API Feeds for the push tests: Prism serves the Feeds API model
//! (tests/fixtures/vendor/amazon/feeds_2021-06-30.json) and rejects every call that does not
//! match it; the stand-in in front adds Login with Amazon (refresh-token grant), the
//! pre-signed upload and download URLs, a feed that is processed on the second `getFeed`, and
//! a processing report with an ERROR or WARNING for the SKUs a test names.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

use super::standin::{Logged, Prism, Reply, Request, Server, forward_to_prism, reply};

pub const CLIENT_ID: &str = "amzn1.application-oa2-client.pimfeedtest";
pub const CLIENT_SECRET: &str = "amzn-Client-Secret-0c9d8e";
pub const REFRESH_TOKEN: &str = "Atzr|IwEBIpimfeed-refresh-token-77";
const TOKEN: &str = "Atza|amazon-access-token-5b1e";
const FEEDS: &str = "/feeds/2021-06-30";

#[derive(Default)]
struct Amazon {
    prism: u16,
    client: reqwest::blocking::Client,
    port: OnceLock<u16>,
    next: AtomicUsize,
    /// Uploaded documents with their feed document ids, in upload order.
    uploads: Mutex<Vec<(String, String)>>,
    /// feed id → (input document id, getFeed calls so far).
    feeds: Mutex<BTreeMap<String, (String, usize)>>,
    /// SKU → (severity, message) in the processing report.
    issues: Mutex<BTreeMap<String, (String, String)>>,
}

pub struct AmazonMock {
    server: Server,
    amazon: Arc<Amazon>,
    _prism: Prism,
}

impl AmazonMock {
    pub fn start(prism: Prism) -> AmazonMock {
        let amazon = Arc::new(Amazon {
            prism: prism.port,
            client: reqwest::blocking::Client::new(),
            ..Amazon::default()
        });
        let state = amazon.clone();
        let server = Server::start(Arc::new(move |request: &Request| handle(request, &state)));
        amazon.port.set(server.port).unwrap();
        AmazonMock {
            server,
            amazon,
            _prism: prism,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// The calls seen so far (token requests left out), and forgets them.
    pub fn take_calls(&self) -> Vec<Logged> {
        self.server.take_calls()
    }

    /// The documents uploaded so far, oldest first.
    pub fn uploads(&self) -> Vec<Value> {
        self.amazon
            .uploads
            .lock()
            .unwrap()
            .iter()
            .map(|(_, text)| serde_json::from_str(text).unwrap())
            .collect()
    }

    /// The next reports carry this issue for `sku`.
    pub fn issue(&self, sku: &str, severity: &str, message: &str) {
        self.amazon
            .issues
            .lock()
            .unwrap()
            .insert(sku.into(), (severity.into(), message.into()));
    }
}

fn handle(request: &Request, amazon: &Amazon) -> Reply {
    let path = request
        .target
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    if path == "/token" {
        return token(request);
    }
    // The pre-signed URLs: S3, outside the API, no token.
    if let Some(id) = path.strip_prefix("/upload/") {
        amazon
            .uploads
            .lock()
            .unwrap()
            .push((id.to_string(), request.body.clone()));
        return reply(200, Value::Null);
    }
    if let Some(feed_id) = path.strip_prefix("/download/report-") {
        return reply(200, report(amazon, feed_id));
    }
    if request
        .headers
        .get("x-amz-access-token")
        .map(String::as_str)
        != Some(TOKEN)
    {
        return reply(
            403,
            json!({"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]}),
        );
    }
    if let Some(rejected) = forward_to_prism(&amazon.client, amazon.prism, request) {
        return rejected;
    }
    let base = format!("http://127.0.0.1:{}", amazon.port.get().unwrap());
    let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
    let number = amazon.next.fetch_add(1, Ordering::SeqCst) + 1;
    match (request.method.as_str(), path.strip_prefix(FEEDS)) {
        ("POST", Some("/documents")) => {
            let id = format!("doc-{number}");
            reply(
                201,
                json!({"feedDocumentId": id, "url": format!("{base}/upload/{id}")}),
            )
        }
        ("POST", Some("/feeds")) => {
            let id = format!("feed-{number}");
            let document = body["inputFeedDocumentId"].as_str().unwrap_or_default();
            amazon
                .feeds
                .lock()
                .unwrap()
                .insert(id.clone(), (document.to_string(), 0));
            reply(202, json!({"feedId": id}))
        }
        ("GET", Some(rest)) if rest.starts_with("/feeds/") => {
            let id = rest.trim_start_matches("/feeds/");
            let mut feeds = amazon.feeds.lock().unwrap();
            let Some((_, polls)) = feeds.get_mut(id) else {
                return reply(
                    404,
                    json!({"errors": [{"code": "NotFound", "message": "no such feed"}]}),
                );
            };
            *polls += 1;
            let mut feed = json!({"feedId": id, "feedType": "JSON_LISTINGS_FEED",
                                  "createdTime": "2026-11-30T05:00:00Z", "processingStatus": "IN_PROGRESS"});
            if *polls > 1 {
                feed["processingStatus"] = json!("DONE");
                feed["resultFeedDocumentId"] = json!(format!("report-{id}"));
            }
            reply(200, feed)
        }
        ("GET", Some(rest)) if rest.starts_with("/documents/report-") => {
            let id = rest.trim_start_matches("/documents/");
            reply(
                200,
                json!({"feedDocumentId": id, "url": format!("{base}/download/{id}")}),
            )
        }
        _ => reply(
            404,
            json!({"errors": [{"code": "NotFound", "message": "not in the stand-in"}]}),
        ),
    }
}

/// Login with Amazon: the refresh-token grant, with the client's id and secret in the form.
/// It echoes what it got when it refuses, so a leak would show.
fn token(request: &Request) -> Reply {
    let form: BTreeMap<String, String> = request
        .body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let value = percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            (k.to_string(), value)
        })
        .collect();
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("grant_type") == Some("refresh_token")
        && field("refresh_token") == Some(REFRESH_TOKEN)
        && field("client_id") == Some(CLIENT_ID)
        && field("client_secret") == Some(CLIENT_SECRET)
    {
        return reply(
            200,
            json!({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600}),
        );
    }
    reply(
        401,
        json!({"error": "invalid_client", "error_description": format!("Client authentication failed: {}", request.body)}),
    )
}

/// The processing report of a feed: an issue for each SKU the test named.
fn report(amazon: &Amazon, feed_id: &str) -> Value {
    let document_id = amazon.feeds.lock().unwrap()[feed_id].0.clone();
    let uploads = amazon.uploads.lock().unwrap();
    let (_, text) = uploads.iter().find(|(id, _)| *id == document_id).unwrap();
    let document: Value = serde_json::from_str(text).unwrap();
    let issues_by_sku = amazon.issues.lock().unwrap().clone();
    let messages = document["messages"].as_array().unwrap();
    let mut issues = Vec::new();
    for message in messages {
        let sku = message["sku"].as_str().unwrap();
        if let Some((severity, text)) = issues_by_sku.get(sku) {
            issues.push(json!({"messageId": message["messageId"], "sku": sku, "code": "90220",
                               "severity": severity, "message": text, "attributeName": "item_name"}));
        }
    }
    let errors = issues.iter().filter(|i| i["severity"] == "ERROR").count();
    json!({
        "header": {"sellerId": document["header"]["sellerId"], "version": "2.0", "feedId": feed_id},
        "issues": issues,
        "summary": {"errors": errors, "warnings": issues.len() - errors,
                    "messagesProcessed": messages.len(), "messagesAccepted": messages.len() - errors,
                    "messagesInvalid": 0}
    })
}
