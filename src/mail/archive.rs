//! A list message as the public archive shows it: who wrote it (a name, or an address with its
//! local part hidden), when, what it answers, its text with quoted passages set apart (to be
//! folded), and its attachments by name and size (listed, never served). Pure: raw bytes in,
//! the archived view out; every address in it is obfuscated, and the site escapes all of it.

use super::examine::message_ids;
use mail_parser::{MessageParser, MimeHeaders};
use serde::{Deserialize, Serialize};

/// A passage of a message's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Passage {
    /// Lines the author wrote.
    Text(String),
    /// Consecutive lines quoted with `>`: shown folded.
    Quote(String),
    /// A message sent as HTML only, as [`sanitized_html`] leaves it: a few text elements, links
    /// to web addresses, nothing that runs, loads or styles.
    Html(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub size_bytes: usize,
}

/// One message of the list archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedMessage {
    /// With angle brackets, as the mail gave it (or the stable ID derived for one without).
    pub message_id: String,
    pub subject: String,
    /// The author's display name, else the address with its local part hidden.
    pub author: String,
    pub date_ms: Option<i64>,
    /// The message this one answers: In-Reply-To, else the last of References.
    pub parent: Option<String>,
    pub passages: Vec<Passage>,
    pub attachments: Vec<Attachment>,
}

/// How much text of one message the archive keeps.
const MOST_TEXT_BYTES: usize = 256 * 1024;

/// "ana.lima@example.org" → "a…@example.org": enough to tell people apart, not to harvest.
pub fn obfuscate_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => address.to_string(),
    }
}

/// Hides the local part of every address-like word in a text.
pub fn obfuscate_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let mut first = true;
        for word in line.split(' ') {
            if !first {
                out.push(' ');
            }
            first = false;
            let trimmed = word.trim_matches(|c: char| "<>()[],;:\"'".contains(c));
            let looks_like_address = trimmed.contains('@')
                && trimmed.split('@').count() == 2
                && trimmed.split('@').all(|part| !part.is_empty())
                && trimmed
                    .rsplit('@')
                    .next()
                    .is_some_and(|domain| domain.contains('.'));
            if looks_like_address {
                out.push_str(&word.replacen(trimmed, &obfuscate_address(trimmed), 1));
            } else {
                out.push_str(word);
            }
        }
    }
    out
}

/// Splits text into passages: runs of `>`-quoted lines apart from the rest.
pub fn passages(text: &str) -> Vec<Passage> {
    let mut passages: Vec<Passage> = Vec::new();
    for line in text.lines() {
        let quoted = line.trim_start().starts_with('>');
        match (passages.last_mut(), quoted) {
            (Some(Passage::Quote(lines)), true) | (Some(Passage::Text(lines)), false) => {
                lines.push('\n');
                lines.push_str(line);
            }
            _ => passages.push(if quoted {
                Passage::Quote(line.to_string())
            } else {
                Passage::Text(line.to_string())
            }),
        }
    }
    passages
        .into_iter()
        .filter(|passage| match passage {
            Passage::Text(text) | Passage::Quote(text) | Passage::Html(text) => {
                !text.trim().is_empty()
            }
        })
        .collect()
}

/// The HTML a mail may keep in the archive, made with ammonia (the kept sanitizer, on the
/// html5ever parser browsers agree with): text structure only (paragraphs, lists, emphasis,
/// quotes, code, tables) and links to `http`/`https` addresses marked `nofollow noopener`.
/// Everything else goes: scripts and styles with their content, event-handler and `style`
/// attributes, images (a public archive must not make its readers load a sender's tracker),
/// forms, frames, `javascript:` and `data:` URLs. Addresses in the text are obfuscated as in a
/// plain-text mail, and the result is sanitized once more, so that nothing the obfuscation did
/// can undo the first pass.
pub fn sanitized_html(html: &str) -> String {
    // Made once: the import sanitizes every HTML-only message, twice.
    static SANITIZER: std::sync::LazyLock<ammonia::Builder<'static>> =
        std::sync::LazyLock::new(|| {
            let mut builder = ammonia::Builder::empty();
            builder
                .tags(ALLOWED_TAGS.iter().copied().collect())
                .add_tag_attributes("a", &["href"])
                .add_tag_attributes("td", &["colspan", "rowspan"])
                .add_tag_attributes("th", &["colspan", "rowspan"])
                .url_schemes(["http", "https"].into_iter().collect())
                .url_relative(ammonia::UrlRelative::Deny)
                .link_rel(Some("nofollow noopener noreferrer"));
            builder
        });
    let clean = |html: &str| SANITIZER.clean(html).to_string();
    clean(&obfuscate_text(&clean(html)))
}

