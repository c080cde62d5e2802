//! The pages: each handler picks what it needs from the current [`Index`] and renders one
//! template inside the layout. A template error becomes an error page, never a crash.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::index::{Index, Item, ProductView, State as ChannelState, Wanted};
use super::{Shared, View, preview};
use crate::report::html::{self, Links};

/// Products per page of `/products`.
const PAGE_SIZE: usize = 50;

pub struct Pages {
    tera: tera::Tera,
}

impl Pages {
    pub fn new(links: &Links) -> Result<Pages, tera::Error> {
        let mut tera = tera::Tera::new();
        html::register_filters(&mut tera, links);
        tera.add_raw_templates([
            ("layout.html", include_str!("templates/layout.html")),
            ("chrome.html", include_str!("templates/chrome.html")),
            ("home.html", include_str!("templates/home.html")),
            ("products.html", include_str!("templates/products.html")),
            ("product.html", include_str!("templates/product.html")),
            ("feeds.html", include_str!("templates/feeds.html")),
            ("waiting.html", include_str!("templates/waiting.html")),
        ])?;
        Ok(Pages { tera })
    }

    fn render(&self, name: &str, context: &serde_json::Value) -> Result<String, String> {
        let mut values = tera::Context::new();
        if let serde_json::Value::Object(fields) = context {
            for (key, value) in fields {
                values.insert_value(key.clone(), to_tera(value));
            }
        }
        let context = values;
        self.tera
            .render(name, &context)
            .map_err(|err| crate::diagnostics::error_chain(&err))
    }
}

/// A JSON value as Tera's: our serde_json keeps numbers as text (`arbitrary_precision`),
/// which Tera would see as maps.
fn to_tera(value: &serde_json::Value) -> tera::Value {
    use serde_json::Value as Json;
    match value {
        Json::Null => tera::Value::from(()),
        Json::Bool(b) => tera::Value::from(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => tera::Value::from(i),
            (None, Some(u)) => tera::Value::from(u),
            _ => tera::Value::from(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => tera::Value::from(s.as_str()),
        Json::Array(items) => tera::Value::from(items.iter().map(to_tera).collect::<Vec<_>>()),
        Json::Object(fields) => tera::Value::from(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_tera(v)))
                .collect::<std::collections::BTreeMap<String, tera::Value>>(),
        ),
    }
}

/// The navigation, build status, error banners and reload script every page has.
fn chrome(shared: &Shared, view: &View) -> Result<String, String> {
    let index = view.index.as_deref();
    let built_at = index.map(|i| i.report.generated_at.as_str()).unwrap_or("");
    let context = json!({
        "catalog": index.map(|i| i.report.catalog.as_str()).unwrap_or("pimfeed"),
        "generation": view.generation,
        "building": view.building,
        "built_at": built_at,
        "built_ago": html::time_ago(built_at, chrono::Utc::now()),
        "problem": view.problem,
        "has_build": index.is_some(),
        "error_count": index.map_or(0, |i| i.report.error_count),
        "errors": index.map(|i| i.report.errors.as_slice()).unwrap_or_default(),
    });
    shared.pages.render("chrome.html", &context)
}

/// `content` inside the layout, or an error page that says what went wrong.
fn page(
    shared: &Shared,
    view: &View,
    title: &str,
    template: &str,
    mut context: serde_json::Value,
) -> Response {
    let catalog = view
        .index
        .as_ref()
        .map(|i| i.report.catalog.clone())
        .unwrap_or_else(|| "pimfeed".to_string());
    context["catalog"] = json!(catalog);
    let rendered = chrome(shared, view).and_then(|chrome| {
        let content = shared.pages.render(template, &context)?;
        shared.pages.render(
            "layout.html",
            &json!({
                "title": title,
                "catalog": catalog,
                "style": crate::report::STYLE,
                "serve_style": include_str!("templates/serve.css"),
                "chrome": chrome,
                "content": content,
            }),
        )
    });
    match rendered {
        Ok(html) => Html(html).into_response(),
        Err(message) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("This page could not be rendered: {message}"),
        ),
    }
}

