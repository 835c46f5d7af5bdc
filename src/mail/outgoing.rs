//! Sending the bot's mail with lettre: a pooled SMTP transport (plain, STARTTLS or TLS), or a
//! folder of `.eml` files for dry runs. Each mail is built from an outbox item's payload, with a
//! Message-ID made from the item's idempotency key, so a mail sent again after a crash carries
//! the same ID and a reply to it can be traced back to the outbox.

use super::examine::one_line;
use super::identity::MailIdentity;
use super::smtp_pool::SmtpPool;
use super::thread::MailPayload;
use crate::config::{MailSettings, OutgoingMail};
use crate::storage::OutboxItem;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

/// Why a mail could not be sent: the error every channel's delivery uses.
pub use crate::delivery::DeliveryError as MailDeliveryError;

enum Transport {
    // Boxed: the pool (with its timeouts and TLS settings) is much larger than the folder.
    Smtp(Box<SmtpPool>),
    Folder(AsyncFileTransport<Tokio1Executor>),
}

impl crate::delivery::ChannelDelivery for std::sync::Arc<MailSender> {
    fn channel(&self) -> crate::core::engine::Channel {
        crate::core::engine::Channel::Mail
    }

    /// Up to the SMTP pool's size at once: mail has no order to keep.
    fn concurrency(&self) -> usize {
        self.concurrency.max(1)
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<String, MailDeliveryError> {
        MailSender::deliver(self, item).await
    }
}

/// Sends the bot's mail. Cheap to share: the SMTP transport keeps a pool of connections.
pub struct MailSender {
    transport: Transport,
    from: Mailbox,
    message_id_domain: String,
    /// Tags each Message-ID so that the bot knows its own mail exactly (see `identity.rs`).
    identity: MailIdentity,
    /// How many mails may be in flight at once (the SMTP pool size).
    pub concurrency: usize,
}

impl MailSender {
    pub fn new(
        settings: &MailSettings,
        identity: MailIdentity,
    ) -> Result<MailSender, MailDeliveryError> {
        let address = settings
            .address
            .parse()
            .map_err(|error| MailDeliveryError::permanent(format!("bot address: {error}")))?;
        let from = Mailbox::new(Some(one_line(&settings.display_name)), address);
        let (transport, concurrency) = match &settings.outgoing {
            OutgoingMail::Folder(folder) => {
                std::fs::create_dir_all(folder).map_err(|error| {
                    MailDeliveryError::permanent(format!(
                        "cannot create {}: {error}",
                        folder.display()
                    ))
                })?;
                (Transport::Folder(AsyncFileTransport::new(folder)), 1)
            }
            OutgoingMail::Smtp(smtp) => (
                Transport::Smtp(Box::new(SmtpPool::new(
                    smtp.clone(),
                    &settings.message_id_domain,
                ))),
                smtp.pool_size as usize,
            ),
        };
        Ok(MailSender {
            transport,
            from,
            message_id_domain: settings.message_id_domain.clone(),
            identity,
            concurrency,
        })
    }

    /// The Message-ID of the mail for an outbox item.
    pub fn message_id_for(&self, item: &OutboxItem) -> String {
        self.identity
            .message_id(&item.idempotency_key, &self.message_id_domain)
    }

    /// Sends one outbox item; returns its Message-ID.
    pub async fn deliver(&self, item: &OutboxItem) -> Result<String, MailDeliveryError> {
        let payload: MailPayload = serde_json::from_str(&item.payload).map_err(|error| {
            MailDeliveryError::permanent(format!("unreadable outbox payload: {error}"))
        })?;
        let message_id = self.message_id_for(item);
        let origin = self.identity.origin(&item.idempotency_key);
        let message = build_message(&self.from, &message_id, &origin, &payload)?;
        match &self.transport {
            Transport::Smtp(pool) => {
                pool.send(message.envelope(), &message.formatted())
                    .await
                    .map_err(|failure| MailDeliveryError {
                        transient: failure.transient,
                        message: failure.message,
                    })?;
            }
            Transport::Folder(transport) => {
                transport
                    .send(message)
                    .await
                    .map_err(|error| MailDeliveryError {
                        transient: true,
                        message: error.to_string(),
                    })?;
            }
        }
        Ok(message_id)
    }
}

/// Builds the mail. Every value taken from received mail goes through [`one_line`] or lettre's
/// own encoding, so no line break can start a header of the attacker's choosing. `origin` is
/// the tagged key (`identity.rs`) that `X-Rapporteur-Origin` carries, for a list server that
/// replaces the Message-ID.
pub fn build_message(
    from: &Mailbox,
    message_id: &str,
    origin: &str,
    payload: &MailPayload,
) -> Result<Message, MailDeliveryError> {
    let to_address = payload.to.parse().map_err(|error| {
        MailDeliveryError::permanent(format!("recipient {:?}: {error}", payload.to))
    })?;
    let to = Mailbox::new(payload.to_name.as_deref().map(one_line), to_address);
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(one_line(&payload.subject))
        .message_id(Some(message_id.to_string()))
        .date_now()
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            if payload.auto_submitted == "auto-replied" {
                "auto-replied".to_string()
            } else {
                "auto-generated".to_string()
            },
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Rapporteur-Origin"),
            one_line(origin),
        ));
    let well_formed = |id: &&String| {
        id.starts_with('<')
            && id.ends_with('>')
            && id.len() <= 250
            && !id.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if let Some(in_reply_to) = payload.in_reply_to.as_ref().filter(well_formed) {
        builder = builder.in_reply_to(in_reply_to.clone());
    }
    let references: Vec<&String> = payload.references.iter().filter(well_formed).collect();
    // Long threads keep the first reference and the latest ones, as RFC 5322 suggests.
    let kept: Vec<&String> = if references.len() > 20 {
        references[..1]
            .iter()
            .chain(&references[references.len() - 19..])
            .copied()
            .collect()
    } else {
        references
    };
    if !kept.is_empty() {
        let joined: Vec<&str> = kept.iter().map(|id| id.as_str()).collect();
        builder = builder.references(joined.join(" "));
    }
    let text = MultiPart::alternative_plain_html(payload.plain.clone(), payload.html.clone());
    let body = match &payload.calendar {
        None => text,
        Some(calendar) => with_calendar(text, calendar)?,
    };
    builder
        .multipart(body)
        .map_err(|error| MailDeliveryError::permanent(format!("cannot build the mail: {error}")))
}