/// The elements an archived HTML mail may keep.
const ALLOWED_TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
];

/// The archive's view of a raw message; `None` for bytes that are not a message. The text is
/// the plain-text part; a message sent as HTML only keeps its HTML as [`sanitized_html`]
/// leaves it.
pub fn archive_view(raw: &[u8], message_id: &str) -> Option<ArchivedMessage> {
    let message = MessageParser::default().parse(raw)?;
    Some(view_of(&message, message_id.to_string()))
}

/// The archive's view of a raw message under its own Message-ID, or an ID derived from its
/// bytes when it has none ([`derived_message_id`]): the importer's, parsing each message once.
pub fn archive_view_by_own_id(raw: &[u8]) -> Option<ArchivedMessage> {
    let message = MessageParser::default().parse(raw)?;
    let message_id = message
        .message_id()
        .map(|id| format!("<{}>", id.trim_matches(['<', '>'])))
        .unwrap_or_else(|| derived_message_id(raw));
    Some(view_of(&message, message_id))
}

/// A stable Message-ID for a message without one: a hash of its bytes, so the same message
/// imported twice is the same archive row.
pub fn derived_message_id(raw: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "<{}@derived.invalid>",
        hex::encode(&Sha256::digest(raw)[..16])
    )
}

fn view_of(message: &mail_parser::Message, message_id: String) -> ArchivedMessage {
    let from = message.from().and_then(|from| from.first());
    let author = match from {
        Some(addr) => match (addr.name(), addr.address()) {
            (Some(name), _) if !name.trim().is_empty() => obfuscate_text(name.trim()),
            (_, Some(address)) => obfuscate_address(address),
            _ => "unknown".to_string(),
        },
        None => "unknown".to_string(),
    };
    let html_only = message.text_part(0).is_some_and(|part| part.is_text_html());
    let mut text = if html_only {
        message.body_html(0)
    } else {
        message.body_text(0)
    }
    .map(|text| text.into_owned())
    .unwrap_or_default();
    if text.len() > MOST_TEXT_BYTES {
        let mut cut = MOST_TEXT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[the rest of this message is not archived: it is too long]");
    }
    let parent = message_ids(message.in_reply_to())
        .into_iter()
        .next()
        .or_else(|| message_ids(message.references()).pop());
    let attachments = message
        .attachments()
        .map(|part| Attachment {
            name: obfuscate_text(part.attachment_name().unwrap_or("unnamed")),
            size_bytes: part.contents().len(),
        })
        .collect();
    ArchivedMessage {
        message_id,
        subject: crate::mail::examine::one_line(message.subject().unwrap_or("(no subject)")),
        author,
        date_ms: message.date().map(|date| date.to_timestamp() * 1000),
        parent,
        passages: if html_only {
            vec![Passage::Html(sanitized_html(&text))]
        } else {
            passages(&obfuscate_text(&text))
        },
        attachments,
    }
}

/// The stable page name of a message, derived from its Message-ID: the same ID gives the same
/// permalink in every publication.
pub fn permalink_name(message_id: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(message_id.as_bytes())[..8])
}

/// What the thread index needs of a message, without its text: read from an archive row
/// (whose other fields are skipped), so that the whole archive's threads are computed with a
/// small part of its size in memory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArchiveHeader {
    pub message_id: String,
    pub subject: String,
    pub author: String,
    pub date_ms: Option<i64>,
    pub parent: Option<String>,
}

impl From<&ArchivedMessage> for ArchiveHeader {
    fn from(message: &ArchivedMessage) -> ArchiveHeader {
        ArchiveHeader {
            message_id: message.message_id.clone(),
            subject: message.subject.clone(),
            author: message.author.clone(),
            date_ms: message.date_ms,
            parent: message.parent.clone(),
        }
    }
}