/// A plain page for when the templates themselves fail.
fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><meta charset=\"utf-8\"><title>pimfeed serve: error</title>\
         <body style=\"font: 15px system-ui; margin: 2rem\"><h1>pimfeed serve</h1>\
         <p id=\"error\">{}</p><p><a href=\"/\">Overview</a></p></body>",
        html::escape_html(message)
    );
    (status, Html(body)).into_response()
}

/// The page to show before the first build is ready: building, or why it failed.
fn no_build_yet(shared: &Shared, view: &View) -> Response {
    let message = match &view.problem {
        Some(_) => {
            "The catalog could not be built; fix the problem above and save: the page follows by itself."
        }
        None => "The first build is running; this page follows by itself when it is ready.",
    };
    let status = match view.problem {
        Some(_) => StatusCode::SERVICE_UNAVAILABLE,
        None => StatusCode::OK,
    };
    let mut response = page(
        shared,
        view,
        "Building",
        "waiting.html",
        json!({"waiting": message}),
    );
    *response.status_mut() = status;
    response
}

pub async fn home(State(shared): State<Arc<Shared>>) -> Response {
    let view = shared.view();
    let Some(index) = view.index.clone() else {
        return no_build_yet(&shared, &view);
    };
    let report = &index.report;
    let context = json!({
        "summary": report.summary,
        "erp_stale": report.erp_stale,
        "channels": report.channels.iter().map(|c| json!({
            "name": c.name, "kind": c.kind, "locale": c.locale, "output": c.output,
            "items": c.items, "excluded": c.excluded,
        })).collect::<Vec<_>>(),
        "changes": index.changes,
        "problems": report.problems,
        "problems_total": report.problems_total,
    });
    page(&shared, &view, "Overview", "home.html", context)
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ProductsQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    family: String,
    #[serde(default)]
    page: usize,
}

pub async fn products(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<ProductsQuery>,
) -> Response {
    let view = shared.view();
    let Some(index) = view.index.clone() else {
        return no_build_yet(&shared, &view);
    };
    let wanted = match query.status.as_str() {
        "live" => Some(Wanted::Live),
        "left-out" => Some(Wanted::LeftOut),
        "warned" => Some(Wanted::Warned),
        _ => None,
    };
    let search = super::index::Query {
        text: query.q.clone(),
        channel: Some(query.channel.clone()).filter(|c| !c.is_empty()),
        family: Some(query.family.clone()).filter(|f| !f.is_empty()),
        status: wanted,
    };
    let page_number = query.page.max(1);
    let offset = (page_number - 1) * PAGE_SIZE;
    let (rows, total) = index.search(&search, offset, PAGE_SIZE);
    let link = |page: usize| {
        let mut params = url_params(&query);
        params.push(format!("page={page}"));
        format!("/products?{}", params.join("&"))
    };
    let context = json!({
        "query": query,
        "channel_names": index.report.channels.iter().map(|c| &c.name).collect::<Vec<_>>(),
        "statuses": [["live", "live"], ["left-out", "left out"], ["warned", "with warnings"]],
        "families": index.families,
        "total": total,
        "first": offset + 1,
        "last": offset + rows.len(),
        "rows": rows.iter().map(|row| list_row(&index, row)).collect::<Vec<_>>(),
        "previous": (page_number > 1).then(|| link(page_number - 1)),
        "next": (offset + rows.len() < total).then(|| link(page_number + 1)),
    });
    page(&shared, &view, "Products", "products.html", context)
}

fn url_params(query: &ProductsQuery) -> Vec<String> {
    [
        ("q", &query.q),
        ("channel", &query.channel),
        ("status", &query.status),
        ("family", &query.family),
    ]
    .iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(name, value)| format!("{name}={}", html::url_segment(value)))
    .collect()
}

