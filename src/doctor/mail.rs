//! The mail servers: SMTP (connect, TLS as configured, login, and a `RCPT TO` of each group's
//! list address withdrawn before any data), IMAP (connect, TLS, login, the mailbox, IDLE), and
//! the mail authentication settings compared with the header of the latest mail in the
//! mailbox: the receiving server's `Authentication-Results` under the configured authserv-id,
//! and a `Received` header by the configured receiving host.

use super::Check;
use crate::config::{MailSettings, OutgoingMail, Settings};

pub async fn checks(settings: &Settings) -> Vec<Check> {
    let Some(mail) = &settings.mail else {
        return vec![Check::skipped(
            "mail",
            "no [mail] section: the bot serves Matrix only",
        )];
    };
    let mut checks = smtp_checks(settings, mail).await;
    let latest_header = match &mail.imap {
        None => {
            checks.push(Check::skipped(
                "imap",
                "no [mail.imap]: mail reaches the bot through `ingest-mail`",
            ));
            None
        }
        Some(imap) => match crate::mail::imap_probe::probe(imap).await {
            Ok(probe) => {
                checks.push(Check::passed(
                    "imap",
                    format!(
                        "{}:{} logged in as {}, mailbox {} has {} message(s), IDLE {}",
                        imap.host,
                        imap.port,
                        imap.username,
                        imap.mailbox,
                        probe.messages,
                        if probe.idle {
                            "offered"
                        } else {
                            "not offered (the bot polls)"
                        }
                    ),
                ));
                probe.latest_header
            }
            Err(crate::mail::imap_probe::ImapProbeError::Connect(reason)) => {
                checks.push(Check::failed(
                    "imap",
                    format!("cannot connect: {reason}"),
                    "check [mail.imap] host, port and security, and that the server runs",
                ));
                None
            }
            Err(crate::mail::imap_probe::ImapProbeError::Login(reason)) => {
                checks.push(Check::failed(
                    "imap",
                    format!("the login of {} was refused: {reason}", imap.username),
                    "check [mail.imap] username and RAPPORTEUR_IMAP_PASSWORD[_FILE]",
                ));
                None
            }
            Err(crate::mail::imap_probe::ImapProbeError::Mailbox(reason)) => {
                checks.push(Check::failed(
                    "imap",
                    format!("the mailbox {:?} cannot be opened: {reason}", imap.mailbox),
                    "create it, or set [mail.imap] mailbox to one that exists (such as INBOX)",
                ));
                None
            }
        },
    };
    checks.extend(authentication_checks(mail, latest_header.as_deref()));
    checks
}

async fn smtp_checks(settings: &Settings, mail: &MailSettings) -> Vec<Check> {
    let smtp = match &mail.outgoing {
        OutgoingMail::Smtp(smtp) => smtp,
        OutgoingMail::Folder(folder) => {
            return vec![Check::skipped(
                "smtp",
                format!("mail is written to {} instead of sent", folder.display()),
            )];
        }
    };
    let from: lettre::Address = match mail.address.parse() {
        Ok(address) => address,
        Err(error) => {
            return vec![Check::failed(
                "smtp",
                format!(
                    "the bot's address {:?} is not an address: {error}",
                    mail.address
                ),
                "correct [mail] address",
            )];
        }
    };
    let hello = mail
        .address
        .rsplit_once('@')
        .map(|(_, domain)| domain.to_string())
        .unwrap_or_else(|| "localhost".to_string());
    let pool = crate::mail::smtp_pool::SmtpPool::new(smtp.clone(), &hello);
    // Each group's list, or the bot's own address if no group has a list.
    let mut recipients: Vec<String> = settings
        .groups
        .iter()
        .filter_map(|group| group.mailing_list.clone())
        .collect();
    if recipients.is_empty() {
        recipients.push(mail.address.clone());
    }
    let mut checks = Vec::new();
    for recipient in recipients {
        let name = format!("smtp: RCPT TO {recipient}");
        let Ok(address) = recipient.parse::<lettre::Address>() else {
            checks.push(Check::failed(
                name,
                "not an address",
                "correct the group's mailing_list",
            ));
            continue;
        };
        checks.push(match pool.probe_recipient(&from, &address).await {
            Ok(answer) => Check::passed(
                name,
                format!(
                    "{}:{} ({:?}) accepted the recipient: {answer} (nothing was sent)",
                    smtp.host, smtp.port, smtp.security
                ),
            ),
            Err(failure) if failure.transient => Check::failed(
                name,
                format!("{}:{}: {}", smtp.host, smtp.port, failure.message),
                "check [mail.smtp] host, port and security, and that the server runs",
            ),
            Err(failure) => Check::failed(
                name,
                format!("{}:{} refused: {}", smtp.host, smtp.port, failure.message),
                "check the SMTP login (username, RAPPORTEUR_SMTP_PASSWORD[_FILE]) and that the server relays to this address",
            ),
        });
    }
    checks
}

