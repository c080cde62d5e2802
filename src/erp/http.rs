//! The `http` ERP source: a JSON API read page by page, all or nothing.
//!
//! Everything an ERP's API varies in is configuration (see `ErpHttpConfig`): where the records
//! are in a page, how the next page is found, how to authenticate, where each field is. Pages
//! are fetched one after another with a blocking client: the next-link and cursor styles can
//! only be walked in order, and a catalog's worth of pages takes seconds, not minutes.
//!
//! Secrets come from environment variables and are scrubbed from every message: an API that
//! echoes a header back in its error page must not leak it into CI logs.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde_json::{Map, Value};

use super::ErpRecord;
use super::completeness::{self, Announced};
use super::record_check::{RecordsError, RowProblem, check_records_with_warnings};
use crate::config::{ErpHttpConfig, HttpAuth, HttpField, HttpPaging, HttpPreset};
use crate::redact::Redactor;

/// Error bodies are cut to this many characters in messages.
const BODY_SHOWN: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The configuration cannot work (a missing environment variable, a bad URL).
    #[error("{0}")]
    Config(String),
    /// A page failed. The message names the page, URL and status, never what the server wrote:
    /// that text (an error page may echo the request) is kept apart in `server_said`, so it can
    /// go to the terminal but never into the manifest or report.
    #[error("page {page} ({url}): {message}")]
    Page {
        page: usize,
        url: String,
        message: String,
        /// The start of the server's answer, secrets masked.
        server_said: Option<String>,
    },
    #[error("{0}")]
    Records(RecordsError),
    /// The pages held fewer records than the server has (see [`completeness`]).
    #[error("{0}")]
    Incomplete(String),
}

impl HttpError {
    /// The start of what the server answered, secrets masked, when it answered at all.
    pub fn server_said(&self) -> Option<&str> {
        match self {
            HttpError::Page { server_said, .. } => server_said.as_deref(),
            HttpError::Config(_) | HttpError::Incomplete(_) | HttpError::Records(_) => None,
        }
    }

    /// The message with what the server said: for the terminal, never for published files.
    pub fn with_server_text(&self) -> String {
        match self.server_said() {
            Some(said) => format!("{self}; the server said: {said}"),
            None => self.to_string(),
        }
    }
}

/// A finished pull.
#[derive(Debug)]
pub struct Pull {
    pub records: Vec<ErpRecord>,
    pub pages: usize,
    /// Records taken as meant, worth a warning (see [`super::record_check::Checked`]).
    pub warnings: Vec<RowProblem>,
}

/// Reads every page and checks every record; any failure fails the whole pull.
pub fn pull(config: &ErpHttpConfig, progress: &crate::ui::Progress) -> Result<Pull, HttpError> {
    install_tls_provider();
    let session = Session::new(config)?;
    let records_pointer = config.records.clone().unwrap_or_else(|| {
        match config.preset {
            Some(HttpPreset::OdataV4) => "/value",
            Some(HttpPreset::OdataV2) => "/d/results",
            Some(HttpPreset::Rest) | None => "",
        }
        .to_string()
    });
    let paging = paging(config);
    let first = Url::parse(&config.url)
        .map_err(|err| HttpError::Config(format!("`url` `{}` is not a URL: {err}", config.url)))?;

    let mut raw: Vec<Value> = Vec::new();
    let in_flight = config.concurrency.unwrap_or(4).max(1);
    if let HttpPaging::Offset { size, .. } | HttpPaging::Page { size, .. } = &paging
        && in_flight > 1
    {
        let numbered = Numbered {
            paging: &paging,
            first: &first,
            size: *size,
            in_flight,
            records_pointer: &records_pointer,
        };
        let (pages, announced) =
            pull_numbered_pages(&session, config, &numbered, &mut raw, progress)?;
        check_total(&session, announced.as_ref(), raw.len())?;
        return finish(config, &raw, pages);
    }
    let mut requested: HashSet<String> = HashSet::new();
    let mut announced = None;
    let mut page = 0usize;
    let mut next = Some(first_page_url(&first, &paging));
    while let Some(url) = next.take() {
        page += 1;
        if page > config.max_pages {
            return Err(session.page_error(
                page,
                &url,
                format!(
                    "the server still had more pages after {}; if the catalog really is that \
                     big, raise `max_pages` under [erp]",
                    config.max_pages
                ),
            ));
        }
        if !requested.insert(url.to_string()) {
            return Err(session.page_error(
                page,
                &url,
                "the server links back to a page it already sent; the pull would never end"
                    .to_string(),
            ));
        }
        progress.stage(&format!("ERP page {page}, {} records", raw.len()));
        let (headers, body) = session.get(page, &url, &paging)?;
        if page == 1 {
            announced = completeness::announced_total(&body, &headers);
        }
        let items = records_at(&body, &records_pointer)
            .map_err(|message| session.page_error(page, &url, message))?;
        let count = items.len();
        raw.extend(items);
        if count == 0 {
            break;
        }
        next = next_page(&paging, &url, &body, &headers, count)
            .map_err(|message| session.page_error(page, &url, message))?;
        match &next {
            Some(next) => completeness::check_host(&first, next, &config.allowed_hosts)
                .map_err(|foreign| session.page_error(page, &url, foreign.to_string()))?,
            None => confirm_short_page(&session, &paging, (page, &url), count, &records_pointer)?,
        }
    }
    check_total(&session, announced.as_ref(), raw.len())?;
    finish(config, &raw, page)
}

