//! HTML mail as the text its author wrote, read the way a mail client shows it. The body is
//! parsed by html5ever (the HTML standard's parser, through [`super::html_tree`]), so a `>` in
//! a quoted attribute, an entity, a comment or a misnested tag is read as a browser reads it, and
//! only text a reader sees becomes text: never an attribute's value, nor the content of `head`,
//! `style`, `script`, `title` or `template`, nor an element hidden with `display:none` or
//! `hidden`.
//!
//! Mail clients that send only HTML mark quoted text structurally rather than with `>`: a
//! `<blockquote>` (Apple Mail's `type="cite"`), Gmail's `gmail_quote` container, Thunderbird's
//! `moz-cite-prefix` attribution, Outlook's `divRplyFwdMsg` / `appendonsend` markers and the
//! `border-top` rule Outlook draws above the header block of the message it answers. Text inside
//! a blockquote is left out, and everything from a quote container on is left out, so the result
//! can go through the same authored-line rules as plain text. Block elements and `<br>` become
//! line breaks.

use super::html_tree::{Handle, NodeKind, parse_html};

/// The visible text of an HTML body outside quotes, one line per block element.
pub fn html_to_authored_text(html: &str) -> String {
    let document = parse_html(html);
    let mut text = VisibleText::default();
    // The tree is walked with a stack of its own, not by recursion: nesting depth is chosen by
    // whoever wrote the mail.
    let mut pending = vec![Step::Enter(document)];
    while let Some(step) = pending.pop() {
        let node = match step {
            Step::Leave {
                block,
                preformatted,
            } => {
                if preformatted {
                    text.preformatted_depth = text.preformatted_depth.saturating_sub(1);
                }
                if block {
                    text.line_break();
                }
                continue;
            }
            Step::Enter(node) => node,
        };
        match &node.kind {
            NodeKind::Text(content) => text.push(&content.borrow()),
            NodeKind::Hidden => {}
            NodeKind::Document => push_children(&mut pending, &node),
            NodeKind::Element { .. } => {
                let name = node.local_name();
                if NOT_SHOWN.contains(&name) || is_hidden(&node) {
                    continue;
                }
                if starts_quoted_remainder(&node) {
                    break;
                }
                match name {
                    "br" => text.line_break(),
                    // The quoted message: a line break where it was, nothing of its text.
                    "blockquote" => text.line_break(),
                    _ => {
                        let block = BLOCKS.contains(&name);
                        let preformatted = name == "pre" || name == "textarea";
                        if block {
                            text.line_break();
                        }
                        if preformatted {
                            text.preformatted_depth += 1;
                        }
                        pending.push(Step::Leave {
                            block,
                            preformatted,
                        });
                        push_children(&mut pending, &node);
                    }
                }
            }
        }
    }
    text.output
}

enum Step {
    Enter(Handle),
    Leave { block: bool, preformatted: bool },
}

fn push_children(pending: &mut Vec<Step>, node: &Handle) {
    pending.extend(
        node.children
            .borrow()
            .iter()
            .rev()
            .cloned()
            .map(Step::Enter),
    );
}

/// Elements whose content no mail client shows as the message.
const NOT_SHOWN: &[&str] = &[
    "head", "title", "style", "script", "template", "object", "iframe", "svg", "math",
];

/// Elements shown on lines of their own.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "tr",
    "li",
    "dt",
    "dd",
    "dl",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "pre",
    "table",
    "ul",
    "ol",
    "address",
    "article",
    "aside",
    "center",
    "details",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "main",
    "nav",
    "section",
    "summary",
    "textarea",
    "caption",
];

/// An element the author's client hid: `hidden`, or a style that does not display it (HTML mail
/// often carries an invisible preview line, which no reader sees in the message).
fn is_hidden(node: &Handle) -> bool {
    if node.attribute("hidden").is_some() {
        return true;
    }
    let style = compact_style(node);
    ["display:none", "visibility:hidden", "mso-hide:all"]
        .iter()
        .any(|rule| style.contains(rule))
}

