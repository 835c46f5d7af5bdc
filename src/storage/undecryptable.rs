//! Encrypted Matrix events that could not be decrypted yet, kept durably until their room key
//! arrives or the bot gives up on them. The sync loop commits them together with the sync token
//! that moves past them (and with the notices it owes the room), so a restart between the event
//! and its key loses nothing, and a report is stored in the same transaction that forgets the
//! event, so it is made once.

use super::inbox::insert_inbox_items_in;
use super::outbox::insert_outbox_item;
use super::{InboxItem, NewInboxItem, NewOutboxItem, StorageError, Store, set_adapter_state_in};

/// An encrypted event as received, waiting for its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUndecryptable {
    pub event_id: String,
    pub room_id: String,
    pub group_id: String,
    pub sender: String,
    /// The encrypted event's JSON, as the homeserver sent it.
    pub event_json: String,
    pub origin_ms: i64,
}

/// A held event and when the bot first saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecryptable {
    pub event: NewUndecryptable,
    pub first_seen_ms: i64,
}

/// What one pass of the Matrix sync loop commits besides its inbox records: the events to
/// hold, the notices owed to rooms (refusals, give-up reports), the held events that are
/// settled (decrypted or given up on), and the sync token.
#[derive(Debug, Default, Clone, Copy)]
pub struct MatrixSyncCommit<'a> {
    pub hold: &'a [NewUndecryptable],
    pub notices: &'a [NewOutboxItem],
    pub settled: &'a [String],
    pub position: Option<(&'a str, &'a str)>,
}

impl MatrixSyncCommit<'_> {
    pub fn is_empty(&self) -> bool {
        self.hold.is_empty()
            && self.notices.is_empty()
            && self.settled.is_empty()
            && self.position.is_none()
    }
}

impl Store {
    /// Commits one pass of the sync loop in one transaction: its inbox records, the events held
    /// for their keys, the notices, the settled events and the sync token. One commit per sync
    /// (not one for the records and one for the rest) is what a pass costs the database; a
    /// crash before it repeats the whole pass, after it skips the whole pass. A message already
    /// recorded is left as it is, an event already held keeps its first sighting, and a notice
    /// whose key is already stored is not stored again. Returns the new inbox records, ready to
    /// be handled, and how many notices were new.
    pub async fn record_matrix_sync(
        &self,
        items: &[NewInboxItem],
        commit: &MatrixSyncCommit<'_>,
        now_ms: i64,
    ) -> Result<(Vec<InboxItem>, usize), StorageError> {
        let mut transaction = self.pool.begin().await?;
        let new_items = insert_inbox_items_in(&mut transaction, items, now_ms).await?;
        for event in commit.hold {
            sqlx::query(
                "INSERT INTO matrix_undecryptable (event_id, room_id, group_id, sender, event_json, origin_ms, first_seen_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(&event.event_id)
            .bind(&event.room_id)
            .bind(&event.group_id)
            .bind(&event.sender)
            .bind(&event.event_json)
            .bind(event.origin_ms)
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        }
        let mut new_notices = 0;
        for notice in commit.notices {
            if insert_outbox_item(&mut transaction, None, notice, now_ms)
                .await?
                .is_some()
            {
                new_notices += 1;
            }
        }
        for event_id in commit.settled {
            sqlx::query("DELETE FROM matrix_undecryptable WHERE event_id = $1")
                .bind(event_id)
                .execute(&mut *transaction)
                .await?;
        }
        if let Some((key, value)) = commit.position {
            set_adapter_state_in(&mut transaction, key, value, now_ms).await?;
        }
        transaction.commit().await?;
        Ok((new_items, new_notices))
    }

    /// The held events, oldest sighting first.
    pub async fn undecryptable_events(
        &self,
        limit: i64,
    ) -> Result<Vec<Undecryptable>, StorageError> {
        let rows: Vec<(String, String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT event_id, room_id, group_id, sender, event_json, origin_ms, first_seen_ms \
             FROM matrix_undecryptable ORDER BY first_seen_ms, event_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(event_id, room_id, group_id, sender, event_json, origin_ms, first_seen_ms)| {
                    Undecryptable {
                        event: NewUndecryptable {
                            event_id,
                            room_id,
                            group_id,
                            sender,
                            event_json,
                            origin_ms,
                        },
                        first_seen_ms,
                    }
                },
            )
            .collect())
    }
}
