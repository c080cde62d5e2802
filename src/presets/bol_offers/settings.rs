//! The `bol-offers` channel's settings, checked against bol.com's Retailer API v11: the
//! fulfilment (`method`, `schedule`, `deliveryPromise`), the condition (`category`, with
//! `state` for second-hand and `grade` and `margin` for refurbished items), the countries and
//! the economic operator. A configuration written for v10 (`delivery_code`) gets an error
//! that spells out the v11 settings that say the same.

use super::limits as bol;
use crate::config::{ChannelConfig, Condition, DeliveryPromise, FulfilmentMethod};
use crate::content::Schema;

#[derive(Debug, Clone)]
pub(crate) struct BolSettings {
    pub condition: Condition,
    /// Second-hand only (`condition.state`).
    pub condition_state: Option<String>,
    /// Refurbished only (`condition.grade`).
    pub condition_grade: Option<String>,
    /// Refurbished only (`condition.margin`); `false` unless set.
    pub condition_margin: bool,
    pub fulfilment: FulfilmentMethod,
    /// FBR only: `fulfilment.schedule`.
    pub delivery_schedule: Option<String>,
    /// With `BOL_DELIVERY_PROMISE`: `fulfilment.deliveryPromise`; a product's
    /// `bol_delivery_days` overrides its days.
    pub delivery_promise: Option<DeliveryPromise>,
    pub countries: Vec<String>,
    pub economic_operator_id: Option<String>,
}

/// Checks a bol channel's settings; mistakes go to `problem`, advice that holds on every
/// build (no economic operator) to `note`.
pub(super) fn resolve(
    cfg: &ChannelConfig,
    currency: &str,
    schema: &Schema,
    problem: &mut dyn FnMut(String),
    note: &mut dyn FnMut(String),
) -> BolSettings {
    if !bol::LOCALES.contains(&cfg.locale.as_str()) {
        problem(format!(
            "bol needs Dutch copy: set `locale` to {} (and add it to the catalog's locales), not `{}`",
            bol::LOCALES.join(" or "),
            cfg.locale
        ));
    }
    if currency != "EUR" {
        problem(format!(
            "bol sells in EUR; the channel's currency is {currency} (set `currency = \"EUR\"`)"
        ));
    }
    if let Some(code) = &cfg.delivery_code {
        problem(v10_delivery_code(code));
    }
    if schema
        .attribute(bol::LEGACY_DELIVERY_CODE_ATTRIBUTE)
        .is_some()
    {
        problem(format!(
            "content/schema.toml defines `{}`, bol v10's delivery code, which v11 offers do not \
             have: rename it to `{}` (text, the days to the customer as \"MIN-MAX\", e.g. \
             \"1-2\") and write days instead of codes in the products that set it",
            bol::LEGACY_DELIVERY_CODE_ATTRIBUTE,
            bol::DELIVERY_DAYS_ATTRIBUTE
        ));
    }
    let fulfilment = cfg.fulfilment_method.unwrap_or_default();
    check_fulfilment(cfg, fulfilment, problem);
    let condition = cfg.condition.unwrap_or_default();
    check_condition(cfg, condition, problem);
    let countries = cfg
        .countries
        .clone()
        .unwrap_or_else(|| bol::COUNTRIES.iter().map(|c| c.to_string()).collect());
    if countries.is_empty() {
        problem("`countries` is empty; bol sells in NL, BE or both".into());
    }
    for (index, country) in countries.iter().enumerate() {
        if !bol::COUNTRIES.contains(&country.as_str()) {
            problem(format!(
                "`countries`: bol sells in NL and BE, not `{country}`"
            ));
        } else if countries[..index].contains(country) {
            problem(format!("`countries` lists {country} twice"));
        }
    }
    match &cfg.economic_operator_id {
        Some(id) if id.trim().is_empty() => problem(
            "`economic_operator_id` is empty; leave it out or set the id bol gave you".into(),
        ),
        Some(_) => {}
        None => note(
            "no `economic_operator_id`: bol does not put an offer on sale without the DSA \
             economic operator of your account (Retailer API: economic operators); set it on \
             the channel"
                .into(),
        ),
    }
    BolSettings {
        condition,
        condition_state: cfg.condition_state.clone(),
        condition_grade: cfg.condition_grade.clone(),
        condition_margin: cfg.condition_margin.unwrap_or(false),
        fulfilment,
        delivery_schedule: cfg.delivery_schedule.clone(),
        delivery_promise: cfg.delivery_promise.clone(),
        countries,
        economic_operator_id: cfg.economic_operator_id.clone(),
    }
}

