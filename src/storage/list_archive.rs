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
