//! The public list archive: each list message once per group, as `mail::archive` shows it.

use super::{StorageError, Store};
use crate::mail::archive::{ArchiveHeader, ArchivedMessage};

impl Store {
    /// Keeps a list message in the group's archive; one already there keeps its first row, so
    /// a message read twice (IMAP and a pipe, or after a crash) is archived once. Returns
    /// whether it was new.
    pub async fn archive_list_message(
        &self,
        group_id: &str,
        message: &ArchivedMessage,
    ) -> Result<bool, StorageError> {
        let new = self
            .archive_list_messages_with(group_id, std::slice::from_ref(message), None, None)
            .await?;
        Ok(new == 1)
    }

    /// As [`Store::archive_list_message`], and if the message is new, (re)schedules the
    /// group's publication timer in the same transaction, so that the public record shows it
    /// soon, even across a crash. `timer` is the stored timer (`key`, due time, JSON).
    pub async fn archive_list_message_to_publish(
        &self,
        group_id: &str,
        message: &ArchivedMessage,
        timer: (&str, i64, &str),
    ) -> Result<bool, StorageError> {
        let new = self
            .archive_list_messages_with(group_id, std::slice::from_ref(message), None, Some(timer))
            .await?;
        Ok(new == 1)
    }

    /// Schedules (or moves) one timer of the durable clock outside a handled input: what
    /// `import-mbox` does for the group's publication when it is done.
    pub async fn schedule_timer(
        &self,
        group_id: &str,
        timer: (&str, i64, &str),
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let mut transaction = self.pool.begin().await?;
        schedule_in(&mut transaction, group_id, timer, now_ms).await?;
        transaction.commit().await?;
        Ok(())
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

    /// What the thread index needs of each archived message of the group, oldest first. The
    /// rows are read one at a time and only their headers kept, so that reading the threads of
    /// a large archive holds a small part of its text in memory.
    pub async fn list_archive_headers(
        &self,
        group_id: &str,
    ) -> Result<Vec<ArchiveHeader>, StorageError> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query_as::<_, (String,)>(
            "SELECT message FROM list_archive WHERE group_id = $1 ORDER BY date_ms, message_id",
        )
        .bind(group_id)
        .fetch(&self.pool);
        let mut headers = Vec::new();
        while let Some((text,)) = rows.try_next().await? {
            if let Ok(header) = serde_json::from_str::<ArchiveHeader>(&text) {
                headers.push(header);
            }
        }
        Ok(headers)
    }

    /// The archived messages of the group with these Message-IDs (those it holds).
    pub async fn list_archive_messages(
        &self,
        group_id: &str,
        message_ids: &[&str],
    ) -> Result<Vec<ArchivedMessage>, StorageError> {
        let mut messages = Vec::with_capacity(message_ids.len());
        for chunk in message_ids.chunks(ROWS_PER_STATEMENT * 4) {
            let placeholders: Vec<String> = (0..chunk.len())
                .map(|index| format!("${}", index + 2))
                .collect();
            let sql = format!(
                "SELECT message FROM list_archive WHERE group_id = $1 AND message_id IN ({})",
                placeholders.join(", ")
            );
            // The statement is fixed text and numbered placeholders only; every value is bound.
            let mut query = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql)).bind(group_id);
            for message_id in chunk {
                query = query.bind(super::clean::storable_external_id(message_id).into_owned());
            }
            for (text,) in query.fetch_all(&self.pool).await? {
                if let Ok(message) = serde_json::from_str(&text) {
                    messages.push(message);
                }
            }
        }
        Ok(messages)
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
        self.archive_list_messages_with(group_id, messages, Some((position, now_ms)), None)
            .await
    }

    /// The one insert of archive rows: a batch, and the reader's position if there is one, in
    /// one transaction.
    async fn archive_list_messages_with(
        &self,
        group_id: &str,
        messages: &[ArchivedMessage],
        position: Option<((&str, &str), i64)>,
        publication: Option<(&str, i64, &str)>,
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
        if let Some(((key, value), now_ms)) = position {
            super::set_adapter_state_in(&mut transaction, key, value, now_ms).await?;
        }
        if let Some(timer) = publication
            && new > 0
        {
            schedule_in(&mut transaction, group_id, timer, timer.1).await?;
        }
        transaction.commit().await?;
        Ok(new)
    }
}

/// The handler's own rule for `Effect::Schedule` (`state::apply_timer_operation`): a timer
/// made, or moved and armed again.
async fn schedule_in(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    group_id: &str,
    (key, due_ms, timer): (&str, i64, &str),
    now_ms: i64,
) -> Result<(), StorageError> {
    let operation = super::TimerOperation::Schedule {
        group_id: group_id.to_string(),
        key: key.to_string(),
        due_ms,
        timer: timer.to_string(),
    };
    super::state::apply_timer_operation(transaction, &operation, now_ms).await
}