/// `fulfilment`: FBR needs a schedule, and bol's promise its days; FBB takes neither.
fn check_fulfilment(
    cfg: &ChannelConfig,
    fulfilment: FulfilmentMethod,
    problem: &mut dyn FnMut(String),
) {
    let schedules = bol::SCHEDULES.join(", ");
    match (fulfilment, cfg.delivery_schedule.as_deref()) {
        (FulfilmentMethod::Fbb, schedule) => {
            if schedule.is_some() || cfg.delivery_promise.is_some() {
                problem(
                    "`delivery_schedule` and `delivery_promise` are for FBR only: bol sets the \
                     delivery promise of FBB offers"
                        .into(),
                );
            }
            return;
        }
        (FulfilmentMethod::Fbr, None) => {
            problem(format!(
                "bol offers shipped by the retailer (FBR) need a `delivery_schedule`: one of \
                 {schedules} (with BOL_DELIVERY_PROMISE also `delivery_promise = {{ \
                 minimum_days = 1, maximum_days = 2 }}`)"
            ));
            return;
        }
        (FulfilmentMethod::Fbr, Some(schedule)) if !bol::SCHEDULES.contains(&schedule) => {
            let hint = crate::suggest::nearest(schedule, bol::SCHEDULES.iter().copied())
                .map(|near| format!("did you mean `{near}`?"))
                .unwrap_or_else(|| format!("bol's schedules are {schedules}"));
            problem(format!(
                "`delivery_schedule = \"{schedule}\"` is not a bol v11 schedule; {hint}"
            ));
            return;
        }
        (FulfilmentMethod::Fbr, Some(_)) => {}
    }
    let promised = cfg.delivery_schedule.as_deref() == Some(bol::PROMISE_SCHEDULE);
    match (&cfg.delivery_promise, promised) {
        (None, true) => problem(format!(
            "`delivery_schedule = \"{}\"` needs `delivery_promise = {{ minimum_days = 1, \
             maximum_days = 2 }}` (optionally `ultimate_order_time = \"14:00\"`)",
            bol::PROMISE_SCHEDULE
        )),
        (Some(_), false) => problem(format!(
            "`delivery_promise` goes with `delivery_schedule = \"{}\"` only",
            bol::PROMISE_SCHEDULE
        )),
        (Some(promise), true) => {
            if let Err(message) = check_promise(promise) {
                problem(format!("`delivery_promise`: {message}"));
            }
        }
        (None, false) => {}
    }
}

/// The days of a promise are in order and its cut-off is a time of day.
pub(crate) fn check_promise(promise: &DeliveryPromise) -> Result<(), String> {
    if promise.minimum_days > promise.maximum_days {
        return Err(format!(
            "`minimum_days` ({}) is more than `maximum_days` ({})",
            promise.minimum_days, promise.maximum_days
        ));
    }
    if let Some(time) = &promise.ultimate_order_time
        && !is_time_of_day(time)
    {
        return Err(format!(
            "`ultimate_order_time` is a time of day such as \"14:00\", not `{time}`"
        ));
    }
    Ok(())
}

fn is_time_of_day(time: &str) -> bool {
    let Some((hours, minutes)) = time.split_once(':') else {
        return false;
    };
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    two_digits(hours)
        && two_digits(minutes)
        && hours.parse::<u32>().is_ok_and(|h| h < 24)
        && minutes.parse::<u32>().is_ok_and(|m| m < 60)
}

/// A product's `bol_delivery_days`: `"1-2"` (or `"1"`) as (minimum, maximum).
pub(crate) fn parse_delivery_days(text: &str) -> Result<(u32, u32), String> {
    let parse = |s: &str| s.trim().parse::<u32>().ok();
    let days = match text.split_once('-') {
        Some((min, max)) => parse(min).zip(parse(max)),
        None => parse(text).map(|d| (d, d)),
    };
    match days {
        Some((min, max)) if min <= max => Ok((min, max)),
        Some((min, max)) => Err(format!(
            "`{}` = \"{text}\": the minimum ({min}) is more than the maximum ({max})",
            bol::DELIVERY_DAYS_ATTRIBUTE
        )),
        None => Err(format!(
            "`{}` is the days to the customer as \"MIN-MAX\", e.g. \"1-2\", not \"{text}\"",
            bol::DELIVERY_DAYS_ATTRIBUTE
        )),
    }
}

