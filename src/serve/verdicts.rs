//! Why a product is left out of a channel, or warned about in it, as its page lists the
//! reasons: kept per product and channel as numbers into one list of distinct texts, since the
//! same message and the same "last changed by" come back for thousands of products. The
//! build's report, with every reason spelled out for every product, is not kept.

use std::collections::HashMap;

use crate::report::Report;

/// The reasons of every product a channel leaves out or warns about.
#[derive(Default)]
pub struct Verdicts {
    texts: Vec<Box<str>>,
    /// Sorted by product (its position in the index) and channel, each with its reasons'
    /// range in `reasons`.
    verdicts: Vec<(VerdictKey, u32, u32)>,
    reasons: Vec<CompactReason>,
}

/// A product's position in the index and a channel, in one number that sorts by both.
type VerdictKey = u64;

fn key(product: u32, channel: usize) -> VerdictKey {
    (u64::from(product) << 16) | channel as u64
}

#[derive(Clone, Copy)]
struct CompactReason {
    message: u32,
    line: Option<u32>,
    blame: Option<u32>,
}

/// A reason as a product page shows it.
pub struct ShownReason<'a> {
    pub message: &'a str,
    pub line: Option<u32>,
    /// `last changed by Jane Doe on 2 Mar 2026 (3f2a1bc)`.
    pub blame: Option<&'a str>,
}

/// Collects [`Verdicts`], each distinct text once.
#[derive(Default)]
pub struct VerdictsBuilder {
    known: HashMap<String, u32>,
    /// The last text looked up: verdicts in catalog order mostly repeat the one before.
    last: Option<u32>,
    verdicts: Verdicts,
}

impl VerdictsBuilder {
    /// Keeps the reasons of `verdict`, the report's verdict on the product at `product` in
    /// `channel`.
    pub fn add(&mut self, product: u32, channel: usize, verdict: &crate::report::ProductVerdict) {
        let start = self.verdicts.reasons.len() as u32;
        for reason in &verdict.reasons {
            let compact = CompactReason {
                message: self.text(&reason.message),
                line: reason.line,
                blame: reason
                    .blame
                    .as_ref()
                    .map(|blame| self.text(&crate::report::blame_sentence(blame))),
            };
            self.verdicts.reasons.push(compact);
        }
        let end = self.verdicts.reasons.len() as u32;
        self.verdicts
            .verdicts
            .push((key(product, channel), start, end));
    }

    fn text(&mut self, text: &str) -> u32 {
        if let Some(last) = self.last
            && *self.verdicts.texts[last as usize] == *text
        {
            return last;
        }
        let id = match self.known.get(text) {
            Some(&known) => known,
            None => {
                let id = self.verdicts.texts.len() as u32;
                self.verdicts.texts.push(text.into());
                self.known.insert(text.to_string(), id);
                id
            }
        };
        self.last = Some(id);
        id
    }

    pub fn finish(mut self) -> Verdicts {
        // A product in both lists of a channel keeps the verdict added last (left out).
        self.verdicts.verdicts.reverse();
        self.verdicts.verdicts.sort_by_key(|(key, _, _)| *key);
        self.verdicts.verdicts.dedup_by_key(|(key, _, _)| *key);
        self.verdicts.texts.shrink_to_fit();
        self.verdicts.verdicts.shrink_to_fit();
        self.verdicts.reasons.shrink_to_fit();
        self.verdicts
    }
}

impl Verdicts {
    /// The reasons the report gave for the product at `product` in `channel`.
    pub fn of(&self, product: usize, channel: usize) -> Vec<ShownReason<'_>> {
        let wanted = key(product as u32, channel);
        let Ok(at) = self
            .verdicts
            .binary_search_by_key(&wanted, |(key, _, _)| *key)
        else {
            return Vec::new();
        };
        let (_, start, end) = self.verdicts[at];
        self.reasons[start as usize..end as usize]
            .iter()
            .map(|reason| ShownReason {
                message: &self.texts[reason.message as usize],
                line: reason.line,
                blame: reason.blame.map(|at| &*self.texts[at as usize]),
            })
            .collect()
    }
}

/// Whether every reason of `verdict` is the channel's own choice (its filter, or the product
/// switched off for it), not something to fix.
pub fn by_choice(verdict: &crate::report::ProductVerdict) -> bool {
    verdict
        .reasons
        .iter()
        .all(|r| matches!(r.code, "filter" | "disabled"))
}

/// Every verdict of `report`: per channel (in the report's order), whether it leaves the
/// product out, and the verdict.
pub fn all(report: &Report) -> impl Iterator<Item = (usize, bool, &crate::report::ProductVerdict)> {
    report
        .channels
        .iter()
        .enumerate()
        .flat_map(|(channel, report)| {
            let warned = report.warnings.iter().map(move |v| (channel, false, v));
            let left_out = report.left_out.iter().map(move |v| (channel, true, v));
            warned.chain(left_out)
        })
}
