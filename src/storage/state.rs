//! The group's change log and the durable clock's timers.
//!
//! Changes and timer operations are written by [`Store::complete_inbox_items`] in the
//! transaction that marks their input handled; this module reads the log back at start and
//! turns due timers into inbox items.

use super::{InboxItem, StorageError, Store};
use sqlx::Row;

/// A timer operation the core asked for, in storage terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerOperation {
    /// Create the timer, or move it if the key exists (also one that fired or was cancelled).
    Schedule {
        group_id: String,
        key: String,
        due_ms: i64,
        /// The timer as JSON, handed back to the core when it fires.
        timer: String,
    },
    /// Cancel the timer if it has not fired.
    Cancel { group_id: String, key: String },
}

/// The inbox channel of fired timers.
pub const CLOCK_CHANNEL: &str = "clock";

/// The inbox external ID of a timer firing: one per key and due time, so a timer moved to a new
/// time fires again, and the same firing recorded twice is handled once.
pub fn timer_external_id(group_id: &str, key: &str, due_ms: i64) -> String {
    format!("{group_id}:{key}@{due_ms}")
}

pub(super) async fn apply_timer_operation(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    operation: &TimerOperation,
    now_ms: i64,
) -> Result<(), StorageError> {
    match operation {
        TimerOperation::Schedule {
            group_id,
            key,
            due_ms,
            timer,
        } => {
            sqlx::query(
                "INSERT INTO timers (group_id, timer_key, due_ms, timer, state, updated_ms) \
                 VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT (group_id, timer_key) DO UPDATE \
                 SET due_ms = excluded.due_ms, timer = excluded.timer, state = 'pending', \
                 updated_ms = excluded.updated_ms",
            )
            .bind(group_id)
            .bind(key)
            .bind(*due_ms)
            .bind(timer)
            .bind(now_ms)
            .execute(&mut **transaction)
            .await?;
        }
        TimerOperation::Cancel { group_id, key } => {
            sqlx::query(
                "UPDATE timers SET state = 'cancelled', updated_ms = $3 \
                 WHERE group_id = $1 AND timer_key = $2 AND state = 'pending'",
            )
            .bind(group_id)
            .bind(key)
            .bind(now_ms)
            .execute(&mut **transaction)
            .await?;
        }
    }
    Ok(())
}

pub(super) async fn append_change(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    group_id: &str,
    inbox_id: i64,
    change: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO group_changes (group_id, inbox_id, change, created_ms) VALUES ($1, $2, $3, $4)",
    )
    .bind(group_id)
    .bind(inbox_id)
    .bind(change)
    .bind(now_ms)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// A timer as stored, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTimer {
    pub group_id: String,
    pub key: String,
    pub due_ms: i64,
    pub timer: String,
    pub state: String,
}

impl Store {
    /// Every group's change log, in the order written: `(group_id, change as JSON)`.
    pub async fn group_changes(&self) -> Result<Vec<(String, String)>, StorageError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT group_id, change FROM group_changes ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows)
    }

    /// Turns the timers due at `now_ms` into inbox items of the clock channel, marking them fired
    /// in the same transaction. Returns the items recorded (a firing already recorded is not
    /// recorded again).
    pub async fn fire_due_timers(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<InboxItem>, StorageError> {
        self.fire_due_timers_of(super::GroupScope::Every, now_ms, limit)
            .await
    }

    /// As [`Store::fire_due_timers`], for the timers of the given groups only: a process fires
    /// the timers of the groups it owns.
    pub async fn fire_due_timers_of(
        &self,
        scope: super::GroupScope<'_>,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<InboxItem>, StorageError> {
        let mut transaction = self.pool.begin().await?;
        let sql = format!(
            "SELECT group_id, timer_key, due_ms, timer FROM timers \
             WHERE state = 'pending' AND due_ms <= $1 AND {} ORDER BY due_ms, group_id, timer_key LIMIT $2",
            scope.condition("group_id", 3)
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_ms)
            .bind(limit);
        let due = scope.bind(query).fetch_all(&mut *transaction).await?;
        let mut recorded = Vec::new();
        for row in due {
            let group_id: String = row.try_get("group_id")?;
            let key: String = row.try_get("timer_key")?;
            let due_ms: i64 = row.try_get("due_ms")?;
            let timer: String = row.try_get("timer")?;
            let external_id = timer_external_id(&group_id, &key, due_ms);
            let inserted: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO inbox (channel, external_id, group_id, conversation, sender, body, origin_ms, received_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (channel, external_id) DO NOTHING RETURNING id",
            )
            .bind(CLOCK_CHANNEL)
            .bind(&external_id)
            .bind(&group_id)
            .bind(&key)
            .bind(CLOCK_CHANNEL)
            .bind(&timer)
            .bind(due_ms)
            .bind(now_ms)
            .fetch_optional(&mut *transaction)
            .await?;
            sqlx::query(
                "UPDATE timers SET state = 'fired', updated_ms = $3 \
                 WHERE group_id = $1 AND timer_key = $2 AND due_ms = $4 AND state = 'pending'",
            )
            .bind(&group_id)
            .bind(&key)
            .bind(now_ms)
            .bind(due_ms)
            .execute(&mut *transaction)
            .await?;
            if let Some((id,)) = inserted {
                recorded.push(InboxItem {
                    id,
                    channel: CLOCK_CHANNEL.to_string(),
                    external_id,
                    group_id,
                    conversation: key,
                    sender: CLOCK_CHANNEL.to_string(),
                    body: timer,
                    origin_ms: due_ms,
                    received_ms: now_ms,
                });
            }
        }
        transaction.commit().await?;
        Ok(recorded)
    }

    /// When the next pending timer falls due, so the clock can sleep until then.
    pub async fn next_timer_due(&self) -> Result<Option<i64>, StorageError> {
        self.next_timer_due_of(super::GroupScope::Every).await
    }

    /// When the next pending timer of the given groups falls due.
    pub async fn next_timer_due_of(
        &self,
        scope: super::GroupScope<'_>,
    ) -> Result<Option<i64>, StorageError> {
        let sql = format!(
            "SELECT MIN(due_ms) AS due FROM timers WHERE state = 'pending' AND {}",
            scope.condition("group_id", 1)
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql));
        let row = scope.bind(query).fetch_one(&self.pool).await?;
        Ok(row.try_get::<Option<i64>, _>("due")?)
    }

    /// Creates a timer unless one with its key exists (in any state): how configuration, such
    /// as a recurring meeting schedule, starts a timer chain exactly once.
    pub async fn ensure_timer(
        &self,
        group_id: &str,
        key: &str,
        due_ms: i64,
        timer: &str,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO timers (group_id, timer_key, due_ms, timer, state, updated_ms) \
             VALUES ($1, $2, $3, $4, 'pending', $3) ON CONFLICT (group_id, timer_key) DO NOTHING",
        )
        .bind(group_id)
        .bind(key)
        .bind(due_ms)
        .bind(timer)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The timers of a group, for operators and tests.
    pub async fn timers(&self, group_id: &str) -> Result<Vec<StoredTimer>, StorageError> {
        let rows = sqlx::query(
            "SELECT group_id, timer_key, due_ms, timer, state FROM timers WHERE group_id = $1 ORDER BY timer_key",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(StoredTimer {
                    group_id: row.try_get("group_id")?,
                    key: row.try_get("timer_key")?,
                    due_ms: row.try_get("due_ms")?,
                    timer: row.try_get("timer")?,
                    state: row.try_get("state")?,
                })
            })
            .collect()
    }
}
