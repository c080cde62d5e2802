//! A SKU that differs only in case between the content and the ERP (`HM-10` in a file,
//! `hm-10` in the export) is almost always one item typed two ways. SKUs match exactly, so
//! the product is left out and the ERP item looks content-less: say what the real cause is.

use std::collections::HashMap;
use std::path::Path;

use super::Report;
use crate::diagnostics::Diagnostic;

/// Names every content SKU that the ERP has only in another case: in the reasons it is left
/// out, and as a warning on its file and line.
pub fn name_mismatches(report: &mut Report) {
    if report.content_without_erp.is_empty() || report.erp_without_content.is_empty() {
        return;
    }
    let erp_by_lowercase: HashMap<String, &str> = report
        .erp_without_content
        .iter()
        .map(|sku| (sku.to_lowercase(), sku.as_str()))
        .collect();
    let mut mismatches: HashMap<String, String> = HashMap::new();
    let mut warnings = Vec::new();
    for product in &report.content_without_erp {
        let Some(erp_sku) = erp_by_lowercase.get(&product.sku.to_lowercase()) else {
            continue;
        };
        let mut warning = Diagnostic::file_error(
            "sku-case",
            Path::new(&product.file),
            format!(
                "SKU `{}` is not in the ERP, but `{erp_sku}` is: SKUs must match exactly, \
                 including case",
                product.sku
            ),
        )
        .with_help(format!(
            "write `sku = \"{erp_sku}\"` here, or correct the SKU in the ERP"
        ))
        .warning();
        warning.line = product.line as usize;
        warning.column = 1;
        warnings.push(warning);
        mismatches.insert(product.sku.clone(), erp_sku.to_string());
    }
    if mismatches.is_empty() {
        return;
    }
    for channel in &mut report.channels {
        for product in &mut channel.left_out {
            let Some(erp_sku) = mismatches.get(&*product.sku) else {
                continue;
            };
            for reason in product
                .reasons
                .iter_mut()
                .filter(|r| r.code == "not-in-erp")
            {
                reason.message = format!(
                    "SKU `{}` is not in the ERP export, but `{erp_sku}` is (it differs only in case)",
                    product.sku
                );
            }
        }
    }
    report.summary.warnings += warnings.len();
    report.diagnostics.extend(warnings);
}
