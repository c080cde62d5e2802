//! Who last changed the lines a report points at, added after the verdicts are in (see
//! [`crate::git::blame`] for how lines are blamed).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::content::CatalogSource;
use crate::diagnostics::Blame;
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
    let mut shared = Shared::default();
    // A product left out of several channels is blamed at the same lines for each: each line
    // is looked up once, and its blame shared.
    let mut lines: HashMap<(Arc<str>, u32), Option<Arc<Blame>>> = HashMap::new();
    for channel in &mut report.channels {
        for verdict in channel.left_out.iter_mut().chain(&mut channel.warnings) {
            for reason in &mut verdict.reasons {
                let line = reason.line.unwrap_or(verdict.line);
                let key = (verdict.file.clone(), line);
                reason.blame = match lines.get(&key) {
                    Some(blame) => blame.clone(),
                    None => {
                        let blame = blamer.line(Path::new(&*verdict.file), line);
                        let blame = blame.map(|blame| shared.get(blame));
                        lines.insert(key, blame.clone());
                        blame
                    }
                };
            }
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
        reason.blame = blamer
            .line(file, reason.line.unwrap_or(product_line))
            .map(Arc::new);
    }
}

/// Each distinct blame once: the reasons of a catalog point at a few commits, and a report
/// of a million products holds a reason for each product left out of each channel.
#[derive(Default)]
struct Shared(HashSet<Arc<Blame>>);

impl Shared {
    fn get(&mut self, blame: Blame) -> Arc<Blame> {
        if let Some(known) = self.0.get(&blame) {
            return known.clone();
        }
        let blame = Arc::new(blame);
        self.0.insert(blame.clone());
        blame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blame(commit: &str) -> Blame {
        Blame {
            committed: true,
            commit: Some(commit.to_string()),
            author: Some("Jane Doe".to_string()),
            date: Some("2026-03-02".to_string()),
            summary: Some("Titles".to_string()),
            history_cut_off: false,
        }
    }

    #[test]
    fn reasons_that_name_the_same_change_share_one_blame() {
        let mut shared = Shared::default();
        let first = shared.get(blame("3f2a1bc"));
        let again = shared.get(blame("3f2a1bc"));
        let other = shared.get(blame("9d8e7f6"));
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(*other, blame("9d8e7f6"));
    }
}
