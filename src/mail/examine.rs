//! What the bot makes of one raw mail: who wrote it, which group's list it came through, which
//! commands the author wrote, which of the bot's messages it answers, and whether it must be
//! ignored (automatic mail, the bot's own mail) or kept aside (too large, not mail at all).
//!
//! Pure: bytes and rules in, a verdict out. Used by IMAP, `ingest-mail`, quarantine retries, the
//! golden corpus and the fuzz target alike, so all paths judge mail the same way.

use super::authored::{authored_lines, command_lines, subject_command};
use super::flowed::{Flowed, unflow};
use super::html_text::html_to_authored_text;
use super::trust::{self, ListAuthorHeader, ListTrust};
use crate::core::email_address::{comparable_email, same_email};
use mail_parser::{Addr, Address, Message, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

/// At most this many command lines are taken from one mail: a bound on the work of reading a
/// pasted list, not the rule. How many commands of a message are carried out (ten) is the
/// core's rule (`core::several::COMMANDS_PER_MESSAGE`), which also tells the author about the
/// rest, so a few more than that are passed on.
pub const COMMANDS_PER_MAIL: usize = crate::core::several::COMMANDS_PER_MESSAGE + 90;

/// The settings examination depends on.
#[derive(Debug, Clone)]
pub struct MailRules {
    pub command_prefix: String,
    /// The domain of the bot's own Message-IDs. It proves nothing by itself (see
    /// `identity.rs`); it only marks the IDs of mail sent before Message-IDs were tagged, which
    /// the ingest looks up exactly among the mail the bot sent.
    pub message_id_domain: String,
    /// What proves a Message-ID or an `X-Rapporteur-Origin` header to be the bot's own.
    pub identity: super::identity::MailIdentity,
    /// Raw messages larger than this are quarantined unread.
    pub size_limit_bytes: usize,
    /// The posting addresses of the configured lists: a From equal to one of them may have
    /// been rewritten by the list (DMARC mitigation), and the author is then read from the
    /// header the list sets, but only when the list is vouched to have delivered it.
    pub list_addresses: Vec<String>,
    /// When set, only mail whose topmost Authentication-Results from this server (its
    /// authserv-id) shows a pass aligned with the From domain is accepted, and a DKIM pass of a
    /// list's domain vouches that the list delivered the mail.
    pub trusted_authserv_id: Option<String>,
    /// How the receiving server's Received header vouches for a list, and which header of a
    /// list's mail names its author.
    pub list_trust: ListTrust,
}

/// Why a mail gets no answer at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// Auto-Submitted other than `no`: vacation notices, other bots.
    Automatic,
    /// Precedence bulk, junk or list with no command in it.
    Bulk,
    /// From mailer-daemon or postmaster, or with an empty return path.
    MailerDaemon,
    /// A delivery status report.
    Bounce,
    /// The bot's own mail, back through the list.
    OwnMessage,
    /// Human mail with no command that does not answer the bot: ordinary list traffic.
    NoCommand,
}

/// Why a mail is kept aside for an operator instead of being handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineReason {
    TooLarge,
    Unparseable,
    /// The mail parser gave up on the message (see [`examine_mail`]).
    ParserFailure,
    /// The trusted receiving server did not vouch for the sender (see
    /// [`MailRules::trusted_authserv_id`]).
    Unauthenticated,
    /// From is a list's address, but neither the receiving server's Authentication-Results nor
    /// its Received header vouches that the list delivered it: anyone can write a list's
    /// address into From, so the author cannot be known.
    ListNotVouched,
    /// From is a list's address and the list delivered it, but the header the list sets names
    /// no author, or several (the author's own Reply-To beside the one the list added).
    ListAuthorUnclear,
}

impl IgnoreReason {
    pub fn name(self) -> &'static str {
        match self {
            IgnoreReason::Automatic => "automatic",
            IgnoreReason::Bulk => "bulk",
            IgnoreReason::MailerDaemon => "mailer-daemon",
            IgnoreReason::Bounce => "bounce",
            IgnoreReason::OwnMessage => "own-message",
            IgnoreReason::NoCommand => "no-command",
        }
    }
}