/// After a short page with offset or page paging: fails when the server has records right
/// after it, because it caps the page size (see [`completeness`]).
fn confirm_short_page(
    session: &Session<'_>,
    paging: &HttpPaging,
    (page, url): (usize, &Url),
    count: usize,
    records_pointer: &str,
) -> Result<(), HttpError> {
    let (HttpPaging::Offset { size, .. } | HttpPaging::Page { size, .. }) = paging else {
        return Ok(());
    };
    if count == 0 || count >= *size {
        return Ok(());
    }
    let Some(probe) = completeness::after_short_page(paging, url, count) else {
        return Ok(());
    };
    let (_, body) = session.get(page + 1, &probe, paging)?;
    let more = records_at(&body, records_pointer)
        .map_err(|message| session.page_error(page + 1, &probe, message))?;
    match more.is_empty() {
        true => Ok(()),
        false => Err(session.page_error(page, url, completeness::capped_pages(*size, count))),
    }
}

fn check_total(
    session: &Session<'_>,
    announced: Option<&Announced>,
    received: usize,
) -> Result<(), HttpError> {
    completeness::check_total(announced, received)
        .map_err(|incomplete| HttpError::Incomplete(session.scrub(&incomplete.to_string())))
}

/// Maps and checks every record of a finished pull.
fn finish(config: &ErpHttpConfig, raw: &[Value], pages: usize) -> Result<Pull, HttpError> {
    let mapped: Vec<Value> = raw
        .iter()
        .map(|record| map_record(record, config))
        .collect();
    let checked = check_records_with_warnings(&mapped, &config.url).map_err(HttpError::Records)?;
    Ok(Pull {
        records: checked.records,
        pages,
        warnings: checked.warnings,
    })
}

fn records_at(body: &Value, pointer: &str) -> Result<Vec<Value>, String> {
    match body.pointer(pointer) {
        Some(Value::Array(items)) => Ok(items.clone()),
        _ => {
            let at = if pointer.is_empty() {
                "the top level"
            } else {
                pointer
            };
            Err(format!(
                "no array of records at {at}; set `records` under [erp] to the JSON pointer of the array"
            ))
        }
    }
}

/// Offset and page paging, whose page addresses are known in advance.
struct Numbered<'a> {
    paging: &'a HttpPaging,
    first: &'a Url,
    size: usize,
    in_flight: usize,
    records_pointer: &'a str,
}

