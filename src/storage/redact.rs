//! Database passwords never reach a log or an error message. A database is named by a URL
//! (`postgres://user:pw@host/db`, `postgresql://…`, a `?password=` query parameter, a password
//! percent-encoded) or a key=value DSN (`host=db password='s3 cret'`); every form hides the
//! password behind `***`. The rules are textual and err on hiding too much: a URL whose password
//! holds `/`, `#` or `?` is not a valid URL, yet its password must not leak either.

/// The URL or DSN with every password replaced by `***`, for messages and logs.
pub fn redact_database_url(url: &str) -> String {
    let without_user_password = redact_user_password(url);
    redact_password_parameters(&without_user_password)
}

/// Any text (such as a driver's error message) with the URL's password hidden, in the forms it
/// may take there: as written, percent-decoded, and inside the URL itself.
pub fn redact_password_in(text: &str, url: &str) -> String {
    let mut redacted = redact_database_url(text);
    for password in passwords_of(url) {
        // A very short password would hide unrelated words; such a password is a problem of
        // its own, and the URL forms above still hide it where it is written as a password.
        if password.len() >= 4 {
            redacted = redacted.replace(&password, "***");
        }
    }
    redacted
}

/// The passwords a URL or DSN holds, as written and percent-decoded.
fn passwords_of(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some((_, userinfo_end, password_start)) = user_password_span(url) {
        found.push(url[password_start..userinfo_end].to_string());
    }
    let mut rest = url;
    while let Some((start, end)) = next_password_parameter(rest) {
        let value = rest[start..end].trim_matches('\'');
        found.push(value.to_string());
        rest = &rest[end..];
    }
    let decoded: Vec<String> = found
        .iter()
        .filter_map(|password| percent_decoded(password))
        .collect();
    found.extend(decoded);
    found.retain(|password| !password.is_empty() && password != "***");
    found.sort();
    found.dedup();
    found
}

/// `%40` and the like decoded, or `None` when the result is not UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u8::from_str_radix(digits, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(decoded).ok()
}

/// `scheme://user:password@host…`: where the user information ends (the last `@`) and where its
/// password starts (after the first `:` of the user information). The last `@` is taken because a
/// password may hold `@`; a `:` is looked for only before it.
fn user_password_span(url: &str) -> Option<(usize, usize, usize)> {
    let authority_start = url.find("://")? + 3;
    let at = authority_start + url[authority_start..].rfind('@')?;
    let colon = authority_start + url[authority_start..at].find(':')?;
    Some((authority_start, at, colon + 1))
}

fn redact_user_password(url: &str) -> String {
    match user_password_span(url) {
        Some((_, at, password_start)) => {
            format!("{}***{}", &url[..password_start], &url[at..])
        }
        None => url.to_string(),
    }
}

/// The next `password=value` (also `sslpassword=`, any case, spaces around `=` as a DSN allows)
/// in `text`: the byte range of its value. In a URL the value ends at `&` or `#`; in a DSN at
/// white space, or at the closing quote of a quoted value (`\'` escapes a quote).
fn next_password_parameter(text: &str) -> Option<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let in_url = text.contains("://");
    let mut from = 0;
    while let Some(found) = lower[from..].find("password") {
        let key_start = from + found;
        let key_end = key_start + "password".len();
        from = key_end;
        // A key starts the text or follows a separator; `sslpassword` is a key of its own, and
        // any other word ending in "password" is not a key.
        let starts_key = |before: &str| {
            before
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || matches!(c, '?' | '&' | ';'))
        };
        let before = &lower[..key_start];
        let is_key = starts_key(before) || before.strip_suffix("ssl").is_some_and(starts_key);
        if !is_key {
            continue;
        }
        let after_key = &text[key_end..];
        let trimmed = after_key.trim_start();
        let Some(after_equals) = trimmed.strip_prefix('=') else {
            continue;
        };
        let value_start_in_trimmed = after_equals.len() - after_equals.trim_start().len() + 1;
        let value_start = key_end + (after_key.len() - trimmed.len()) + value_start_in_trimmed;
        let value = &text[value_start..];
        let value_length = if let Some(quoted) = value.strip_prefix('\'') {
            let mut escaped = false;
            let mut end = quoted.len();
            for (index, character) in quoted.char_indices() {
                match character {
                    '\\' if !escaped => escaped = true,
                    '\'' if !escaped => {
                        end = index + 1;
                        break;
                    }
                    _ => escaped = false,
                }
            }
            1 + end
        } else {
            value
                .find(|c: char| c.is_whitespace() || (in_url && matches!(c, '&' | '#')))
                .unwrap_or(value.len())
        };
        return Some((value_start, value_start + value_length));
    }
    None
}

