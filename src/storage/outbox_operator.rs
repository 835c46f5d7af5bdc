//! The operator's view of the outbox: the items the dispatcher gave up on (`failed`, kept with
//! their last error) and those held as `uncertain` (an attempt under way when its process died:
//! the mail may or may not have left, see `crate::ownership`), and putting them back in the queue
//! once the operator has decided (`rapporteur outbox list --failed`, `rapporteur outbox retry`).

use super::{StorageError, Store};
use sqlx::Row;

/// An outbox item given up on, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedOutboxItem {
    pub id: i64,
    /// `failed` or `uncertain`.
    pub state: String,
    pub channel: String,
    pub destination: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_ms: i64,
    /// The record the item is about (`R-3`), if any.
    pub about: Option<String>,
}

impl Store {
    /// Failed and uncertain outbox items, newest first.
    pub async fn failed_outbox(&self, limit: i64) -> Result<Vec<FailedOutboxItem>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, state, channel, destination, attempts, last_error, created_ms, about \
             FROM outbox WHERE state IN ('failed', 'uncertain') ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(FailedOutboxItem {
                    id: row.try_get("id")?,
                    state: row.try_get("state")?,
                    channel: row.try_get("channel")?,
                    destination: row.try_get("destination")?,
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get("last_error")?,
                    created_ms: row.try_get("created_ms")?,
                    about: row.try_get("about")?,
                })
            })
            .collect()
    }

    /// Puts failed or uncertain items back in the queue, due now, unclaimed and with a fresh
    /// count of attempts: one item (`Some(id)`) or every such item (`None`). Only those move,
    /// so an item that is pending, being sent or sent is never sent again by a retry; an
    /// uncertain one is sent again because the operator decided so. Returns the IDs requeued.
    pub async fn retry_failed_outbox(
        &self,
        id: Option<i64>,
        now_ms: i64,
    ) -> Result<Vec<i64>, StorageError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = $1, \
             claimed_by = NULL, claimed_ms = NULL \
             WHERE state IN ('failed', 'uncertain') AND ($2 = 0 OR id = $3) RETURNING id",
        )
        .bind(now_ms)
        .bind(i64::from(id.is_some()))
        .bind(id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        let mut ids: Vec<i64> = rows.into_iter().map(|(id,)| id).collect();
        ids.sort_unstable();
        Ok(ids)
    }
}