/// `condition`: a state for second-hand items, a grade (and margin) for refurbished ones.
fn check_condition(cfg: &ChannelConfig, condition: Condition, problem: &mut dyn FnMut(String)) {
    let mut check =
        |key: &str, value: Option<&str>, wanted: bool, allowed: &[&str], when: &str| match value {
            None if wanted => problem(format!(
                "bol needs `{key}` for {when} offers: one of {}",
                allowed.join(", ")
            )),
            Some(_) if !wanted => problem(format!("`{key}` is for {when} offers only")),
            Some(value) if !allowed.contains(&value) => problem(format!(
                "`{key} = \"{value}\"` is not one of bol's: {}",
                allowed.join(", ")
            )),
            _ => {}
        };
    check(
        "condition_state",
        cfg.condition_state.as_deref(),
        condition == Condition::Used,
        bol::STATES,
        "used (second-hand)",
    );
    check(
        "condition_grade",
        cfg.condition_grade.as_deref(),
        condition == Condition::Refurbished,
        bol::GRADES,
        "refurbished",
    );
    if cfg.condition_margin.is_some() && condition != Condition::Refurbished {
        problem("`condition_margin` is for refurbished offers only".into());
    }
}

/// The error for a v10 `delivery_code`: what to write instead, worked out from the code.
fn v10_delivery_code(code: &toml::Value) -> String {
    let code = code.as_str().unwrap_or_default();
    let promise = |min: u32, max: u32, cutoff: Option<&str>| {
        let cutoff = cutoff
            .map(|time| format!(", ultimate_order_time = \"{time}\""))
            .unwrap_or_default();
        format!(
            "`delivery_schedule = \"{}\"` and `delivery_promise = {{ minimum_days = {min}, \
             maximum_days = {max}{cutoff} }}`",
            bol::PROMISE_SCHEDULE
        )
    };
    let instead = if let Some(hour) = code.strip_prefix("24uurs-") {
        promise(1, 1, Some(&format!("{hour}:00")))
    } else {
        match code {
            "1-2d" => promise(1, 2, None),
            "2-3d" => promise(2, 3, None),
            "3-5d" => promise(3, 5, None),
            "4-8d" => promise(4, 8, None),
            "1-8d" => promise(1, 8, None),
            "MijnLeverbelofte" => "`delivery_schedule = \"MY_DELIVERY_PROMISE\"`".into(),
            "VVB" => "`delivery_schedule = \"SHIPPING_VIA_BOL\"`".into(),
            _ => format!(
                "`delivery_schedule` (one of {}) and, with BOL_DELIVERY_PROMISE, \
                 `delivery_promise = {{ minimum_days = 1, maximum_days = 2 }}`",
                bol::SCHEDULES.join(", ")
            ),
        }
    };
    format!(
        "`delivery_code` is bol's v10 delivery code; v11 offers have none: write {instead} \
         instead"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v10_codes_get_their_v11_settings() {
        let message = |code: &str| v10_delivery_code(&toml::Value::String(code.into()));
        assert!(
            message("24uurs-16")
                .contains("minimum_days = 1, maximum_days = 1, ultimate_order_time = \"16:00\""),
            "{}",
            message("24uurs-16")
        );
        assert!(message("3-5d").contains("minimum_days = 3, maximum_days = 5 }"));
        assert!(message("VVB").contains("SHIPPING_VIA_BOL"));
        assert!(message("MijnLeverbelofte").contains("MY_DELIVERY_PROMISE"));
    }

    #[test]
    fn delivery_days_and_times() {
        assert_eq!(parse_delivery_days("1-2"), Ok((1, 2)));
        assert_eq!(parse_delivery_days("0"), Ok((0, 0)));
        assert!(
            parse_delivery_days("3-1")
                .unwrap_err()
                .contains("more than")
        );
        assert!(parse_delivery_days("1-2d").unwrap_err().contains("MIN-MAX"));
        assert!(is_time_of_day("14:00"));
        assert!(!is_time_of_day("24:00"));
        assert!(!is_time_of_day("9:00"));
    }
}