fn redact_password_parameters(text: &str) -> String {
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, end)) = next_password_parameter(rest) {
        redacted.push_str(&rest[..start]);
        redacted.push_str("***");
        rest = &rest[end..];
    }
    redacted.push_str(rest);
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_every_form_of_url_and_dsn() {
        let cases = [
            (
                "postgres://bot:s3cret@db.example.org/rapporteur",
                "postgres://bot:***@db.example.org/rapporteur",
            ),
            (
                "postgresql://bot:s3cret@db.example.org:5432/rapporteur?sslmode=require",
                "postgresql://bot:***@db.example.org:5432/rapporteur?sslmode=require",
            ),
            // Percent-encoded: the encoded form is what is written, and what is hidden.
            (
                "postgres://bot:p%40ss%2Fw0rd@db/r",
                "postgres://bot:***@db/r",
            ),
            // Not valid URLs, but what a person writes: `@`, `/`, `#` and `?` in the password.
            ("postgres://bot:p@ss@db/r", "postgres://bot:***@db/r"),
            ("postgres://bot:12/34@db/r", "postgres://bot:***@db/r"),
            ("postgres://bot:a#b?c@db/r", "postgres://bot:***@db/r"),
            (
                "postgres://db.example.org/r?user=bot&password=s3cret&sslmode=require",
                "postgres://db.example.org/r?user=bot&password=***&sslmode=require",
            ),
            (
                "postgres://db/r?PASSWORD=s3cret",
                "postgres://db/r?PASSWORD=***",
            ),
            (
                "postgres://db/r?sslmode=verify-full&sslpassword=keypass",
                "postgres://db/r?sslmode=verify-full&sslpassword=***",
            ),
            (
                "postgres://bot:one@db/r?password=two",
                "postgres://bot:***@db/r?password=***",
            ),
            (
                "host=db.example.org user=bot password=s3cret dbname=r",
                "host=db.example.org user=bot password=*** dbname=r",
            ),
            (
                "host=db password = 's3 cr\\'et' dbname=r",
                "host=db password = *** dbname=r",
            ),
            ("password=s3cret", "password=***"),
            // Nothing to hide: left exactly as written.
            ("postgres://bot@db/r", "postgres://bot@db/r"),
            ("postgres://db:5432/r", "postgres://db:5432/r"),
            ("sqlite://var/data/r.db", "sqlite://var/data/r.db"),
            ("sqlite:r.db?mode=rwc", "sqlite:r.db?mode=rwc"),
            (
                "host=db user=bot passwordless=yes",
                "host=db user=bot passwordless=yes",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_database_url(url), expected, "{url}");
        }
    }

    #[test]
    fn a_drivers_message_does_not_repeat_the_password() {
        let url = "postgres://bot:p%40ssw0rd@db/r";
        let cases = [
            (
                "password authentication failed for user \"bot\" (tried p@ssw0rd)",
                "password authentication failed for user \"bot\" (tried ***)",
            ),
            (
                "invalid URL postgres://bot:p%40ssw0rd@db/r",
                "invalid URL postgres://bot:***@db/r",
            ),
            ("connection refused", "connection refused"),
        ];
        for (message, expected) in cases {
            assert_eq!(redact_password_in(message, url), expected, "{message}");
        }
        let dsn = "host=db password='long secret'";
        assert_eq!(
            redact_password_in("cannot use long secret here", dsn),
            "cannot use *** here"
        );
    }
}
