//! bol.com Retailer API v11: one call per offer. `POST /retailer/offers` creates, `PATCH
//! /retailer/offers/{offer-id}` changes a body or puts an offer on hold, `DELETE` removes it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client::{Api, ApiSettings, CallError, Credentials};
use super::plan::{Action, Call, FeedOffer, Plan, plan};
use super::state::{Entry, Journal, PushLock, PushState, PushedOffer};
use super::{ChannelResult, PlannedCall, PushError, Refusal};
use crate::config::PushSettings;
use crate::ui::Progress;

pub const API_URL: &str = "https://api.bol.com";
pub const TOKEN_URL: &str = "https://login.bol.com/token";
const MEDIA_TYPE: &str = "application/vnd.retailer.v11+json";
/// `GET /retailer/offers` pages (its largest page size) read at most when rebuilding state.
const PAGE_SIZE: usize = 100;
const MAX_PAGES: usize = 100_000;
/// bol's own limits allow more, but a catalog's push shares them with the retailer's other
/// tools; more than this many calls in flight only draws 429s.
const MAX_CONCURRENCY: usize = 32;

/// One channel's push, as the command line asked for it.
pub struct ChannelPush<'a> {
    pub root: &'a Path,
    pub channel: &'a str,
    pub settings: &'a PushSettings,
    pub feed: PathBuf,
    pub dry_run: bool,
    pub allow_drop: bool,
    pub progress: bool,
}

impl ChannelPush<'_> {
    pub fn run(&self) -> Result<(ChannelResult, Vec<PlannedCall>), PushError> {
        let feed = read_feed(&self.feed)?;
        let state_path = PushState::path(self.root, self.channel);
        let mut result = ChannelResult {
            channel: self.channel.to_string(),
            dry_run: self.dry_run,
            offers: feed.len(),
            ..ChannelResult::default()
        };
        if self.dry_run {
            // No call at all, not even a token: a missing state counts every offer as new.
            let state = PushState::load(&state_path)?.unwrap_or_default();
            let plan = plan(&feed, &state, self.settings.on_removed);
            self.guard(&plan)?;
            result.unchanged = plan.unchanged;
            result.planned = plan.calls.len();
            return Ok((result, planned_calls(&plan)));
        }
        let _lock = PushLock::acquire(&state_path)?;
        let api = self.api()?;
        api.authenticate().map_err(|err| unreachable(&api, err))?;
        let state = match PushState::load(&state_path)? {
            Some(state) => state,
            None => {
                let state = read_back(&api)?;
                result.rebuilt_from_api = Some(state.offers.len());
                state
            }
        };
        let state = resolve_pending(&api, state)?;
        // Also drops a last line a kill cut short, before anything is appended after it.
        state.compact(&state_path)?;
        let plan = plan(&feed, &state, self.settings.on_removed);
        self.guard(&plan)?;
        result.unchanged = plan.unchanged;
        result.planned = plan.calls.len();
        let journal = Journal::open(&state_path)?;
        let state = self.send(&api, &feed, &plan, journal, state, &mut result)?;
        state.compact(&state_path)?;
        Ok((result, Vec::new()))
    }

    fn guard(&self, plan: &Plan) -> Result<(), PushError> {
        let removal = format!(
            "take {} of {} live offers off sale",
            plan.dropped, plan.live_before
        );
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
        let credentials = Credentials {
            client_id: variable(&self.settings.client_id_env, "client_id_env")?,
            client_secret: variable(&self.settings.client_secret_env, "client_secret_env")?,
            refresh_token: None,
        };
        let settings = ApiSettings {
            api_url: self.settings.api_url.clone().unwrap_or(API_URL.into()),
            token_url: self.settings.token_url.clone().unwrap_or(TOKEN_URL.into()),
            media_type: MEDIA_TYPE,
            retries: self.settings.retries,
            timeout: Duration::from_secs_f64(self.settings.timeout_seconds.max(0.001)),
            max_retry_after: Duration::from_secs(self.settings.max_retry_after_seconds),
        };
        Api::new(settings, credentials).map_err(|err| PushError::Operational(message(err)))
    }

    /// Sends the plan's calls, `concurrency` at a time, recording each accepted one at once.
    /// When the API cannot be reached the workers stop taking calls; the rest wait for the
    /// next push.
    fn send(
        &self,
        api: &Api,
        feed: &[FeedOffer],
        plan: &Plan,
        journal: Journal,
        state: PushState,
        result: &mut ChannelResult,
    ) -> Result<PushState, PushError> {
        let progress = Progress::counting(self.progress, "calls");
        progress.stage(self.channel);
        progress.set_length(plan.calls.len());
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let shared = Mutex::new(Shared {
            journal,
            state,
            result: std::mem::take(result),
            failure: None,
        });
        let workers = self.settings.concurrency.clamp(1, MAX_CONCURRENCY);
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(call) = plan.calls.get(index) else {
                            break;
                        };
                        if let Action::Create { .. } = call.action {
                            let intent = Entry {
                                pending: true,
                                ..Entry::gone(&call.ean, &call.sku)
                            };
                            let mut shared = shared.lock().expect("push state");
                            if let Err(err) = shared.journal.record(&intent) {
                                stop.store(true, Ordering::Relaxed);
                                shared.failure.get_or_insert(err.into());
                                break;
                            }
                        }
                        let outcome = send_call(api, feed, call);
                        let mut shared = shared.lock().expect("push state");
                        if let Err(err) = shared.record(call, outcome) {
                            stop.store(true, Ordering::Relaxed);
                            shared.failure.get_or_insert(err);
                        }
                        drop(shared);
                        progress.advance(1);
                    }
                });
            }
        });
        progress.finish();
        let shared = shared.into_inner().expect("push state");
        *result = shared.result;
        let seconds = started.elapsed().as_secs_f64();
        if result.sent > 0 && seconds > 0.0 {
            result.calls_per_second = Some(result.sent as f64 / seconds);
        }
        match shared.failure {
            Some(PushError::Operational(message)) if result.unreachable.is_none() => {
                Err(PushError::Operational(message))
            }
            _ => Ok(shared.state),
        }
    }
}

