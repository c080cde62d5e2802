//! Amazon SP-API Feeds (2021-06-30): the listings that changed go to Amazon as one
//! `JSON_LISTINGS_FEED` document. `createFeedDocument` gives a pre-signed URL, the document is
//! uploaded there, `createFeed` queues it for the channel's marketplace, `getFeed` is asked
//! until it is done (bounded), and the processing report names every error and warning by
//! message and SKU.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::amazon_state::{AmazonState, ListingHashes, PendingFeed};
use super::client::{Api, ApiSettings, CallError, Credentials};
use super::state::PushLock;
use super::{ChannelResult, PlannedCall, PushError, Refusal};
use crate::config::PushSettings;

/// amazon.nl, .de, .fr, … are served by the European endpoint.
pub const API_URL: &str = "https://sellingpartnerapi-eu.amazon.com";
pub const TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";
const FEEDS: &str = "/feeds/2021-06-30";
const CONTENT_TYPE: &str = "application/json; charset=UTF-8";
/// Amazon's limit on messages per `JSON_LISTINGS_FEED` document.
const MAX_MESSAGES: usize = 10_000;

/// One Amazon channel's push.
pub struct AmazonPush<'a> {
    pub root: &'a Path,
    pub channel: &'a str,
    pub settings: &'a PushSettings,
    /// The feed's files: `amazon.json`, then `amazon-2.json`, … when it was split.
    pub feeds: Vec<PathBuf>,
    pub marketplace_id: String,
    pub dry_run: bool,
    pub allow_drop: bool,
}

/// A message of the feed on disk, keyed by SKU, without its `messageId`.
struct Listing {
    sku: String,
    message: Map<String, Value>,
    hashes: ListingHashes,
}

/// What this push sends: a message per listing that changed or left.
struct AmazonPlan {
    messages: Vec<Value>,
    /// What each SKU becomes once accepted (`None`: deleted).
    outcome: BTreeMap<String, Option<ListingHashes>>,
    unchanged: usize,
    live_before: usize,
    dropped: usize,
}

