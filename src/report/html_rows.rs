//! The report page's long lists (the rows left out of and warned about in each channel, the
//! products that miss something) written straight as HTML, byte for byte what the page's Tera
//! loops wrote for them before. A page for 100k products and ten channels has some 40,000 such
//! rows; turning each into template values and interpreting the loop around it was most of
//! the time a build spent on the report. The page around the lists stays a Tera template: in
//! its context each list is a marker, and [`Splicer`], the writer the page is rendered to,
//! writes the list's rows where Tera writes its marker, one list at a time (the page's rows
//! are never all in memory, as HTML or as template values).

use std::io::Write;

use serde::Serialize;

use super::html::Links;
use super::{ChannelReport, HtmlVerdict, ProductCompleteness, Report};

/// A list of rows in the page's context: `html`, the marker [`Splicer`] writes the rows in
/// place of, how many rows there are, and how many more were left off the page.
#[derive(Serialize)]
pub(super) struct RowsHtml {
    pub html: String,
    pub count: usize,
    pub more: usize,
}

/// Which list a marker stands for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum List {
    LeftOut(usize),
    Warnings(usize),
    Incomplete,
}

/// Markers are HTML comments written through `| safe`: no other value on the page can be
/// one (escaped values have no `<`; the filters' HTML and the template's text hold no
/// comment), and a marker reaches the writer as one write of its own.
const MARKER_START: &str = "<!--pimfeed rows ";
const MARKER_END: &str = "-->";

impl List {
    pub(super) fn rows(self, count: usize, more: usize) -> RowsHtml {
        let which = match self {
            List::LeftOut(channel) => format!("left-out {channel}"),
            List::Warnings(channel) => format!("warnings {channel}"),
            List::Incomplete => "incomplete".to_string(),
        };
        RowsHtml {
            html: format!("{MARKER_START}{which}{MARKER_END}"),
            count,
            more,
        }
    }

    fn from_marker(bytes: &[u8]) -> Option<List> {
        let text = std::str::from_utf8(bytes).ok()?;
        let which = text.strip_prefix(MARKER_START)?.strip_suffix(MARKER_END)?;
        let (kind, channel) = which.split_once(' ').unwrap_or((which, ""));
        match kind {
            "left-out" => channel.parse().ok().map(List::LeftOut),
            "warnings" => channel.parse().ok().map(List::Warnings),
            "incomplete" => Some(List::Incomplete),
            _ => None,
        }
    }
}

/// The writer the page is rendered to: passes the page on, and writes each list's rows (at
/// most `rows` of them) where its marker comes.
pub(super) struct Splicer<'a, W> {
    pub out: W,
    pub report: &'a Report,
    pub links: &'a Links,
    pub rows: usize,
}

impl<W: Write> Splicer<'_, W> {
    fn rows_html(&self, list: List) -> Vec<u8> {
        let report = self.report;
        let verdicts = |all: &[super::ProductVerdict], table| {
            let shown: Vec<HtmlVerdict> =
                all.iter().take(self.rows).map(HtmlVerdict::new).collect();
            verdict_rows(&shown, table, self.links)
        };
        match list {
            List::LeftOut(channel) => {
                verdicts(&report.channels[channel].left_out, VerdictTable::LeftOut)
            }
            List::Warnings(channel) => {
                verdicts(&report.channels[channel].warnings, VerdictTable::Warnings)
            }
            List::Incomplete => incomplete_rows(
                &super::incomplete_products(report, self.rows),
                &report.channels,
                self.links,
            ),
        }
    }
}

impl<W: Write> Write for Splicer<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match List::from_marker(buf) {
            Some(list) => {
                let html = self.rows_html(list);
                self.out.write_all(&html)
            }
            None => self.out.write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// A product's row in a channel's table: left out (with its completeness bar and the lines
/// its reasons are about) or in the feed with warnings.
#[derive(Clone, Copy, PartialEq)]
enum VerdictTable {
    LeftOut,
    Warnings,
}

/// The rows of a channel's table of products left out or warned about.
fn verdict_rows(rows: &[HtmlVerdict<'_>], table: VerdictTable, links: &Links) -> Vec<u8> {
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
    out
}

/// The rows of the table of products that miss something: one cell per channel.
fn incomplete_rows(
    products: &[&ProductCompleteness],
    channels: &[ChannelReport],
    links: &Links,
) -> Vec<u8> {
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
    out
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
