//! Storage for the mail channel: the quarantine of mail that could not be handled, and the
//! lookup of the bot's own sent mail that a reply refers to.

use super::{StorageError, Store};
use sqlx::Row;

/// A quarantined mail as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedMail {
    pub id: i64,
    pub external_id: String,
    pub source: String,
    pub reason: String,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub size_bytes: i64,
    pub received_ms: i64,
    pub state: String,
}

/// A mail to keep aside.
#[derive(Debug, Clone, Copy)]
pub struct NewQuarantinedMail<'a> {
    pub external_id: &'a str,
    pub source: &'a str,
    pub reason: &'a str,
    pub sender: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub raw: &'a [u8],
}

impl Store {
    /// Keeps a mail aside. Returns its quarantine ID; a mail already there keeps its first row.
    pub async fn quarantine_mail(
        &self,
        mail: NewQuarantinedMail<'_>,
        position: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<i64, StorageError> {
        let mut transaction = self.pool.begin().await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO mail_quarantine (external_id, source, reason, sender, subject, raw, received_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (external_id) DO NOTHING RETURNING id",
        )
        .bind(mail.external_id)
        .bind(mail.source)
        .bind(mail.reason)
        .bind(mail.sender)
        .bind(mail.subject)
        .bind(mail.raw.to_vec())
        .bind(now_ms)
        .fetch_optional(&mut *transaction)
        .await?;
        let id = match inserted {
            Some((id,)) => id,
            None => {
                sqlx::query_as::<_, (i64,)>("SELECT id FROM mail_quarantine WHERE external_id = $1")
                    .bind(mail.external_id)
                    .fetch_one(&mut *transaction)
                    .await?
                    .0
            }
        };
        if let Some((key, value)) = position {
            super::set_adapter_state_in(&mut transaction, key, value, now_ms).await?;
        }
        transaction.commit().await?;
        Ok(id)
    }

    /// Quarantined mail, newest first; `held_only` leaves out mail already released by a retry.
    pub async fn quarantined_mail(
        &self,
        held_only: bool,
        limit: i64,
    ) -> Result<Vec<QuarantinedMail>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, external_id, source, reason, sender, subject, received_ms, state, \
             LENGTH(raw) AS size_bytes FROM mail_quarantine \
             WHERE state = 'held' OR $1 = 0 ORDER BY id DESC LIMIT $2",
        )
        .bind(i64::from(held_only))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(QuarantinedMail {
                    id: row.try_get("id")?,
                    external_id: row.try_get("external_id")?,
                    source: row.try_get("source")?,
                    reason: row.try_get("reason")?,
                    sender: row.try_get("sender")?,
                    subject: row.try_get("subject")?,
                    size_bytes: row
                        .try_get::<i64, _>("size_bytes")
                        .or_else(|_| row.try_get::<i32, _>("size_bytes").map(i64::from))?,
                    received_ms: row.try_get("received_ms")?,
                    state: row.try_get("state")?,
                })
            })
            .collect()
    }

    /// The raw bytes of a quarantined mail, for a retry.
    pub async fn quarantined_raw(&self, id: i64) -> Result<Option<Vec<u8>>, StorageError> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT raw FROM mail_quarantine WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(raw,)| raw))
    }

    /// Marks a quarantined mail released (handled by a retry); it stays listed for the record.
    pub async fn release_quarantined(&self, id: i64, now_ms: i64) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE mail_quarantine SET state = 'released', released_ms = $1 WHERE id = $2",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Of the given Message-IDs, the first that is a mail the bot sent (its idempotency key is
    /// the local part): the bot's mail a reply answers, and through its outbox row the message
    /// and command that mail answered.
    pub async fn sent_mail_answered(
        &self,
        message_ids: &[String],
    ) -> Result<Option<AnsweredMail>, StorageError> {
        for message_id in message_ids {
            let key = message_id
                .trim_start_matches('<')
                .split('@')
                .next()
                .unwrap_or_default();
            let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT outbox.about, inbox.group_id FROM outbox \
                 LEFT JOIN inbox ON inbox.id = outbox.inbox_id \
                 WHERE outbox.idempotency_key = $1 AND outbox.channel = 'mail'",
            )
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
            if let Some((about, group_id)) = row {
                return Ok(Some(AnsweredMail {
                    message_id: message_id.clone(),
                    about,
                    group_id,
                }));
            }
        }
        Ok(None)
    }
}

/// The bot's own mail that a reply answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredMail {
    pub message_id: String,
    /// The record that mail was about (`R-3`), if any.
    pub about: Option<String>,
    /// The group whose input produced that mail: a reply to it belongs to the same group.
    pub group_id: Option<String>,
}
