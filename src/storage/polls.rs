//! Finding the bot's own Matrix messages again: an answer to a native poll (a poll response or
//! a reaction) names the event it answers, and ending a poll needs the event that started it.
//! The outbox already holds both facts (the record a message is about, and the event ID the
//! homeserver gave it once sent); these lookups read them, and the Matrix adapter decides
//! what the payloads mean.

use super::{StorageError, Store};
use sqlx::Row;

/// One of the bot's Matrix messages in a room, as the outbox holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMatrixMessage {
    /// The record it is about (`R-6`), if any.
    pub about: Option<String>,
    pub payload: String,
    /// The event ID, once the homeserver accepted it.
    pub event_id: Option<String>,
}

fn sent_message(row: &sqlx::any::AnyRow) -> Result<SentMatrixMessage, StorageError> {
    Ok(SentMatrixMessage {
        about: row.try_get("about")?,
        payload: row.try_get("payload")?,
        event_id: row.try_get("remote_id")?,
    })
}

impl Store {
    /// The bot's message in `room_id` that the homeserver gave `event_id`, if it is one of the
    /// bot's.
    pub async fn matrix_message_by_event(
        &self,
        room_id: &str,
        event_id: &str,
    ) -> Result<Option<SentMatrixMessage>, StorageError> {
        let row = sqlx::query(
            "SELECT about, payload, remote_id FROM outbox \
             WHERE remote_id = $1 AND channel = 'matrix' AND destination = $2 AND state = 'sent'",
        )
        .bind(event_id)
        .bind(room_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| sent_message(&row)).transpose()
    }

    /// The bot's messages in `room_id` about the record `about`, oldest first, sent or not.
    pub async fn matrix_messages_about(
        &self,
        room_id: &str,
        about: &str,
    ) -> Result<Vec<SentMatrixMessage>, StorageError> {
        let rows = sqlx::query(
            "SELECT about, payload, remote_id FROM outbox \
             WHERE about = $1 AND destination = $2 AND channel = 'matrix' ORDER BY id",
        )
        .bind(about)
        .bind(room_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(sent_message).collect()
    }
}
