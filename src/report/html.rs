//! What the report page and `serve`'s pages share: where their links point, and the filters
//! that show SKUs, paths and times the way a person reads them.

use std::path::Path;

use tera::{Kwargs, State, TeraResult, Value};

/// Where a page's links go. The report beside the feeds links relative paths; `serve` links
/// its own pages and opens source files in the editor.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Links {
    /// Prefix of a product's page (`/products/`); empty when there are no product pages.
    pub product: String,
    /// Prefix of a feed file's address.
    pub feed: String,
    /// How a source file is opened at a line: `{path}` (absolute when the pattern starts
    /// with a URL scheme, else catalog-relative) and `{line}` are filled in.
    #[serde(skip)]
    pub source: String,
    /// The catalog folder, for `{path}` in an editor URL.
    #[serde(skip)]
    pub root: String,
}

impl Links {
    /// For `report/index.html` inside the output folder `output` (relative to the catalog
    /// root, as in `[build] output`): feeds one folder up, sources as far up as the root.
    pub fn beside_feeds(output: &Path) -> Links {
        let up = if output.is_absolute() {
            None
        } else {
            Some("../".repeat(output.components().count() + 1))
        };
        Links {
            product: String::new(),
            feed: "../".to_string(),
            source: match up {
                Some(up) => format!("{up}{{path}}"),
                // No relative way back to the catalog from an output folder elsewhere.
                None => String::new(),
            },
            root: String::new(),
        }
    }

    /// A SKU that never breaks, linked to its page when there are product pages.
    pub fn sku_html(&self, sku: &str) -> String {
        let code = format!("<code class=\"sku\">{}</code>", escape_html(sku));
        match self.product.is_empty() {
            true => code,
            false => format!(
                "<a href=\"{}{}\">{code}</a>",
                escape_html(&self.product),
                url_segment(sku)
            ),
        }
    }

    /// A source file's path, breakable after slashes, linked to open it at `line` (0: no
    /// line), with the line written out.
    pub fn source_html(&self, file: &str, line: i64) -> String {
        let path = breakable_path(file);
        let href = self.source_href(file, line);
        let linked = match href.is_empty() {
            true => path,
            false => format!("<a href=\"{}\">{path}</a>", escape_html(&href)),
        };
        match line {
            1.. => format!("{linked} <span class=\"meta\">line {line}</span>"),
            _ => linked,
        }
    }

    /// The address that opens `file` (catalog-relative) at `line`; empty when there is none.
    pub fn source_href(&self, file: &str, line: i64) -> String {
        if self.source.is_empty() {
            return String::new();
        }
        let path = match self.source.contains("://") {
            true => Path::new(&self.root).join(file).display().to_string(),
            false => file.to_string(),
        };
        // `vscode://file/{path}` with `/srv/shop/…` means `vscode://file/srv/shop/…`.
        let path = match self.source.contains("/{path}") {
            true => path.strip_prefix('/').unwrap_or(&path),
            false => &path,
        };
        self.source
            .replace("{path}", path)
            .replace("{line}", &line.max(1).to_string())
    }
}

/// Registers the filters the pages use: `path`, `sku` (linked to its page), `source(line=…)`
/// (the path, linked to open it), `source_href(line=…)`, `human_time`, `human_date` and
/// `url_segment`.
pub fn register_filters(tera: &mut tera::Tera, links: &Links) {
    tera.register_filter("path", |path: &str, _: Kwargs, _: &State| {
        Value::safe_string(&breakable_path(path))
    });
    tera.register_filter("human_time", |time: &str, _: Kwargs, _: &State| {
        human_time(time)
    });
    tera.register_filter("human_date", |date: &str, _: Kwargs, _: &State| {
        human_date(date)
    });
    tera.register_filter("url_segment", |text: &str, _: Kwargs, _: &State| {
        url_segment(text)
    });
    let for_sku = links.clone();
    tera.register_filter("sku", move |sku: &str, _: Kwargs, _: &State| {
        Value::safe_string(&for_sku.sku_html(sku))
    });
    let for_source = links.clone();
    tera.register_filter(
        "source",
        move |file: &str, kwargs: Kwargs, _: &State| -> TeraResult<Value> {
            let line = kwargs.get::<i64>("line")?.unwrap_or(0);
            Ok(Value::safe_string(&for_source.source_html(file, line)))
        },
    );
    let for_href = links.clone();
    tera.register_filter(
        "source_href",
        move |file: &str, kwargs: Kwargs, _: &State| -> TeraResult<String> {
            let line = kwargs.get::<i64>("line")?.unwrap_or(1);
            Ok(for_href.source_href(file, line))
        },
    );
}