fn state_class(state: ChannelState) -> &'static str {
    match state {
        ChannelState::Live => "live",
        ChannelState::Warned => "warned",
        ChannelState::LeftOut => "out",
        ChannelState::Skipped => "skipped",
    }
}

fn list_row(index: &Index, row: &ProductView) -> serde_json::Value {
    json!({
        "sku": row.sku,
        "title": row.title,
        "family": row.family,
        "channels": row.channels.iter().zip(&index.report.channels).map(|(status, channel)| json!({
            "name": channel.name,
            "state": status.state.word(),
            "class": state_class(status.state),
            "completeness": status.completeness,
        })).collect::<Vec<_>>(),
    })
}

pub async fn product(State(shared): State<Arc<Shared>>, Path(sku): Path<String>) -> Response {
    let view = shared.view();
    let Some(index) = view.index.clone() else {
        return no_build_yet(&shared, &view);
    };
    let Some(row) = index.product(&sku) else {
        let missing = match index.gone.get(&sku) {
            Some(file) => format!(
                "{sku} is not in the catalog any more: its file {file} was removed or has errors (see above). Fix it and save; this page follows by itself."
            ),
            None => format!("There is no product {sku} in the catalog."),
        };
        let mut response = page(
            &shared,
            &view,
            &sku,
            "product.html",
            json!({"sku": sku, "missing": missing}),
        );
        *response.status_mut() = StatusCode::NOT_FOUND;
        return response;
    };
    let content = match index.content(&row) {
        Ok(content) => content,
        Err(err) => {
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("cannot read the build's copy of {}: {err}", row.file),
            );
        }
    };
    let items = index.items(&row).unwrap_or_else(|err| {
        let text = format!("(cannot read the item: {err})");
        (0..row.channels.len())
            .map(|_| {
                Some(Item {
                    file: String::new(),
                    text: text.clone(),
                })
            })
            .collect()
    });
    let image = content.as_ref().and_then(first_image);
    let mut channels = Vec::new();
    for (position, ((status, channel), item)) in row
        .channels
        .iter()
        .zip(&index.report.channels)
        .zip(items)
        .enumerate()
    {
        let reasons: Vec<_> = index
            .reasons(&row, position)
            .into_iter()
            .map(|r| {
                json!({
                    "message": r.message,
                    "line": r.line.unwrap_or(row.line),
                    "blame": r.blame,
                })
            })
            .collect();
        let preview = item
            .as_ref()
            .map(|item| preview::of(&channel.kind, &item.text, image.as_deref()))
            .unwrap_or(preview::Preview::Raw);
        let output = match &item {
            Some(item) if !item.file.is_empty() => &item.file,
            _ => index.feed_files[position]
                .first()
                .unwrap_or(&channel.output),
        };
        channels.push(json!({
            "name": channel.name,
            "kind": channel.kind,
            "locale": channel.locale,
            "output": output,
            "state": status.state.word(),
            "class": state_class(status.state),
            "bar": match status.state { ChannelState::Live | ChannelState::Warned => "live", ChannelState::LeftOut => "out", ChannelState::Skipped => "skipped" },
            "live": status.state.is_live(),
            "completeness": status.completeness,
            "reasons": reasons,
            "preview": preview,
            "item": item.map(|item| item.text),
        }));
    }
    let attributes: Vec<_> = content
        .iter()
        .flat_map(|p| p.values.iter())
        .map(|(name, value)| {
            json!({
                "name": name,
                "line": value.line,
                "value": serde_json::to_string_pretty(&value.value).unwrap_or_default(),
            })
        })
        .collect();
    let context = json!({
        "sku": row.sku,
        "title": row.title,
        "family": row.family,
        "file": row.file,
        "line": row.line,
        "erp": index.erp(row.sku),
        "channels": channels,
        "attributes": attributes,
    });
    page(&shared, &view, row.sku, "product.html", context)
}

fn first_image(product: &crate::content::Product) -> Option<String> {
    let images = serde_json::to_value(&product.values.get("images")?.value).ok()?;
    images.pointer("/0/url")?.as_str().map(String::from)
}