/// What the workers share: each answer is applied and journaled under one lock, so the
/// journal's order is the order the answers were recorded in.
struct Shared {
    journal: Journal,
    state: PushState,
    result: ChannelResult,
    failure: Option<PushError>,
}

impl Shared {
    fn record(
        &mut self,
        call: &Call,
        outcome: Result<Option<Entry>, CallError>,
    ) -> Result<(), PushError> {
        match outcome {
            Ok(entry) => {
                self.result.sent += 1;
                self.result.accepted += 1;
                match call.action {
                    Action::Create { .. } => self.result.created += 1,
                    Action::Update { .. } => self.result.updated += 1,
                    Action::Hold { .. } => self.result.held += 1,
                    Action::Delete { .. } => self.result.deleted += 1,
                }
                if let Some(entry) = entry {
                    self.journal.record(&entry)?;
                    self.state.apply(entry);
                }
                Ok(())
            }
            Err(CallError::Refused { status, reason }) => {
                self.result.sent += 1;
                let deleted_at_bol = status == 404 && matches!(call.action, Action::Update { .. });
                if deleted_at_bol || matches!(call.action, Action::Create { .. }) {
                    // A refused create has no offer (and is no longer pending); an update of
                    // an offer deleted at bol is forgotten, so the next push creates it.
                    let gone = Entry::gone(&call.ean, &call.sku);
                    self.journal.record(&gone)?;
                    self.state.apply(gone);
                }
                self.result.refused.push(Refusal {
                    sku: call.sku.clone(),
                    ean: call.ean.clone(),
                    action: call.action.name(),
                    status,
                    reason,
                });
                Ok(())
            }
            Err(err) => {
                let message = message(err);
                self.result.unreachable.get_or_insert(message.clone());
                Err(PushError::Operational(message))
            }
        }
    }
}

/// One call; on success the journal entry that records it.
fn send_call(api: &Api, feed: &[FeedOffer], call: &Call) -> Result<Option<Entry>, CallError> {
    let entry = |offer_id: Option<String>, hash: Option<String>, held: bool| Entry {
        offer_id,
        hash,
        held,
        ..Entry::gone(&call.ean, &call.sku)
    };
    match &call.action {
        Action::Create { offer } => {
            let offer = &feed[*offer];
            let answer = api.call(
                Method::POST,
                "/retailer/offers",
                Some(&Value::Object(offer.body.clone())),
            )?;
            let Some(offer_id) = answer.body.get("offerId").and_then(Value::as_str) else {
                return Err(CallError::Refused {
                    status: 201,
                    reason: "bol accepted the offer but sent no offerId back".into(),
                });
            };
            Ok(Some(entry(
                Some(offer_id.into()),
                Some(offer.hash.clone()),
                false,
            )))
        }
        Action::Update { offer, offer_id } => {
            let offer = &feed[*offer];
            api.call(
                Method::PATCH,
                &offer_path(offer_id),
                Some(&patch_body(&offer.body)),
            )?;
            Ok(Some(entry(
                Some(offer_id.clone()),
                Some(offer.hash.clone()),
                false,
            )))
        }
        Action::Hold { offer_id } => {
            api.call(
                Method::PATCH,
                &offer_path(offer_id),
                Some(&json!({"onHoldByRetailer": true})),
            )?;
            // The hash stays unknown: the offer is updated when the product comes back.
            Ok(Some(entry(Some(offer_id.clone()), None, true)))
        }
        Action::Delete { offer_id } => {
            match api.call(Method::DELETE, &offer_path(offer_id), None) {
                // Already gone (deleted in bol's seller dashboard): what was asked for.
                Ok(_) | Err(CallError::Refused { status: 404, .. }) => {}
                Err(err) => return Err(err),
            }
            Ok(Some(entry(None, None, false)))
        }
    }
}

/// RFC 3986's unreserved characters stay as they are: an offer id is a UUID, dashes and all.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn offer_path(offer_id: &str) -> String {
    format!(
        "/retailer/offers/{}",
        percent_encoding::utf8_percent_encode(offer_id, UNRESERVED)
    )
}