/// Fetches `in_flight` numbered pages at once, in waves; the first page shorter than `size`
/// ends the pull once the page after it is confirmed empty (pages after it in its wave are
/// ignored, whatever they returned). The page count, and the total the first page announced.
fn pull_numbered_pages(
    session: &Session<'_>,
    config: &ErpHttpConfig,
    numbered: &Numbered<'_>,
    raw: &mut Vec<Value>,
    progress: &crate::ui::Progress,
) -> Result<(usize, Option<Announced>), HttpError> {
    let mut announced = None;
    let mut index = 0;
    loop {
        let urls: Vec<Url> = (index..index + numbered.in_flight)
            .map(|i| numbered_page_url(numbered.first, numbered.paging, i))
            .collect();
        if index >= config.max_pages {
            return Err(session.page_error(
                index + 1,
                &urls[0],
                format!(
                    "the server still had more pages after {}; if the catalog really is that \
                     big, raise `max_pages` under [erp]",
                    config.max_pages
                ),
            ));
        }
        progress.stage(&format!("ERP page {}, {} records", index + 1, raw.len()));
        let replies: Vec<Result<(HeaderMap, Value), HttpError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = urls
                .iter()
                .enumerate()
                .map(|(i, url)| {
                    scope.spawn(move || session.get(index + i + 1, url, numbered.paging))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("a page request does not panic"))
                .collect()
        });
        for (i, reply) in replies.into_iter().enumerate() {
            let (headers, body) = reply?;
            if index + i == 0 {
                announced = completeness::announced_total(&body, &headers);
            }
            let items = records_at(&body, numbered.records_pointer)
                .map_err(|message| session.page_error(index + i + 1, &urls[i], message))?;
            let count = items.len();
            raw.extend(items);
            if count < numbered.size {
                let page = (index + i + 1, &urls[i]);
                confirm_short_page(
                    session,
                    numbered.paging,
                    page,
                    count,
                    numbered.records_pointer,
                )?;
                return Ok((index + i + 1, announced));
            }
        }
        index += numbered.in_flight;
    }
}

/// reqwest is built without a default TLS provider (see Cargo.toml); install ring's once.
fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The paging the configuration asks for, or its preset's.
fn paging(config: &ErpHttpConfig) -> HttpPaging {
    if let Some(paging) = &config.paging {
        return paging.clone();
    }
    match config.preset {
        Some(HttpPreset::OdataV4) => HttpPaging::NextLink {
            pointer: "/@odata.nextLink".into(),
            size_header: None,
            size_header_value: None,
            size: None,
        },
        Some(HttpPreset::OdataV2) => HttpPaging::NextLink {
            pointer: "/d/__next".into(),
            size_header: None,
            size_header_value: None,
            size: None,
        },
        Some(HttpPreset::Rest) => HttpPaging::Offset {
            param: "offset".into(),
            size_param: "limit".into(),
            size: 100,
        },
        None => HttpPaging::None,
    }
}

fn first_page_url(first: &Url, paging: &HttpPaging) -> Url {
    numbered_page_url(first, paging, 0)
}

/// The URL of page `index` (0-based) with offset or page paging; `first` for other styles.
fn numbered_page_url(first: &Url, paging: &HttpPaging, index: usize) -> Url {
    let mut url = first.clone();
    match paging {
        HttpPaging::Offset {
            param,
            size_param,
            size,
        } => {
            url.query_pairs_mut()
                .append_pair(param, &(index * size).to_string())
                .append_pair(size_param, &size.to_string());
        }
        HttpPaging::Page {
            param,
            size_param,
            size,
            start,
        } => {
            url.query_pairs_mut()
                .append_pair(param, &(start + index).to_string())
                .append_pair(size_param, &size.to_string());
        }
        _ => {}
    }
    url
}