pub async fn feeds(State(shared): State<Arc<Shared>>) -> Response {
    let view = shared.view();
    let Some(index) = view.index.clone() else {
        return no_build_yet(&shared, &view);
    };
    let mut files = Vec::new();
    if let Some(manifest) = &index.manifest {
        for channel in &manifest.channels {
            // An Amazon channel no product reaches writes no file.
            let Some(stats) = &channel.stats else {
                continue;
            };
            let parts: Vec<(String, usize, u64)> = match channel.parts.is_empty() {
                true => vec![(channel.file.clone(), channel.items, stats.bytes)],
                false => channel
                    .parts
                    .iter()
                    .map(|p| (p.file.clone(), p.items, p.stats.bytes))
                    .collect(),
            };
            for (file, items, bytes) in parts {
                files.push(json!({"file": file, "channel": channel.name, "items": items, "size": human_bytes(bytes)}));
            }
        }
    }
    let context = json!({
        "files": files,
        "output_dir": index.output_dir.display().to_string(),
        "generated_at": index.manifest.as_ref().map(|m| m.generated_at.clone()),
    });
    page(&shared, &view, "Feeds", "feeds.html", context)
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// A file of the last build's output: only the files its manifest names (and the report),
/// so no path leads outside the feeds. Streamed, however big.
pub async fn feed_file(State(shared): State<Arc<Shared>>, Path(file): Path<String>) -> Response {
    let view = shared.view();
    let Some(index) = view.index.clone() else {
        return no_build_yet(&shared, &view);
    };
    if !published(&index, &file) {
        return error_page(
            StatusCode::NOT_FOUND,
            &format!("The last build published no file {file}."),
        );
    }
    let path = index.output_dir.join(&file);
    let opened = match tokio::fs::File::open(&path).await {
        Ok(opened) => opened,
        Err(err) => {
            return error_page(
                StatusCode::NOT_FOUND,
                &format!("cannot open {}: {err}", path.display()),
            );
        }
    };
    let content_type = match file.rsplit('.').next() {
        Some("xml") => "application/xml; charset=utf-8",
        Some("json") => "application/json; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("gz") => "application/gzip",
        _ => "text/plain; charset=utf-8",
    };
    let stream = futures_util::stream::unfold(opened, |mut opened| async move {
        use tokio::io::AsyncReadExt;
        let mut buffer = vec![0; 64 * 1024];
        match opened.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok::<_, std::io::Error>(buffer), opened))
            }
            Err(err) => Some((Err(err), opened)),
        }
    });
    (
        [(header::CONTENT_TYPE, content_type)],
        Body::from_stream(stream),
    )
        .into_response()
}

fn published(index: &Index, file: &str) -> bool {
    if matches!(
        file,
        "manifest.json" | "report/report.json" | "report/index.html"
    ) {
        return true;
    }
    let Some(manifest) = &index.manifest else {
        return false;
    };
    let file = file.strip_suffix(".gz").unwrap_or(file);
    manifest
        .channels
        .iter()
        .any(|c| c.file == file || c.parts.iter().any(|p| p.file == file))
}

/// The report, as the build writes it, with links to these pages and the editor.
pub async fn report(State(shared): State<Arc<Shared>>) -> Response {
    let view = shared.view();
    let Some(index) = view.index.clone() else {
        return no_build_yet(&shared, &view);
    };
    let chrome = match chrome(&shared, &view) {
        Ok(chrome) => chrome,
        Err(message) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &message),
    };
    match index.report.page(&chrome) {
        Ok(html) => Html(html).into_response(),
        Err(message) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("The report could not be rendered: {message}"),
        ),
    }
}

pub async fn not_found(State(shared): State<Arc<Shared>>) -> Response {
    let view = shared.view();
    let mut response = page(
        &shared,
        &view,
        "Not found",
        "product.html",
        json!({"sku": "", "missing": "There is no such page. Start from the overview."}),
    );
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
