//! One marketplace API over HTTP: an OAuth2 client-credentials token that is renewed before it
//! expires, and calls that wait out rate limits and retry what may be retried.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::Value;

use crate::redact::Redactor;

/// The longest excerpt of a server's answer that reaches a message.
const EXCERPT: usize = 300;

/// A token is renewed this long before the marketplace says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);

/// Why a call did not go through.
#[derive(Debug, Clone)]
pub enum CallError {
    /// The marketplace answered and would not take it (a 4xx other than 429): its reason.
    Refused { status: u16, reason: String },
    /// No usable answer after every retry, or the credentials were refused: the push stops.
    Unreachable(String),
}

pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    /// Amazon (Login with Amazon): a refresh token turns the client credentials into access
    /// tokens, sent as `x-amz-access-token`. bol: none; client credentials, sent as a bearer.
    pub refresh_token: Option<String>,
}

pub struct ApiSettings {
    pub api_url: String,
    pub token_url: String,
    pub media_type: &'static str,
    pub retries: u32,
    pub timeout: Duration,
    pub max_retry_after: Duration,
}

pub struct Api {
    client: Client,
    settings: ApiSettings,
    credentials: Credentials,
    token: Mutex<Option<(String, Instant)>>,
    redactor: Mutex<Redactor>,
}

/// An accepted call's answer.
pub struct Answer {
    pub body: Value,
}

