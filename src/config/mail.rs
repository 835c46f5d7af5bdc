//! The `[mail]` section: the bot's address, the SMTP server it sends through (or a folder for
//! dry runs), the IMAP mailbox it reads, and the rules for reading mail.

use super::Secret;
use super::addresses::email_address_problem;
use super::load::{Environment, Origin, overridable, problem_for, secret_setting};
use super::position::{ConfigProblem, SourceText};
use super::raw::RawMailSection;
use crate::mail::trust::{ListAuthorHeader, ListTrust};
use std::path::PathBuf;
use std::time::Duration;
use toml::Spanned;

/// How a connection to a mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailSecurity {
    /// No encryption: only for a server on the same machine.
    Plain,
    /// Plain connection upgraded with STARTTLS (SMTP only).
    StartTls,
    /// TLS from the first byte (SMTPS, IMAPS).
    Tls,
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The bot's own address: From of its mail.
    pub address: String,
    pub display_name: String,
    /// The domain of the bot's Message-IDs; mail with such an ID is recognised as its own.
    pub message_id_domain: String,
    pub size_limit_bytes: usize,
    pub trusted_authserv_id: Option<String>,
    /// How a list's delivery is vouched for by the Received header, and where the list writes
    /// the author (see `mail::trust`).
    pub list_trust: ListTrust,
    pub outgoing: OutgoingMail,
    pub imap: Option<ImapSettings>,
}

#[derive(Debug, Clone)]
pub enum OutgoingMail {
    Smtp(SmtpSettings),
    /// Every mail is written as a `.eml` file into this folder instead of being sent.
    Folder(PathBuf),
}

/// How long the bot waits for a mail server before it gives the connection up and tries again,
/// so that a server which accepts the connection and then says nothing cannot freeze a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailTimeouts {
    /// Opening the TCP connection and, for implicit TLS, the handshake.
    pub connect: Duration,
    /// The greeting and each command's answer (login, STARTTLS, SELECT, FETCH, IDLE and its
    /// end, NOOP; EHLO, AUTH, RSET).
    pub command: Duration,
    /// SMTP only: sending one message, from MAIL FROM to the answer after the final dot.
    pub data: Duration,
}

impl MailTimeouts {
    pub const DEFAULT_CONNECT_SECONDS: u64 = 30;
    pub const DEFAULT_COMMAND_SECONDS: u64 = 60;
    /// RFC 5321 section 4.5.3.2 asks a client to wait ten minutes for the answer to the final
    /// dot; five is plenty for the bot's small mails and halves a stalled fan-out's wait.
    pub const DEFAULT_DATA_SECONDS: u64 = 300;
}