/// The URL of the page after `url`, or `None` at the end.
fn next_page(
    paging: &HttpPaging,
    url: &Url,
    body: &Value,
    headers: &HeaderMap,
    count: usize,
) -> Result<Option<Url>, String> {
    let with_param = |param: &str, value: String| {
        let mut next = url.clone();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != param)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        next.query_pairs_mut()
            .clear()
            .extend_pairs(pairs)
            .append_pair(param, &value);
        next
    };
    let current = |param: &str| {
        url.query_pairs()
            .find(|(k, _)| k == param)
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    Ok(match paging {
        HttpPaging::None => None,
        HttpPaging::Offset { param, size, .. } => {
            (count >= *size).then(|| with_param(param, (current(param) + count).to_string()))
        }
        HttpPaging::Page { param, size, .. } => {
            (count >= *size).then(|| with_param(param, (current(param) + 1).to_string()))
        }
        HttpPaging::Cursor { pointer, param } => match body.pointer(pointer) {
            Some(Value::String(cursor)) if !cursor.is_empty() => {
                Some(with_param(param, cursor.clone()))
            }
            Some(Value::Number(cursor)) => Some(with_param(param, cursor.to_string())),
            _ => None,
        },
        HttpPaging::NextLink { pointer, .. } => match body.pointer(pointer) {
            Some(Value::String(link)) if !link.is_empty() => Some(
                // OData allows relative next links (SAP CAP and Business One send them).
                url.join(link)
                    .map_err(|err| format!("next link `{link}` is not a URL: {err}"))?,
            ),
            _ => None,
        },
        HttpPaging::LinkHeader => match link_next(headers) {
            Some(link) => Some(
                url.join(&link)
                    .map_err(|err| format!("Link header `{link}` is not a URL: {err}"))?,
            ),
            None => None,
        },
    })
}

/// The `rel="next"` target of a `Link` header (RFC 8288).
fn link_next(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(reqwest::header::LINK) {
        let text = value.to_str().ok()?;
        for link in text.split(',') {
            let mut parts = link.split(';');
            let target = parts.next()?.trim();
            let is_next = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                return Some(
                    target
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string(),
                );
            }
        }
    }
    None
}

/// One API record → an object under the ERP record's field names.
fn map_record(record: &Value, config: &ErpHttpConfig) -> Value {
    if config.fields.is_empty() {
        return record.clone();
    }
    let mut out = Map::new();
    for name in super::ERP_FIELDS {
        let value = match config.fields.get(*name) {
            Some(spec) => extract(record, spec),
            None => record.get(*name).cloned().unwrap_or(Value::Null),
        };
        if !value.is_null() {
            out.insert((*name).to_string(), value);
        }
    }
    Value::Object(out)
}

fn extract(record: &Value, field: &HttpField) -> Value {
    let spec = match field {
        HttpField::Pointer(pointer) => {
            return record.pointer(pointer).cloned().unwrap_or(Value::Null);
        }
        HttpField::Spec(spec) => spec,
    };
    let mut value = match &spec.pointer {
        Some(pointer) => record.pointer(pointer).cloned().unwrap_or(Value::Null),
        None => Value::Null,
    };
    if let Some(find) = &spec.find {
        let wanted = toml_to_json(&find.equals);
        value = value
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|item| item.get(&find.key).is_some_and(|v| same_scalar(v, &wanted)))
            })
            .cloned()
            .unwrap_or(Value::Null);
    }
    if let Some(inner) = &spec.value {
        value = value.pointer(inner).cloned().unwrap_or(Value::Null);
    }
    if let Some(map) = &spec.map {
        let key = match &value {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        if let Some(mapped) = key.and_then(|k| map.get(&k)) {
            value = toml_to_json(mapped);
        }
    }
    if spec.not
        && let Value::Bool(b) = value
    {
        value = Value::Bool(!b);
    }
    if value.is_null()
        && let Some(default) = &spec.default
    {
        value = toml_to_json(default);
    }
    value
}

/// Scalars compare by their text, so `PriceList = 1` finds `"1"` as well as `1`.
fn same_scalar(a: &Value, b: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text(a) == text(b)
}

fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => f.to_string().parse().unwrap_or(Value::Null),
        toml::Value::Boolean(b) => Value::Bool(*b),
        other => Value::String(other.to_string()),
    }
}

