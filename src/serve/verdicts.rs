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
    /// By product (its position in the index) and channel.
    reasons: HashMap<(u32, u16), Box<[CompactReason]>>,
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
    verdicts: Verdicts,
}

impl VerdictsBuilder {
    /// Keeps the reasons of `verdict`, the report's verdict on the product at `product` in
    /// `channel`.
    pub fn add(&mut self, product: u32, channel: usize, verdict: &crate::report::ProductVerdict) {
        let reasons = verdict
            .reasons
            .iter()
            .map(|reason| CompactReason {
                message: self.text(&reason.message),
                line: reason.line,
                blame: reason
                    .blame
                    .as_ref()
                    .map(|blame| self.text(&crate::report::blame_sentence(blame))),
            })
            .collect();
        self.verdicts
            .reasons
            .insert((product, channel as u16), reasons);
    }

    fn text(&mut self, text: &str) -> u32 {
        if let Some(&known) = self.known.get(text) {
            return known;
        }
        let id = self.verdicts.texts.len() as u32;
        self.verdicts.texts.push(text.into());
        self.known.insert(text.to_string(), id);
        id
    }

    pub fn finish(mut self) -> Verdicts {
        self.verdicts.texts.shrink_to_fit();
        self.verdicts.reasons.shrink_to_fit();
        self.verdicts
    }
}

impl Verdicts {
    /// The reasons the report gave for the product at `product` in `channel`.
    pub fn of(&self, product: usize, channel: usize) -> Vec<ShownReason<'_>> {
        let Some(reasons) = self.reasons.get(&(product as u32, channel as u16)) else {
            return Vec::new();
        };
        reasons
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