/// The archive's threads: each message with those that answer it, directly or not, under the
/// first message of the thread the archive holds; threads with the latest message first,
/// messages in each by date.
pub fn threads(messages: &[ArchiveHeader]) -> Vec<Vec<&ArchiveHeader>> {
    use std::collections::HashMap;
    let by_id: HashMap<&str, &ArchiveHeader> = messages
        .iter()
        .map(|message| (message.message_id.as_str(), message))
        .collect();
    // The root is the first message up the chain of parents the archive holds; in a loop of
    // In-Reply-To headers (which senders choose) it is the loop's least ID, the same for all.
    let root_of = |message: &ArchiveHeader| -> String {
        let mut visited: Vec<&str> = vec![message.message_id.as_str()];
        let mut current = message;
        while let Some(parent) = current
            .parent
            .as_deref()
            .and_then(|parent| by_id.get(parent))
        {
            if visited.contains(&parent.message_id.as_str()) {
                return visited
                    .iter()
                    .min()
                    .map(|id| id.to_string())
                    .unwrap_or_default();
            }
            visited.push(parent.message_id.as_str());
            current = parent;
        }
        current.message_id.clone()
    };
    let mut grouped: HashMap<String, Vec<&ArchiveHeader>> = HashMap::new();
    for message in messages {
        grouped.entry(root_of(message)).or_default().push(message);
    }
    let mut threads: Vec<Vec<&ArchiveHeader>> = grouped.into_values().collect();
    for thread in &mut threads {
        thread.sort_by(|a, b| {
            a.date_ms
                .cmp(&b.date_ms)
                .then(a.message_id.cmp(&b.message_id))
        });
    }
    threads.sort_by(|a, b| {
        let latest = |thread: &Vec<&ArchiveHeader>| thread.iter().filter_map(|m| m.date_ms).max();
        latest(b)
            .cmp(&latest(a))
            .then_with(|| a[0].message_id.cmp(&b[0].message_id))
    });
    threads
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, parent: Option<&str>, date_ms: i64) -> ArchiveHeader {
        ArchiveHeader {
            message_id: id.into(),
            subject: id.into(),
            author: "A".into(),
            date_ms: Some(date_ms),
            parent: parent.map(String::from),
        }
    }

    #[test]
    fn replies_join_their_thread_even_when_a_message_between_is_missing_or_loops() {
        let messages = [
            message("<a>", None, 1),
            message("<b>", Some("<a>"), 2),
            message("<c>", Some("<b>"), 5),
            message("<d>", None, 3),
            // Its parent never reached the archive: a thread of its own.
            message("<e>", Some("<gone>"), 4),
            // Two messages naming each other.
            message("<x>", Some("<y>"), 6),
            message("<y>", Some("<x>"), 7),
        ];
        let threads: Vec<Vec<&str>> = threads(&messages)
            .into_iter()
            .map(|thread| thread.iter().map(|m| m.message_id.as_str()).collect())
            .collect();
        assert_eq!(threads.len(), 4, "{threads:?}");
        assert_eq!(threads[1], ["<a>", "<b>", "<c>"]);
        assert!(threads.contains(&vec!["<d>"]) && threads.contains(&vec!["<e>"]));
        assert_eq!(permalink_name("<a>"), permalink_name("<a>"));
        assert_eq!(permalink_name("<a>").len(), 16);
    }

    #[test]
    fn html_mail_keeps_its_text_structure_and_nothing_that_runs_loads_or_styles() {
        let cases = [
            (
                "<p>Shall we <b>adopt</b> it?</p>",
                "<p>Shall we <b>adopt</b> it?</p>",
            ),
            ("<script>alert(1)</script>after", "after"),
            ("<img src=x onerror=alert(2)>text", "text"),
            (
                "<a href=\"javascript:alert(3)\">vote</a>",
                "<a rel=\"nofollow noopener noreferrer\">vote</a>",
            ),
            (
                "<a href=\"https://example.org/d\" onclick=\"x()\">draft</a>",
                "<a href=\"https://example.org/d\" rel=\"nofollow noopener noreferrer\">draft</a>",
            ),
            ("<p style=\"color:red\">red</p>", "<p>red</p>"),
            (
                "<style>p{}</style><iframe src=\"https://x\"></iframe>ok",
                "ok",
            ),
            ("<form><input value=1></form>x", "x"),
            (
                "<p>mail ana.lima@example.org</p>",
                "<p>mail a…@example.org</p>",
            ),
            ("&lt;script&gt;", "&lt;script&gt;"),
        ];
        for (html, expected) in cases {
            assert_eq!(sanitized_html(html), expected, "{html}");
        }
    }

    proptest::proptest! {
        /// Whatever the sender wrote, what the archive keeps parses (as a browser parses it)
        /// into allowed elements only, with no attribute but a web link's and a table cell's.
        #[test]
        fn sanitized_html_holds_only_allowed_elements_and_attributes(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "<script>", "</script>", "<img src=x onerror=y>", "<a href=\"javascript:x\">",
                "<a href='https://e.org/'>", "</a>", "<p>", "</p>", "<svg onload=x>", "\"", "'",
                "<", ">", "&", "a@b.org", "text ", "<style>", "<!--", "-->", "<![CDATA[",
                "<td colspan=2 onmouseover=x>", "<math>", "<iframe>", "=", "<b", " on",
            ]), 0..24)
        ) {
            use crate::mail::html_tree::{NodeKind, parse_html};
            let html = sanitized_html(&pieces.concat());
            let mut pending = vec![parse_html(&html)];
            while let Some(node) = pending.pop() {
                if let NodeKind::Element { attributes, .. } = &node.kind {
                    let name = node.local_name().to_string();
                    proptest::prop_assert!(
                        !["script", "img", "svg", "style", "iframe", "math", "form"]
                            .contains(&name.as_str()),
                        "<{}> in {}", name, html
                    );
                    for attribute in attributes.borrow().iter() {
                        let attribute_name = attribute.name.local.to_string();
                        proptest::prop_assert!(
                            ["href", "rel", "colspan", "rowspan"].contains(&attribute_name.as_str()),
                            "{} in {}", attribute_name, html
                        );
                        if attribute_name == "href" {
                            proptest::prop_assert!(
                                attribute.value.starts_with("http"),
                                "{} in {}", &*attribute.value, html
                            );
                        }
                    }
                }
                pending.extend(node.children.borrow().iter().cloned());
            }
        }
    }

    #[test]
    fn addresses_are_hidden_in_names_and_text() {
        let cases = [
            ("ana.lima@example.org", "a…@example.org"),
            (
                "Write to <ana.lima@example.org>, please",
                "Write to <a…@example.org>, please",
            ),
            ("no address @ here", "no address @ here"),
            ("user@localhost is local", "user@localhost is local"),
        ];
        for (text, expected) in cases {
            assert_eq!(obfuscate_text(text), expected, "{text}");
        }
    }

    #[test]
    fn a_reply_is_read_with_its_parent_quote_and_attachment() {
        let raw = b"From: Ana Lima <ana.lima@example.org>\r\n\
Subject: Re: [CIP-CCG] Budget\r\n\
Message-ID: <b@example.org>\r\n\
In-Reply-To: <a@example.org>\r\n\
References: <root@example.org> <a@example.org>\r\n\
Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\
\r\n\
--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Agreed, see <script>x</script>.\r\n\
Mail kwame@example.org for the rest.\r\n\
\r\n\
> Shall we adopt it?\r\n\
> -- Kwame\r\n\
--b\r\n\
Content-Type: application/pdf; name=\"draft.pdf\"\r\n\
Content-Disposition: attachment; filename=\"draft.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
SGVsbG8=\r\n\
--b--\r\n";
        let archived = archive_view(raw, "<b@example.org>").expect("a message");
        assert_eq!(archived.author, "Ana Lima");
        assert_eq!(archived.parent.as_deref(), Some("<a@example.org>"));
        assert_eq!(archived.subject, "Re: [CIP-CCG] Budget");
        assert_eq!(
            archived.passages,
            [
                Passage::Text(
                    "Agreed, see <script>x</script>.\nMail k…@example.org for the rest.\n".into()
                ),
                Passage::Quote("> Shall we adopt it?\n> -- Kwame".into()),
            ]
        );
        assert_eq!(
            archived.attachments,
            [Attachment {
                name: "draft.pdf".into(),
                size_bytes: 5
            }]
        );
    }
}
