//! Text placed into the Markdown that pull requests and GitHub step summaries show (the
//! report's summary and `pimfeed diff`): what a product's copy holds must not break a table or
//! inject markup.

/// Text in a Markdown table cell or list item: no line breaks, pipes or raw HTML.
pub(crate) fn md(text: &str) -> String {
    html(text).replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text inside backticks.
pub(crate) fn md_code(text: &str) -> String {
    text.replace('`', "'").replace('|', "\\|")
}

/// Text in HTML that GitHub renders inside Markdown (a `<details>` summary, say).
pub(crate) fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
