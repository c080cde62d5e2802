//! `report.json` written straight as bytes: exactly what serde_json writes for the
//! [`Report`](super::Report) (its field order, compact, `None` and empty notes left out), with
//! the rows that make most of its bytes (a channel's products left out or warned about, every
//! product's completeness) written by the shared JSON writer instead of serde's generic
//! serialiser. The rare and small pieces (the summary, a reason's blame, diagnostics) still go
//! through serde_json itself.

use std::io::Write;

use serde::Serialize;

use super::{ChannelReport, ProductCompleteness, ProductRef, ProductVerdict, Report};
use crate::text::json::{array, write_str, write_u64};
use crate::verdict::Reason;

/// Bytes are handed to the file in pieces of about this size: the report is as long as the
/// catalog, and its copy in memory need not be.
const CHUNK: usize = 256 * 1024;

struct JsonOut<W: Write> {
    buf: Vec<u8>,
    out: W,
}

impl<W: Write> JsonOut<W> {
    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn str(&mut self, text: &str) {
        write_str(&mut self.buf, text);
    }

    fn number(&mut self, number: u64) {
        write_u64(&mut self.buf, number);
    }

    /// `,"key":`, for a member after the first.
    fn next_key(&mut self, key: &str) {
        self.raw(b",");
        self.key(key);
    }

    /// `"key":`, for a key that needs no escape.
    fn key(&mut self, key: &str) {
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// Through serde_json, for the pieces that are neither many nor long.
    fn serde(&mut self, value: &impl Serialize) -> serde_json::Result<()> {
        serde_json::to_writer(&mut self.buf, value)
    }

    /// Hands what is written to the file once there is a chunk of it.
    fn pass_on(&mut self) -> serde_json::Result<()> {
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> serde_json::Result<()> {
        self.out
            .write_all(&self.buf)
            .map_err(serde_json::Error::io)?;
        self.buf.clear();
        Ok(())
    }

    /// `[` the items `,` … `]`, each written by `item`.
    fn array<T>(
        &mut self,
        items: &[T],
        mut item: impl FnMut(&mut Self, &T) -> serde_json::Result<()>,
    ) -> serde_json::Result<()> {
        self.raw(b"[");
        for (index, each) in items.iter().enumerate() {
            if index > 0 {
                self.raw(b",");
            }
            item(self, each)?;
            self.pass_on()?;
        }
        self.raw(b"]");
        Ok(())
    }
}

/// Writes `report` as serde_json would, to `out`.
pub(super) fn write(report: &Report, out: impl Write) -> serde_json::Result<()> {
    let mut json = JsonOut {
        buf: Vec::with_capacity(CHUNK + 64 * 1024),
        out,
    };
    json.raw(b"{");
    json.key("generated_at");
    json.str(&report.generated_at);
    json.next_key("catalog");
    json.str(&report.catalog);
    json.next_key("summary");
    json.serde(&report.summary)?;
    if let Some(stale) = &report.erp_stale {
        json.next_key("erp_stale");
        json.str(stale);
    }
    json.next_key("channels");
    json.array(&report.channels, channel)?;
    json.next_key("products");
    json.array(&report.products, |json, product| {
        completeness(json, product);
        Ok(())
    })?;
    json.next_key("content_without_erp");
    json.array(&report.content_without_erp, |json, product| {
        product_ref(json, product);
        Ok(())
    })?;
    json.next_key("erp_without_content");
    json.array(&report.erp_without_content, |json, sku| {
        json.str(sku);
        Ok(())
    })?;
    json.next_key("content_with_errors");
    json.array(&report.content_with_errors, |json, product| {
        product_ref(json, product);
        Ok(())
    })?;
    json.next_key("diagnostics");
    json.array(&report.diagnostics, |json, diagnostic| {
        json.serde(diagnostic)
    })?;
    json.raw(b"}");
    json.flush()
}

fn channel<W: Write>(json: &mut JsonOut<W>, channel: &ChannelReport) -> serde_json::Result<()> {
    json.raw(b"{");
    json.key("name");
    json.str(&channel.name);
    json.next_key("kind");
    json.str(&channel.kind);
    json.next_key("locale");
    json.str(&channel.locale);
    json.next_key("output");
    json.str(&channel.output);
    json.next_key("items");
    json.number(channel.items as u64);
    json.next_key("excluded");
    json.number(channel.excluded as u64);
    json.next_key("left_out");
    json.array(&channel.left_out, verdict)?;
    json.next_key("warnings");
    json.array(&channel.warnings, verdict)?;
    if !channel.notes.is_empty() {
        json.next_key("notes");
        json.array(&channel.notes, |json, note| {
            json.str(note);
            Ok(())
        })?;
    }
    json.raw(b"}");
    Ok(())
}

fn verdict<W: Write>(json: &mut JsonOut<W>, verdict: &ProductVerdict) -> serde_json::Result<()> {
    json.raw(b"{");
    json.key("sku");
    json.str(&verdict.sku);
    json.next_key("file");
    json.str(&verdict.file);
    json.next_key("line");
    json.number(u64::from(verdict.line));
    json.next_key("completeness");
    json.number(u64::from(verdict.completeness));
    json.next_key("reasons");
    json.array(&verdict.reasons, reason)?;
    json.raw(b"}");
    Ok(())
}

fn reason<W: Write>(json: &mut JsonOut<W>, reason: &Reason) -> serde_json::Result<()> {
    json.raw(b"{");
    json.key("code");
    json.str(reason.code);
    if let Some(attribute) = &reason.attribute {
        json.next_key("attribute");
        json.str(attribute);
    }
    json.next_key("message");
    json.str(&reason.message);
    if let Some(line) = reason.line {
        json.next_key("line");
        json.number(u64::from(line));
    }
    if let Some(blame) = &reason.blame {
        json.next_key("blame");
        json.serde(blame)?;
    }
    json.raw(b"}");
    Ok(())
}

fn completeness<W: Write>(json: &mut JsonOut<W>, product: &ProductCompleteness) {
    json.raw(b"{");
    json.key("sku");
    json.str(&product.sku);
    json.next_key("file");
    json.str(&product.file);
    json.next_key("completeness");
    array(&mut json.buf, &product.completeness, |out, percent| {
        write_u64(out, u64::from(*percent));
    });
    json.raw(b"}");
}

fn product_ref<W: Write>(json: &mut JsonOut<W>, product: &ProductRef) {
    json.raw(b"{");
    json.key("sku");
    json.str(&product.sku);
    json.next_key("file");
    json.str(&product.file);
    json.next_key("line");
    json.number(u64::from(product.line));
    json.raw(b"}");
}