/// A PATCH takes everything of a create body but the EAN and condition (which an offer
/// cannot change), and takes the offer off hold if the product was away.
fn patch_body(body: &Map<String, Value>) -> Value {
    let mut patch: Map<String, Value> = body
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "ean" | "condition"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    patch.insert("onHoldByRetailer".into(), Value::Bool(false));
    Value::Object(patch)
}

/// Rebuilds a lost state from the offers bol has, page by page (`GET /retailer/offers`).
/// Their bodies are unknown, so the push that follows updates every one still in the feed.
fn read_back(api: &Api) -> Result<PushState, PushError> {
    let mut state = PushState::default();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut path = format!("/retailer/offers?page-size={PAGE_SIZE}");
        if let Some(cursor) = &cursor {
            path.push_str("&cursor=");
            path.push_str(&percent_encoding::utf8_percent_encode(cursor, UNRESERVED).to_string());
        }
        let answer = api
            .call(Method::GET, &path, None)
            .map_err(|err| unreachable(api, err))?;
        for offer in answer
            .body
            .get("offers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let field = |name: &str| offer.get(name).and_then(Value::as_str).map(str::to_string);
            let (Some(ean), Some(offer_id)) = (field("ean"), field("offerId")) else {
                continue;
            };
            state.offers.insert(
                ean,
                PushedOffer {
                    sku: field("reference").unwrap_or_default(),
                    offer_id,
                    hash: None,
                    held: offer
                        .get("onHoldByRetailer")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                },
            );
        }
        cursor = answer
            .body
            .pointer("/page/nextCursor")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if cursor.is_none() {
            return Ok(state);
        }
    }
    Err(PushError::Operational(format!(
        "reading the offers back from bol stopped after {MAX_PAGES} pages"
    )))
}

/// Creates that were in flight when an earlier push stopped: asks bol for each EAN
/// (`GET /retailer/offers?eans=…`) whether the offer exists, so it is never created twice.
fn resolve_pending(api: &Api, mut state: PushState) -> Result<PushState, PushError> {
    let pending = std::mem::take(&mut state.pending);
    for (ean, sku) in pending {
        let path = format!(
            "/retailer/offers?eans={}",
            percent_encoding::utf8_percent_encode(&ean, UNRESERVED)
        );
        let answer = api
            .call(Method::GET, &path, None)
            .map_err(|err| unreachable(api, err))?;
        let found = answer
            .body
            .get("offers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|offer| offer.get("ean").and_then(Value::as_str) == Some(ean.as_str()));
        if let Some(offer_id) = found.and_then(|o| o.get("offerId")).and_then(Value::as_str) {
            // Its body is not known for sure: the push updates it once.
            state.offers.insert(
                ean,
                PushedOffer {
                    sku,
                    offer_id: offer_id.to_string(),
                    hash: None,
                    held: false,
                },
            );
        }
    }
    Ok(state)
}

fn unreachable(api: &Api, err: CallError) -> PushError {
    PushError::Operational(api.redact(&message(err)))
}

fn message(err: CallError) -> String {
    match err {
        CallError::Refused { status, reason } => format!("bol refused the call: {status} {reason}"),
        CallError::Unreachable(message) => message,
    }
}

/// Reads the channel's feed: one offer body per line, keyed by its EAN.
pub fn read_feed(path: &Path) -> Result<Vec<FeedOffer>, PushError> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        PushError::Operational(format!(
            "cannot read the feed {}: {err}; run `pimfeed build` first",
            path.display()
        ))
    })?;
    let mut offers = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let bad =
            |what: &str| PushError::Operational(format!("{}:{number}: {what}", path.display()));
        let body: Map<String, Value> = serde_json::from_str(line)
            .map_err(|err| bad(&format!("not a bol offer body: {err}")))?;
        let ean = body
            .get("ean")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("the offer has no `ean`"))?
            .to_string();
        if let Some(first) = seen.insert(ean.clone(), number) {
            return Err(bad(&format!(
                "EAN {ean} is also on line {first}; bol takes one offer per EAN"
            )));
        }
        let sku = body
            .get("reference")
            .and_then(Value::as_str)
            .unwrap_or(&ean)
            .to_string();
        offers.push(FeedOffer::new(ean, sku, body));
    }
    Ok(offers)
}

fn planned_calls(plan: &Plan) -> Vec<PlannedCall> {
    plan.calls
        .iter()
        .map(|call| {
            let (method, path) = match &call.action {
                Action::Create { .. } => ("POST", "/retailer/offers".to_string()),
                Action::Update { offer_id, .. } | Action::Hold { offer_id } => {
                    ("PATCH", offer_path(offer_id))
                }
                Action::Delete { offer_id } => ("DELETE", offer_path(offer_id)),
            };
            PlannedCall {
                method,
                path,
                sku: call.sku.clone(),
                ean: call.ean.clone(),
                action: call.action.name(),
            }
        })
        .collect()
}