impl AmazonPush<'_> {
    pub fn run(&self) -> Result<(ChannelResult, Vec<PlannedCall>), PushError> {
        let (header, listings) = read_feed(&self.feeds)?;
        let state_path = AmazonState::path(self.root, self.channel);
        let mut result = ChannelResult {
            channel: self.channel.to_string(),
            in_one_feed: true,
            dry_run: self.dry_run,
            offers: listings.len(),
            ..ChannelResult::default()
        };
        let _lock = (!self.dry_run)
            .then(|| PushLock::acquire(&state_path))
            .transpose()?;
        let mut state = AmazonState::load(&state_path)?.unwrap_or_default();
        let api = (!self.dry_run).then(|| self.api()).transpose()?;
        if let Some(api) = &api {
            api.authenticate().map_err(|err| operational(api, err))?;
            // A feed an earlier push sent but never read back is finished first.
            if let Some(pending) = state.pending.clone() {
                let finished = self.finish(api, &pending, &mut state, &mut result)?;
                state.save(&state_path)?;
                if !finished || result.unreachable.is_some() {
                    return Ok((result, Vec::new()));
                }
                result = ChannelResult {
                    channel: self.channel.to_string(),
                    offers: listings.len(),
                    ..result
                };
            }
        }
        let plan = plan(&listings, &state);
        self.guard(&plan)?;
        result.unchanged = plan.unchanged;
        result.planned = plan.messages.len();
        let Some(api) = api else {
            return Ok((result, planned_calls(&plan)));
        };
        if plan.messages.is_empty() {
            return Ok((result, Vec::new()));
        }
        if plan.messages.len() > MAX_MESSAGES {
            return Err(PushError::Operational(format!(
                "{}: {} listings changed, more than the {MAX_MESSAGES} one feed takes; push again after this one",
                self.channel,
                plan.messages.len()
            )));
        }
        let feed_id = self.send(&api, &header, &plan)?;
        let message_skus = plan
            .messages
            .iter()
            .filter_map(|m| Some((m["messageId"].as_u64()?, m["sku"].as_str()?.to_string())))
            .collect();
        let pending = PendingFeed {
            feed_id,
            listings: plan.outcome,
            message_skus,
        };
        state.pending = Some(pending.clone());
        state.save(&state_path)?;
        result.sent = plan.messages.len();
        self.finish(&api, &pending, &mut state, &mut result)?;
        state.save(&state_path)?;
        Ok((result, Vec::new()))
    }

    fn guard(&self, plan: &AmazonPlan) -> Result<(), PushError> {
        let removal = format!("delete {} of {} listings", plan.dropped, plan.live_before);
        let counts = (plan.dropped, plan.live_before);
        super::guard_drop(
            self.channel,
            self.settings,
            self.allow_drop,
            counts,
            &removal,
        )
    }

    fn api(&self) -> Result<Api, PushError> {
        let variable = |name: &str, key: &str| super::credential(self.channel, name, key);
        let Some(refresh_token_env) = &self.settings.refresh_token_env else {
            return Err(PushError::Operational(format!(
                "{}: Amazon needs `refresh_token_env` in [channels.{}.push]: the environment \
                 variable with the seller's Login with Amazon refresh token",
                self.channel, self.channel
            )));
        };
        let credentials = Credentials {
            client_id: variable(&self.settings.client_id_env, "client_id_env")?,
            client_secret: variable(&self.settings.client_secret_env, "client_secret_env")?,
            refresh_token: Some(variable(refresh_token_env, "refresh_token_env")?),
        };
        let settings = ApiSettings {
            api_url: self.settings.api_url.clone().unwrap_or(API_URL.into()),
            token_url: self.settings.token_url.clone().unwrap_or(TOKEN_URL.into()),
            media_type: "application/json",
            retries: self.settings.retries,
            timeout: Duration::from_secs_f64(self.settings.timeout_seconds.max(0.001)),
            max_retry_after: Duration::from_secs(self.settings.max_retry_after_seconds),
        };
        Api::new(settings, credentials).map_err(|err| PushError::Operational(message(err)))
    }

    /// Uploads the document and queues it; the feed's id.
    fn send(&self, api: &Api, header: &Value, plan: &AmazonPlan) -> Result<String, PushError> {
        let document = json!({"header": header, "messages": plan.messages});
        let created = api
            .call(
                Method::POST,
                &format!("{FEEDS}/documents"),
                Some(&json!({"contentType": CONTENT_TYPE})),
            )
            .map_err(|err| operational(api, err))?;
        let (Some(document_id), Some(url)) = (
            created.body.get("feedDocumentId").and_then(Value::as_str),
            created.body.get("url").and_then(Value::as_str),
        ) else {
            return Err(PushError::Operational(
                "createFeedDocument answered without feedDocumentId and url".into(),
            ));
        };
        let bytes = serde_json::to_vec(&document).expect("the document serialises");
        api.transfer(Method::PUT, url, Some((bytes, CONTENT_TYPE)))
            .map_err(|err| operational(api, err))?;
        let feed = api
            .call(
                Method::POST,
                &format!("{FEEDS}/feeds"),
                Some(&json!({
                    "feedType": "JSON_LISTINGS_FEED",
                    "marketplaceIds": [self.marketplace_id],
                    "inputFeedDocumentId": document_id,
                })),
            )
            .map_err(|err| operational(api, err))?;
        feed.body
            .get("feedId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| PushError::Operational("createFeed answered without a feedId".into()))
    }

    /// Waits for the feed (at most `max_wait_minutes`), reads its processing report and
    /// records what Amazon accepted. `false` when the feed is still being processed.
    fn finish(
        &self,
        api: &Api,
        pending: &PendingFeed,
        state: &mut AmazonState,
        result: &mut ChannelResult,
    ) -> Result<bool, PushError> {
        let path = format!("{FEEDS}/feeds/{}", pending.feed_id);
        let deadline =
            Instant::now() + Duration::from_secs_f64(self.settings.max_wait_minutes * 60.0);
        let feed = loop {
            let feed = api
                .call(Method::GET, &path, None)
                .map_err(|err| operational(api, err))?
                .body;
            match feed.get("processingStatus").and_then(Value::as_str) {
                Some("DONE") => break feed,
                Some(status @ ("FATAL" | "CANCELLED")) => {
                    // Some, none or all messages may have been applied: none is recorded, so
                    // the next push sends them all again (an UPDATE is idempotent).
                    state.pending = None;
                    result.unreachable = Some(format!(
                        "Amazon ended feed {} as {status}; the next push sends its listings again",
                        pending.feed_id
                    ));
                    return Ok(true);
                }
                _ if Instant::now() >= deadline => {
                    result.unreachable = Some(format!(
                        "feed {} is still being processed after {} minutes; the next push reads its report",
                        pending.feed_id, self.settings.max_wait_minutes
                    ));
                    return Ok(false);
                }
                _ => {
                    std::thread::sleep(Duration::from_secs_f64(self.settings.poll_seconds.max(0.0)))
                }
            }
        };
        let report = self.report(api, &feed)?;
        apply_report(&report, pending, state, result);
        state.pending = None;
        Ok(true)
    }

    /// The processing report of a finished feed (`getFeedDocument`, then the document).
    fn report(&self, api: &Api, feed: &Value) -> Result<Value, PushError> {
        let Some(id) = feed.get("resultFeedDocumentId").and_then(Value::as_str) else {
            return Err(PushError::Operational(
                "a DONE feed without resultFeedDocumentId".into(),
            ));
        };
        let document = api
            .call(Method::GET, &format!("{FEEDS}/documents/{id}"), None)
            .map_err(|err| operational(api, err))?
            .body;
        let url = document
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut bytes = api
            .transfer(Method::GET, url, None)
            .map_err(|err| operational(api, err))?;
        if document.get("compressionAlgorithm").and_then(Value::as_str) == Some("GZIP") {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_end(&mut plain)
                .map_err(|err| {
                    PushError::Operational(format!("the processing report is not gzip: {err}"))
                })?;
            bytes = plain;
        }
        serde_json::from_slice(&bytes).map_err(|err| {
            PushError::Operational(format!("the processing report of feed is not JSON: {err}"))
        })
    }
}

