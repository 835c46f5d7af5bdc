//! Shape checks for the addresses a config file may contain. They are deliberately simple: they
//! catch typos (a missing `@` or server name, a stray space or line break) without trying to be
//! a full grammar of Matrix identifiers or RFC 5322.

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

/// `local@domain`, with nothing that could break a mail header.
pub fn is_email_address(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let forbidden = |character: char| {
        character.is_whitespace() || character.is_control() || "<>,;\"()[]\\".contains(character)
    };
    !local.is_empty()
        && !domain.is_empty()
        && !text.chars().any(forbidden)
        && !local.contains('@')
        && (domain.contains('.') || domain == "localhost")
        && !domain.starts_with('.')
        && !domain.ends_with('.')
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
        ] {
            assert!(!is_email_address(bad), "{bad}");
        }
    }
}
