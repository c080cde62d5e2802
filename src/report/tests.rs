//! The report's writers against the way the report was written before them: `report.json`
//! as serde_json writes the [`Report`], and the HTML page as the page's Tera template wrote
//! every row (`tests/index_before.html`, the template as it was), on hostile content.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::*;
use crate::diagnostics::{Blame, Severity};

const HOSTILE: [&str; 8] = [
    "a \"quoted\" <b>bold</b> & 'single'",
    "tab\there, newline\nthere, bell\u{7}, nul\u{0}, del\u{7f}",
    "één — «größe» 😀 \u{2028}",
    "back\\slash/and/slash </script><!--",
    "",
    "plain",
    // What the page writes in place of a list's rows: content saying it stays text.
    "<!--pimfeed rows left-out 0-->",
    "<!--pimfeed rows incomplete-->",
];

fn hostile(index: usize) -> String {
    HOSTILE[index % HOSTILE.len()].to_string()
}

fn blame(index: usize) -> Option<Arc<Blame>> {
    let blame = match index % 4 {
        0 => return None,
        1 => Blame {
            committed: true,
            commit: Some("3f2a1bc9d0e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4".into()),
            author: Some(format!("Jane <Doe> & {}", hostile(index))),
            date: Some("2026-03-02".into()),
            summary: Some(hostile(index + 1)),
            history_cut_off: false,
        },
        2 => Blame::uncommitted(),
        _ => Blame {
            committed: true,
            commit: Some("0123456".into()),
            author: None,
            date: Some("not a date".into()),
            summary: None,
            history_cut_off: index % 8 == 3,
        },
    };
    Some(Arc::new(blame))
}

fn verdict(index: usize, file: &Arc<str>, by_choice: bool) -> ProductVerdict {
    let reasons = (0..index % 4)
        .map(|n| Reason {
            code: if by_choice {
                "filter"
            } else {
                "missing-attribute"
            },
            attribute: (n % 2 == 0).then(|| hostile(index + n)),
            message: format!("{} #{n}", hostile(index + n + 2)),
            line: [None, Some(0), Some(7), Some(u32::MAX)][(index + n) % 4],
            blame: blame(index / 2 + n),
        })
        .collect();
    ProductVerdict {
        sku: format!("SKU/{}&<{index}>", hostile(index)).into(),
        file: file.clone(),
        line: (index % 3) as u32,
        completeness: [0, 37, 99, 100][index % 4],
        reasons,
    }
}

fn hostile_report(channel_count: usize, rows: usize) -> Report {
    let files: Vec<Arc<str>> = (0..4)
        .map(|n| Arc::from(format!("content/pro ducts/{}/ä<&\"{n}>.toml", hostile(n))))
        .collect();
    let channels = (0..channel_count)
        .map(|c| ChannelReport {
            name: format!("ch{c}-{}", hostile(c)),
            kind: hostile(c + 1),
            locale: "nl-NL".into(),
            output: format!("out/{}<{c}>.xml", hostile(c + 2)),
            items: 10 * c,
            excluded: if c == 1 { 0 } else { rows },
            left_out: match c {
                1 => Vec::new(),
                _ => (0..rows)
                    .map(|i| verdict(i + c, &files[i % files.len()], i % 5 == 0))
                    .collect(),
            },
            warnings: (0..rows / (c + 1))
                .map(|i| verdict(i + 2 * c, &files[(i + 1) % files.len()], false))
                .collect(),
            notes: (0..c % 3).map(hostile).collect(),
        })
        .collect();
    let products = (0..rows * 2)
        .map(|i| ProductCompleteness {
            sku: format!("P{i}\"{}", hostile(i)).into(),
            file: files[i % files.len()].clone(),
            completeness: (0..channel_count)
                .map(|c| [100, 0, 42][(i + c) % 3])
                .collect(),
        })
        .collect();
    let product_ref = |i: usize| ProductRef {
        sku: format!("R{i}<{}>", hostile(i)),
        file: format!("content/{}.toml", hostile(i + 3)),
        line: i as u32,
    };
    Report {
        generated_at: "2026-11-30T04:12:43Z".into(),
        catalog: format!("shop {}", hostile(0)),
        summary: Summary {
            content_files: 4,
            products: rows * 2,
            erp_records: 7,
            errors: 1,
            warnings: 2,
        },
        erp_stale: Some(hostile(1)),
        channels,
        products,
        content_without_erp: (0..3).map(product_ref).collect(),
        erp_without_content: (0..5).map(hostile).collect(),
        content_with_errors: (3..5).map(product_ref).collect(),
        diagnostics: (0..3)
            .map(|i| Diagnostic {
                severity: if i == 0 {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                code: "unknown-attribute",
                file: PathBuf::from(format!("content/{}.toml", hostile(i))),
                line: i,
                column: 3,
                message: hostile(i + 1),
                help: (i != 1).then(|| hostile(i + 2)),
                span: None,
                blame: blame(i + 1).map(|b| (*b).clone()),
            })
            .collect(),
    }
}

#[test]
fn report_json_is_the_bytes_serde_json_writes_on_hostile_content() {
    for (channels, rows) in [(0, 0), (1, 1), (3, 9), (10, 3000)] {
        let mut report = hostile_report(channels, rows);
        if rows == 0 {
            report.erp_stale = None;
        }
        let mut ours = Vec::new();
        report.write_json(&mut ours).unwrap();
        let theirs = serde_json::to_vec(&report).unwrap();
        assert!(
            ours == theirs,
            "{channels} channels, {rows} rows:\n{}\n{}",
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }
}

/// The page's context as the template before the native rows took it.
#[derive(Serialize)]
struct PageBefore<'a> {
    generated_at: &'a str,
    catalog: &'a str,
    summary: &'a Summary,
    erp_stale: Option<&'a str>,
    channels: Vec<ChannelBefore<'a>>,
    incomplete_products: Vec<&'a ProductCompleteness>,
    content_without_erp: Shown<&'a ProductRef>,
    erp_without_content: Shown<&'a String>,
    diagnostics: Shown<&'a Diagnostic>,
}

#[derive(Serialize)]
struct ChannelBefore<'a> {
    name: &'a str,
    kind: &'a str,
    locale: &'a str,
    output: &'a str,
    items: usize,
    excluded: usize,
    left_out: Shown<HtmlVerdict<'a>>,
    warnings: Shown<HtmlVerdict<'a>>,
    notes: &'a [String],
}