impl QuarantineReason {
    pub fn name(self) -> &'static str {
        match self {
            QuarantineReason::TooLarge => "too-large",
            QuarantineReason::Unparseable => "unparseable",
            QuarantineReason::ParserFailure => "parser-failure",
            QuarantineReason::Unauthenticated => "unauthenticated",
            QuarantineReason::ListNotVouched => "list-not-vouched",
            QuarantineReason::ListAuthorUnclear => "list-author-unclear",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Ignored(IgnoreReason),
    Quarantined(QuarantineReason),
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Ignored(_) => "ignored",
            Outcome::Quarantined(_) => "quarantined",
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Outcome::Accepted => "",
            Outcome::Ignored(reason) => reason.name(),
            Outcome::Quarantined(reason) => reason.name(),
        }
    }
}

/// Everything the bot needs from one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExaminedMail {
    pub outcome: Outcome,
    /// The key that makes redelivery harmless: the Message-ID, or a hash of the parts of the
    /// message that relays do not change when it has none.
    pub external_id: String,
    /// The Message-ID with its angle brackets, as written.
    pub message_id: Option<String>,
    /// The author's address in the compared form of [`comparable_email`] (the domain in lower
    /// case, the local part as written), or as written when it has no such form.
    pub author: Option<String>,
    pub author_name: Option<String>,
    /// The List-Id value without angle brackets, in lower case.
    pub list_id: Option<String>,
    /// To and Cc addresses in lower case, to find the group of mail sent straight to the bot.
    pub recipients: Vec<String>,
    /// The decoded subject, with line breaks and other control characters replaced by spaces.
    pub subject: String,
    /// Command lines in order, the subject's first.
    pub commands: Vec<String>,
    /// For a reply to the bot that is a single bare word: that word in lower case.
    pub answer: Option<String>,
    /// The lines the author wrote (quotes and signature left out), at most
    /// [`AUTHORED_LINES_KEPT`]: read only when the mail answers a survey's questionnaire.
    pub authored: Vec<String>,
    /// The bot's messages this one answers, nearest first.
    pub answers_to: Vec<String>,
    /// The References a reply to this mail carries: this mail's references and its ID.
    pub thread_references: Vec<String>,
    /// The Date header, in milliseconds since the epoch.
    pub date_ms: Option<i64>,
}

impl ExaminedMail {
    fn rejected(outcome: Outcome, raw: &[u8]) -> ExaminedMail {
        ExaminedMail {
            outcome,
            external_id: hash_id(raw),
            message_id: None,
            author: None,
            author_name: None,
            list_id: None,
            recipients: Vec::new(),
            subject: String::new(),
            commands: Vec::new(),
            answer: None,
            authored: Vec::new(),
            answers_to: Vec::new(),
            thread_references: Vec::new(),
            date_ms: None,
        }
    }
}

/// Examines one raw message. Never panics, whatever the bytes.
///
/// mail-parser 0.11 itself panics on some malformed MIME structures (the fuzzer found one:
/// "Invalid part ID, could not find multipart"); the version that may fix it needs a newer
/// compiler than this project's. Such a mail is quarantined as `parser-failure` rather than
/// taking the reader down; the panic message still reaches the log through the panic hook.
pub fn examine_mail(raw: &[u8], rules: &MailRules) -> ExaminedMail {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        examine_unguarded(raw, rules)
    }))
    .unwrap_or_else(|_| {
        ExaminedMail::rejected(Outcome::Quarantined(QuarantineReason::ParserFailure), raw)
    })
}

