//! Whether an HTTP pull got every record the server has, and only from where it should.
//!
//! Many ERP APIs cap the page size without saying so: ask for 1000, get 100. With offset or
//! page paging a short page reads as the last one, and the pull would end after the first
//! page with a tenth of the catalog, exit 0. So a short page that has records is confirmed by
//! asking for what would come right after it: any records there mean the server caps pages,
//! and the pull fails with the size to set. A total the server announces (`@odata.count`,
//! `__count`, `X-Total-Count`) must be reached too.
//!
//! A next link (or `Link` header) is followed only to the host of `url` (or one listed in
//! `allowed_hosts`): a compromised or misconfigured server must not send pimfeed's
//! credentials to another host.

use reqwest::Url;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::config::HttpPaging;

/// A record count the server announced on the first page, and where it said it.
#[derive(Debug, Clone, PartialEq)]
pub struct Announced {
    pub total: u64,
    pub source: &'static str,
}

/// The total the first page announces, if it does.
pub fn announced_total(body: &Value, headers: &HeaderMap) -> Option<Announced> {
    let number = |value: &Value| match value {
        Value::Number(n) => n.as_u64(),
        // OData v2 sends `__count` as a string.
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    for (pointer, source) in [
        ("/@odata.count", "@odata.count"),
        ("/d/__count", "__count"),
        ("/__count", "__count"),
    ] {
        if let Some(total) = body.pointer(pointer).and_then(number) {
            return Some(Announced { total, source });
        }
    }
    let header = headers.get("x-total-count")?.to_str().ok()?;
    let total = header.trim().parse().ok()?;
    Some(Announced {
        total,
        source: "X-Total-Count",
    })
}

/// Fails a pull that ended short of the total the server announced.
pub fn check_total(announced: Option<&Announced>, received: usize) -> Result<(), Incomplete> {
    match announced {
        Some(&Announced { total, source }) if (received as u64) < total => Err(Incomplete {
            total,
            announced_by: source,
            received,
        }),
        _ => Ok(()),
    }
}

/// A pull that ended short of the total the server announced.
#[derive(Debug, thiserror::Error)]
#[error(
    "the server announced {total} records ({announced_by}) but the pages held {received}; \
     publishing part of the catalog would drop the rest from every channel, so the \
     pull fails (does the server cap the page size, or was the catalog changing?)"
)]
pub struct Incomplete {
    pub total: u64,
    /// Where the total was announced: a field of the first page, or `X-Total-Count`.
    pub announced_by: &'static str,
    pub received: usize,
}

/// The page to ask for after a short page of `count` records with offset or page paging:
/// what would follow the records the server actually sent. `None` for other paging styles.
pub fn after_short_page(paging: &HttpPaging, url: &Url, count: usize) -> Option<Url> {
    let (param, step) = match paging {
        HttpPaging::Offset { param, .. } => (param, count),
        HttpPaging::Page { param, .. } => (param, 1),
        _ => return None,
    };
    let current: usize = url
        .query_pairs()
        .find(|(key, _)| key == param.as_str())
        .and_then(|(_, value)| value.parse().ok())?;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != param.as_str())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let mut next = url.clone();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(param, &(current + step).to_string());
    Some(next)
}

/// The error for a server that sent a short page and then more records.
pub fn capped_pages(asked: usize, got: usize) -> String {
    format!(
        "the server sent {got} records for a page of {asked} and then more: it caps the page \
         size, so pages would be skipped; set `size = {got}` under [erp.paging]"
    )
}

/// Refuses a next page on another host than the first page's (or an allowed one).
pub fn check_host(first: &Url, next: &Url, allowed: &[String]) -> Result<(), ForeignHost> {
    let same_origin = next.scheme() == first.scheme()
        && next.host_str() == first.host_str()
        && next.port_or_known_default() == first.port_or_known_default();
    let allowed = next
        .host_str()
        .is_some_and(|host| allowed.iter().any(|a| a.eq_ignore_ascii_case(host)));
    if same_origin || allowed {
        return Ok(());
    }
    let mut shown = next.clone();
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.set_query(None);
    Err(ForeignHost { shown })
}

/// A next page on a host the ERP credentials must not go to.
#[derive(Debug, thiserror::Error)]
#[error(
    "the next page is on another host ({shown}) than `url`; pimfeed sends the ERP \
     credentials only to `url`'s host. If that host is right, add it to `allowed_hosts` \
     under [erp]"
)]
pub struct ForeignHost {
    /// The next page's URL without credentials or query.
    pub shown: Url,
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    #[test]
    fn totals_are_read_from_odata_and_headers() {
        let none = HeaderMap::new();
        let v4 = announced_total(&json!({"@odata.count": 350, "value": []}), &none).unwrap();
        assert_eq!((v4.total, v4.source), (350, "@odata.count"));
        let v2 = announced_total(&json!({"d": {"__count": "12", "results": []}}), &none);
        assert_eq!(v2.unwrap().total, 12);
        let mut headers = HeaderMap::new();
        headers.insert("x-total-count", HeaderValue::from_static("7"));
        assert_eq!(announced_total(&json!([]), &headers).unwrap().total, 7);
        assert_eq!(announced_total(&json!([]), &none), None);
        assert!(
            check_total(Some(&v4), 100)
                .unwrap_err()
                .to_string()
                .contains("350")
        );
        assert!(check_total(Some(&v4), 350).is_ok());
        assert!(check_total(None, 0).is_ok());
    }

    #[test]
    fn the_page_after_a_short_one_follows_what_was_sent() {
        let offset = HttpPaging::Offset {
            param: "offset".into(),
            size_param: "limit".into(),
            size: 1000,
        };
        let url = Url::parse("http://h/items?offset=0&limit=1000").unwrap();
        let next = after_short_page(&offset, &url, 100).unwrap();
        assert_eq!(next.as_str(), "http://h/items?limit=1000&offset=100");
        let page = HttpPaging::Page {
            param: "page".into(),
            size_param: "size".into(),
            size: 1000,
            start: 1,
        };
        let url = Url::parse("http://h/items?page=3&size=1000").unwrap();
        let next = after_short_page(&page, &url, 100).unwrap();
        assert_eq!(next.as_str(), "http://h/items?size=1000&page=4");
    }

    #[test]
    fn next_pages_stay_on_the_first_host() {
        let first = Url::parse("https://erp.example/api/items").unwrap();
        let same = Url::parse("https://erp.example/api/items?page=2").unwrap();
        let other = Url::parse("https://evil.example/collect?token=x").unwrap();
        assert!(check_host(&first, &same, &[]).is_ok());
        let err = check_host(&first, &other, &[]).unwrap_err().to_string();
        assert!(err.contains("https://evil.example/collect"), "{err}");
        assert!(!err.contains("token=x"), "{err}");
        assert!(check_host(&first, &other, &["evil.example".into()]).is_ok());
        let http = Url::parse("http://erp.example/api/items").unwrap();
        assert!(check_host(&first, &http, &[]).is_err(), "no downgrade");
    }
}