/// Records every listing without an ERROR issue as accepted; every issue goes to the result
/// with its SKU and Amazon's message.
fn apply_report(
    report: &Value,
    pending: &PendingFeed,
    state: &mut AmazonState,
    result: &mut ChannelResult,
) {
    let mut failed = std::collections::BTreeSet::new();
    for issue in report
        .get("issues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let sku = issue
            .get("sku")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                let id = issue.get("messageId").and_then(Value::as_u64)?;
                pending.message_skus.get(&id).cloned()
            })
            .unwrap_or_default();
        let text = |key: &str| issue.get(key).and_then(Value::as_str).unwrap_or("");
        let mut reason = format!("{}: {}", text("code"), text("message"));
        if !text("attributeName").is_empty() {
            reason.push_str(&format!(" ({})", text("attributeName")));
        }
        let entry = Refusal {
            sku: sku.clone(),
            ean: String::new(),
            action: if pending.listings.get(&sku).is_some_and(Option::is_none) {
                "delete"
            } else {
                "update"
            },
            status: 0,
            reason,
        };
        match text("severity") {
            "ERROR" => {
                failed.insert(sku);
                result.refused.push(entry);
            }
            _ => result.warnings.push(entry),
        }
    }
    for (sku, outcome) in &pending.listings {
        if failed.contains(sku) {
            continue;
        }
        result.accepted += 1;
        match outcome {
            Some(hashes) => {
                if state.listings.contains_key(sku) {
                    result.updated += 1;
                } else {
                    result.created += 1;
                }
                state.listings.insert(sku.clone(), hashes.clone());
            }
            None => {
                result.deleted += 1;
                state.listings.remove(sku);
            }
        }
    }
    result.sent = result.sent.max(pending.listings.len());
}

/// A full `UPDATE` for a new listing or one whose product type or attribute set changed; a
/// `PATCH` replacing only the changed attributes otherwise (a stock or price refresh); a
/// `DELETE` for a listing that left the channel.
fn plan(listings: &[Listing], state: &AmazonState) -> AmazonPlan {
    let mut plan = AmazonPlan {
        messages: Vec::new(),
        outcome: BTreeMap::new(),
        unchanged: 0,
        live_before: state.listings.len(),
        dropped: 0,
    };
    let mut push = |mut message: Map<String, Value>, sku: &str, outcome| {
        let id = plan.messages.len() + 1;
        message.insert("messageId".into(), json!(id));
        message.insert("sku".into(), json!(sku));
        plan.messages.push(Value::Object(message));
        plan.outcome.insert(sku.to_string(), outcome);
    };
    for listing in listings {
        let message = match state.listings.get(&listing.sku) {
            Some(old) if old.hash == listing.hashes.hash => {
                plan.unchanged += 1;
                continue;
            }
            Some(old)
                if old.kind == listing.hashes.kind
                    && old.attributes.keys().eq(listing.hashes.attributes.keys()) =>
            {
                patch_message(listing, old)
            }
            _ => listing.message.clone(),
        };
        push(message, &listing.sku, Some(listing.hashes.clone()));
    }
    let in_feed: std::collections::BTreeSet<&str> =
        listings.iter().map(|l| l.sku.as_str()).collect();
    for sku in state
        .listings
        .keys()
        .filter(|sku| !in_feed.contains(sku.as_str()))
    {
        let mut message = Map::new();
        message.insert("operationType".into(), json!("DELETE"));
        push(message, sku, None);
        plan.dropped += 1;
    }
    plan
}