/// An invitation as calendar clients read it (RFC 6047): the iCalendar text as a third
/// alternative, `text/calendar` with its method, which Outlook, Gmail and Thunderbird turn into
/// an invitation with buttons, and the same text as an `invite.ics` attachment for clients that
/// only show attachments. The method is the core's own constant (`REQUEST`, `CANCEL`).
fn with_calendar(
    text: MultiPart,
    calendar: &crate::core::effects::CalendarPart,
) -> Result<MultiPart, MailDeliveryError> {
    use lettre::message::header::ContentType;
    use lettre::message::{Attachment, SinglePart};
    let method: String = calendar
        .method
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect();
    let calendar_type =
        ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
            .map_err(|error| MailDeliveryError::permanent(format!("calendar part: {error}")))?;
    let ics_type = ContentType::parse("application/ics")
        .map_err(|error| MailDeliveryError::permanent(format!("calendar part: {error}")))?;
    let alternative = text.singlepart(
        SinglePart::builder()
            .header(calendar_type)
            .body(calendar.text.clone()),
    );
    Ok(MultiPart::mixed().multipart(alternative).singlepart(
        Attachment::new("invite.ics".to_string()).body(calendar.text.clone(), ics_type),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(subject: &str, name: &str) -> MailPayload {
        MailPayload {
            to: "ana.lima@example.org".into(),
            to_name: Some(name.into()),
            subject: subject.into(),
            in_reply_to: Some("<a@example.org>".into()),
            references: vec![
                "<root@example.org>".into(),
                "<a@example.org>".into(),
                "<bad id>".into(),
            ],
            auto_submitted: "auto-replied".into(),
            plain: "You are Ana Lima.".into(),
            html: "<p>You are Ana Lima.</p>".into(),
            calendar: None,
        }
    }

    fn headers(message: &Message) -> String {
        let formatted = String::from_utf8_lossy(&message.formatted()).to_string();
        formatted
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn replies_are_threaded_and_marked_automatic() {
        let from: Mailbox = "rapporteur <rapporteur@lists.example.org>".parse().unwrap();
        let message = build_message(
            &from,
            "<k.0a1b@rapporteur.localhost>",
            "k.0a1b",
            &payload("Re: !whoami", "Ana Lima"),
        )
        .unwrap();
        let headers = headers(&message);
        for expected in [
            "Message-ID: <k.0a1b@rapporteur.localhost>",
            "In-Reply-To: <a@example.org>",
            "References: <root@example.org> <a@example.org>",
            "Auto-Submitted: auto-replied",
            "Subject: Re: !whoami",
            "X-Rapporteur-Origin: k.0a1b",
        ] {
            assert!(
                headers.contains(expected),
                "{expected} missing in\n{headers}"
            );
        }
        assert!(!headers.contains("bad id"));
        assert!(headers.contains("Date: "));
    }

    #[test]
    fn line_breaks_in_subjects_and_names_cannot_add_headers() {
        let from: Mailbox = "rapporteur <rapporteur@lists.example.org>".parse().unwrap();
        let message = build_message(
            &from,
            "<k@rapporteur.localhost>",
            "rapporteur.localhost",
            &payload(
                "Re: !whoami\r\nBcc: victim@evil.example",
                "Ana\r\nBcc: victim@evil.example",
            ),
        )
        .unwrap();
        let headers = headers(&message);
        for line in headers.split("\r\n") {
            assert!(
                !line.to_ascii_lowercase().starts_with("bcc:"),
                "injected header in\n{headers}"
            );
        }
    }
}