fn examine_unguarded(raw: &[u8], rules: &MailRules) -> ExaminedMail {
    if raw.len() > rules.size_limit_bytes {
        let mut examined = ExaminedMail::rejected(
            Outcome::Quarantined(QuarantineReason::TooLarge),
            &raw[..raw.len().min(64 * 1024)],
        );
        // The headers are cheap to read even when the body is not, and the Message-ID keeps a
        // redelivered oversized message from being quarantined twice.
        if let Some(message) = MessageParser::default().parse_headers(raw) {
            examined.message_id = message.message_id().map(bracketed);
            if let Some(id) = &examined.message_id {
                examined.external_id = id.clone();
            }
            examined.author = message.from().and_then(first_address);
            examined.subject = one_line(message.subject().unwrap_or_default());
        }
        return examined;
    }
    let Some(message) = MessageParser::default().parse(raw) else {
        return ExaminedMail::rejected(Outcome::Quarantined(QuarantineReason::Unparseable), raw);
    };
    let Some(from_address) = message.from().and_then(first_address) else {
        return ExaminedMail::rejected(Outcome::Quarantined(QuarantineReason::Unparseable), raw);
    };
    let message_id = message.message_id().map(bracketed);
    let external_id = message_id
        .clone()
        .unwrap_or_else(|| stable_hash_id(&message, raw));
    let subject = one_line(message.subject().unwrap_or_default());
    let list_id = list_id(&message);
    let (author, author_name, authorship) = author(&message, &from_address, rules);
    let answers_to = answers_to(&message, rules);
    let body = authored_body(&message);
    let authored = authored_lines(&body);
    let mut commands = Vec::new();
    if let Some(command) = subject_command(&subject, &rules.command_prefix) {
        commands.push(command.to_string());
    }
    for line in command_lines(&authored, &rules.command_prefix, COMMANDS_PER_MAIL) {
        if commands.len() < COMMANDS_PER_MAIL {
            commands.push(line.to_string());
        }
    }
    let answer = if commands.is_empty() && !answers_to.is_empty() {
        bare_answer(&authored)
    } else {
        None
    };
    let mut thread_references: Vec<String> = references(&message);
    if let Some(id) = &message_id
        && !thread_references.contains(id)
    {
        thread_references.push(id.clone());
    }
    let examined = ExaminedMail {
        outcome: Outcome::Accepted,
        external_id,
        message_id,
        author: Some(author),
        author_name,
        list_id,
        recipients: recipients(&message),
        subject,
        commands,
        answer,
        authored: authored
            .iter()
            .take(AUTHORED_LINES_KEPT)
            .map(|line| line.to_string())
            .collect(),
        answers_to,
        thread_references,
        date_ms: message.date().map(|date| date.to_timestamp() * 1000),
    };
    let outcome = judge(&message, &examined, authorship, rules);
    ExaminedMail {
        outcome,
        ..examined
    }
}

/// Whether an examined mail is answered, ignored or quarantined. Automatic mail is recognised
/// before anything else so that two robots never answer each other.
fn judge(
    message: &Message,
    examined: &ExaminedMail,
    authorship: Authorship,
    rules: &MailRules,
) -> Outcome {
    // Only a tag this deployment made proves a mail its own; a domain or a header anyone can
    // write proves nothing (see `identity.rs`).
    let is_own = examined
        .message_id
        .as_deref()
        .is_some_and(|id| rules.identity.proven_key(id).is_some())
        || message
            .header_raw("X-Rapporteur-Origin")
            .is_some_and(|origin| rules.identity.proven_key(origin).is_some());
    if is_own {
        return Outcome::Ignored(IgnoreReason::OwnMessage);
    }
    let is_report = message.content_type().is_some_and(|content_type| {
        content_type.ctype().eq_ignore_ascii_case("multipart")
            && content_type
                .subtype()
                .is_some_and(|subtype| subtype.eq_ignore_ascii_case("report"))
    });
    if is_report {
        return Outcome::Ignored(IgnoreReason::Bounce);
    }
    if let Some(value) = message.header_raw("Auto-Submitted") {
        let kind = value.split(';').next().unwrap_or_default().trim();
        if !kind.eq_ignore_ascii_case("no") {
            return Outcome::Ignored(IgnoreReason::Automatic);
        }
    }
    if is_daemon(message) {
        return Outcome::Ignored(IgnoreReason::MailerDaemon);
    }
    if let Some(authserv_id) = &rules.trusted_authserv_id
        && !is_authenticated(message, authserv_id, &examined_from_domain(message))
    {
        return Outcome::Quarantined(QuarantineReason::Unauthenticated);
    }
    let has_command = !examined.commands.is_empty() || examined.answer.is_some();
    if let Some(precedence) = message.header_raw("Precedence") {
        let precedence = precedence.trim().to_ascii_lowercase();
        if ["bulk", "junk", "list"].contains(&precedence.as_str()) && !has_command {
            return Outcome::Ignored(IgnoreReason::Bulk);
        }
    }
    if !has_command && examined.answers_to.is_empty() {
        return Outcome::Ignored(IgnoreReason::NoCommand);
    }
    // Last, so that a list's ordinary traffic is ignored as such rather than kept aside: only
    // mail the bot would act on needs a known author.
    match authorship {
        Authorship::From | Authorship::List => Outcome::Accepted,
        Authorship::ListNotVouched => Outcome::Quarantined(QuarantineReason::ListNotVouched),
        Authorship::ListAuthorUnclear => Outcome::Quarantined(QuarantineReason::ListAuthorUnclear),
    }
}

