//! What the receiving mail server vouches for, read from the two kinds of trace header it adds:
//! `Authentication-Results` (RFC 8601) and `Received` (RFC 5321 §4.4).
//!
//! Anyone can write either header into a mail before sending it, so only the receiving server's
//! own header counts, and only the words it writes itself:
//!
//! - Authentication-Results: only the topmost header carrying the configured authserv-id (a
//!   server adds its header above the ones the mail arrived with, and RFC 8601 §5 tells it to
//!   remove or rename forged ones with its own id). A pass counts for a domain only when it is
//!   aligned with it (DMARC, RFC 7489 §3.1, relaxed): `dmarc=pass header.from=D`, or
//!   `dkim=pass header.d=` / `spf=pass smtp.mailfrom=` the same domain as D or a parent or
//!   child of it. A pass for another domain says nothing about the From address.
//! - Received: only the topmost header whose `by` names the configured receiving host, and in
//!   it only the first parenthesised part after `from WORD`, where the server records the peer
//!   it saw (its host name and IP address; later parts, such as Postfix's TLS details and a
//!   client certificate's name, hold text the sender chooses). The word after `from` is the name the sender
//!   gave in HELO and proves nothing; `helo=` inside the parentheses (Exim) and a `(HELO ...)`
//!   part (qmail) neither. A header with a second `by` is refused: that is what text smuggled
//!   in by a sender (its HELO name, its envelope address) would look like.
//!
//! Pure: header values in, verdicts out.

/// The header a list server writes the author into when it rewrites From for DMARC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListAuthorHeader {
    /// Mailman 3 (and Mailman 2.1 by default): the original From is added to Reply-To.
    #[default]
    ReplyTo,
    /// Google Groups and lists that copy it: the original From in X-Original-From.
    XOriginalFrom,
}

impl ListAuthorHeader {
    pub const ALL: [ListAuthorHeader; 2] =
        [ListAuthorHeader::ReplyTo, ListAuthorHeader::XOriginalFrom];

    pub fn name(self) -> &'static str {
        match self {
            ListAuthorHeader::ReplyTo => "Reply-To",
            ListAuthorHeader::XOriginalFrom => "X-Original-From",
        }
    }

    pub fn from_name(name: &str) -> Option<ListAuthorHeader> {
        ListAuthorHeader::ALL
            .into_iter()
            .find(|header| header.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// How the receiving server vouches that a list delivered a mail (besides a DKIM pass of the
/// list's domain in the trusted Authentication-Results), and where the list writes the author.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListTrust {
    /// The host name the receiving server writes after `by` in its Received header.
    pub receiving_host: Option<String>,
    /// The list servers' host names and IP addresses as the receiving server records the peer.
    pub list_server_hosts: Vec<String>,
    pub author_header: ListAuthorHeader,
}

/// One `method=result` of an Authentication-Results header with its properties
/// (`header.d`, `smtp.mailfrom`, ...), names in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    pub method: String,
    pub result: String,
    pub properties: Vec<(String, String)>,
}

impl MethodResult {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn passed(&self, method: &str) -> bool {
        self.method == method && self.result == "pass"
    }
}

/// A parsed Authentication-Results header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationResults {
    pub authserv_id: String,
    pub results: Vec<MethodResult>,
}

impl AuthenticationResults {
    /// Whether the server vouches for mail whose From address is on `from_domain`: a DMARC
    /// pass for exactly that domain, or a DKIM or SPF pass for an aligned domain.
    pub fn passes_for(&self, from_domain: &str) -> bool {
        self.results.iter().any(|result| {
            (result.passed("dmarc")
                && result
                    .property("header.from")
                    .is_some_and(|domain| same_domain(domain, from_domain)))
                || (result.passed("dkim")
                    && dkim_domain(result).is_some_and(|domain| aligned(&domain, from_domain)))
                || (result.passed("spf")
                    && result
                        .property("smtp.mailfrom")
                        .map(domain_of)
                        .is_some_and(|domain| aligned(domain, from_domain)))
        })
    }

    /// Whether a DKIM signature of a domain aligned with `domain` verified. DKIM, unlike SPF,
    /// covers the headers a list writes (From, Reply-To), which is what a list's vouching is for.
    pub fn dkim_passes_for(&self, domain: &str) -> bool {
        self.results.iter().any(|result| {
            result.passed("dkim")
                && dkim_domain(result).is_some_and(|signer| aligned(&signer, domain))
        })
    }
}

