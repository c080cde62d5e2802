//! Markdown (`rich_text` attributes) rendered as HTML or as plain text.
//!
//! Marketers write Markdown; webshops want HTML, Google and Meta want plain text. Neither
//! output may carry markup the marketer typed by hand: raw HTML is shown as text in the HTML
//! output and loses its tags in the plain text, and links to `javascript:` and friends lose their
//! target. Nothing here goes through Tera, so `{{ 7*7 }}` in a description stays literal.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// Tables and strikethrough are the extensions product copy uses; the rest (footnotes, math,
/// smart punctuation) would change text that is not meant as markup.
fn parser(markdown: &str) -> Parser<'_> {
    Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
}

/// Renders Markdown as an HTML fragment for webshops, with raw HTML escaped so it shows as
/// text instead of reaching the shop as markup.
pub fn to_html(markdown: &str) -> String {
    let mut unsafe_link = false;
    let mut unsafe_images = 0usize;
    let events = parser(markdown).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { ref dest_url, .. }) if is_script_url(dest_url) => {
            unsafe_link = true;
            None
        }
        Event::End(TagEnd::Link) if unsafe_link => {
            unsafe_link = false;
            None
        }
        Event::Start(Tag::Image { ref dest_url, .. })
            if unsafe_images > 0 || is_script_url(dest_url) =>
        {
            unsafe_images += 1;
            None
        }
        Event::End(TagEnd::Image) if unsafe_images > 0 => {
            unsafe_images -= 1;
            None
        }
        event => Some(event),
    });
    let mut out = String::with_capacity(markdown.len() + markdown.len() / 4);
    html::push_html(&mut out, events);
    out
}

/// Whether a link target would run code or smuggle a document in when followed. Browsers
/// ignore case and embedded tabs and newlines in the scheme, so those are ignored here too.
fn is_script_url(url: &str) -> bool {
    let Some((scheme, _)) = url.split_once(':') else {
        return false;
    };
    let mut scheme = scheme
        .trim_start_matches(|c: char| c <= ' ')
        .to_ascii_lowercase();
    scheme.retain(|c| !matches!(c, '\t' | '\n' | '\r'));
    matches!(scheme.as_str(), "javascript" | "vbscript" | "data")
}

/// Renders Markdown as plain text for channels that take no HTML: paragraphs and headings
/// separated by a blank line, list items on lines of their own starting with `- ` or `1. `,
/// table rows as lines of ` | `-separated cells, inline markup reduced to its text, images
/// and HTML tags dropped (`<br>` still ends the line), also those written as entities.
pub fn to_plain_text(markdown: &str) -> String {
    let mut w = PlainWriter::default();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut images = 0usize;
    let mut html_block: Option<String> = None;
    let mut in_code_block = false;
    let mut first_cell = true;

    for event in parser(markdown) {
        match event {
            _ if images > 0 => match event {
                Event::Start(Tag::Image { .. }) => images += 1,
                Event::End(TagEnd::Image) => images -= 1,
                _ => {}
            },
            Event::Start(Tag::Image { .. }) => images = 1,
            Event::Text(text) if in_code_block => {
                for line in text.split_inclusive('\n') {
                    let content = line.trim_end();
                    w.text(content);
                    if line.ends_with('\n') {
                        w.line_break(if content.is_empty() { 2 } else { 1 });
                    }
                }
            }
            Event::Text(text) | Event::Code(text) => w.text(&text),
            Event::SoftBreak => w.text(" "),
            Event::HardBreak => w.line_break(1),
            Event::InlineHtml(tag) if is_br(&tag) => w.line_break(1),
            Event::Html(raw) => {
                if let Some(block) = &mut html_block {
                    block.push_str(&raw);
                }
            }
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::End(TagEnd::HtmlBlock) => {
                if let Some(text) = html_block.take().as_deref().and_then(html_block_text) {
                    w.line_break(2);
                    w.text(&to_plain_text(&text));
                    w.line_break(2);
                }
            }
            Event::Start(Tag::List(start)) => {
                lists.push(start);
                w.line_break(if lists.len() > 1 { 1 } else { 2 });
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                w.line_break(if lists.is_empty() { 2 } else { 1 });
            }
            Event::Start(Tag::Item) => {
                w.line_break(1);
                let indent = "  ".repeat(lists.len().saturating_sub(1));
                w.marker = match lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{indent}{}. ", *n - 1)
                    }
                    _ => format!("{indent}- "),
                };
            }
            Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {
                w.line_break(if lists.is_empty() { 2 } else { 1 });
            }
            Event::Start(Tag::CodeBlock(_)) | Event::End(TagEnd::CodeBlock) => {
                in_code_block = matches!(event, Event::Start(_));
                w.line_break(2);
            }
            Event::Start(Tag::Heading { .. } | Tag::BlockQuote(_) | Tag::Table(_))
            | Event::End(TagEnd::Heading(_) | TagEnd::BlockQuote(_) | TagEnd::Table)
            | Event::Rule => w.line_break(2),
            Event::Start(Tag::TableHead | Tag::TableRow) => {
                w.line_break(1);
                first_cell = true;
            }
            Event::Start(Tag::TableCell) => {
                if !first_cell {
                    w.text(" | ");
                }
                first_cell = false;
            }
            _ => {}
        }
    }
    // Text can still hold HTML that Markdown decoded from entities (`&lt;b&gt;` is the text
    // `<b>`): decode what is left and strip tags only now, so no tag survives as text.
    let text = w.finish();
    match super::clean::strip_html(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(stripped) => stripped.trim().to_string(),
    }
}