fn is_daemon(message: &Message) -> bool {
    let daemon_address = |address: Option<&Address>| {
        address.and_then(first_address).is_some_and(|address| {
            let local = address.split('@').next().unwrap_or_default();
            local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
        })
    };
    let return_path = message.header_raw("Return-Path").map(str::trim);
    return_path == Some("<>")
        || return_path.is_some_and(|path| {
            let lower = path.to_ascii_lowercase();
            lower.contains("mailer-daemon@") || lower.contains("postmaster@")
        })
        || daemon_address(message.from())
        || daemon_address(message.sender())
}

/// Whether the trusted server's topmost Authentication-Results (RFC 8601) shows a pass aligned
/// with the From domain (see [`trust`]). Headers from other servers, and the trusted server's
/// below its topmost one, are ignored: anyone can write them into their mail.
fn is_authenticated(message: &Message, authserv_id: &str, from_domain: &str) -> bool {
    trust::topmost_results(
        header_values(message, "Authentication-Results"),
        authserv_id,
    )
    .is_some_and(|results| results.passes_for(from_domain))
}

/// The values of every header with this name, top first.
fn header_values<'a>(message: &'a Message, name: &'a str) -> impl Iterator<Item = &'a str> {
    message
        .headers_raw()
        .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// The domain of the From address, as DMARC aligns it.
fn examined_from_domain(message: &Message) -> String {
    message
        .from()
        .and_then(first_address)
        .and_then(|address| {
            address
                .rsplit_once('@')
                .map(|(_, domain)| domain.to_string())
        })
        .unwrap_or_default()
}

/// How the author of a mail was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Authorship {
    /// The From address: mail sent by its author, straight or through a list that leaves
    /// From alone.
    From,
    /// From is a list's address; the list vouched for, the author read from its header.
    List,
    /// From is a list's address, but nothing vouches that the list sent it.
    ListNotVouched,
    /// From is a list's address and the list sent it, but its header names no single author.
    ListAuthorUnclear,
}

/// The author and how they were found.
///
/// A From address that is a configured list's address means the list rewrote From (DMARC
/// mitigation), and the author is in the one header that list server sets
/// ([`ListAuthorHeader`]). That header is believed only when the receiving server vouches that
/// the list delivered the mail: by a DKIM pass for the list's domain in its topmost
/// Authentication-Results, or by naming a configured list-server host as the peer in its
/// topmost Received header. Anything else, whatever its display name (" via " proves nothing),
/// is authored by its From address, so a forged mail is answered as the stranger who sent it.
fn author(
    message: &Message,
    from_address: &str,
    rules: &MailRules,
) -> (String, Option<String>, Authorship) {
    let from = message.from().and_then(Address::first);
    let from_name = from.and_then(Addr::name).map(one_line);
    let Some(list_address) = rules
        .list_addresses
        .iter()
        .find(|list| same_email(list, from_address))
    else {
        return (from_address.to_string(), from_name, Authorship::From);
    };
    if !delivered_by_list(message, list_address, rules) {
        return (
            from_address.to_string(),
            from_name,
            Authorship::ListNotVouched,
        );
    }
    let named: Vec<(String, Option<String>)> = match rules.list_trust.author_header {
        ListAuthorHeader::ReplyTo => message
            .reply_to()
            .into_iter()
            .flat_map(|reply_to| reply_to.iter())
            .filter_map(|addr| {
                let address = addr.address().and_then(clean_address)?;
                Some((address, addr.name().map(one_line)))
            })
            .collect(),
        ListAuthorHeader::XOriginalFrom => header_values(message, "X-Original-From")
            .flat_map(|value| value.split(','))
            .filter_map(|text| address_in_text(text).map(|address| (address, None)))
            .collect(),
    };
    // The list's own address in the header is where replies go, not an author.
    let authors: Vec<(String, Option<String>)> = named
        .into_iter()
        .filter(|(address, _)| {
            !rules
                .list_addresses
                .iter()
                .any(|list| same_email(list, address))
        })
        .collect();
    match authors.as_slice() {
        [(address, name)] => {
            let via_name = from_name
                .as_ref()
                .map(|name| match name.to_lowercase().find(" via ") {
                    Some(position) if name.is_char_boundary(position) => {
                        name[..position].trim().to_string()
                    }
                    _ => name.clone(),
                });
            (address.clone(), via_name.or(name.clone()), Authorship::List)
        }
        _ => (
            from_address.to_string(),
            from_name,
            Authorship::ListAuthorUnclear,
        ),
    }
}

