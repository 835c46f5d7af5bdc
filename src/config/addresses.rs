//! Checks for the addresses a config file may contain. Matrix identifiers get a deliberately
//! simple shape check that catches typos (a missing `@` or server name, a stray space).
//!
//! Email addresses are checked with the parser that sending uses (lettre's `Address`), so that
//! no address passes `check-config` and then fails when the bot sends to it, and with the
//! comparison of [`crate::core::email_address`], so that no address is accepted that could
//! never be recognised as its owner's (a non-ASCII local part, a domain imitating ASCII).

use crate::core::email_address::comparable_email;

fn is_server_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || ".-:[]".contains(character))
}

/// `@localpart:server.name`
pub fn is_matrix_user_id(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('@') else {
        return false;
    };
    let Some((localpart, server)) = rest.split_once(':') else {
        return false;
    };
    !localpart.is_empty()
        && localpart
            .chars()
            .all(|character| character.is_ascii_graphic() && character != ':')
        && is_server_name(server)
}

/// A room ID (`!opaque:server`, or `!opaque` alone since room version 12 dropped the server
/// part) or an alias (`#alias:server`).
pub fn is_matrix_room(text: &str) -> bool {
    if let Some(opaque) = text.strip_prefix('!') {
        return !opaque.is_empty() && opaque.chars().all(|c| c.is_ascii_graphic());
    }
    let Some(rest) = text.strip_prefix('#') else {
        return false;
    };
    let Some((local, server)) = rest.split_once(':') else {
        return false;
    };
    !local.is_empty() && local.chars().all(|c| c.is_ascii_graphic()) && is_server_name(server)
}

/// `local@domain`, with nothing that could break a mail header, that the mail library sends
/// to and that the bot can recognise.
pub fn is_email_address(text: &str) -> bool {
    email_address_problem(text).is_none()
}

/// Why `text` cannot be a configured email address, as the end of a sentence that starts with
/// the address (`"x" is not an email address`); `None` when it can be one.
pub fn email_address_problem(text: &str) -> Option<String> {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return Some("is not an email address".to_string());
    };
    let forbidden = |character: char| {
        character.is_whitespace() || character.is_control() || "<>,;\"()[]\\".contains(character)
    };
    let shaped = !local.is_empty()
        && !domain.is_empty()
        && !text.chars().any(forbidden)
        && !local.contains('@')
        && (domain.contains('.') || domain.eq_ignore_ascii_case("localhost"))
        && !domain.starts_with('.')
        && !domain.ends_with('.');
    if !shaped {
        return Some("is not an email address".to_string());
    }
    if let Err(error) = text.parse::<lettre::Address>() {
        return Some(format!(
            "is not an email address the bot can send to ({error})"
        ));
    }
    if comparable_email(text).is_none() {
        return Some(
            "has characters other than ASCII in its local part, or a domain that imitates an \
             ASCII one; mail from such an address is never recognised as its owner's"
                .to_string(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_user_ids() {
        for good in ["@a:localhost", "@ana.lima:example.org", "@x_1=/+:host:8448"] {
            assert!(is_matrix_user_id(good), "{good}");
        }
        for bad in [
            "a:localhost",
            "@:host",
            "@ana",
            "@ana lima:host",
            "@ana:",
            "@ana:ho st",
        ] {
            assert!(!is_matrix_user_id(bad), "{bad}");
        }
    }

    #[test]
    fn matrix_rooms() {
        for good in [
            "#cip-ccg:localhost",
            "!abc:example.org",
            "!_BZX1JfNrQfhp9NDFFMi3Y_GZwQ4dk3IRKky8jCeuhk",
        ] {
            assert!(is_matrix_room(good), "{good}");
        }
        for bad in ["cip-ccg", "#:x", "#a", "@a:b", "#a b:c", "!", "!a b"] {
            assert!(!is_matrix_room(bad), "{bad}");
        }
    }

    #[test]
    fn email_addresses() {
        for good in [
            "a@example.org",
            "first.last+tag@sub.example.org",
            "bot@localhost",
        ] {
            assert!(is_email_address(good), "{good}");
        }
        for bad in [
            "a",
            "@example.org",
            "a@",
            "a b@example.org",
            "a@example.org\r\nBcc: x@y.z",
            "<a@example.org>",
            "a@@example.org",
            "a@nodot",
            "a@.example.org",
            // Refused by the parser that sending uses.
            "a..b@example.org",
            ".a@example.org",
            "a@example..org",
            "a-local-part-longer-than-sixty-four-characters-is-refused-by-smtp-x@example.org",
            // Never recognised: a Cyrillic а, a full-width domain.
            "\u{430}na@example.org",
            "ana@ｅｘａｍｐｌｅ.org",
        ] {
            assert!(!is_email_address(bad), "{bad}");
        }
        // An internationalised domain is fine: it is compared and sent in its ASCII form.
        assert!(is_email_address("jo@bücher.example"));
    }
}
