//! Products whose file has an error: no channel gets them, and every output says why. Without
//! this they would look like ERP items nobody wrote content for, and `new --missing` would
//! be the wrong advice.
//!
//! A build keeps the list in [`pimfeed_folder::CONTENT_ERRORS`], so a `refresh` (which reads no content) tells the same
//! story about the same products.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ChannelReport, ProductRef, ProductVerdict};
use crate::diagnostics::Diagnostic;
use crate::pimfeed_folder;
use crate::verdict::Reason;

/// The reason code of a product left out because its file has an error.
pub const CODE: &str = "content-error";

/// A product whose file has an error, and the file's first error.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Broken {
    pub sku: String,
    pub file: String,
    pub line: u32,
    pub error: Option<String>,
    pub error_line: Option<u32>,
}

impl Broken {
    pub fn product(&self) -> ProductRef {
        ProductRef {
            sku: self.sku.clone(),
            file: self.file.clone(),
            line: self.line,
        }
    }

    fn reason(&self) -> Reason {
        let mut reason = Reason::new(
            CODE,
            match &self.error {
                Some(error) => format!("its file has an error: {error}"),
                None => "its file has an error".to_string(),
            },
        );
        reason.line = self.error_line;
        reason
    }
}

/// Each product of `with_errors` with the first error of its file.
pub fn describe(with_errors: &[ProductRef], diagnostics: &[Diagnostic]) -> Vec<Broken> {
    if with_errors.is_empty() {
        return Vec::new();
    }
    // File → its first error, in one pass: a big catalog may have many of each.
    let mut first_errors: HashMap<String, &Diagnostic> = HashMap::new();
    for diagnostic in diagnostics.iter().filter(|d| d.is_error()) {
        let file = diagnostic.file.to_string_lossy().replace('\\', "/");
        first_errors.entry(file).or_insert(diagnostic);
    }
    with_errors
        .iter()
        .map(|product| {
            let first_error = first_errors.get(&product.file);
            Broken {
                sku: product.sku.as_str().into(),
                file: product.file.clone(),
                line: product.line,
                error: first_error.map(|e| e.message.clone()),
                error_line: first_error.map(|e| e.line as u32).filter(|line| *line > 0),
            }
        })
        .collect()
}

/// Leaves every product of `broken` out of every channel, with its file's error as the reason.
pub fn leave_out(channels: &mut [ChannelReport], broken: &[Broken]) {
    for product in broken {
        let reason = product.reason();
        for channel in channels.iter_mut() {
            channel.excluded += 1;
            channel.left_out.push(ProductVerdict {
                sku: std::sync::Arc::from(product.sku.as_str()),
                file: std::sync::Arc::from(product.file.as_str()),
                line: product.line,
                completeness: 0,
                reasons: vec![reason.clone()],
            });
        }
    }
}

/// Keeps a build's list for the refreshes after it (none when there is nothing to keep).
pub fn keep(root: &Path, broken: &[Broken]) -> std::io::Result<()> {
    let path = root.join(pimfeed_folder::CONTENT_ERRORS);
    if broken.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        };
    }
    let text = serde_json::to_vec(broken).map_err(std::io::Error::other)?;
    pimfeed_folder::replace(&path, |mut file| {
        std::io::Write::write_all(&mut file, &text)
    })
}

/// What the last build kept; nothing when it kept nothing or the file cannot be read.
pub fn kept(root: &Path) -> Vec<Broken> {
    std::fs::read(root.join(pimfeed_folder::CONTENT_ERRORS))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}
