//! Products whose file has an error: no channel gets them, and every output says why. Without
//! this they would look like ERP items nobody wrote content for, and `new --missing` would
//! be the wrong advice.

use super::{ChannelReport, ProductRef, ProductVerdict};
use crate::diagnostics::Diagnostic;
use crate::validate::Reason;

/// The reason code of a product left out because its file has an error.
pub const CODE: &str = "content-error";

/// Leaves every product of `with_errors` out of every channel, with the file's first error
/// as the reason.
pub fn leave_out(
    channels: &mut [ChannelReport],
    with_errors: &[ProductRef],
    diagnostics: &[Diagnostic],
) {
    for product in with_errors {
        let first_error = diagnostics
            .iter()
            .find(|d| d.is_error() && d.file.to_string_lossy().replace('\\', "/") == product.file);
        let mut reason = Reason::new(
            CODE,
            match first_error {
                Some(error) => format!("its file has an error: {}", error.message),
                None => "its file has an error".to_string(),
            },
        );
        reason.line = first_error.map(|e| e.line as u32).filter(|line| *line > 0);
        for channel in channels.iter_mut() {
            channel.excluded += 1;
            channel.left_out.push(ProductVerdict {
                sku: product.sku.clone(),
                file: product.file.clone(),
                line: product.line,
                completeness: 0,
                reasons: vec![reason.clone()],
            });
        }
    }
}
