//! A channel's `filter` and CSV `columns` are Tera expressions that pimfeed wraps in a
//! template of its own (`{% if … %}`, `{{ … }}`). Tera's errors quote that wrapper and its
//! internal name; a user wrote only the expression, so errors show the expression, with a
//! caret under the place Tera points at.

/// How an expression is wrapped into a template.
#[derive(Debug, Clone, Copy)]
pub enum Wrap {
    /// `{% if EXPR %}true{% endif %}`.
    Condition,
    /// `{{ EXPR }}`.
    Value,
}

impl Wrap {
    pub fn template(self, expression: &str) -> String {
        match self {
            Wrap::Condition => format!("{{% if {expression} %}}true{{% endif %}}"),
            Wrap::Value => format!("{{{{ {expression} }}}}"),
        }
    }

    /// Characters before the expression in its template.
    fn prefix_len(self) -> usize {
        match self {
            Wrap::Condition => "{% if ".len(),
            Wrap::Value => "{{ ".len(),
        }
    }
}

/// Whether `expression` parses; `Err` is what is wrong with it, in the user's terms.
pub fn check(expression: &str, wrap: Wrap) -> Result<(), String> {
    let mut tera = tera::Tera::default();
    tera.add_raw_template("expression", &wrap.template(expression))
        .map(|_| ())
        .map_err(|err| explain(&crate::diagnostics::error_chain(&err), expression, wrap))
}

/// Tera's message about the template made from `expression`, retold about the expression:
/// the first line of the message, then the expression with a caret under where it points.
pub fn explain(tera_message: &str, expression: &str, wrap: Wrap) -> String {
    let mut lines = tera_message.lines();
    let first = lines.next().unwrap_or_default();
    // Tera's first line may start with the template it failed in: keep what is said.
    let what = first
        .rsplit_once("error: ")
        .map_or(first, |(_, what)| what)
        .trim();
    let column = tera_message
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("--> "))
        .and_then(|place| place.rsplit(':').next())
        .and_then(|column| column.trim().parse::<usize>().ok());
    let underline = tera_message
        .lines()
        .last()
        .map(|line| line.chars().filter(|c| *c == '^').count())
        .unwrap_or(0)
        .max(1);
    match column.and_then(|c| c.checked_sub(1 + wrap.prefix_len())) {
        Some(offset) if offset <= expression.chars().count() => format!(
            "{what}\n    {expression}\n    {}{}",
            " ".repeat(offset),
            "^".repeat(underline.min(expression.chars().count().saturating_sub(offset).max(1)))
        ),
        _ => what.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_shown_in_the_expression_not_the_wrapper() {
        let message = check("erp.stock >> 0", Wrap::Condition).unwrap_err();
        assert!(!message.contains("__pimfeed"), "{message}");
        assert!(!message.contains("{%"), "{message}");
        assert!(message.contains("\n    erp.stock >> 0\n"), "{message}");
        let caret = message.lines().last().unwrap();
        assert_eq!(caret.find('^'), Some(4 + "erp.stock >".len()), "{message}");
    }

    #[test]
    fn a_good_expression_passes() {
        assert!(check("erp.stock > 0 and product.brand", Wrap::Condition).is_ok());
        assert!(check("erp.price", Wrap::Value).is_ok());
        assert!(check("erp.price +", Wrap::Value).is_err());
    }
}