/// Whether the receiving server vouches that the list whose address is `list_address`
/// delivered this mail (see [`author`]).
fn delivered_by_list(message: &Message, list_address: &str, rules: &MailRules) -> bool {
    let list_domain = list_address
        .rsplit_once('@')
        .map_or("", |(_, domain)| domain);
    let by_dkim = rules
        .trusted_authserv_id
        .as_deref()
        .is_some_and(|authserv_id| {
            trust::topmost_results(
                header_values(message, "Authentication-Results"),
                authserv_id,
            )
            .is_some_and(|results| results.dkim_passes_for(list_domain))
        });
    let by_received = rules
        .list_trust
        .receiving_host
        .as_deref()
        .is_some_and(|receiving_host| {
            trust::received_from_list_server(
                header_values(message, "Received"),
                receiving_host,
                &rules.list_trust.list_server_hosts,
            )
        });
    by_dkim || by_received
}

/// An address written in free text: the part in angle brackets, or the first word with an @.
fn address_in_text(text: &str) -> Option<String> {
    let candidate = match (text.find('<'), text.rfind('>')) {
        (Some(start), Some(end)) if start < end => &text[start + 1..end],
        _ => text
            .split_whitespace()
            .find(|word| word.contains('@'))
            .unwrap_or_default(),
    };
    clean_address(candidate.trim_matches(['"', '\'', '(', ')']))
}

/// An address as the bot keeps it: with a local part and a domain, and no space or control
/// character anywhere (an address is later written into the headers of a reply); in the
/// compared form of [`comparable_email`] when it has one, else as written (then it matches
/// nobody, see [`crate::core::email_address`]).
fn clean_address(text: &str) -> Option<String> {
    let candidate = text.trim();
    let (local, domain) = candidate.rsplit_once('@')?;
    let plausible = !local.is_empty()
        && !domain.is_empty()
        && !candidate
            .chars()
            .any(|c| c.is_whitespace() || c.is_control());
    plausible.then(|| comparable_email(candidate).unwrap_or_else(|| candidate.to_string()))
}

fn first_address(address: &Address) -> Option<String> {
    address
        .iter()
        .filter_map(Addr::address)
        .find_map(clean_address)
}

fn recipients(message: &Message) -> Vec<String> {
    message
        .to()
        .into_iter()
        .chain(message.cc())
        .flat_map(|address| address.iter())
        .filter_map(|addr| addr.address().and_then(clean_address))
        .collect()
}

fn list_id(message: &Message) -> Option<String> {
    let raw = message.header_raw("List-Id")?;
    let value = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(start), Some(end)) if start < end => &raw[start + 1..end],
        _ => raw,
    };
    let value = value.trim().to_lowercase();
    (!value.is_empty()).then_some(value)
}

pub(crate) fn message_ids(value: &mail_parser::HeaderValue) -> Vec<String> {
    match value {
        mail_parser::HeaderValue::Text(text) => vec![bracketed(text)],
        mail_parser::HeaderValue::TextList(list) => list.iter().map(|id| bracketed(id)).collect(),
        _ => Vec::new(),
    }
}

fn references(message: &Message) -> Vec<String> {
    message_ids(message.references())
}

