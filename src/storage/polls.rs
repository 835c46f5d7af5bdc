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
    /// The room as the outbox names it: its ID, or the alias the configuration gives it.
    pub destination: String,
    /// The record it is about (`R-6`), if any.
    pub about: Option<String>,
    pub payload: String,
    /// The event ID, once the homeserver accepted it.
    pub event_id: Option<String>,
}

fn sent_message(row: &sqlx::any::AnyRow) -> Result<SentMatrixMessage, StorageError> {
    Ok(SentMatrixMessage {
        destination: row.try_get("destination")?,
        about: row.try_get("about")?,
        payload: row.try_get("payload")?,
        event_id: row.try_get("remote_id")?,
    })
}

impl Store {
    /// The bot's message that the homeserver gave `event_id`, if it is one of the bot's. The
    /// caller checks that its destination names the room the answer came from.
    pub async fn matrix_message_by_event(
        &self,
        event_id: &str,
    ) -> Result<Option<SentMatrixMessage>, StorageError> {
        let row = sqlx::query(
            "SELECT destination, about, payload, remote_id FROM outbox \
             WHERE remote_id = $1 AND channel = 'matrix' AND state = 'sent'",
        )
        .bind(event_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| sent_message(&row)).transpose()
    }

    /// The bot's Matrix messages about the record `about` (in every room: records of different
    /// groups share names), oldest first, sent or not.
    pub async fn matrix_messages_about(
        &self,
        about: &str,
    ) -> Result<Vec<SentMatrixMessage>, StorageError> {
        let rows = sqlx::query(
            "SELECT destination, about, payload, remote_id FROM outbox \
             WHERE about = $1 AND channel = 'matrix' ORDER BY id",
        )
        .bind(about)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(sent_message).collect()
    }
}
