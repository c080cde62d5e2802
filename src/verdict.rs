//! The gate's vocabulary: a verdict, the reasons behind it, and the checks that count towards
//! a product's completeness. The generic gate (`validate`) and every preset's rules speak it.

use serde::Serialize;

use crate::channels::Channel;
use crate::content::{Product, Schema};
use crate::merge::is_empty;

/// Why a product is not in a channel, or what is worth knowing about it there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Stable kebab-case code, e.g. `missing-attribute`, `not-in-erp`, `too-long`.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    pub message: String,
    /// The content line the reason is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Who last changed that line (or the product's first line); filled in after the gate,
    /// only for products left out or warned about. Shared: a report's reasons name few
    /// distinct changes, and there may be a million reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blame: Option<std::sync::Arc<crate::diagnostics::Blame>>,
}

impl Reason {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            attribute: None,
            message: message.into(),
            line: None,
            blame: None,
        }
    }

    pub fn on(mut self, attribute: &str, product: &Product, channel: &Channel) -> Self {
        self.line = product.value_for(attribute, &channel.name).map(|v| v.line);
        self.attribute = Some(attribute.to_string());
        self
    }
}

/// The gate's verdict for one product in one channel.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub included: bool,
    /// Share of the channel's requirements the product meets, 0–100.
    pub completeness: u8,
    /// Why it is left out; empty when included.
    pub reasons: Vec<Reason>,
    /// Not blocking, but worth fixing (e.g. images beyond the channel's maximum).
    pub warnings: Vec<Reason>,
}

/// The reason for a required attribute without a value (in the channel's locale).
pub fn missing_attribute(
    attribute: &str,
    product: &Product,
    channel: &Channel,
    schema: &Schema,
) -> Reason {
    let locale_note = if schema.attribute(attribute).is_some_and(|d| d.localized) {
        format!(" in {}", channel.locale)
    } else {
        String::new()
    };
    Reason::new(
        "missing-attribute",
        format!("`{attribute}` is required{locale_note} and has no value"),
    )
    .on(attribute, product, channel)
}

/// Whether `attribute` has a non-empty value for the channel (in its locale if localized).
pub fn has_value(product: &Product, attribute: &str, channel: &Channel, schema: &Schema) -> bool {
    let localized = schema.attribute(attribute).is_some_and(|d| d.localized);
    has_localized_value(product, attribute, localized, channel)
}

/// [`has_value`] for an attribute whose definition says whether it is `localized`.
pub fn has_localized_value(
    product: &Product,
    attribute: &str,
    localized: bool,
    channel: &Channel,
) -> bool {
    let Some(value) = product.value_for(attribute, &channel.name) else {
        return false;
    };
    let value = if localized {
        match value.value.get(&channel.locale) {
            Some(value) => value,
            None => return false,
        }
    } else {
        &value.value
    };
    !is_empty(value)
}

#[derive(Default)]
pub(crate) struct Checks {
    total: usize,
    passed: usize,
    reasons: Vec<Reason>,
    warnings: Vec<Reason>,
}

impl Checks {
    pub fn check(&mut self, ok: bool, reason: impl FnOnce() -> Reason) {
        self.total += 1;
        if ok {
            self.passed += 1;
        } else {
            self.reasons.push(reason());
        }
    }

    pub fn check_result<E>(&mut self, result: Result<(), E>, reason: impl FnOnce(E) -> Reason) {
        match result {
            Ok(()) => self.check(true, || unreachable!()),
            Err(err) => self.check(false, || reason(err)),
        }
    }

    pub fn fail(&mut self, reason: Reason) {
        self.check(false, || reason);
    }

    pub fn warn(&mut self, reason: Reason) {
        self.warnings.push(reason);
    }

    pub(crate) fn verdict(self) -> Verdict {
        let completeness = (self.passed * 100)
            .checked_div(self.total)
            .map_or(100, |percent| percent as u8);
        Verdict {
            included: self.reasons.is_empty(),
            completeness,
            reasons: self.reasons,
            warnings: self.warnings,
        }
    }
}