fn is_br(tag: &str) -> bool {
    tag.get(..3).is_some_and(|t| t.eq_ignore_ascii_case("<br"))
        && matches!(
            tag.as_bytes().get(3),
            Some(b'>' | b'/' | b' ' | b'\t' | b'\n')
        )
}

/// The text of a raw HTML block, to be read as Markdown again (which decodes its entities).
/// `<script>` and `<style>` blocks hold no text for a reader. The result holds no `<`, so
/// reading it again cannot find another HTML block.
fn html_block_text(raw: &str) -> Option<String> {
    let raw = raw.trim_start();
    let starts_with = |tag: &str| {
        raw.get(..tag.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(tag))
    };
    if starts_with("<script") || starts_with("<style") {
        return None;
    }
    let mut text = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        // An unclosed tag runs to the end: dropping it keeps `<` out of the result.
        rest = rest[open..]
            .find('>')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    text.push_str(rest);
    (!text.trim().is_empty()).then_some(text)
}

/// Writes text with block separators that are only emitted once more text follows, so the
/// output never starts or ends with blank lines or holds more than one in a row.
#[derive(Default)]
struct PlainWriter {
    out: String,
    /// Newlines owed before the next text: 0, 1 (new line) or 2 (blank line).
    pending: u8,
    /// A list item's `- ` or `1. `, written before its first text.
    marker: String,
}

impl PlainWriter {
    fn line_break(&mut self, newlines: u8) {
        self.pending = self.pending.max(newlines);
    }

    fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if self.pending > 0 {
            let trimmed = self.out.trim_end().len();
            self.out.truncate(trimmed);
            if !self.out.is_empty() {
                self.out
                    .push_str(if self.pending > 1 { "\n\n" } else { "\n" });
            }
            self.pending = 0;
        }
        if !self.marker.is_empty() {
            self.out.push_str(&self.marker);
            self.marker.clear();
        }
        // Dropped tags and images leave the spaces around them behind.
        let text = if self.out.ends_with(' ') {
            text.trim_start_matches(' ')
        } else {
            text
        };
        self.out.push_str(text);
    }

    fn finish(self) -> String {
        let trimmed = self.out.trim();
        if trimmed.len() == self.out.len() {
            self.out
        } else {
            trimmed.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_basics() {
        assert_eq!(
            to_html("# Drill\n\n**Strong** and *light*, [see](https://x.test/?a=1&b=2)."),
            "<h1>Drill</h1>\n<p><strong>Strong</strong> and <em>light</em>, \
             <a href=\"https://x.test/?a=1&amp;b=2\">see</a>.</p>\n"
        );
        assert_eq!(
            to_html("- one\n- two\n\n1. first"),
            "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>first</li>\n</ol>\n"
        );
        assert_eq!(to_html("Tom &amp; Jerry"), "<p>Tom &amp; Jerry</p>\n");
        assert_eq!(to_html("{{ 7*7 }}"), "<p>{{ 7*7 }}</p>\n");
    }

    #[test]
    fn html_escapes_raw_html() {
        assert_eq!(
            to_html("Very <b>bold</b> claim"),
            "<p>Very &lt;b&gt;bold&lt;/b&gt; claim</p>\n"
        );
        let block = to_html("<script>alert(1)</script>\n\nafter");
        assert!(!block.contains("<script"), "{block}");
        assert!(
            block.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{block}"
        );
        assert!(block.ends_with("<p>after</p>\n"), "{block}");
        assert_eq!(
            to_html("<div onclick=\"x()\">\nhi\n</div>"),
            "&lt;div onclick=\"x()\"&gt;\nhi\n&lt;/div&gt;"
        );
    }

    #[test]
    fn html_drops_script_links() {
        assert_eq!(
            to_html("[click](javascript:alert(1)) [ok](/p/1)"),
            "<p>click <a href=\"/p/1\">ok</a></p>\n"
        );
        assert_eq!(
            to_html("[x](<JavaScript:alert(1)>) ![pic](data:text/html,x)"),
            "<p>x pic</p>\n"
        );
        assert!(is_script_url(" java\tscript:x"));
        assert!(!is_script_url("https://x.test/a:b"));
        assert!(!is_script_url("/relative"));
    }

    #[test]
    fn plain_text() {
        let md = "# Cordless drill\n\n\
                  The **DHP485** is *light*: [see specs](https://x.test).\n\
                  Second line with `code`.  \nHard break.\n\n\
                  - Brushless motor\n- 2 speeds\n  - nested\n\n\
                  1. Unpack\n2. Charge\n\n\
                  Tom &amp; Jerry <b>bold</b> {{ 7*7 }}";
        assert_eq!(
            to_plain_text(md),
            "Cordless drill\n\n\
             The DHP485 is light: see specs. Second line with code.\nHard break.\n\n\
             - Brushless motor\n- 2 speeds\n  - nested\n\n\
             1. Unpack\n2. Charge\n\n\
             Tom & Jerry bold {{ 7*7 }}"
        );
    }

    #[test]
    fn plain_text_blocks() {
        assert_eq!(to_plain_text(""), "");
        assert_eq!(to_plain_text("\n\n  \n"), "");
        assert_eq!(
            to_plain_text("Para one\n\n\n\n\nPara two"),
            "Para one\n\nPara two"
        );
        assert_eq!(to_plain_text("3. three\n4. four"), "3. three\n4. four");
        assert_eq!(
            to_plain_text("- loose\n\n- items\n\nafter"),
            "- loose\n- items\n\nafter"
        );
        assert_eq!(to_plain_text("> quoted\n\n---\n\nend"), "quoted\n\nend");
        assert_eq!(
            to_plain_text("```\nfn main() {}   \n\n\n\n}\n```\ntext"),
            "fn main() {}\n\n}\n\ntext"
        );
        assert_eq!(
            to_plain_text("| a | b |\n|---|---|\n| 1 | 2 |"),
            "a | b\n1 | 2"
        );
        assert_eq!(
            to_plain_text("Before ![photo](x.jpg) after"),
            "Before after"
        );
        assert_eq!(
            to_plain_text("One<br>two<BR/>three <!-- note --> four"),
            "One\ntwo\nthree four"
        );
    }

    #[test]
    fn plain_text_has_no_tags_written_as_entities() {
        assert_eq!(
            to_plain_text("Een &lt;b&gt;sterke&lt;/b&gt; boor &amp;amp;lt;i&amp;amp;gt;"),
            "Een sterke boor"
        );
        assert_eq!(to_plain_text("Gewicht &lt; 2 kg"), "Gewicht < 2 kg");
    }

    #[test]
    fn plain_text_html_blocks() {
        assert_eq!(
            to_plain_text("<script>\nalert(1)\n</script>\n\nSafe"),
            "Safe"
        );
        assert_eq!(
            to_plain_text("Intro\n\n<div class=\"x\">\nFish &amp; chips\n</div>\n\nOutro"),
            "Intro\n\nFish & chips\n\nOutro"
        );
        assert_eq!(to_plain_text("<p>unclosed <span"), "unclosed");
    }
}