impl Api {
    pub fn new(settings: ApiSettings, credentials: Credentials) -> Result<Api, CallError> {
        // reqwest is built without a default TLS provider (see Cargo.toml).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut redactor = Redactor::new();
        redactor.add(&credentials.client_secret);
        redactor.add_basic(&credentials.client_id, &credentials.client_secret);
        if let Some(refresh_token) = &credentials.refresh_token {
            redactor.add(refresh_token);
        }
        let client = Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("pimfeed/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| {
                CallError::Unreachable(format!("cannot start the HTTP client: {err}"))
            })?;
        Ok(Api {
            client,
            settings,
            credentials,
            token: Mutex::new(None),
            redactor: Mutex::new(redactor),
        })
    }

    /// A message with every credential masked.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.lock().expect("redactor").redact(text)
    }

    /// Fetches a token now: wrong credentials fail the push before its first offer.
    pub fn authenticate(&self) -> Result<(), CallError> {
        self.bearer().map(|_| ())
    }

    /// The current access token, fetched again when it is about to expire.
    fn bearer(&self) -> Result<String, CallError> {
        let mut token = self.token.lock().expect("token");
        if let Some((value, expires)) = token.as_ref()
            && Instant::now() + TOKEN_MARGIN < *expires
        {
            return Ok(value.clone());
        }
        let (value, lifetime) = self.fetch_token()?;
        self.redactor.lock().expect("redactor").add(&value);
        *token = Some((value.clone(), Instant::now() + lifetime));
        Ok(value)
    }

    fn forget_token(&self) {
        *self.token.lock().expect("token") = None;
    }

    fn fetch_token(&self) -> Result<(String, Duration), CallError> {
        let url = &self.settings.token_url;
        let mut last = String::new();
        for attempt in 0..=self.settings.retries {
            let request = self.client.post(url).header("Accept", "application/json");
            let request = match &self.credentials.refresh_token {
                Some(refresh_token) => request.form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                    ("client_id", &self.credentials.client_id),
                    ("client_secret", &self.credentials.client_secret),
                ]),
                None => request
                    .basic_auth(
                        &self.credentials.client_id,
                        Some(&self.credentials.client_secret),
                    )
                    .form(&[("grant_type", "client_credentials")]),
            };
            match request.send() {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let text = response.text().unwrap_or_default();
                    if (200..300).contains(&status) {
                        return self.parse_token(&text);
                    }
                    last = format!("{status} {}", self.excerpt(&text));
                    if status != 429 && status < 500 {
                        return Err(CallError::Unreachable(format!(
                            "the token endpoint {url} refused the client credentials: {last}"
                        )));
                    }
                }
                Err(err) => last = self.redact(&err.to_string()),
            }
            backoff(attempt);
        }
        Err(CallError::Unreachable(format!(
            "no token from {url} after {} tries: {last}",
            self.settings.retries + 1
        )))
    }

    fn parse_token(&self, text: &str) -> Result<(String, Duration), CallError> {
        let document: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let Some(token) = document.get("access_token").and_then(Value::as_str) else {
            return Err(CallError::Unreachable(format!(
                "the token endpoint {} answered without an access_token",
                self.settings.token_url
            )));
        };
        let seconds = document
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(300);
        Ok((token.to_string(), Duration::from_secs(seconds)))
    }

    /// Sends one call, retrying a rate limit (after its `Retry-After`), a server error or a
    /// lost connection at most `retries` times. A 401 gets a fresh token once.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, CallError> {
        let url = format!("{}{path}", self.settings.api_url.trim_end_matches('/'));
        let mut last = String::new();
        let mut renewed = false;
        let mut attempt = 0;
        while attempt <= self.settings.retries {
            let token = self.bearer()?;
            let response = self.request(method.clone(), &url, &token, body).send();
            let response = match response {
                Ok(response) => response,
                Err(err) => {
                    last = self.redact(&err.to_string());
                    backoff(attempt);
                    attempt += 1;
                    continue;
                }
            };
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let text = response.text().unwrap_or_default();
            match status {
                200..=299 => {
                    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
                    return Ok(Answer { body });
                }
                401 if !renewed => {
                    renewed = true;
                    self.forget_token();
                    continue;
                }
                429 => {
                    last = format!("429 {}", self.excerpt(&text));
                    let wait = Duration::from_secs(retry_after.unwrap_or(1));
                    if wait > self.settings.max_retry_after {
                        break;
                    }
                    std::thread::sleep(wait);
                }
                500..=599 => {
                    last = format!("{status} {}", self.excerpt(&text));
                    backoff(attempt);
                }
                _ => {
                    return Err(CallError::Refused {
                        status,
                        reason: self.reason(&text, status),
                    });
                }
            }
            attempt += 1;
        }
        Err(CallError::Unreachable(format!(
            "{method} {url} failed after {} tries: {last}",
            attempt.max(1)
        )))
    }

    /// Uploads to or downloads from a pre-signed URL (no credentials: the URL is the
    /// permission), retrying a server error or a lost connection.
    pub fn transfer(
        &self,
        method: Method,
        url: &str,
        upload: Option<(Vec<u8>, &str)>,
    ) -> Result<Vec<u8>, CallError> {
        let mut last = String::new();
        for attempt in 0..=self.settings.retries {
            let mut request = self.client.request(method.clone(), url);
            if let Some((bytes, content_type)) = &upload {
                request = request
                    .header("Content-Type", *content_type)
                    .body(bytes.clone());
            }
            match request.send() {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let bytes = response.bytes().map(|b| b.to_vec()).unwrap_or_default();
                    if (200..300).contains(&status) {
                        return Ok(bytes);
                    }
                    last = format!(
                        "{status} {}",
                        self.excerpt(&String::from_utf8_lossy(&bytes))
                    );
                    if status != 429 && status < 500 {
                        break;
                    }
                }
                Err(err) => last = self.redact(&err.to_string()),
            }
            backoff(attempt);
        }
        Err(CallError::Unreachable(format!(
            "{method} of the document at {} failed: {last}",
            self.redact(url.split('?').next().unwrap_or(url))
        )))
    }

    fn request(
        &self,
        method: Method,
        url: &str,
        token: &str,
        body: Option<&Value>,
    ) -> RequestBuilder {
        let request = self
            .client
            .request(method, url)
            .header("Accept", self.settings.media_type);
        let request = match self.credentials.refresh_token {
            Some(_) => request.header("x-amz-access-token", token),
            None => request.bearer_auth(token),
        };
        match body {
            Some(body) => request
                .header("Content-Type", self.settings.media_type)
                .body(serde_json::to_vec(body).expect("a JSON body serialises")),
            None => request,
        }
    }

    /// The marketplace's reason in a refusal: bol's problem document (`title`, `detail` and
    /// each violation), or the answer's first characters.
    fn reason(&self, text: &str, status: u16) -> String {
        let Ok(document) = serde_json::from_str::<Value>(text) else {
            return format!("{status} {}", self.excerpt(text));
        };
        let mut parts = Vec::new();
        for key in ["title", "detail"] {
            if let Some(part) = document.get(key).and_then(Value::as_str)
                && !parts.iter().any(|p: &String| p == part)
            {
                parts.push(part.to_string());
            }
        }
        for violation in document
            .get("violations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = violation.get("name").and_then(Value::as_str).unwrap_or("");
            let reason = violation
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("");
            parts.push(format!("{name}: {reason}"));
        }
        // SP-API's error list: `{"errors": [{"code", "message", "details"}]}`.
        for error in document
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let code = error.get("code").and_then(Value::as_str).unwrap_or("");
            let message = error.get("message").and_then(Value::as_str).unwrap_or("");
            parts.push(format!("{code}: {message}"));
        }
        if parts.is_empty() {
            return format!("{status} {}", self.excerpt(text));
        }
        self.redact(&parts.join("; "))
    }

    /// The first characters of an answer, secrets masked before cutting.
    fn excerpt(&self, text: &str) -> String {
        let text = self.redact(text.trim());
        match text.char_indices().nth(EXCERPT) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        }
    }
}

/// Exponential back-off with a little jitter, so concurrent workers do not retry in step.
fn backoff(attempt: u32) {
    let base = 200u64.saturating_mul(1 << attempt.min(6));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = u64::from(nanos) % 100;
    std::thread::sleep(Duration::from_millis(base + jitter));
}
