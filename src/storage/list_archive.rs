//! The public list archive: each list message once per group, as `mail::archive` shows it.

use super::{StorageError, Store};
use crate::mail::archive::ArchivedMessage;

impl Store {
    /// Keeps a list message in the group's archive; one already there keeps its first row, so
    /// a message read twice (IMAP and a pipe, or after a crash) is archived once.
    pub async fn archive_list_message(
        &self,
        group_id: &str,
        message: &ArchivedMessage,
    ) -> Result<bool, StorageError> {
        let text = serde_json::to_string(message).unwrap_or_default();
        let inserted = sqlx::query(
            "INSERT INTO list_archive (group_id, message_id, date_ms, message) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (group_id, message_id) DO NOTHING",
        )
        .bind(group_id)
        .bind(super::clean::storable_external_id(&message.message_id).as_ref())
        .bind(message.date_ms)
        .bind(super::clean::storable_text(&text, usize::MAX).as_ref())
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// The group's archived list messages, oldest first.
    pub async fn list_archive(&self, group_id: &str) -> Result<Vec<ArchivedMessage>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT message FROM list_archive WHERE group_id = $1 ORDER BY date_ms, message_id",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(text,)| serde_json::from_str(&text).ok())
            .collect())
    }
}

impl Store {
    /// Keeps a batch of list messages and the importer's position in one transaction, so an
    /// import stopped anywhere resumes after the last batch it committed, and a message seen
    /// again is kept once. Returns how many were new.
    pub async fn archive_list_messages(
        &self,
        group_id: &str,
        messages: &[ArchivedMessage],
        position: (&str, &str),
        now_ms: i64,
    ) -> Result<usize, StorageError> {
        let mut transaction = self.pool.begin().await?;
        let mut new = 0;
        for message in messages {
            let text = serde_json::to_string(message).unwrap_or_default();
            let inserted = sqlx::query(
                "INSERT INTO list_archive (group_id, message_id, date_ms, message) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (group_id, message_id) DO NOTHING",
            )
            .bind(group_id)
            .bind(super::clean::storable_external_id(&message.message_id).as_ref())
            .bind(message.date_ms)
            .bind(super::clean::storable_text(&text, usize::MAX).as_ref())
            .execute(&mut *transaction)
            .await?;
            new += inserted.rows_affected() as usize;
        }
        super::set_adapter_state_in(&mut transaction, position.0, position.1, now_ms).await?;
        transaction.commit().await?;
        Ok(new)
    }
}
