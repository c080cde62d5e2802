//! Problems found in a catalog, with where they are and how to fix them.
//!
//! Loading never stops at the first bad file: every stage collects its diagnostics and the
//! command decides the exit code at the end. The same [`Diagnostic`] renders for people (a
//! source snippet with the span marked), as JSON and as GitHub Actions annotations.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable kebab-case code such as `unknown-attribute`, for machines and docs.
    pub code: &'static str,
    /// The catalog-relative file the problem is in.
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no position in the file.
    pub line: usize,
    /// 1-based, counted in characters.
    pub column: usize,
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Byte range in the file, for the snippet.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    /// Who last changed the line, when the catalog is a git repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blame: Option<Blame>,
}

impl Diagnostic {
    /// An error at `span` of `source` (the text of `file`).
    pub fn error(
        code: &'static str,
        file: &Path,
        source: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_column(source, span.start);
        Self {
            severity: Severity::Error,
            code,
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
            help: None,
            span: Some(span),
            blame: None,
        }
    }

    /// A problem that belongs to a file as a whole, or to no file.
    pub fn file_error(code: &'static str, file: &Path, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
            help: None,
            span: None,
            blame: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// A TOML syntax or shape error. `toml` puts the position in its message only in its
    /// `Display`; we keep the bare message and our own line/column.
    pub fn from_toml_error(
        err: &toml::de::Error,
        file: &Path,
        source: &str,
        code: &'static str,
        help: &str,
    ) -> Self {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim().to_string();
        let code = if message.contains("unknown field") {
            code
        } else {
            "toml-syntax"
        };
        // A misspelt key or value: the nearest name it could be, else the general advice.
        let help = crate::suggest::for_unknown_name(&message).unwrap_or_else(|| help.to_string());
        Diagnostic::error(code, file, source, span, message).with_help(help)
    }
}

/// 1-based line and character column of byte `offset` in `source`.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    while index > 0 && !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Renders diagnostics for people: a source snippet with the span marked, and the fix.
pub fn render_human(diagnostics: &[Diagnostic], root: &Path, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let mut sources: std::collections::HashMap<&Path, String> = std::collections::HashMap::new();
    let mut out = String::new();
    for diagnostic in diagnostics {
        let source = sources
            .entry(diagnostic.file.as_path())
            .or_insert_with(|| {
                std::fs::read_to_string(root.join(&diagnostic.file)).unwrap_or_default()
            })
            .clone();
        let shown = Shown {
            diagnostic,
            source: miette::NamedSource::new(diagnostic.file.display().to_string(), source),
        };
        if handler.render_report(&mut out, &shown).is_err() {
            out.push_str(&format!(
                "{}: {}\n",
                diagnostic.location(),
                diagnostic.message
            ));
        } else if diagnostic.span.is_none() && !diagnostic.file.as_os_str().is_empty() {
            // No snippet to show: say where, so nothing is reported without its place.
            out.push_str(&format!("  at {}\n", diagnostic.location()));
        }
        if let Some(blame) = &diagnostic.blame {
            out.push_str(&format!("  {}\n", blame.sentence()));
        }
    }
    out
}

/// GitHub Actions workflow commands: one annotation per diagnostic on the pull request.
pub fn render_github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        if let Some(blame) = &d.blame {
            message.push_str(&format!("\n({})", blame.sentence()));
        }
        let file = github_escape(&d.file.display().to_string(), true);
        let position = if d.line > 0 {
            format!(",line={},col={}", d.line, d.column)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "::{level} file={file}{position},title={}::{}\n",
            github_escape(d.code, true),
            github_escape(&message, false)
        ));
    }
    out
}

/// GitHub's escaping for workflow command values and properties.
pub(crate) fn github_escape(text: &str, property: bool) -> String {
    let escaped = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        escaped.replace(':', "%3A").replace(',', "%2C")
    } else {
        escaped
    }
}

impl Diagnostic {
    /// `file:line:column`, or just the file when there is no position.
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.display().to_string()
        } else {
            format!("{}:{}:{}", self.file.display(), self.line, self.column)
        }
    }
}

/// A diagnostic with its source text, in the shape miette renders.
struct Shown<'a> {
    diagnostic: &'a Diagnostic,
    source: miette::NamedSource<String>,
}

impl std::fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.diagnostic
            .span
            .as_ref()
            .map(|_| &self.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.diagnostic.span.clone()?;
        let label = miette::LabeledSpan::at(span, "here");
        Some(Box::new(std::iter::once(label)))
    }
}

/// The last change to one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Blame {
    /// False for a line changed in the working tree and not committed yet.
    pub committed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The author date, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The first line of the commit message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The line goes back to where a shallow clone's history is cut off: `commit` is only
    /// the oldest commit the clone has, not the change, so no author or date is named.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub history_cut_off: bool,
}

impl Blame {
    pub(crate) fn uncommitted() -> Blame {
        Blame {
            committed: false,
            commit: None,
            author: None,
            date: None,
            summary: None,
            history_cut_off: false,
        }
    }

    /// A line a shallow clone cannot tell the history of: it is older than `boundary`.
    pub(crate) fn cut_off(boundary: &str) -> Blame {
        Blame {
            committed: true,
            commit: Some(boundary.to_string()),
            author: None,
            date: None,
            summary: None,
            history_cut_off: true,
        }
    }
}

impl std::fmt::Display for Blame {
    /// `3f2a1bc Jane Doe 2026-03-01`, or `not committed yet`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.history_cut_off {
            return f.write_str("unknown (shallow clone)");
        }
        match (&self.commit, self.committed) {
            (Some(commit), true) => write!(
                f,
                "{} {} {}",
                short_commit_id(commit),
                self.author.as_deref().unwrap_or("?"),
                self.date.as_deref().unwrap_or("")
            ),
            _ => f.write_str("not committed yet"),
        }
    }
}

impl Blame {
    /// `last changed in 3f2a1bc by Jane Doe on 2026-03-01`, `not committed yet`, or for a
    /// shallow clone's oldest commit that the history is not there to tell.
    pub fn sentence(&self) -> String {
        if self.history_cut_off {
            return format!(
                "who last changed it is unknown: this clone is shallow and its history stops at {} \
                 (fetch the full history, e.g. actions/checkout with `fetch-depth: 0`)",
                short_commit_id(self.commit.as_deref().unwrap_or("?"))
            );
        }
        match (&self.commit, self.committed) {
            (Some(commit), true) => format!(
                "last changed in {} by {} on {}",
                short_commit_id(commit),
                self.author.as_deref().unwrap_or("?"),
                self.date.as_deref().unwrap_or("?")
            ),
            _ => "not committed yet".to_string(),
        }
    }
}

/// An error's message followed by its causes, `a: b: c`: Tera's and other libraries' errors
/// keep the useful part (a template's line and column) in their sources.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// A commit's id as people quote it: its first seven hex digits.
pub fn short_commit_id(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one_in_characters() {
        let text = "a = 1\ntitle = \"é€x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        let x = text.find('x').unwrap();
        assert_eq!(line_column(text, x), (2, 12));
    }
}
