//! HTML mail as the text its author wrote. Mail clients that send only HTML mark quoted text
//! structurally rather than with `>`: a `<blockquote>`, Gmail's `gmail_quote` container and
//! Outlook's `divRplyFwdMsg` / `appendonsend` markers. Text inside a blockquote is left out, and
//! everything from a quote container on is left out, so the result can go through the same
//! authored-line rules as plain text.

/// The visible text of an HTML body outside quotes, one line per block element.
pub fn html_to_authored_text(html: &str) -> String {
    let mut output = String::with_capacity(html.len() / 2);
    let mut blockquote_depth = 0usize;
    let mut skipped_element: Option<&'static str> = None;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(open) = rest.find('<') else {
            push_text(&mut output, rest, blockquote_depth, skipped_element);
            break;
        };
        push_text(
            &mut output,
            &rest[..open],
            blockquote_depth,
            skipped_element,
        );
        rest = &rest[open..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(close) = rest.find('>') else {
            // A '<' that never closes is text, as browsers show it.
            push_text(&mut output, rest, blockquote_depth, skipped_element);
            break;
        };
        let tag = Tag::read(&rest[1..close]);
        rest = &rest[close + 1..];
        if let Some(skipped) = skipped_element {
            if tag.closing && tag.name == skipped {
                skipped_element = None;
            }
            continue;
        }
        match tag.name.as_str() {
            "style" | "script" | "head" | "title" if !tag.closing => {
                skipped_element = Some(match tag.name.as_str() {
                    "style" => "style",
                    "script" => "script",
                    "head" => "head",
                    _ => "title",
                });
            }
            "blockquote" => {
                if tag.closing {
                    blockquote_depth = blockquote_depth.saturating_sub(1);
                } else {
                    blockquote_depth += 1;
                }
                output.push('\n');
            }
            _ if !tag.closing && tag.starts_quoted_remainder() => break,
            "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "hr"
            | "pre" | "table" | "ul" | "ol" => output.push('\n'),
            _ => {}
        }
    }
    output
}

fn push_text(output: &mut String, text: &str, blockquote_depth: usize, skipped: Option<&str>) {
    if blockquote_depth > 0 || skipped.is_some() || text.is_empty() {
        return;
    }
    let decoded = html_escape::decode_html_entities(text);
    let mut last_was_space = output.ends_with([' ', '\n']) || output.is_empty();
    for character in decoded.chars() {
        if character.is_whitespace() {
            if !last_was_space {
                output.push(' ');
                last_was_space = true;
            }
        } else {
            output.push(character);
            last_was_space = false;
        }
    }
}

struct Tag {
    name: String,
    closing: bool,
    attributes: String,
}

impl Tag {
    fn read(inside: &str) -> Tag {
        let inside = inside.trim();
        let (closing, inside) = match inside.strip_prefix('/') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, inside),
        };
        let name_end = inside
            .find(|character: char| character.is_whitespace() || character == '/')
            .unwrap_or(inside.len());
        Tag {
            name: inside[..name_end].to_ascii_lowercase(),
            closing,
            attributes: inside[name_end..].to_ascii_lowercase(),
        }
    }

    /// Containers the clients put around the message being answered.
    fn starts_quoted_remainder(&self) -> bool {
        let markers = [
            "gmail_quote",
            "divrplyfwdmsg",
            "appendonsend",
            "moz-cite-prefix",
            "applemailquote",
            "yahoo_quoted",
        ];
        markers
            .iter()
            .any(|marker| self.attributes.contains(marker))
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
}