pub fn escape_html(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    // Writing to a Vec cannot fail.
    let _ = tera::escape_html(text, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// A path that breaks only after a `/`: each segment kept whole (SKUs in file names have
/// hyphens a browser would otherwise break at).
pub fn breakable_path(path: &str) -> String {
    let mut out = String::from("<code class=\"path\">");
    let segments: Vec<&str> = path.split('/').collect();
    for (index, segment) in segments.iter().enumerate() {
        let slash = if index + 1 < segments.len() { "/" } else { "" };
        out.push_str(&format!("<span>{}{slash}</span>", escape_html(segment)));
        if !slash.is_empty() {
            out.push_str("<wbr>");
        }
    }
    out.push_str("</code>");
    out
}

/// `2026-11-30T04:12:43Z` as `30 Nov 2026, 04:12 UTC`; anything else as it is.
pub fn human_time(time: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(time) {
        Ok(time) => time
            .with_timezone(&chrono::Utc)
            .format("%-d %b %Y, %H:%M UTC")
            .to_string(),
        Err(_) => time.to_string(),
    }
}

/// `2026-03-12` as `12 Mar 2026`; anything else as it is.
pub fn human_date(date: &str) -> String {
    match chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") {
        Ok(date) => date.format("%-d %b %Y").to_string(),
        Err(_) => date.to_string(),
    }
}

/// How long ago `time` (RFC 3339) was, in words: `just now`, `5 minutes ago`, `3 hours ago`.
pub fn time_ago(time: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let Ok(then) = chrono::DateTime::parse_from_rfc3339(time) else {
        return String::new();
    };
    let seconds = (now - then.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    let plural = |n: i64, unit: &str| match n {
        1 => format!("1 {unit} ago"),
        n => format!("{n} {unit}s ago"),
    };
    match seconds {
        0..=9 => "just now".to_string(),
        10..=59 => plural(seconds, "second"),
        60..=3599 => plural(seconds / 60, "minute"),
        3600..=86_399 => plural(seconds / 3600, "hour"),
        _ => plural(seconds / 86_400, "day"),
    }
}

/// Percent-encodes `text` for one path segment of a URL (a SKU in `/products/<SKU>`).
pub fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_break_only_after_slashes() {
        assert_eq!(
            breakable_path("content/A-1.toml"),
            "<code class=\"path\"><span>content/</span><wbr><span>A-1.toml</span></code>"
        );
    }

    #[test]
    fn times_read_like_times() {
        assert_eq!(human_time("2026-11-30T04:12:43Z"), "30 Nov 2026, 04:12 UTC");
        assert_eq!(human_date("2026-03-02"), "2 Mar 2026");
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T04:17:43Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(time_ago("2026-11-30T04:12:43Z", now), "5 minutes ago");
    }

    #[test]
    fn editor_links_name_the_absolute_path() {
        let links = Links {
            product: "/products/".into(),
            feed: "/feeds/".into(),
            source: "vscode://file/{path}:{line}".into(),
            root: "/srv/shop".into(),
        };
        assert_eq!(
            links.source_href("content/a.toml", 7),
            "vscode://file/srv/shop/content/a.toml:7"
        );
        let published = Links::beside_feeds(Path::new("feeds"));
        assert_eq!(
            published.source_href("content/a.toml", 7),
            "../../content/a.toml"
        );
    }
}
