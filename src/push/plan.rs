//! Which calls a push makes: the feed against the pushed state.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::state::PushState;
use crate::config::OnRemoved;

/// One offer of the feed file, keyed by its EAN.
#[derive(Debug, Clone)]
pub struct FeedOffer {
    pub ean: String,
    pub sku: String,
    pub body: Map<String, Value>,
    pub hash: String,
}

impl FeedOffer {
    pub fn new(ean: String, sku: String, body: Map<String, Value>) -> FeedOffer {
        let hash = body_hash(&body);
        FeedOffer {
            ean,
            sku,
            body,
            hash,
        }
    }
}

/// SHA-256 of the body as serialised (keys keep the feed's order, so the same feed line
/// always gives the same hash).
pub fn body_hash(body: &Map<String, Value>) -> String {
    let bytes = serde_json::to_vec(body).expect("a JSON object serialises");
    hex_sha256(&bytes)
}

/// SHA-256 of any JSON value as serialised.
pub fn json_hash(value: &Value) -> String {
    hex_sha256(&serde_json::to_vec(value).expect("JSON serialises"))
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A new offer (index into the feed).
    Create {
        offer: usize,
    },
    /// An offer whose body changed, or that comes back from hold.
    Update {
        offer: usize,
        offer_id: String,
    },
    /// The product left the channel: off sale, kept for its return.
    Hold {
        offer_id: String,
    },
    Delete {
        offer_id: String,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::Update { .. } => "update",
            Action::Hold { .. } => "hold",
            Action::Delete { .. } => "delete",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Call {
    pub ean: String,
    pub sku: String,
    pub action: Action,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub calls: Vec<Call>,
    pub unchanged: usize,
    /// Offers on sale before the push (known and not held).
    pub live_before: usize,
    /// Of those, how many the push takes off sale.
    pub dropped: usize,
}

/// Creates what the marketplace lacks, updates what changed, and holds or deletes what left
/// the feed; an offer already held stays held without a call.
pub fn plan(feed: &[FeedOffer], state: &PushState, on_removed: OnRemoved) -> Plan {
    let mut plan = Plan {
        live_before: state.offers.values().filter(|o| !o.held).count(),
        ..Plan::default()
    };
    let mut in_feed = BTreeSet::new();
    for (index, offer) in feed.iter().enumerate() {
        in_feed.insert(offer.ean.as_str());
        let action = match state.offers.get(&offer.ean) {
            None => Action::Create { offer: index },
            Some(pushed) if pushed.held || pushed.hash.as_deref() != Some(&offer.hash) => {
                Action::Update {
                    offer: index,
                    offer_id: pushed.offer_id.clone(),
                }
            }
            Some(_) => {
                plan.unchanged += 1;
                continue;
            }
        };
        plan.calls.push(Call {
            ean: offer.ean.clone(),
            sku: offer.sku.clone(),
            action,
        });
    }
    for (ean, pushed) in &state.offers {
        if in_feed.contains(ean.as_str()) {
            continue;
        }
        let offer_id = pushed.offer_id.clone();
        let action = match on_removed {
            OnRemoved::Hold if pushed.held => continue,
            OnRemoved::Hold => Action::Hold { offer_id },
            OnRemoved::Delete => Action::Delete { offer_id },
        };
        if !pushed.held {
            plan.dropped += 1;
        }
        plan.calls.push(Call {
            ean: ean.clone(),
            sku: pushed.sku.clone(),
            action,
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::super::state::PushedOffer;
    use super::*;

    fn offer(ean: &str, stock: u32) -> FeedOffer {
        let body = serde_json::json!({"ean": ean, "stock": {"amount": stock}});
        let Value::Object(body) = body else {
            unreachable!()
        };
        FeedOffer::new(ean.into(), format!("SKU-{ean}"), body)
    }

    fn pushed(feed: &[FeedOffer]) -> PushState {
        let mut state = PushState::default();
        for (n, offer) in feed.iter().enumerate() {
            state.offers.insert(
                offer.ean.clone(),
                PushedOffer {
                    sku: offer.sku.clone(),
                    offer_id: format!("id-{n}"),
                    hash: Some(offer.hash.clone()),
                    held: false,
                },
            );
        }
        state
    }

    #[test]
    fn only_changed_offers_are_updated_and_removed_ones_held_once() {
        let before = vec![offer("1", 5), offer("2", 5), offer("3", 5)];
        let mut state = pushed(&before);
        let after = vec![offer("1", 5), offer("2", 4)];
        let plan = plan(&after, &state, OnRemoved::Hold);
        assert_eq!(plan.unchanged, 1);
        let actions: Vec<_> = plan
            .calls
            .iter()
            .map(|c| (c.ean.as_str(), c.action.name()))
            .collect();
        assert_eq!(actions, [("2", "update"), ("3", "hold")]);
        assert_eq!(plan.dropped, 1);

        state.offers.get_mut("3").unwrap().held = true;
        let again = super::plan(&after, &state, OnRemoved::Hold);
        assert_eq!(again.calls.len(), 1, "a held offer is not held again");
        assert_eq!(again.dropped, 0);
    }
}