fn verdicts_before(all: &[ProductVerdict], rows: usize) -> Shown<HtmlVerdict<'_>> {
    let shown: Vec<_> = all.iter().take(rows).map(HtmlVerdict::new).collect();
    Shown {
        more: all.len() - shown.len(),
        rows: shown,
    }
}

fn page_before(report: &Report, links: &html::Links, chrome: &str, rows: usize) -> String {
    let page = PageBefore {
        generated_at: &report.generated_at,
        catalog: &report.catalog,
        summary: &report.summary,
        erp_stale: report.erp_stale.as_deref(),
        channels: report
            .channels
            .iter()
            .map(|c| ChannelBefore {
                name: &c.name,
                kind: &c.kind,
                locale: &c.locale,
                output: &c.output,
                items: c.items,
                excluded: c.excluded,
                left_out: verdicts_before(&c.left_out, rows),
                warnings: verdicts_before(&c.warnings, rows),
                notes: &c.notes,
            })
            .collect(),
        incomplete_products: report
            .products
            .iter()
            .filter(|p| p.completeness.iter().any(|c| *c < 100))
            .take(rows)
            .collect(),
        content_without_erp: shown(&report.content_without_erp, rows),
        erp_without_content: shown(&report.erp_without_content, rows),
        diagnostics: shown(&report.diagnostics, rows),
    };
    let mut tera = tera::Tera::new();
    html::register_filters(&mut tera, links);
    tera.add_raw_template("report.html", include_str!("tests/index_before.html"))
        .unwrap();
    let mut context = tera::Context::new();
    context.insert("report", &page);
    context.insert("links", links);
    context.insert("style", STYLE);
    context.insert("chrome", chrome);
    tera.render("report.html", &context).unwrap()
}

#[test]
fn the_html_page_is_the_page_the_template_wrote_on_hostile_content() {
    let serve_links = html::Links {
        product: "/products/".into(),
        feed: "/feeds/".into(),
        source: "vscode://file/{path}:{line}".into(),
        root: "/srv/<shop> & co".into(),
    };
    let published = html::Links::beside_feeds(std::path::Path::new("feeds"));
    let elsewhere = html::Links::beside_feeds(std::path::Path::new("/abs/feeds"));
    for (channels, rows, cut) in [(0, 0, 10), (1, 1, 10), (3, 9, 4), (10, 300, 200)] {
        let report = hostile_report(channels, rows);
        for (links, chrome) in [
            (&published, ""),
            (&elsewhere, ""),
            (&serve_links, "<nav>trusted</nav>"),
        ] {
            let mut ours = Vec::new();
            report
                .write_html_with(&mut ours, links, chrome, cut)
                .unwrap();
            let ours = String::from_utf8(ours).unwrap();
            let before = page_before(&report, links, chrome, cut);
            if ours != before {
                let at = ours
                    .bytes()
                    .zip(before.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(ours.len().min(before.len()));
                panic!(
                    "{channels} channels, {rows} rows: differ at byte {at}:\nnow:    {:?}\nbefore: {:?}",
                    &ours[ours.floor_char_boundary(at.saturating_sub(80))
                        ..ours.floor_char_boundary((at + 200).min(ours.len()))],
                    &before[before.floor_char_boundary(at.saturating_sub(80))
                        ..before.floor_char_boundary((at + 200).min(before.len()))]
                );
            }
        }
    }
}
