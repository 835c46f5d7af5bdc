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
    /// The size of the whole mail as received.
    pub size_bytes: i64,
    /// How much of it is kept: less than `size_bytes` for a mail over the size limit, of which
    /// only the header section is kept.
    pub kept_bytes: i64,
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
    /// Keeps a mail aside, whole. Returns its quarantine ID; a mail already there keeps its
    /// first row.
    pub async fn quarantine_mail(
        &self,
        mail: NewQuarantinedMail<'_>,
        position: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<i64, StorageError> {
        let size = i64::try_from(mail.raw.len()).unwrap_or(i64::MAX);
        self.insert_quarantined(mail, size, position, now_ms).await
    }

    /// Keeps aside only part of a mail (its header section, for a mail over the size limit)
    /// with the size of the whole, so an operator sees what it was without the database
    /// holding its body.
    pub async fn quarantine_mail_part(
        &self,
        mail: NewQuarantinedMail<'_>,
        whole_size_bytes: u64,
        position: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<i64, StorageError> {
        let size = i64::try_from(whole_size_bytes).unwrap_or(i64::MAX);
        self.insert_quarantined(mail, size, position, now_ms).await
    }

    async fn insert_quarantined(
        &self,
        mail: NewQuarantinedMail<'_>,
        size_bytes: i64,
        position: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<i64, StorageError> {
        use super::clean::{SHORT_FIELD_BYTES, storable_external_id, storable_text};
        // The raw bytes go to a binary column, which takes any byte; the text fields are
        // cleaned as the inbox's are, so the quarantine never refuses what the inbox refused.
        let external_id = storable_external_id(mail.external_id);
        let clean = |text: &'_ str| storable_text(text, SHORT_FIELD_BYTES).into_owned();
        let mut transaction = self.pool.begin().await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO mail_quarantine (external_id, source, reason, sender, subject, raw, received_ms, size_bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (external_id) DO NOTHING RETURNING id",
        )
        .bind(external_id.as_ref())
        .bind(clean(mail.source))
        .bind(clean(mail.reason))
        .bind(mail.sender.map(clean))
        .bind(mail.subject.map(clean))
        .bind(mail.raw.to_vec())
        .bind(now_ms)
        .bind(size_bytes)
        .fetch_optional(&mut *transaction)
        .await?;
        let id = match inserted {
            Some((id,)) => id,
            None => {
                sqlx::query_as::<_, (i64,)>("SELECT id FROM mail_quarantine WHERE external_id = $1")
                    .bind(external_id.as_ref())
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

    /// Deletes quarantined mail received before `before_ms`, held or released; returns how
    /// many rows went. For `rapporteur quarantine purge --older-than`.
    pub async fn purge_quarantine(&self, before_ms: i64) -> Result<u64, StorageError> {
        let deleted = sqlx::query("DELETE FROM mail_quarantine WHERE received_ms < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected())
    }

    /// Quarantined mail, newest first; `held_only` leaves out mail already released by a retry.
    pub async fn quarantined_mail(
        &self,
        held_only: bool,
        limit: i64,
    ) -> Result<Vec<QuarantinedMail>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, external_id, source, reason, sender, subject, received_ms, state, \
             COALESCE(size_bytes, LENGTH(raw)) AS size_bytes, LENGTH(raw) AS kept_bytes FROM mail_quarantine \
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
                    kept_bytes: row
                        .try_get::<i64, _>("kept_bytes")
                        .or_else(|_| row.try_get::<i32, _>("kept_bytes").map(i64::from))?,
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

    /// The bytes kept of a quarantined mail and the size of the whole mail: for a mail over
    /// the size limit, only its header section was kept.
    pub async fn quarantined_raw_and_size(
        &self,
        id: i64,
    ) -> Result<Option<(Vec<u8>, i64)>, StorageError> {
        let row: Option<(Vec<u8>, Option<i64>)> =
            sqlx::query_as("SELECT raw, size_bytes FROM mail_quarantine WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(raw, size)| {
            let size = size.unwrap_or(raw.len() as i64);
            (raw, size)
        }))
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
        identity: &crate::mail::MailIdentity,
    ) -> Result<Option<AnsweredMail>, StorageError> {
        for message_id in message_ids {
            // A tagged ID proves its key; an untagged one (from before the tags) counts only
            // if the bot recorded sending a mail with exactly that Message-ID.
            let (key, exact) = match identity.proven_key(message_id) {
                Some(key) => (key.to_string(), None),
                None => (
                    message_id
                        .trim_start_matches('<')
                        .split('@')
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    Some(message_id.as_str()),
                ),
            };
            let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT outbox.about, inbox.group_id FROM outbox \
                 LEFT JOIN inbox ON inbox.id = outbox.inbox_id \
                 WHERE outbox.idempotency_key = $1 AND outbox.channel = 'mail' \
                 AND (CAST($2 AS TEXT) IS NULL OR outbox.remote_id = $2)",
            )
            .bind(key)
            .bind(exact)
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
