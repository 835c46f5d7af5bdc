//! The secrets that tag the bot's Message-IDs (`mail::identity`), and the record of mail that
//! got no answer on purpose, for the operator.

use super::clean::{SHORT_FIELD_BYTES, storable_external_id, storable_text};
use super::{StorageError, Store};
use crate::mail::MailIdentity;

/// How long ignored mail stays in the operator's view.
const IGNORED_MAIL_KEPT_MS: i64 = 90 * 24 * 60 * 60 * 1000;

/// An `ignored_mail` row: external ID, reason, sender, subject, time.
type IgnoredMailRow = (String, String, Option<String>, Option<String>, i64);

/// One ignored mail as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredMail {
    pub external_id: String,
    pub reason: String,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub ignored_ms: i64,
}

fn new_secret() -> Result<String, StorageError> {
    crate::mail::MailIdentity::new_secret()
        .map_err(|error| StorageError::Randomness(error.to_string()))
}

impl Store {
    /// What proves mail to be this deployment's own (see `mail::identity`), made on first use.
    pub async fn mail_identity(&self, now_ms: i64) -> Result<MailIdentity, StorageError> {
        let secrets = self.mail_identity_secrets(now_ms).await?;
        MailIdentity::from_hex(&secrets)
            .map_err(|error| StorageError::Unreadable(error.to_string()))
    }

    /// The mail identity secrets, the current one first, then the retired ones newest first.
    /// The first call of a new deployment makes the first secret; processes that start together
    /// agree on it, since only one insert can win.
    pub async fn mail_identity_secrets(&self, now_ms: i64) -> Result<Vec<String>, StorageError> {
        let secrets = self.read_mail_identity_secrets().await?;
        if !secrets.is_empty() {
            return Ok(secrets);
        }
        // A fixed row ID for the first secret would be simpler, but the primary key is the
        // secret itself; "only one first secret" is kept by inserting only into an empty table.
        sqlx::query(
            "INSERT INTO mail_identity_secrets (secret, created_ms) \
             SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM mail_identity_secrets)",
        )
        .bind(new_secret()?)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        self.read_mail_identity_secrets().await
    }

    async fn read_mail_identity_secrets(&self) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT secret FROM mail_identity_secrets \
             ORDER BY CASE WHEN retired_ms IS NULL THEN 0 ELSE 1 END, created_ms DESC, secret",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(secret,)| secret).collect())
    }

    /// Makes a new current secret and retires the others, which are still recognised. Returns
    /// how many secrets are known now.
    pub async fn rotate_mail_identity_secret(&self, now_ms: i64) -> Result<usize, StorageError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE mail_identity_secrets SET retired_ms = $1 WHERE retired_ms IS NULL")
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("INSERT INTO mail_identity_secrets (secret, created_ms) VALUES ($1, $2)")
            .bind(new_secret()?)
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mail_identity_secrets")
            .fetch_one(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(count as usize)
    }

    /// Forgets the retired secrets: mail sent under them is no longer known as the bot's.
    pub async fn forget_retired_mail_identity_secrets(&self) -> Result<u64, StorageError> {
        Ok(
            sqlx::query("DELETE FROM mail_identity_secrets WHERE retired_ms IS NOT NULL")
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Records a mail ignored on purpose, with the reader's position, in one transaction; a
    /// mail seen again keeps its first row. Rows older than 90 days go at the same time.
    pub async fn record_ignored_mail(
        &self,
        mail: &IgnoredMail,
        position: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let clean = |text: &str| storable_text(text, SHORT_FIELD_BYTES).into_owned();
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO ignored_mail (external_id, reason, sender, subject, ignored_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (external_id) DO NOTHING",
        )
        .bind(storable_external_id(&mail.external_id).as_ref())
        .bind(clean(&mail.reason))
        .bind(mail.sender.as_deref().map(clean))
        .bind(mail.subject.as_deref().map(clean))
        .bind(mail.ignored_ms)
        .execute(&mut *transaction)
        .await?;
        sqlx::query("DELETE FROM ignored_mail WHERE ignored_ms < $1")
            .bind(now_ms - IGNORED_MAIL_KEPT_MS)
            .execute(&mut *transaction)
            .await?;
        if let Some((key, value)) = position {
            super::set_adapter_state_in(&mut transaction, key, value, now_ms).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// How many mails were ignored for each reason (the last 90 days), most first.
    pub async fn ignored_mail_counts(&self) -> Result<Vec<(String, i64)>, StorageError> {
        Ok(sqlx::query_as(
            "SELECT reason, COUNT(*) FROM ignored_mail GROUP BY reason \
             ORDER BY COUNT(*) DESC, reason",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The latest ignored mails, newest first, of one reason or of all.
    pub async fn ignored_mail(
        &self,
        reason: Option<&str>,
        limit: i64,
    ) -> Result<Vec<IgnoredMail>, StorageError> {
        let rows: Vec<IgnoredMailRow> = sqlx::query_as(
            "SELECT external_id, reason, sender, subject, ignored_ms FROM ignored_mail \
             WHERE (CAST($1 AS TEXT) IS NULL OR reason = $1) ORDER BY ignored_ms DESC, external_id LIMIT $2",
        )
        .bind(reason)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(external_id, reason, sender, subject, ignored_ms)| IgnoredMail {
                    external_id,
                    reason,
                    sender,
                    subject,
                    ignored_ms,
                },
            )
            .collect())
    }
}