/// The HTTP side: client, credentials, retries and the rate cap.
struct Session<'c> {
    config: &'c ErpHttpConfig,
    client: Client,
    auth: Auth,
    /// Every secret in every spelling, to mask in messages (an OAuth token joins when it is
    /// fetched).
    secrets: Mutex<Redactor>,
    /// Shared by the threads of a parallel pull, so the rate cap holds for all of them.
    last_request: Mutex<Option<Instant>>,
}

enum Auth {
    None,
    Bearer(String),
    Basic(String, String),
    Header(String, String),
    OAuth2 {
        token_url: String,
        client_id: String,
        client_secret: String,
        scope: Option<String>,
        token: Mutex<Option<(String, Instant)>>,
    },
}

fn env(name: &str, what: &str) -> Result<String, HttpError> {
    std::env::var(name).map_err(|_| {
        HttpError::Config(format!(
            "environment variable `{name}` is not set; it holds the ERP's {what}"
        ))
    })
}

impl<'c> Session<'c> {
    fn new(config: &'c ErpHttpConfig) -> Result<Self, HttpError> {
        let auth = match &config.auth {
            None => Auth::None,
            Some(HttpAuth::Bearer { token_env }) => Auth::Bearer(env(token_env, "API token")?),
            Some(HttpAuth::Basic {
                username_env,
                password_env,
            }) => Auth::Basic(
                env(username_env, "user name")?,
                env(password_env, "password")?,
            ),
            Some(HttpAuth::Header { name, value_env }) => {
                Auth::Header(name.clone(), env(value_env, "credential")?)
            }
            Some(HttpAuth::Oauth2 {
                token_url,
                client_id_env,
                client_secret_env,
                scope,
            }) => Auth::OAuth2 {
                token_url: token_url.clone(),
                client_id: env(client_id_env, "OAuth client id")?,
                client_secret: env(client_secret_env, "OAuth client secret")?,
                scope: scope.clone(),
                token: Mutex::new(None),
            },
        };
        let mut secrets = Redactor::new();
        match &auth {
            Auth::None => {}
            Auth::Bearer(token) => secrets.add(token),
            Auth::Basic(user, password) => secrets.add_basic(user, password),
            Auth::Header(_, value) => secrets.add(value),
            Auth::OAuth2 {
                client_id,
                client_secret,
                ..
            } => {
                secrets.add(client_secret);
                // Some token endpoints take the pair as basic auth, and echo it back.
                secrets.add_basic(client_id, client_secret);
            }
        }
        let client = Client::builder()
            .timeout(Duration::from_secs_f64(config.timeout_seconds.max(0.001)))
            .user_agent(concat!("pimfeed/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| HttpError::Config(format!("cannot start the HTTP client: {err}")))?;
        Ok(Self {
            config,
            client,
            auth,
            secrets: Mutex::new(secrets),
            last_request: Mutex::new(None),
        })
    }

    /// One page as JSON, retrying what is worth retrying.
    fn get(
        &self,
        page: usize,
        url: &Url,
        paging: &HttpPaging,
    ) -> Result<(HeaderMap, Value), HttpError> {
        let mut attempt = 0u32;
        let mut renewed_token = false;
        loop {
            self.wait_for_rate_limit();
            let mut request = self
                .client
                .get(url.clone())
                .header("Accept", "application/json");
            if let HttpPaging::NextLink {
                size_header: Some(name),
                size_header_value,
                size,
                ..
            } = paging
            {
                let value = size_header_value
                    .as_deref()
                    .unwrap_or("odata.maxpagesize={size}")
                    .replace("{size}", &size.unwrap_or(1000).to_string());
                request = request.header(name.as_str(), value);
            }
            request = self.authorize(request, page, url)?;
            let retryable = match request.send() {
                Err(err) => {
                    let message = if err.is_timeout() {
                        format!("no answer within {} s", self.config.timeout_seconds)
                    } else {
                        format!("cannot connect: {}", self.scrub(&err.to_string()))
                    };
                    (None, message, None)
                }
                Ok(response) => match response.status() {
                    status if status.is_success() => {
                        let headers = response.headers().clone();
                        let text = response.text().map_err(|err| {
                            self.page_error(page, url, format!("the response broke off: {err}"))
                        })?;
                        let body = serde_json::from_str(&text).map_err(|err| {
                            self.page_error_said(
                                page,
                                url,
                                format!("the response is not valid JSON ({err})"),
                                Some(self.shown_body(&text)),
                            )
                        })?;
                        return Ok((headers, body));
                    }
                    StatusCode::UNAUTHORIZED
                        if matches!(self.auth, Auth::OAuth2 { .. }) && !renewed_token =>
                    {
                        // An expired token: renew it once, then the next 401 is final.
                        if let Auth::OAuth2 { token, .. } = &self.auth {
                            *lock(token) = None;
                        }
                        renewed_token = true;
                        continue;
                    }
                    status
                        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() =>
                    {
                        let wait = retry_after(&response);
                        let (message, said) = self.status_message(status, response);
                        (wait, message, Some(said))
                    }
                    status => {
                        let (message, said) = self.status_message(status, response);
                        return Err(self.page_error_said(page, url, message, Some(said)));
                    }
                },
            };
            let (wait, message, said) = retryable;
            if attempt >= self.config.retries {
                let tries = attempt + 1;
                return Err(self.page_error_said(
                    page,
                    url,
                    format!("{message} (gave up after {tries} attempts)"),
                    said,
                ));
            }
            std::thread::sleep(wait.unwrap_or_else(|| self.backoff(attempt)));
            attempt += 1;
        }
    }

    fn authorize(
        &self,
        request: RequestBuilder,
        page: usize,
        url: &Url,
    ) -> Result<RequestBuilder, HttpError> {
        Ok(match &self.auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
            Auth::Header(name, value) => {
                let mut header = HeaderValue::from_str(value).map_err(|_| {
                    HttpError::Config(format!(
                        "the value for header `{name}` is not a valid header value"
                    ))
                })?;
                header.set_sensitive(true);
                request.header(name.as_str(), header)
            }
            Auth::OAuth2 { .. } => {
                let token = self.oauth_token(page, url)?;
                request.bearer_auth(token)
            }
        })
    }

    /// The cached token, renewed a minute before it expires.
    fn oauth_token(&self, page: usize, url: &Url) -> Result<String, HttpError> {
        let Auth::OAuth2 {
            token_url,
            client_id,
            client_secret,
            scope,
            token,
        } = &self.auth
        else {
            unreachable!("called for OAuth 2 only");
        };
        // Held while fetching, so parallel pages wait for one token instead of each asking.
        let mut token = lock(token);
        if let Some((value, expires)) = token.as_ref()
            && Instant::now() < *expires
        {
            return Ok(value.clone());
        }
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", client_id.clone()),
            ("client_secret", client_secret.clone()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope.clone()));
        }
        let token_url = token_url.clone();
        let response = self.client.post(&token_url).form(&form).send();
        let failed = |session: &Self, message: String, said: Option<String>| {
            session.page_error_said(
                page,
                url,
                format!("cannot get an OAuth token from {token_url}: {message}"),
                said,
            )
        };
        let response = response.map_err(|err| failed(self, self.scrub(&err.to_string()), None))?;
        if !response.status().is_success() {
            let status = response.status();
            let (message, said) = self.status_message(status, response);
            return Err(failed(self, message, Some(said)));
        }
        let text = response.text().unwrap_or_default();
        let body: Value = serde_json::from_str(&text)
            .map_err(|err| failed(self, format!("the answer is not JSON: {err}"), None))?;
        let access = body["access_token"]
            .as_str()
            .ok_or_else(|| failed(self, "the answer has no `access_token`".into(), None))?
            .to_string();
        let lifetime = body["expires_in"].as_u64().unwrap_or(3600);
        let expires = Instant::now() + Duration::from_secs(lifetime.saturating_sub(60).max(1));
        lock(&self.secrets).add(&access);
        *token = Some((access.clone(), expires));
        Ok(access)
    }

    fn wait_for_rate_limit(&self) {
        let mut last_request = lock(&self.last_request);
        if let (Some(per_minute), Some(last)) = (self.config.requests_per_minute, *last_request) {
            let gap = Duration::from_secs_f64(60.0 / f64::from(per_minute.max(1)));
            let since = last.elapsed();
            if since < gap {
                std::thread::sleep(gap - since);
            }
        }
        *last_request = Some(Instant::now());
    }

    /// Exponential back-off with up to 50% jitter, so many builds do not retry in step.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.backoff_ms.saturating_mul(1 << attempt.min(10));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let jitter = base / 2 * u64::from(nanos % 1000) / 1000;
        Duration::from_millis(base + jitter)
    }

    /// The status for messages, and the start of the body for the terminal.
    fn status_message(&self, status: StatusCode, response: Response) -> (String, String) {
        let body = response.text().unwrap_or_default();
        (format!("HTTP {status}"), self.shown_body(&body))
    }

    /// The start of a body, on one line, without secrets. Masked before it is cut, so a cut
    /// cannot leave a secret unrecognisable and leak most of it.
    fn shown_body(&self, body: &str) -> String {
        let body = self.scrub(body);
        let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut shown: String = flat.chars().take(BODY_SHOWN).collect();
        if flat.chars().count() > BODY_SHOWN {
            shown.push('…');
        }
        if shown.is_empty() {
            shown = "(empty body)".into();
        }
        shown
    }

    fn scrub(&self, text: &str) -> String {
        lock(&self.secrets).redact(text)
    }

    fn page_error(&self, page: usize, url: &Url, message: String) -> HttpError {
        self.page_error_said(page, url, message, None)
    }

    fn page_error_said(
        &self,
        page: usize,
        url: &Url,
        message: String,
        server_said: Option<String>,
    ) -> HttpError {
        let mut shown = url.clone();
        // Never print credentials a URL may carry.
        let _ = shown.set_password(None);
        let _ = shown.set_username("");
        HttpError::Page {
            page,
            url: self.scrub(shown.as_str()),
            message: self.scrub(&message),
            server_said: server_said.map(|said| self.scrub(&said)),
        }
    }
}

