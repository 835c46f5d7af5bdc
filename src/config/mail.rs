//! The `[mail]` section: the bot's address, the SMTP server it sends through (or a folder for
//! dry runs), the IMAP mailbox it reads, and the rules for reading mail.

use super::Secret;
use super::addresses::email_address_problem;
use super::load::{Environment, Origin, overridable, problem_for, secret_setting};
use super::position::{ConfigProblem, SourceText};
use super::raw::RawMailSection;
use crate::mail::trust::{ListAuthorHeader, ListTrust};
use std::path::PathBuf;
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

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub pool_size: u32,
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
    Some(OutgoingMail::Smtp(SmtpSettings {
        host: host_name,
        port,
        security,
        username: section.username.clone(),
        password,
        pool_size,
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
    Some(ImapSettings {
        host: host.value.unwrap_or_else(|| "127.0.0.1".to_string()),
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
    })
}