impl Default for MailTimeouts {
    fn default() -> MailTimeouts {
        MailTimeouts {
            connect: Duration::from_secs(Self::DEFAULT_CONNECT_SECONDS),
            command: Duration::from_secs(Self::DEFAULT_COMMAND_SECONDS),
            data: Duration::from_secs(Self::DEFAULT_DATA_SECONDS),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub pool_size: u32,
    /// PEM certificates trusted as roots besides the public ones (a private CA).
    pub ca_file: Option<PathBuf>,
    pub timeouts: MailTimeouts,
}

#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    pub username: String,
    pub password: Secret,
    pub mailbox: String,
    pub idle: bool,
    pub poll_interval_seconds: u64,
    /// PEM certificates trusted as roots besides the public ones (a private CA).
    pub ca_file: Option<PathBuf>,
    pub timeouts: MailTimeouts,
}

/// Whether `host` names this machine: `localhost`, a name under `.localhost` (RFC 6761 keeps
/// those on loopback) or a loopback address. Only there may mail go unencrypted without the
/// operator saying so, since nobody else can read loopback traffic.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.ends_with(".localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// The settings every mail connection shares, read the same way for SMTP and IMAP.
struct ConnectionRules {
    ca_file: Option<PathBuf>,
    timeouts: MailTimeouts,
}

#[allow(clippy::too_many_arguments)]
fn connection_rules(
    section_name: &str,
    host: &str,
    host_origin: &Option<Origin<'_>>,
    security: MailSecurity,
    ca_file: &Option<Spanned<String>>,
    allow_plain_on_network: Option<bool>,
    timeouts: [(&'static str, &Option<Spanned<u64>>, u64); 3],
    source: &SourceText,
    resolve: &dyn Fn(&str) -> PathBuf,
    problems: &mut Vec<ConfigProblem>,
) -> ConnectionRules {
    if security == MailSecurity::Plain
        && !allow_plain_on_network.unwrap_or(false)
        && !is_loopback_host(host)
    {
        let encrypted = if section_name.contains("imap") {
            "\"tls\""
        } else {
            "\"starttls\" or \"tls\""
        };
        problems.push(problem_for(
            source,
            host_origin,
            format!(
                "{section_name}: security = \"plain\" would send the password and the mail \
                 unencrypted to {host:?}, which is not this machine; use {encrypted}, or set \
                 allow_plain_on_network = true if the network is trusted"
            ),
        ));
    }
    let ca_file = ca_file.as_ref().and_then(|spanned| {
        let path = resolve(spanned.get_ref());
        match crate::mail::tls::read_ca_file(&path) {
            Ok(_) => Some(path),
            Err(reason) => {
                problems.push(source.problem_at(spanned.span(), reason));
                None
            }
        }
    });
    let mut seconds = [0_u64; 3];
    for (slot, (key, value, default)) in seconds.iter_mut().zip(timeouts) {
        *slot = match value {
            Some(spanned) if *spanned.get_ref() == 0 || *spanned.get_ref() > 3600 => {
                problems.push(source.problem_at(
                    spanned.span(),
                    format!("{key} must be from 1 to 3600 seconds"),
                ));
                default
            }
            Some(spanned) => *spanned.get_ref(),
            None => default,
        };
    }
    ConnectionRules {
        ca_file,
        timeouts: MailTimeouts {
            connect: Duration::from_secs(seconds[0]),
            command: Duration::from_secs(seconds[1]),
            data: Duration::from_secs(seconds[2]),
        },
    }
}

pub(super) fn load_mail_section(
    section: &Spanned<RawMailSection>,
    source: &SourceText,
    resolve: &dyn Fn(&str) -> PathBuf,
    environment: Environment,
    problems: &mut Vec<ConfigProblem>,
) -> Option<MailSettings> {
    let before = problems.len();
    let section_span = section.span();
    let section = section.get_ref();
    let address = section.address.get_ref().trim().to_string();
    if let Some(problem) = email_address_problem(&address) {
        problems.push(source.problem_at(
            section.address.span(),
            format!("mail address {address:?} {problem}"),
        ));
    }
    let address = crate::core::email_address::comparable_email(&address).unwrap_or(address);
    let domain = address.split('@').nth(1).unwrap_or("localhost").to_string();
    let message_id_domain = section
        .message_id_domain
        .as_ref()
        .map(|spanned| spanned.get_ref().to_lowercase())
        .unwrap_or(domain);
    if let Some(spanned) = &section.message_id_domain
        && !is_domain(&message_id_domain)
    {
        problems.push(source.problem_at(
            spanned.span(),
            format!("message_id_domain {message_id_domain:?} is not a domain name"),
        ));
    }
    let size_limit_bytes = match &section.size_limit_bytes {
        Some(spanned) if *spanned.get_ref() < 1024 => {
            problems.push(source.problem_at(
                spanned.span(),
                "size_limit_bytes must be at least 1024; mail larger than this is quarantined",
            ));
            0
        }
        Some(spanned) => usize::try_from(*spanned.get_ref()).unwrap_or(usize::MAX),
        None => 25 * 1024 * 1024,
    };

    let list_trust = load_list_trust(section, source, problems);

    let outgoing = match &section.smtp {
        None => {
            problems.push(source.problem_at(
                section_span,
                "no [mail.smtp] section: name an SMTP host, or a file_directory for dry runs",
            ));
            None
        }
        Some(smtp) => load_smtp(smtp, source, resolve, environment, problems),
    };
    let imap = section
        .imap
        .as_ref()
        .and_then(|imap| load_imap(imap, source, resolve, environment, problems));
    if problems.len() != before {
        return None;
    }
    Some(MailSettings {
        address,
        display_name: section
            .display_name
            .clone()
            .unwrap_or_else(|| "rapporteur".to_string()),
        message_id_domain,
        size_limit_bytes,
        trusted_authserv_id: section
            .trusted_authserv_id
            .as_ref()
            .map(|spanned| spanned.get_ref().clone()),
        list_trust,
        outgoing: outgoing?,
        imap,
    })
}

/// `receiving_host`, `list_server_hosts` and `list_author_header`: the first two only together,
/// since a receiving host with no list server vouches for nothing and list servers without the
/// host whose Received header names them cannot be checked.
fn load_list_trust(
    section: &RawMailSection,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> ListTrust {
    let receiving_host = section.receiving_host.as_ref().map(|spanned| {
        (
            spanned.get_ref().trim().to_ascii_lowercase(),
            spanned.span(),
        )
    });
    if let Some((host, span)) = &receiving_host
        && !is_domain(host)
    {
        problems.push(source.problem_at(
            span.clone(),
            format!("receiving_host {host:?} is not a host name"),
        ));
    }
    let mut list_server_hosts = Vec::new();
    for spanned in &section.list_server_hosts {
        let host = spanned.get_ref().trim().to_ascii_lowercase();
        let plain = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
        if plain {
            list_server_hosts.push(host);
        } else {
            problems.push(source.problem_at(
                spanned.span(),
                format!(
                    "list server {:?} is not a host name or IP address (write an IPv6 address \
                     without brackets)",
                    spanned.get_ref()
                ),
            ));
        }
    }
    match (&receiving_host, section.list_server_hosts.first()) {
        (Some((_, span)), None) => problems.push(source.problem_at(
            span.clone(),
            "receiving_host is set but list_server_hosts is empty: name the hosts the list \
             servers send from, as the receiving server records them",
        )),
        (None, Some(first)) => problems.push(source.problem_at(
            first.span(),
            "list_server_hosts is set but receiving_host is not: name the host whose Received \
             header records them",
        )),
        _ => {}
    }
    let author_header = match &section.list_author_header {
        None => ListAuthorHeader::default(),
        Some(spanned) => ListAuthorHeader::from_name(spanned.get_ref()).unwrap_or_else(|| {
            let names: Vec<&str> = ListAuthorHeader::ALL.iter().map(|h| h.name()).collect();
            problems.push(source.problem_at(
                spanned.span(),
                format!(
                    "list_author_header {:?} is not one of {}",
                    spanned.get_ref(),
                    names.join(", ")
                ),
            ));
            ListAuthorHeader::default()
        }),
    };
    ListTrust {
        receiving_host: receiving_host.map(|(host, _)| host),
        list_server_hosts,
        author_header,
    }
}

fn is_domain(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|character| {
            character.is_ascii_alphanumeric() || character == '-' || character == '.'
        })
}

fn security(
    value: &Option<Spanned<String>>,
    allowed: &[(&str, MailSecurity)],
    default: MailSecurity,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> MailSecurity {
    let Some(spanned) = value else {
        return default;
    };
    match allowed.iter().find(|(name, _)| name == spanned.get_ref()) {
        Some((_, security)) => *security,
        None => {
            let names: Vec<&str> = allowed.iter().map(|(name, _)| *name).collect();
            problems.push(source.problem_at(
                spanned.span(),
                format!(
                    "security {:?} is not one of {}",
                    spanned.get_ref(),
                    names.join(", ")
                ),
            ));
            default
        }
    }
}

fn port(
    value: &Option<Spanned<u16>>,
    variable: &'static str,
    default: u16,
    environment: Environment,
    problems: &mut Vec<ConfigProblem>,
) -> u16 {
    if let Some(text) = environment(variable) {
        return match text.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => {
                problems.push(ConfigProblem {
                    file: PathBuf::from(format!("${variable}")),
                    line: 0,
                    column: 0,
                    message: format!("{text:?} is not a port number"),
                });
                default
            }
        };
    }
    value
        .as_ref()
        .map(|spanned| *spanned.get_ref())
        .unwrap_or(default)
}

fn load_smtp(
    section: &Spanned<super::raw::RawSmtpSection>,
    source: &SourceText,
    resolve: &dyn Fn(&str) -> PathBuf,
    environment: Environment,
    problems: &mut Vec<ConfigProblem>,
) -> Option<OutgoingMail> {
    let span = section.span();
    let section = section.get_ref();
    let host = overridable(section.host.as_ref(), "RAPPORTEUR_SMTP_HOST", environment);
    if let Some(folder) = &section.file_directory {
        if let Some(Origin::File(spanned)) = &host.origin {
            problems.push(source.problem_at(
                spanned.span(),
                "give either host (to send) or file_directory (to write mail to files), not both",
            ));
        }
        return Some(OutgoingMail::Folder(resolve(folder.get_ref())));
    }
    let Some(host_name) = host.value.clone().filter(|host| !host.is_empty()) else {
        problems.push(source.problem_at(
            span,
            "[mail.smtp] needs a host (or a file_directory for dry runs)",
        ));
        return None;
    };
    let security = security(
        &section.security,
        &[
            ("plain", MailSecurity::Plain),
            ("starttls", MailSecurity::StartTls),
            ("tls", MailSecurity::Tls),
        ],
        MailSecurity::StartTls,
        source,
        problems,
    );
    let default_port = match security {
        MailSecurity::Plain => 25,
        MailSecurity::StartTls => 587,
        MailSecurity::Tls => 465,
    };
    let port = port(
        &section.port,
        "RAPPORTEUR_SMTP_PORT",
        default_port,
        environment,
        problems,
    );
    let password = secret_setting(
        "RAPPORTEUR_SMTP_PASSWORD",
        &section.password_file,
        source,
        resolve,
        environment,
        problems,
    );
    if section.username.is_some() && password.is_none() {
        problems.push(source.problem_at(
            span,
            "[mail.smtp] has a username but no password: set RAPPORTEUR_SMTP_PASSWORD or \
             RAPPORTEUR_SMTP_PASSWORD_FILE, or name a password_file",
        ));
    }
    if host_name.chars().any(char::is_whitespace) {
        problems.push(problem_for(
            source,
            &host.origin,
            format!("{host_name:?} is not a host name"),
        ));
    }
    let pool_size = match &section.pool_size {
        Some(spanned) if *spanned.get_ref() == 0 || *spanned.get_ref() > 64 => {
            problems.push(source.problem_at(spanned.span(), "pool_size must be from 1 to 64"));
            1
        }
        Some(spanned) => *spanned.get_ref(),
        None => 4,
    };
    let rules = connection_rules(
        "[mail.smtp]",
        &host_name,
        &host.origin,
        security,
        &section.ca_file,
        section.allow_plain_on_network,
        [
            (
                "connect_timeout_seconds",
                &section.connect_timeout_seconds,
                MailTimeouts::DEFAULT_CONNECT_SECONDS,
            ),
            (
                "command_timeout_seconds",
                &section.command_timeout_seconds,
                MailTimeouts::DEFAULT_COMMAND_SECONDS,
            ),
            (
                "data_timeout_seconds",
                &section.data_timeout_seconds,
                MailTimeouts::DEFAULT_DATA_SECONDS,
            ),
        ],
        source,
        resolve,
        problems,
    );
    Some(OutgoingMail::Smtp(SmtpSettings {
        host: host_name,
        port,
        security,
        username: section.username.clone(),
        password,
        pool_size,
        ca_file: rules.ca_file,
        timeouts: rules.timeouts,
    }))
}

fn load_imap(
    section: &Spanned<super::raw::RawImapSection>,
    source: &SourceText,
    resolve: &dyn Fn(&str) -> PathBuf,
    environment: Environment,
    problems: &mut Vec<ConfigProblem>,
) -> Option<ImapSettings> {
    let span = section.span();
    let section = section.get_ref();
    let host = overridable(section.host.as_ref(), "RAPPORTEUR_IMAP_HOST", environment);
    let security = security(
        &section.security,
        &[("plain", MailSecurity::Plain), ("tls", MailSecurity::Tls)],
        MailSecurity::Tls,
        source,
        problems,
    );
    let default_port = if security == MailSecurity::Tls {
        993
    } else {
        143
    };
    let port = port(
        &section.port,
        "RAPPORTEUR_IMAP_PORT",
        default_port,
        environment,
        problems,
    );
    let problems_before_password = problems.len();
    let password = secret_setting(
        "RAPPORTEUR_IMAP_PASSWORD",
        &section.password_file,
        source,
        resolve,
        environment,
        problems,
    );
    let poll_interval_seconds = match &section.poll_interval_seconds {
        Some(spanned) if *spanned.get_ref() == 0 => {
            problems.push(
                source.problem_at(spanned.span(), "poll_interval_seconds must be at least 1"),
            );
            60
        }
        Some(spanned) => *spanned.get_ref(),
        None => 60,
    };
    let Some(password) = password else {
        if problems.len() != problems_before_password {
            // The file named could not be read; that problem says what to fix.
            return None;
        }
        problems.push(source.problem_at(
            span,
            "no IMAP password: set RAPPORTEUR_IMAP_PASSWORD or RAPPORTEUR_IMAP_PASSWORD_FILE, or \
             name a password_file in [mail.imap]",
        ));
        return None;
    };
    let host_name = host
        .value
        .clone()
        .unwrap_or_else(|| "127.0.0.1".to_string());
    let rules = connection_rules(
        "[mail.imap]",
        &host_name,
        &host.origin,
        security,
        &section.ca_file,
        section.allow_plain_on_network,
        [
            (
                "connect_timeout_seconds",
                &section.connect_timeout_seconds,
                MailTimeouts::DEFAULT_CONNECT_SECONDS,
            ),
            (
                "command_timeout_seconds",
                &section.command_timeout_seconds,
                MailTimeouts::DEFAULT_COMMAND_SECONDS,
            ),
            // IMAP has no DATA step: the value is not used.
            (
                "data_timeout_seconds",
                &None,
                MailTimeouts::DEFAULT_DATA_SECONDS,
            ),
        ],
        source,
        resolve,
        problems,
    );
    Some(ImapSettings {
        host: host_name,
        port,
        security,
        username: section.username.get_ref().clone(),
        password,
        mailbox: section
            .mailbox
            .clone()
            .unwrap_or_else(|| "INBOX".to_string()),
        idle: section.idle.unwrap_or(true),
        poll_interval_seconds,
        ca_file: rules.ca_file,
        timeouts: rules.timeouts,
    })
}