/// `PATCH` with a `replace` of each attribute whose value changed.
fn patch_message(listing: &Listing, old: &ListingHashes) -> Map<String, Value> {
    let attributes = listing.message.get("attributes").and_then(Value::as_object);
    let patches: Vec<Value> = listing
        .hashes
        .attributes
        .iter()
        .filter(|(name, hash)| old.attributes.get(*name) != Some(*hash))
        .filter_map(|(name, _)| {
            let value = attributes?.get(name)?;
            Some(json!({"op": "replace", "path": format!("/attributes/{name}"), "value": value}))
        })
        .collect();
    let mut message = Map::new();
    message.insert("operationType".into(), json!("PATCH"));
    message.insert(
        "productType".into(),
        listing
            .message
            .get("productType")
            .cloned()
            .unwrap_or(Value::Null),
    );
    message.insert("patches".into(), Value::Array(patches));
    message
}

/// The feed's header and its listings, from every part file.
fn read_feed(files: &[PathBuf]) -> Result<(Value, Vec<Listing>), PushError> {
    let mut header = Value::Null;
    let mut listings = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|err| {
            PushError::Operational(format!(
                "cannot read the feed {}: {err}; run `pimfeed build` first",
                file.display()
            ))
        })?;
        let document: Value = serde_json::from_str(&text).map_err(|err| {
            PushError::Operational(format!(
                "{}:{}: not a listings feed: {err}",
                file.display(),
                err.line()
            ))
        })?;
        if header.is_null() {
            header = document.get("header").cloned().unwrap_or(Value::Null);
        }
        for message in document
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(mut message) = message.as_object().cloned() else {
                continue;
            };
            message.remove("messageId");
            let Some(sku) = message
                .get("sku")
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                return Err(PushError::Operational(format!(
                    "{}: a message without a sku",
                    file.display()
                )));
            };
            if !seen.insert(sku.clone()) {
                return Err(PushError::Operational(format!(
                    "{}: SKU {sku} has two messages",
                    file.display()
                )));
            }
            message.remove("sku");
            let hashes = ListingHashes::of(&message);
            listings.push(Listing {
                sku,
                message,
                hashes,
            });
        }
    }
    Ok((header, listings))
}

fn planned_calls(plan: &AmazonPlan) -> Vec<PlannedCall> {
    let mut calls = vec![
        PlannedCall {
            method: "POST",
            path: format!("{FEEDS}/documents"),
            sku: String::new(),
            ean: String::new(),
            action: "createFeedDocument",
        },
        PlannedCall {
            method: "PUT",
            path: "(the pre-signed upload URL)".into(),
            sku: String::new(),
            ean: String::new(),
            action: "upload",
        },
        PlannedCall {
            method: "POST",
            path: format!("{FEEDS}/feeds"),
            sku: String::new(),
            ean: String::new(),
            action: "createFeed",
        },
    ];
    for message in &plan.messages {
        calls.push(PlannedCall {
            method: "MESSAGE",
            path: message["operationType"].as_str().unwrap_or("").to_string(),
            sku: message["sku"].as_str().unwrap_or("").to_string(),
            ean: String::new(),
            action: match message["operationType"].as_str() {
                Some("DELETE") => "delete",
                Some("PATCH") => "patch",
                _ => "update",
            },
        });
    }
    calls
}

fn operational(api: &Api, err: CallError) -> PushError {
    PushError::Operational(api.redact(&message(err)))
}

fn message(err: CallError) -> String {
    match err {
        CallError::Refused { status, reason } => {
            format!("Amazon refused the call: {status} {reason}")
        }
        CallError::Unreachable(message) => message,
    }
}