/// The style attribute in lower case without white space, so rules compare as written.
fn compact_style(node: &Handle) -> String {
    node.attribute("style")
        .unwrap_or_default()
        .chars()
        .filter(|character| !character.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The containers the clients put around the message being answered: from one of them on,
/// nothing is the author's.
fn starts_quoted_remainder(node: &Handle) -> bool {
    const MARKERS: &[&str] = &[
        "gmail_quote",
        "divrplyfwdmsg",
        "appendonsend",
        "moz-cite-prefix",
        "applemailquote",
        "yahoo_quoted",
        "protonmail_quote",
        "stopspelling",
        // The new Outlook (Windows, Mac and web) and Outlook for iOS and Android.
        "mail-editor-reference-message-container",
        "ms-outlook-mobile-body-separator-line",
    ];
    let named = ["class", "id"].iter().any(|attribute| {
        node.attribute(attribute).is_some_and(|value| {
            let value = value.to_lowercase();
            MARKERS.iter().any(|marker| value.contains(marker))
        })
    });
    // Outlook on Windows draws a rule above the header block (From, Sent, To, Subject) of the
    // message being answered: a div with no border but a solid top one.
    let outlook_rule = node.local_name() == "div" && {
        let style = compact_style(node);
        style.contains("border:none") && style.contains("border-top:solid")
    };
    named || outlook_rule
}

/// The text as it builds up: runs of white space are one space (as a browser shows them),
/// except in preformatted elements, and no line starts with a space.
#[derive(Default)]
struct VisibleText {
    output: String,
    preformatted_depth: usize,
}

impl VisibleText {
    fn line_break(&mut self) {
        if self.output.ends_with(' ') {
            self.output.pop();
        }
        self.output.push('\n');
    }

    fn push(&mut self, text: &str) {
        if self.preformatted_depth > 0 {
            self.output.push_str(&text.replace("\r\n", "\n"));
            return;
        }
        let mut last_was_space = self.output.is_empty() || self.output.ends_with([' ', '\n']);
        for character in text.chars() {
            // A no-break space is shown as a space; it separates words like one.
            if character.is_whitespace() {
                if !last_was_space {
                    self.output.push(' ');
                    last_was_space = true;
                }
            } else {
                self.output.push(character);
                last_was_space = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(html: &str) -> Vec<String> {
        html_to_authored_text(html)
            .lines()
            .map(|line| line.trim().to_string())
            .filter(|line| !line.is_empty())
            .collect()
    }

    #[test]
    fn blocks_become_lines_and_quotes_are_left_out() {
        let cases: &[(&str, &[&str])] = &[
            (
                "<div>!whoami</div><div>thanks</div>",
                &["!whoami", "thanks"],
            ),
            ("<p>!ping<br>x &amp; y&nbsp;z</p>", &["!ping", "x & y z"]),
            (
                "!ping<blockquote>!roster<blockquote>deep</blockquote></blockquote>after",
                &["!ping", "after"],
            ),
            (
                "<div dir=ltr>!ping</div><div class=\"gmail_quote\">On x wrote:<blockquote>!roster</blockquote></div>",
                &["!ping"],
            ),
            (
                "<p>!ping</p><div id=\"divRplyFwdMsg\"><b>From:</b> x</div><p>!roster</p>",
                &["!ping"],
            ),
            (
                "<head><title>!roster</title><style>p{}</style></head><body>!ping</body>",
                &["!ping"],
            ),
            ("<!-- !roster -->!ping", &["!ping"]),
            ("a < b and no close", &["a < b and no close"]),
            ("<", &["<"]),
            ("<p\n class=x>  spaced\n   words </p>", &["spaced words"]),
        ];
        for (html, expected) in cases {
            assert_eq!(&lines(html), expected, "for {html:?}");
        }
    }

    /// What the hand-written tag scanner got wrong: it ended a tag at the first `>`, even inside
    /// a quoted attribute, so an attribute's text became a command and a shown command was lost.
    #[test]
    fn only_what_a_reader_sees_is_text() {
        let cases: &[(&str, &[&str])] = &[
            // An attribute's value is never text, whatever it holds.
            ("<a title=\"x > !roster\">!ping</a>", &["!ping"]),
            ("<img alt='>\n!roster'><p>!ping</p>", &["!ping"]),
            // A command the reader sees is not lost to a `>` or a tag inside an attribute.
            ("<div class=\"x>y\">!ping</div>", &["!ping"]),
            ("<a title=\"<b>\">!ping</a>", &["!ping"]),
            ("<p title='<style>'>!ping</p><p>ok</p>", &["!ping", "ok"]),
            // Raw text elements end only at their own end tag.
            (
                "<style>a[title=\"</p>\"]{}</style><script>if (a<b) x='!roster'</script>!ping",
                &["!ping"],
            ),
            // Text a client hides is not the message.
            (
                "<div style=\"display: none\">!roster</div><span hidden>!whoami</span>!ping",
                &["!ping"],
            ),
            // Entities, named and numeric, and a no-break space before the argument.
            (
                "<p>&#33;roster&nbsp;GAC &lt;ok&gt; &eacute;t&#xE9;</p>",
                &["!roster GAC <ok> été"],
            ),
            // Preformatted text keeps its lines.
            ("<pre>!ping\n!roster</pre>", &["!ping", "!roster"]),
            // Misnested and unclosed tags are read as a browser reads them.
            ("<p><b>!ping<p>!roster</b>", &["!ping", "!roster"]),
            // A comment that never closes hides what follows, as in a browser.
            ("!ping<!-- !roster", &["!ping"]),
            // Quote containers as the clients write them.
            (
                "<p>!ping</p><div class=\"moz-cite-prefix\">On 1/12 Ana wrote:<br></div><blockquote type=\"cite\">!roster</blockquote>",
                &["!ping"],
            ),
            (
                "<p class=MsoNormal>!ping<o:p></o:p></p><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p><b>From:</b> bot</p></div><p>!roster</p>",
                &["!ping"],
            ),
            (
                "<div>!ping</div><hr style=\"display:inline-block;width:98%\" tabindex=\"-1\"><div id=\"divRplyFwdMsg\" dir=\"ltr\">From: x</div>",
                &["!ping"],
            ),
            (
                "<div>!ping</div><div id=\"mail-editor-reference-message-container\"><div>!roster</div></div>",
                &["!ping"],
            ),
        ];
        for (html, expected) in cases {
            assert_eq!(&lines(html), expected, "for {html:?}");
        }
    }

    /// The tree builder's work grows with the square of the depth (100,000 nested `div`s took
    /// half an hour): what is nested deeper than `MOST_DEPTH` is not read, and the parser stops
    /// there, so this test takes moments.
    #[test]
    fn deep_nesting_is_cut_off_without_exhausting_time_or_stack() {
        let depth = 100_000;
        let html = format!(
            "!ping{}!roster{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        assert_eq!(lines(&html), ["!ping"]);
        let quotes = format!("!ping{}", "<blockquote>".repeat(depth));
        assert_eq!(lines(&quotes), ["!ping"]);
        // Nesting as deep as real mail gets is read whole.
        let usual = format!("{}!ping{}", "<div>".repeat(100), "</div>".repeat(100));
        assert_eq!(lines(&usual), ["!ping"]);
    }
}