fn dkim_domain(result: &MethodResult) -> Option<String> {
    result.property("header.d").map(str::to_string).or_else(|| {
        result
            .property("header.i")
            .map(|i| domain_of(i).to_string())
    })
}

/// The domain of `local@domain`, or the text itself when it has no `@`.
fn domain_of(text: &str) -> &str {
    text.rsplit_once('@').map_or(text, |(_, domain)| domain)
}

fn same_domain(left: &str, right: &str) -> bool {
    let left = left.trim().trim_end_matches('.');
    let right = right.trim().trim_end_matches('.');
    !left.is_empty() && left.eq_ignore_ascii_case(right)
}

/// Relaxed alignment: the same domain, or one a subdomain of the other. The shorter one must
/// have at least two labels, so that a top-level domain aligns with nothing.
pub fn aligned(signer: &str, author: &str) -> bool {
    let signer = signer.trim().trim_end_matches('.').to_ascii_lowercase();
    let author = author.trim().trim_end_matches('.').to_ascii_lowercase();
    if signer.is_empty() || author.is_empty() {
        return false;
    }
    if signer == author {
        return true;
    }
    let (short, long) = if signer.len() < author.len() {
        (&signer, &author)
    } else {
        (&author, &signer)
    };
    short.contains('.') && long.ends_with(&format!(".{short}"))
}

/// The first Authentication-Results value (of those given top first) whose authserv-id is
/// `authserv_id`, parsed. Later ones with the same id are ignored: they came with the mail.
/// `None` when the topmost one cannot be read either: a header the server wrote that the bot
/// does not understand vouches for nothing.
pub fn topmost_results<'a>(
    values: impl IntoIterator<Item = &'a str>,
    authserv_id: &str,
) -> Option<AuthenticationResults> {
    for value in values {
        let first_word = value
            .split([';', ' ', '\t', '\r', '\n', '('])
            .find(|word| !word.is_empty());
        if first_word.is_some_and(|word| word.eq_ignore_ascii_case(authserv_id)) {
            return parse_authentication_results(value);
        }
    }
    None
}

/// Parses one Authentication-Results value: `authserv-id [version]; method=result
/// property=value ...; ...`, with comments and quoted strings anywhere.
pub fn parse_authentication_results(value: &str) -> Option<AuthenticationResults> {
    let tokens = tokens(value)?;
    let mut groups: Vec<Vec<String>> = vec![Vec::new()];
    for token in tokens {
        match token {
            Token::Word(word) => groups.last_mut()?.push(word),
            Token::Semicolon => groups.push(Vec::new()),
            Token::Comment(_) => {}
        }
    }
    let mut groups = groups.into_iter();
    let authserv_id = groups.next()?.into_iter().next()?;
    let mut results = Vec::new();
    for words in groups {
        let mut words = words.into_iter();
        let Some(first) = words.next() else {
            continue;
        };
        let Some((method, result)) = first.split_once('=') else {
            continue;
        };
        let method = method.split('/').next().unwrap_or_default();
        let properties = words
            .filter_map(|word| {
                let (key, value) = word.split_once('=')?;
                Some((key.to_ascii_lowercase(), value.to_string()))
            })
            .collect();
        results.push(MethodResult {
            method: method.to_ascii_lowercase(),
            result: result.to_ascii_lowercase(),
            properties,
        });
    }
    Some(AuthenticationResults {
        authserv_id,
        results,
    })
}

/// What a Received header says in the receiving server's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedStamp {
    /// The host after `by`: the server that added the header.
    pub by: String,
    /// The words of the first parenthesised part after the HELO word (a `(HELO name)` part
    /// passed over): the peer's host name and address as the server saw them
    /// (`mail.example.org`, `192.0.2.10`), without `helo=` words. Empty when there is none.
    pub peer: Vec<String>,
}

