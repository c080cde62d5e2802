//! Who last changed the lines a report points at, added after the verdicts are in (see
//! [`crate::git::blame`] for how lines are blamed).

use std::path::Path;

use crate::content::CatalogSource;
use crate::git::blame::{Blamer, KeptUse};
use crate::verdict::Reason;

use super::Report;

/// Adds blame to every reason a product is left out of or warned about in a channel (the
/// reason's line, else the product's first line), and to every diagnostic with a line.
/// Does nothing outside a git repository. `kept` says whether what earlier builds blamed is
/// used, and what this one blamed kept for the next.
pub fn annotate(report: &mut Report, source: &CatalogSource, root: &Path, kept: KeptUse) {
    let Some(mut blamer) = Blamer::with_kept(source, root, kept) else {
        return;
    };
    for channel in &mut report.channels {
        for verdict in channel.left_out.iter_mut().chain(&mut channel.warnings) {
            annotate_reasons(
                &mut blamer,
                &verdict.file,
                verdict.line,
                &mut verdict.reasons,
            );
        }
    }
    for diagnostic in &mut report.diagnostics {
        if diagnostic.line > 0 {
            diagnostic.blame = blamer.line(&diagnostic.file, diagnostic.line as u32);
        }
    }
    if kept != KeptUse::Neither {
        blamer.keep();
    }
}

/// Blames each reason's line, or `product_line` for reasons about the product as a whole.
pub fn annotate_reasons(
    blamer: &mut Blamer,
    file: &str,
    product_line: u32,
    reasons: &mut [Reason],
) {
    let file = Path::new(file);
    for reason in reasons {
        reason.blame = blamer.line(file, reason.line.unwrap_or(product_line));
    }
}
