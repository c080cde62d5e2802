//! The report page's long lists (the rows left out of and warned about in each channel, the
//! products that miss something) written straight as HTML, byte for byte what the page's Tera
//! loops wrote for them before. A page for 100k products and ten channels has some 40,000 such
//! rows; turning each into template values and interpreting the loop around it was most of
//! the time a build spent on the report. The page around the lists stays a Tera template.

use serde::Serialize;

use super::html::Links;
use super::{ChannelReport, ProductCompleteness};

/// A list's rows as HTML (each `<tr>…</tr>` and a newline), how many there are, and how many
/// more were left off the page.
#[derive(Serialize)]
pub(super) struct RowsHtml {
    pub html: String,
    pub count: usize,
    pub more: usize,
}

/// A product's row in a channel's table: left out (with its completeness bar and the lines
/// its reasons are about) or in the feed with warnings.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum VerdictTable {
    LeftOut,
    Warnings,
}

/// The rows of a channel's table of products left out or warned about.
pub(super) fn verdict_rows(
    rows: &[super::HtmlVerdict<'_>],
    more: usize,
    table: VerdictTable,
    links: &Links,
) -> RowsHtml {
    let mut out = Vec::with_capacity(rows.len() * 400);
    for item in rows {
        product_cells(&mut out, links, item.sku, item.file, i64::from(item.line));
        match table {
            VerdictTable::LeftOut => {
                let bar = if item.by_choice { "skipped" } else { "out" };
                let percent = item.completeness;
                push(
                    &mut out,
                    &format!(
                        "\n<td data-label=\"Complete\"><span class=\"bar {bar}\" title=\"left out\"><span style=\"width: {percent}%\"></span></span> {percent}%</td>\n<td data-label=\"Why\"><ul class=\"reasons\">"
                    ),
                );
            }
            VerdictTable::Warnings => {
                push(
                    &mut out,
                    "\n<td data-label=\"Warning\"><ul class=\"reasons\">",
                );
            }
        }
        for reason in &item.reasons {
            push(&mut out, "<li>");
            escape(&mut out, reason.message);
            // Tera's `{% if %}` takes 0 and "" for false, as these do.
            match reason.line {
                Some(line) if line != 0 && table == VerdictTable::LeftOut => push(
                    &mut out,
                    &format!(" <span class=\"meta\">(line {line})</span>"),
                ),
                _ => {}
            }
            if let Some(blame) = reason.blame.as_deref().filter(|b| !b.is_empty()) {
                push(&mut out, " <span class=\"blame\">· ");
                escape(&mut out, blame);
                push(&mut out, "</span>");
            }
            push(&mut out, "</li>");
        }
        push(&mut out, "</ul></td></tr>\n");
    }
    RowsHtml {
        html: into_string(out),
        count: rows.len(),
        more,
    }
}

/// The rows of the table of products that miss something: one cell per channel.
pub(super) fn incomplete_rows(
    products: &[&ProductCompleteness],
    channels: &[ChannelReport],
    links: &Links,
) -> RowsHtml {
    let mut out = Vec::with_capacity(products.len() * (200 + channels.len() * 60));
    for product in products {
        product_cells(&mut out, links, &product.sku, &product.file, 0);
        for (percent, channel) in product.completeness.iter().zip(channels) {
            let class = if *percent == 100 { "ok" } else { "bad" };
            push(
                &mut out,
                &format!("<td class=\"num {class}\" data-label=\""),
            );
            escape(&mut out, &channel.name);
            push(&mut out, &format!("\">{percent}%</td>"));
        }
        push(&mut out, "</tr>\n");
    }
    RowsHtml {
        html: into_string(out),
        count: products.len(),
        more: 0,
    }
}

/// `<tr>`, the SKU's cell and the file's cell, linked as the page links them.
fn product_cells(out: &mut Vec<u8>, links: &Links, sku: &str, file: &str, line: i64) {
    push(out, "<tr><td data-label=\"SKU\">");
    push(out, &links.sku_html(sku));
    push(out, "</td><td data-label=\"File\">");
    push(out, &links.source_html(file, line));
    push(out, "</td>");
}

fn push(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
}

/// Escaped as Tera escapes a value on an HTML page.
fn escape(out: &mut Vec<u8>, text: &str) {
    // Writing to a Vec cannot fail.
    let _ = tera::escape_html(text, out);
}

fn into_string(out: Vec<u8>) -> String {
    // Only text and its escapes were written.
    String::from_utf8(out).expect("HTML written from text is UTF-8")
}