/// Parses one Received value. `None` when it cannot be read safely: then it vouches for nothing.
///
/// The header must begin `from WORD (PEER) by HOST` (or `by HOST` alone, for mail that did not
/// come over the network), with one or more parenthesised parts, and hold no other `by`
/// outside parentheses. What a sender can put into the header comes before the server's own
/// words (a HELO name with spaces, if a server allowed it) or after them (the envelope sender
/// in `for` or `(envelope-from ...)`, where a quoted local part may close a parenthesis): either
/// way a smuggled `(peer) by host` makes a second `by`, and the header is refused. Unbalanced
/// parentheses or quotes are refused too.
pub fn parse_received(value: &str) -> Option<ReceivedStamp> {
    let before_date = value.rsplit_once(';').map_or(value, |(clauses, _)| clauses);
    let tokens = tokens(before_date)?;
    let is_word = |token: Option<&Token>, wanted: &str| matches!(token, Some(Token::Word(word)) if word.eq_ignore_ascii_case(wanted));
    let by_count = tokens
        .iter()
        .filter(|token| is_word(Some(token), "by"))
        .count();
    if by_count != 1 {
        return None;
    }
    let mut index = 0;
    let mut peer = Vec::new();
    if is_word(tokens.first(), "from") {
        // The HELO word: the sender's claim, never read. One with a parenthesis or a quote in
        // it (`x(lists.example.org)`) would pass its own words off as the server's.
        let helo_as_written = before_date.split_whitespace().nth(1).unwrap_or_default();
        if helo_as_written.contains(['(', ')', '"']) {
            return None;
        }
        let Some(Token::Word(_)) = tokens.get(1) else {
            return None;
        };
        index = 2;
        let mut peer_found = false;
        while let Some(Token::Comment(comment)) = tokens.get(index) {
            index += 1;
            let words: Vec<&str> = comment
                .split(|c: char| c.is_whitespace() || "[]()".contains(c))
                .filter(|word| !word.is_empty())
                .collect();
            // qmail writes the HELO name in a part of its own: `(HELO name) (address)`.
            let is_helo = words.first().is_some_and(|word| {
                word.eq_ignore_ascii_case("helo") || word.eq_ignore_ascii_case("ehlo")
            });
            // Only the first part names the peer; later ones (Postfix's TLS details, a client
            // certificate's name) hold text the sender chooses.
            if is_helo || peer_found {
                continue;
            }
            peer_found = true;
            peer.extend(
                words
                    .into_iter()
                    .filter(|word| !word.contains('='))
                    .map(|word| {
                        word.strip_prefix("IPv6:")
                            .unwrap_or(word)
                            .to_ascii_lowercase()
                    }),
            );
        }
    }
    if !is_word(tokens.get(index), "by") {
        return None;
    }
    let Some(Token::Word(by)) = tokens.get(index + 1) else {
        return None;
    };
    Some(ReceivedStamp {
        by: by.trim_end_matches('.').to_ascii_lowercase(),
        peer,
    })
}

/// Whether the receiving server recorded that it got the mail from one of `list_servers`: the
/// topmost Received header (of those given top first) added by `receiving_host` names one of
/// them as the peer. Headers above it that other hosts added (the local delivery agent) are
/// passed over; an unreadable header before it stops the search, since it might be the one.
pub fn received_from_list_server<'a>(
    values: impl IntoIterator<Item = &'a str>,
    receiving_host: &str,
    list_servers: &[String],
) -> bool {
    let receiving_host = receiving_host.trim_end_matches('.');
    for value in values {
        let Some(stamp) = parse_received(value) else {
            return false;
        };
        if stamp.by.eq_ignore_ascii_case(receiving_host) {
            return stamp.peer.iter().any(|peer| {
                list_servers
                    .iter()
                    .any(|server| server.trim_end_matches('.').eq_ignore_ascii_case(peer))
            });
        }
    }
    false
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A word, with quoted strings in it unquoted (`reason="a b"` is one word).
    Word(String),
    /// A parenthesised comment's text, nested comments included.
    Comment(String),
    Semicolon,
}