/// A poisoned lock only means another page's thread panicked; the data is still sound.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `Retry-After` in seconds or as an HTTP date, capped so a bad header cannot hang a build.
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .to_string();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let when = chrono::DateTime::parse_from_rfc2822(&value).ok()?;
            let seconds = (when.timestamp() - chrono::Utc::now().timestamp()).max(0) as u64;
            Duration::from_secs(seconds)
        }
    };
    Some(wait.min(Duration::from_secs(300)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next_is_found() {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::LINK,
            HeaderValue::from_static("<https://x.example/items?page=1>; rel=\"prev\", <https://x.example/items?page=3>; rel=\"next\""),
        );
        assert_eq!(
            link_next(&headers).as_deref(),
            Some("https://x.example/items?page=3")
        );
    }

    #[test]
    fn fields_are_mapped_with_transforms() {
        let config: ErpHttpConfig = toml::from_str(
            r#"
url = "http://127.0.0.1/items"
[fields]
sku = "/ItemCode"
price = { pointer = "/ItemPrices", find = { key = "PriceList", equals = 1 }, value = "/Price" }
active = { pointer = "/blocked", not = true }
stock = { pointer = "/Valid", map = { tYES = 5, tNO = 0 } }
currency = { pointer = "/Currency", default = "EUR" }
"#,
        )
        .unwrap();
        let record: Value = serde_json::from_str(
            r#"{"ItemCode": "A-1", "ItemPrices": [{"PriceList": 2, "Price": 9}, {"PriceList": 1, "Price": 12.50}], "blocked": true, "Valid": "tYES"}"#,
        )
        .unwrap();
        let mapped = map_record(&record, &config);
        assert_eq!(mapped["sku"], "A-1");
        assert_eq!(mapped["price"].to_string(), "12.50");
        assert_eq!(mapped["active"], false);
        assert_eq!(mapped["stock"], 5);
        assert_eq!(mapped["currency"], "EUR");
    }
}
