//! What the database says of the bot's health, for `/metrics` and `/readyz`: the outbox's depth
//! and its oldest unsent row, the durable clock's pending and late timers, the mail held in
//! quarantine. A few aggregate queries over indexed columns, run at each scrape.

use super::{StorageError, Store};

/// How late a timer must be to count as late: the clock looks every few seconds.
pub const LATE_AFTER_MS: i64 = 60_000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthFigures {
    /// Outbox rows per state.
    pub outbox: Vec<(String, i64)>,
    /// When the oldest row not yet sent (pending, sending or uncertain) was made.
    pub oldest_unsent_ms: Option<i64>,
    pub timers_pending: i64,
    pub timers_late: i64,
    pub quarantined_mail: i64,
}

impl Store {
    /// A cheap question that needs a working connection: `/readyz`'s database check.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// `rapporteur doctor`'s check that the database takes writes: one row written in a
    /// transaction that is rolled back, so nothing stays.
    pub async fn write_and_take_back(&self) -> Result<(), StorageError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO adapter_state (key, value, updated_ms) VALUES ('doctor.write-check', '', 0) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .execute(&mut *transaction)
        .await?;
        transaction.rollback().await?;
        Ok(())
    }

    pub async fn health_figures(&self, now_ms: i64) -> Result<HealthFigures, StorageError> {
        let outbox = self.outbox_counts().await?;
        let oldest_unsent_ms: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(created_ms) FROM outbox WHERE state IN ('pending', 'sending', 'uncertain')",
        )
        .fetch_one(&self.pool)
        .await?;
        let timers_pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM timers WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        let timers_late: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM timers WHERE state = 'pending' AND due_ms < $1",
        )
        .bind(now_ms - LATE_AFTER_MS)
        .fetch_one(&self.pool)
        .await?;
        let quarantined_mail: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM mail_quarantine WHERE state = 'held'")
                .fetch_one(&self.pool)
                .await?;
        Ok(HealthFigures {
            outbox,
            oldest_unsent_ms,
            timers_pending,
            timers_late,
            quarantined_mail,
        })
    }
}