/// Splits a structured header value into words, comments and semicolons. `None` when a comment
/// or quoted string is not closed (or a comment closed that was not opened).
fn tokens(value: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut characters = value.chars();
    let flush = |word: &mut String, tokens: &mut Vec<Token>| {
        if !word.is_empty() {
            tokens.push(Token::Word(std::mem::take(word)));
        }
    };
    while let Some(character) = characters.next() {
        match character {
            '(' => {
                flush(&mut word, &mut tokens);
                let mut depth = 1;
                let mut comment = String::new();
                loop {
                    let inner = characters.next()?;
                    match inner {
                        '\\' => comment.push(characters.next()?),
                        '(' => {
                            depth += 1;
                            comment.push(inner);
                        }
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            comment.push(inner);
                        }
                        _ => comment.push(inner),
                    }
                }
                tokens.push(Token::Comment(comment));
            }
            ')' => return None,
            '"' => loop {
                match characters.next()? {
                    '"' => break,
                    '\\' => word.push(characters.next()?),
                    inner => word.push(inner),
                }
            },
            ';' => {
                flush(&mut word, &mut tokens);
                tokens.push(Token::Semicolon);
            }
            c if c.is_whitespace() => flush(&mut word, &mut tokens),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut tokens);
    Some(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_aligned_pass_vouches_for_the_from_domain() {
        // (Authentication-Results value, From domain, vouched)
        let cases = [
            (
                "mx.example.org; dmarc=pass (p=none) header.from=example.org",
                "example.org",
                true,
            ),
            (
                "mx.example.org; dmarc=pass header.from=example.net",
                "example.org",
                false,
            ),
            (
                "mx.example.org; dkim=pass header.d=example.org",
                "example.org",
                true,
            ),
            (
                "mx.example.org; dkim=pass header.d=mail.example.org",
                "example.org",
                true,
            ),
            (
                "mx.example.org; dkim=pass header.d=example.org",
                "lists.example.org",
                true,
            ),
            (
                "mx.example.org; dkim=pass header.i=@example.org",
                "example.org",
                true,
            ),
            // A DKIM pass for an unrelated domain, an SPF pass for another domain.
            (
                "mx.example.org; dkim=pass header.d=evil.example",
                "example.org",
                false,
            ),
            (
                "mx.example.org; spf=pass smtp.mailfrom=eve@evil.example",
                "example.org",
                false,
            ),
            (
                "mx.example.org; spf=pass smtp.mailfrom=ana@example.org",
                "example.org",
                true,
            ),
            (
                "mx.example.org; spf=pass smtp.mailfrom=example.org",
                "example.org",
                true,
            ),
            // A domain that only ends with the same letters is not a subdomain.
            (
                "mx.example.org; dkim=pass header.d=notexample.org",
                "example.org",
                false,
            ),
            // A top-level domain aligns with nothing.
            (
                "mx.example.org; dkim=pass header.d=org",
                "example.org",
                false,
            ),
            (
                "mx.example.org; dkim=fail header.d=example.org",
                "example.org",
                false,
            ),
            (
                "mx.example.org; dkim=neutral header.d=example.org; spf=softfail smtp.mailfrom=example.org",
                "example.org",
                false,
            ),
            // The pass is in a comment or a reason: it is not a result.
            (
                "mx.example.org; dkim=fail (dkim=pass header.d=example.org) header.d=example.org",
                "example.org",
                false,
            ),
            (
                "mx.example.org; dkim=fail reason=\"dkim=pass header.d=example.org\"",
                "example.org",
                false,
            ),
            (
                "mx.example.org 1; dkim/1=pass header.d=example.org",
                "example.org",
                true,
            ),
            ("mx.example.org; none", "example.org", false),
        ];
        for (value, domain, expected) in cases {
            let results = parse_authentication_results(value).expect(value);
            assert_eq!(results.passes_for(domain), expected, "{value} for {domain}");
        }
    }

    #[test]
    fn only_the_topmost_header_of_the_trusted_server_counts() {
        let real_fail =
            "mx.example.org; dkim=fail header.d=example.org; spf=fail smtp.mailfrom=example.org";
        let forged_pass = "mx.example.org; dkim=pass header.d=example.org";
        let other_server = "relay.evil.example; dkim=pass header.d=example.org";
        let verdict = |values: &[&str]| {
            topmost_results(values.iter().copied(), "mx.example.org")
                .is_some_and(|results| results.passes_for("example.org"))
        };
        assert!(
            !verdict(&[real_fail, forged_pass]),
            "a forged pass below a real fail"
        );
        assert!(verdict(&[forged_pass, real_fail]));
        assert!(!verdict(&[other_server]));
        assert!(!verdict(&[other_server, real_fail, forged_pass]));
        assert!(!verdict(&[]));
        // The id is the first word, not any word.
        assert!(!verdict(&[
            "evil.example; dkim=pass header.d=example.org (mx.example.org)"
        ]));
    }

    /// A Received value and what it says: the `by` host and the peer's words, or `None`.
    type ReceivedCase = (
        &'static str,
        Option<(&'static str, &'static [&'static str])>,
    );

    #[test]
    fn received_headers_name_the_peer_in_the_servers_own_words() {
        let cases: [ReceivedCase; 13] = [
            (
                "from mail.lists.example.org (mail.lists.example.org [192.0.2.25])\r\n\tby mx.example.org (Postfix) with ESMTPS id 4BsM; Wed, 4 Nov 2026 14:02:57 +0000 (UTC)",
                Some(("mx.example.org", &["mail.lists.example.org", "192.0.2.25"])),
            ),
            (
                "from lists.example.org (unknown [192.0.2.66]) by mx.example.org with ESMTP id X; date",
                Some(("mx.example.org", &["unknown", "192.0.2.66"])),
            ),
            // Exim: the IP and the HELO name inside the parentheses; helo= is the sender's word.
            (
                "from mail.example.net ([192.0.2.7] helo=lists.example.org) by mx.example.org with esmtps (envelope-from <a@b.c>) id 1; date",
                Some(("mx.example.org", &["192.0.2.7"])),
            ),
            // Postfix with TLS and a client certificate whose name the sender chose: only the
            // first part names the peer.
            (
                "from x.example.net (x.example.net [203.0.113.9])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\t(Client CN mail.lists.example.org, Issuer mail.lists.example.org (not verified))\r\n\tby mx.example.org (Postfix) with ESMTPS id 4Bs; date",
                Some(("mx.example.org", &["x.example.net", "203.0.113.9"])),
            ),
            // qmail: the HELO name in a part of its own, then the address.
            (
                "from unknown (HELO mail.lists.example.org) (192.0.2.66) by mx.example.org with SMTP; date",
                Some(("mx.example.org", &["192.0.2.66"])),
            ),
            // No peer part: the HELO word alone proves nothing.
            (
                "from lists.example.org by mx.example.org; date",
                Some(("mx.example.org", &[])),
            ),
            // Local submission: no peer at all.
            (
                "by mx.example.org (Postfix, from userid 0) id 4Bs; date",
                Some(("mx.example.org", &[])),
            ),
            // A HELO name with spaces that smuggles a peer part and a `by`: two `by`, refused.
            (
                "from x (lists.example.org [192.0.2.25]) by mx.example.org (evil.example [203.0.113.9]) by mx.example.org with ESMTP; date",
                None,
            ),
            // An envelope sender whose quoted local part closes the parenthesis and adds a
            // peer and a `by` after the delivery agent's own: two `by`, refused.
            (
                "from localhost ([127.0.0.1]) by imap.example.org with LMTP id a (envelope-from <\"a) (lists.example.org) by mx.example.org (x\"@evil.example>) for <bot@example.org>; date",
                None,
            ),
            // Unbalanced: unreadable, vouches for nothing.
            (
                "from x (lists.example.org [192.0.2.25]) by mx.example.org (; date",
                None,
            ),
            ("from x ) by mx.example.org; date", None),
            ("from x (y [1.2.3.4])", None),
            // A HELO word with a parenthesis in it: the parts no longer line up.
            (
                "from x(lists.example.org) (evil.example [203.0.113.9]) by mx.example.org; date",
                None,
            ),
        ];
        for (value, expected) in cases {
            let stamp = parse_received(value);
            let actual = stamp.as_ref().map(|stamp| {
                (
                    stamp.by.as_str(),
                    stamp.peer.iter().map(String::as_str).collect::<Vec<_>>(),
                )
            });
            let expected = expected.map(|(by, peer)| (by, peer.to_vec()));
            assert_eq!(actual, expected, "{value}");
        }
    }

    #[test]
    fn the_topmost_stamp_of_the_receiving_host_decides() {
        let servers = vec![
            "mail.lists.example.org".to_string(),
            "192.0.2.25".to_string(),
        ];
        let delivery = "from mx.example.org by imap.example.org (Dovecot) with LMTP id a; date";
        let from_list = "from mail.lists.example.org (mail.lists.example.org [192.0.2.25]) by mx.example.org; date";
        let from_eve =
            "from lists.example.org (evil.example [203.0.113.9]) by mx.example.org; date";
        let smuggled = "from localhost ([127.0.0.1]) by imap.example.org with LMTP id a (envelope-from <\"a) (mail.lists.example.org) by mx.example.org (x\"@evil.example>) for <bot@example.org>; date";
        let cases: [(&[&str], bool); 7] = [
            (&[delivery, from_list], true),
            // The delivery agent's header carries a smuggled stamp: the search stops there.
            (&[smuggled, from_eve, from_list], false),
            (&[from_list], true),
            // Eve's own stamp, with a forged list stamp below it.
            (&[delivery, from_eve, from_list], false),
            (&[from_eve], false),
            // An unreadable header before the receiving host's stops the search.
            (&["from x (y by mx.example.org; date", from_list], false),
            (&[delivery], false),
        ];
        for (values, expected) in cases {
            assert_eq!(
                received_from_list_server(values.iter().copied(), "mx.example.org", &servers),
                expected,
                "{values:?}"
            );
        }
    }
}
