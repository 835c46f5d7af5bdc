//! The counts the rate limits (`core::rate_limits`) are decided over, read from what the bot
//! already records: the inbox says whose messages were handled when and how, the outbox what was
//! sent to whom. Nothing is written for the limits but the disposition of a limited message
//! (`rate_limit_notice`, `rate_limited`), so the counts cannot drift from what really happened.

use super::{StorageError, Store};
use crate::core::rate_limits::SenderHistory;

impl Store {
    /// What the bot did for a sender on a channel since `since_ms`: how many of their messages
    /// it handled and answered (each produced at least one outbox item, the limit notice not
    /// counted), and whether it told them of the limit.
    pub async fn sender_history(
        &self,
        channel: &str,
        sender: &str,
        since_ms: i64,
    ) -> Result<SenderHistory, StorageError> {
        let (answered, notices): (i64, i64) = sqlx::query_as(
            "SELECT \
               COUNT(CASE WHEN disposition <> 'rate_limit_notice' \
                           AND EXISTS (SELECT 1 FROM outbox WHERE outbox.inbox_id = inbox.id) \
                          THEN 1 END), \
               COUNT(CASE WHEN disposition = 'rate_limit_notice' THEN 1 END) \
             FROM inbox \
             WHERE sender = $1 AND channel = $2 AND state = 'handled' AND handled_ms >= $3",
        )
        .bind(sender)
        .bind(channel)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(SenderHistory {
            answered: u32::try_from(answered).unwrap_or(u32::MAX),
            told_of_limit: notices > 0,
        })
    }

    /// How many mails were queued for an address since `since_ms` (sent or still to send).
    pub async fn mails_queued_for(
        &self,
        address: &str,
        since_ms: i64,
    ) -> Result<u32, StorageError> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE destination = $1 AND channel = $2 AND created_ms >= $3",
        )
        .bind(address)
        .bind(crate::mail::MAIL_CHANNEL)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }
}