/// The bot's messages a mail answers, nearest first: Message-IDs the bot's tag proves, and IDs
/// in the form the bot wrote before it tagged them (`<rapporteur-<32 hex>@own domain>`), which
/// the ingest accepts only if the bot really sent a mail with exactly that ID.
fn answers_to(message: &Message, rules: &MailRules) -> Vec<String> {
    let mut nearest_first = message_ids(message.in_reply_to());
    nearest_first.extend(references(message).into_iter().rev());
    let mut seen = Vec::new();
    for id in nearest_first {
        let counts = rules.identity.proven_key(&id).is_some()
            || is_untagged_bot_id(&id, &rules.message_id_domain);
        if counts && !seen.contains(&id) {
            seen.push(id);
        }
    }
    seen
}

/// Whether a Message-ID has the form of the bot's IDs from before they were tagged: only a
/// candidate, never a proof.
pub fn is_untagged_bot_id(id: &str, own_domain: &str) -> bool {
    let Some((local, domain)) = id
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .and_then(|bare| bare.rsplit_once('@'))
    else {
        return false;
    };
    domain.eq_ignore_ascii_case(own_domain)
        && local.strip_prefix("rapporteur-").is_some_and(|hash| {
            hash.len() == 32 && hash.bytes().all(|byte| byte.is_ascii_hexdigit())
        })
}

fn bracketed(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{}>", one_line(id))
}

/// The text the author wrote: the plain-text part when there is one (its soft line breaks
/// joined when it is `format=flowed`), else the HTML converted as a mail client shows it.
fn authored_body(message: &Message) -> String {
    let Some(part) = message.text_part(0) else {
        return String::new();
    };
    match &part.body {
        PartType::Html(html) => html_to_authored_text(html),
        PartType::Text(text) => match flowed_parameters(part) {
            Some(flowed) => unflow(text, flowed),
            None => text.to_string(),
        },
        _ => String::new(),
    }
}

/// How a text part flows, from its Content-Type's `format` and `delsp` parameters.
fn flowed_parameters(part: &mail_parser::MessagePart) -> Option<Flowed> {
    let content_type = part.content_type()?;
    Flowed::from_parameters(|name| {
        content_type
            .attributes()?
            .iter()
            .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
            .map(|attribute| attribute.value.as_ref())
    })
}

/// A one-word answer to the bot's mail (`ack`, `support`), or an option's number as the first
/// line of an answer to a poll's mail (the words after it are the writer's, not a command).
/// How many authored lines are kept: a filled-in questionnaire, with some free text.
pub const AUTHORED_LINES_KEPT: usize = 200;

fn bare_answer(authored: &[&str]) -> Option<String> {
    let mut lines = authored
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty());
    let only = lines.next()?;
    let number = only
        .strip_prefix("option")
        .or_else(|| only.strip_prefix("Option"))
        .unwrap_or(only)
        .trim()
        .trim_end_matches(['.', ')']);
    if (1..=2).contains(&number.len()) && number.chars().all(|c| c.is_ascii_digit()) {
        return Some(number.to_string());
    }
    if lines.next().is_some() {
        return None;
    }
    let word = only.trim_end_matches(['.', '!']);
    (!word.is_empty() && word.chars().all(char::is_alphabetic)).then(|| word.to_lowercase())
}

/// Text for a single line: control characters (CR and LF above all) become spaces, so nothing
/// taken from a mail can start a new header line when it is written into another mail.
pub fn one_line(text: &str) -> String {
    let replaced: String = text
        .chars()
        .map(|character| {
            if character.is_control() {
                ' '
            } else {
                character
            }
        })
        .collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hash_id(raw: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(raw)))
}

/// For mail without a Message-ID: a hash of what relays leave alone (the originator's headers and
/// the body), so the copy read over IMAP, which gained Received and Return-Path headers, and the
/// copy piped in by the MTA get the same ID.
fn stable_hash_id(message: &Message, raw: &[u8]) -> String {
    let mut hasher = Sha256::new();
    for name in ["From", "Date", "Subject", "To", "Cc"] {
        hasher.update(
            message
                .header_raw(name)
                .unwrap_or_default()
                .trim()
                .as_bytes(),
        );
        hasher.update([0]);
    }
    let body_start = message.root_part().raw_body_offset() as usize;
    hasher.update(raw.get(body_start..).unwrap_or_default());
    format!("sha256:{}", hex::encode(hasher.finalize()))
}
