//! A reply is built as a small document and rendered twice: as plain text (the canonical form,
//! used in tests, mail text parts and Matrix `body`) and as HTML (Matrix `formatted_body`, mail
//! HTML parts). Keeping one model means the two renderings cannot drift apart, and escaping happens
//! in exactly one place: every piece of text that enters a document is escaped when it is rendered
//! as HTML, so no user text can reach HTML unescaped.

use serde::{Deserialize, Serialize};

/// One inline piece of a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Span {
    Text(String),
    Strong(String),
    Code(String),
    /// A web address, shown as itself; a link in HTML only when it is an `http(s)://` address,
    /// so no other scheme (`javascript:`) can become one.
    Link(String),
}

/// One block of a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    /// A line of text.
    Line(Vec<Span>),
    /// A bulleted list; each item is a line.
    List(Vec<Vec<Span>>),
    /// Preformatted text, such as a syntax summary.
    Preformatted(String),
}

/// A complete reply, rendered to plain text and HTML by [`ReplyDocument::plain_text`] and
/// [`ReplyDocument::html`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyDocument {
    pub blocks: Vec<Block>,
}

/// Builds a line from spans with less noise at call sites.
#[derive(Debug, Default, Clone)]
pub struct LineBuilder {
    spans: Vec<Span>,
}

impl LineBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.spans.push(Span::Text(text.into()));
        self
    }
    pub fn strong(mut self, text: impl Into<String>) -> Self {
        self.spans.push(Span::Strong(text.into()));
        self
    }
    pub fn code(mut self, text: impl Into<String>) -> Self {
        self.spans.push(Span::Code(text.into()));
        self
    }
    pub fn link(mut self, url: impl Into<String>) -> Self {
        self.spans.push(Span::Link(url.into()));
        self
    }
    pub fn build(self) -> Vec<Span> {
        self.spans
    }
}

impl ReplyDocument {
    pub fn new() -> Self {
        Self::default()
    }

    /// A reply made of a single line of plain text.
    pub fn from_text(text: impl Into<String>) -> Self {
        let mut document = Self::new();
        document.push_line(LineBuilder::new().text(text));
        document
    }

    pub fn push_line(&mut self, line: LineBuilder) -> &mut Self {
        self.blocks.push(Block::Line(line.build()));
        self
    }

    pub fn push_list(&mut self, items: Vec<LineBuilder>) -> &mut Self {
        if !items.is_empty() {
            self.blocks.push(Block::List(
                items.into_iter().map(LineBuilder::build).collect(),
            ));
        }
        self
    }

    pub fn push_preformatted(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Preformatted(text.into()));
        self
    }

    /// The plain-text rendering: one line per line block, list items prefixed with "- ",
    /// preformatted blocks indented by four spaces.
    pub fn plain_text(&self) -> String {
        let mut lines: Vec<String> = Vec::new();
        for block in &self.blocks {
            match block {
                Block::Line(spans) => lines.push(plain_spans(spans)),
                Block::List(items) => {
                    for item in items {
                        lines.push(format!("- {}", plain_spans(item)));
                    }
                }
                Block::Preformatted(text) => {
                    for line in text.lines() {
                        lines.push(format!("    {line}"));
                    }
                }
            }
        }
        lines.join("\n")
    }

    /// The HTML rendering, with every piece of text escaped.
    pub fn html(&self) -> String {
        let mut html = String::new();
        let mut first_line = true;
        for block in &self.blocks {
            match block {
                Block::Line(spans) => {
                    if !first_line {
                        html.push_str("<br>\n");
                    }
                    html.push_str(&html_spans(spans));
                    first_line = false;
                }
                Block::List(items) => {
                    html.push_str("\n<ul>\n");
                    for item in items {
                        html.push_str("<li>");
                        html.push_str(&html_spans(item));
                        html.push_str("</li>\n");
                    }
                    html.push_str("</ul>\n");
                    first_line = true;
                }
                Block::Preformatted(text) => {
                    html.push_str("\n<pre><code>");
                    html.push_str(&escape_html(text));
                    html.push_str("</code></pre>\n");
                    first_line = true;
                }
            }
        }
        html.trim().to_string()
    }
}

fn plain_spans(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|span| match span {
            Span::Text(text) | Span::Strong(text) | Span::Link(text) => text.clone(),
            Span::Code(text) => format!("`{text}`"),
        })
        .collect()
}

fn html_spans(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|span| match span {
            Span::Text(text) => escape_html(text),
            Span::Strong(text) => format!("<strong>{}</strong>", escape_html(text)),
            Span::Code(text) => format!("<code>{}</code>", escape_html(text)),
            Span::Link(url) if is_web_address(url) => {
                format!("<a href=\"{0}\">{0}</a>", escape_html(url))
            }
            Span::Link(text) => escape_html(text),
        })
        .collect()
}

/// Whether a link may point at this address: `http://` or `https://` with no space, control
/// character or quote in it.
fn is_web_address(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'))
}

/// Escapes text for any HTML context used here (element content and double-quoted attributes).
pub fn escape_html(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped_in_every_kind_of_span() {
        let hostile = "<script>alert('x')</script> & \"@room\"";
        let mut document = ReplyDocument::new();
        document.push_line(
            LineBuilder::new()
                .text(hostile)
                .strong(hostile)
                .code(hostile),
        );
        document.push_list(vec![LineBuilder::new().text(hostile)]);
        document.push_preformatted(hostile);
        let html = document.html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("\"@room\""), "{html}");
    }

    #[test]
    fn only_web_addresses_become_links_and_every_link_is_escaped() {
        let cases = [
            (
                "https://example.org/record/tg/meetings/m-1.html",
                "<a href=\"https:",
            ),
            ("javascript:alert(1)", "javascript:alert(1)"),
            ("JAVASCRIPT:alert(1)", "JAVASCRIPT:alert(1)"),
            ("https://x.org/\"onmouseover=\"alert(1)", "https:"),
            ("data:text/html,<script>", "data:text/html,&lt;script&gt;"),
        ];
        for (url, expected) in cases {
            let mut document = ReplyDocument::new();
            document.push_line(LineBuilder::new().text("See ").link(url));
            let html = document.html();
            assert!(html.contains(expected), "{url}: {html}");
            assert_eq!(document.plain_text(), format!("See {url}"));
            let is_link = html.contains("<a ");
            assert_eq!(
                is_link,
                url.starts_with("https://example.org"),
                "{url}: {html}"
            );
            assert!(!html.contains("<script"), "{html}");
        }
    }

    #[test]
    fn plain_text_renders_lists_and_code() {
        let mut document = ReplyDocument::new();
        document.push_line(LineBuilder::new().text("Use ").code("!help").text("."));
        document.push_list(vec![
            LineBuilder::new().text("one"),
            LineBuilder::new().strong("two"),
        ]);
        document.push_preformatted("!roster [organization]");
        assert_eq!(
            document.plain_text(),
            "Use `!help`.\n- one\n- two\n    !roster [organization]"
        );
    }

    #[test]
    fn html_separates_lines_and_wraps_lists() {
        let mut document = ReplyDocument::new();
        document.push_line(LineBuilder::new().text("a"));
        document.push_line(LineBuilder::new().strong("b"));
        document.push_list(vec![LineBuilder::new().code("c")]);
        assert_eq!(
            document.html(),
            "a<br>\n<strong>b</strong>\n<ul>\n<li><code>c</code></li>\n</ul>"
        );
    }
}
