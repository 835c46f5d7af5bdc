//! Every text field is made storable before it is written: a message that some database refuses
//! would otherwise fail every time it is tried, and a channel that retries it (the MTA behind
//! `ingest-mail`, the Matrix sync loop, the IMAP reader) would be stuck behind it for good.
//!
//! PostgreSQL's TEXT refuses the NUL character (a quoted-printable `=00` in a mail, a `\u0000` in
//! a Matrix event) and its unique indexes refuse keys longer than about 2,700 bytes (a 5,000
//! character Message-ID); SQLite takes both. So the rules are the same on both databases: NUL
//! becomes U+FFFD (the text still shows that something was there), text is cut at a length
//! bound on a character boundary, and an external ID too long for an index is replaced by a
//! stable hash of itself, so a redelivery of the same message still finds its first copy.

use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// The longest external ID (Matrix event ID, Message-ID) stored as it is. Matrix event IDs are
/// at most 255 bytes by the specification; RFC 5322 lines are at most 998 characters.
pub const EXTERNAL_ID_BYTES: usize = 512;

/// The longest message body stored: more than the commands of a message can fill (a Matrix
/// event is at most 64 KiB; a mail's command lines are bounded in number and length before they
/// get here, ten lines of the core's longest line fit many times over).
pub const BODY_BYTES: usize = 256 * 1024;

/// The longest short field (a sender, a group ID, a subject, a reason) stored.
pub const SHORT_FIELD_BYTES: usize = 2048;

/// The longest conversation (the room ID, or the JSON thread of a mail) stored. The mail adapter
/// bounds each part of a thread before it writes the JSON, so this is only a last guard.
pub const CONVERSATION_BYTES: usize = 64 * 1024;

/// Text with NUL replaced and cut to at most `max_bytes` bytes on a character boundary. The
/// replacement comes first: U+FFFD is three bytes where NUL was one, so cutting first could
/// leave the text over the bound.
pub fn storable_text(text: &str, max_bytes: usize) -> Cow<'_, str> {
    let replaced = if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    };
    if replaced.len() <= max_bytes {
        return replaced;
    }
    let mut end = max_bytes;
    while !replaced.is_char_boundary(end) {
        end -= 1;
    }
    match replaced {
        Cow::Borrowed(text) => Cow::Borrowed(&text[..end]),
        Cow::Owned(mut text) => {
            text.truncate(end);
            Cow::Owned(text)
        }
    }
}

/// A message body as it is stored: as [`storable_text`], but a body over the bound is cut at
/// the end of a line, so no command line is ever stored cut short (a cut line could read as
/// another, shorter command). Only a first line longer than the bound is cut inside, and it is
/// far over the core's length cap for a command line, so it is answered, not read.
pub fn storable_body(text: &str) -> Cow<'_, str> {
    if text.len() <= BODY_BYTES {
        return storable_text(text, BODY_BYTES);
    }
    let cut = storable_text(text, BODY_BYTES);
    match cut.rfind('\n') {
        Some(line_end) => Cow::Owned(cut[..line_end].to_string()),
        None => cut,
    }
}

/// An external ID as it is stored: as received when it is short and has no NUL, otherwise
/// `long-id:sha256:` and the SHA-256 of the ID as received. The same ID always gives the same
/// stored key, so deduplication holds for redelivered messages with such IDs too.
pub fn storable_external_id(id: &str) -> Cow<'_, str> {
    if id.len() <= EXTERNAL_ID_BYTES && !id.contains('\0') {
        return Cow::Borrowed(id);
    }
    Cow::Owned(format!(
        "long-id:sha256:{}",
        hex::encode(Sha256::digest(id.as_bytes()))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cleaned_and_bounded() {
        let cases: [(&str, usize, &str); 8] = [
            ("!ping", 100, "!ping"),
            // The replacement is three bytes where NUL was one: the bound still holds.
            ("ab\0\0", 4, "ab"),
            ("ab\0\0", 5, "ab\u{FFFD}"),
            ("!ping\0now", 100, "!ping\u{FFFD}now"),
            ("\0", 100, "\u{FFFD}"),
            ("abcdef", 3, "abc"),
            // "é" is two bytes: the cut never splits a character.
            ("aé", 2, "a"),
            ("", 0, ""),
        ];
        for (text, max_bytes, expected) in cases {
            assert_eq!(storable_text(text, max_bytes), expected, "{text:?}");
        }
    }

    #[test]
    fn a_long_body_is_cut_between_lines() {
        let line = format!("!respond R-1 support-with-comments {}", "x".repeat(1000));
        let body = vec![line.as_str(); BODY_BYTES / line.len() + 5].join("\n");
        let stored = storable_body(&body);
        assert!(stored.len() <= BODY_BYTES);
        assert!(stored.lines().all(|stored_line| stored_line == line));
        let short = "!ping\n!status R-1";
        assert_eq!(storable_body(short), short);
        let one_long_line = "x".repeat(BODY_BYTES + 10);
        assert_eq!(storable_body(&one_long_line).len(), BODY_BYTES);
    }

    #[test]
    fn long_or_nul_ids_become_a_stable_hash() {
        let short = "<a@example.org>";
        assert_eq!(storable_external_id(short), short);
        let long = format!("<{}@example.org>", "x".repeat(5000));
        let first = storable_external_id(&long).into_owned();
        assert!(first.starts_with("long-id:sha256:"), "{first}");
        assert!(first.len() <= EXTERNAL_ID_BYTES);
        assert_eq!(storable_external_id(&long), first, "stable across calls");
        assert_ne!(
            storable_external_id(&format!("<{}@example.org>", "y".repeat(5000))),
            first
        );
        assert!(storable_external_id("$a\0b").starts_with("long-id:sha256:"));
        let at_bound = "i".repeat(EXTERNAL_ID_BYTES);
        assert_eq!(storable_external_id(&at_bound), at_bound);
    }
}
