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

/// Rows per INSERT statement of a batch: 4 parameters each, well under SQLite's and
/// PostgreSQL's limits on parameters.
const ROWS_PER_STATEMENT: usize = 100;

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
        // Many rows per statement: a statement's round trip through the driver, not the
        // database's work, is what a row costs when they go one by one (about 50 µs on SQLite,
        // which made the import six times slower).
        for chunk in messages.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO list_archive (group_id, message_id, date_ms, message) VALUES ",
            );
            for index in 0..chunk.len() {
                let base = index * 4;
                if index > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${})",
                    base + 1,
                    base + 2,
                    base + 3,
                    base + 4
                ));
            }
            sql.push_str(" ON CONFLICT (group_id, message_id) DO NOTHING");
            let texts: Vec<String> = chunk
                .iter()
                .map(|message| serde_json::to_string(message).unwrap_or_default())
                .collect();
            // The statement is fixed text and numbered placeholders only; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (message, text) in chunk.iter().zip(&texts) {
                query = query
                    .bind(group_id)
                    .bind(super::clean::storable_external_id(&message.message_id).into_owned())
                    .bind(message.date_ms)
                    .bind(super::clean::storable_text(text, usize::MAX).into_owned());
            }
            new += query.execute(&mut *transaction).await?.rows_affected() as usize;
        }
        super::set_adapter_state_in(&mut transaction, position.0, position.1, now_ms).await?;
        transaction.commit().await?;
        Ok(new)
    }
}