/// The authentication settings against the latest mail's header, when there is one to read.
fn authentication_checks(mail: &MailSettings, latest_header: Option<&str>) -> Vec<Check> {
    let mut checks = Vec::new();
    let header = latest_header.map(|text| text.replace("\r\n", "\n"));
    let unfolded: Vec<String> = header
        .as_deref()
        .map(|text| {
            let mut lines: Vec<String> = Vec::new();
            for line in text.lines() {
                if line.starts_with([' ', '\t']) {
                    if let Some(last) = lines.last_mut() {
                        last.push(' ');
                        last.push_str(line.trim());
                    }
                } else {
                    lines.push(line.to_string());
                }
            }
            lines
        })
        .unwrap_or_default();
    let field = |name: &str| -> Vec<&str> {
        unfolded
            .iter()
            .filter_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then_some(value.trim())
            })
            .collect()
    };
    match (&mail.trusted_authserv_id, &header) {
        (None, _) => checks.push(Check::skipped(
            "mail authentication: authserv-id",
            "trusted_authserv_id is not set (mail is not required to be authenticated)",
        )),
        (Some(_), None) => checks.push(Check::skipped(
            "mail authentication: authserv-id",
            "no mail in the mailbox to compare with",
        )),
        (Some(expected), Some(_)) => {
            let topmost = field("Authentication-Results")
                .first()
                .map(|value| value.split(';').next().unwrap_or("").trim().to_string());
            checks.push(match topmost {
                Some(found) if found.eq_ignore_ascii_case(expected) => Check::passed(
                    "mail authentication: authserv-id",
                    format!("the latest mail's topmost Authentication-Results is by {found}"),
                ),
                Some(found) => Check::failed(
                    "mail authentication: authserv-id",
                    format!("the latest mail's topmost Authentication-Results is by {found:?}, not {expected:?}"),
                    "set trusted_authserv_id to the name your receiving server writes",
                ),
                None => Check::failed(
                    "mail authentication: authserv-id",
                    "the latest mail has no Authentication-Results header",
                    "make the receiving server add one, or unset trusted_authserv_id",
                ),
            });
        }
    }
    match (&mail.list_trust.receiving_host, &header) {
        (None, _) => checks.push(Check::skipped(
            "mail authentication: list host",
            "receiving_host and list_server_hosts are not set (list mail with a rewritten From is not attributed)",
        )),
        (Some(_), None) => checks.push(Check::skipped(
            "mail authentication: list host",
            "no mail in the mailbox to compare with",
        )),
        (Some(host), Some(_)) => {
            let received = field("Received");
            let by_host = received.iter().any(|value| {
                value
                    .to_ascii_lowercase()
                    .contains(&format!("by {}", host.to_ascii_lowercase()))
            });
            let from_list = received.iter().any(|value| {
                mail.list_trust
                    .list_server_hosts
                    .iter()
                    .any(|list_host| value.contains(list_host.as_str()))
            });
            checks.push(if by_host {
                Check::passed(
                    "mail authentication: list host",
                    format!(
                        "the latest mail was received by {host}{}",
                        if from_list {
                            " from a configured list server"
                        } else {
                            " (not from a list server; that mail was not a list post)"
                        }
                    ),
                )
            } else {
                Check::failed(
                    "mail authentication: list host",
                    format!("no Received header of the latest mail says \"by {host}\""),
                    "set receiving_host to the name your receiving server writes after \"by\"",
                )
            });
        }
    }
    checks
}
