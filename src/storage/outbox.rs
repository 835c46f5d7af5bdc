use super::lease::{Claimant, GroupScope};
use super::{StorageError, Store};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// An outbox idempotency key: `rapporteur-` and 32 hex digits of a SHA-256 over the parts, each
/// separated by a zero byte. Every key of the outbox has this shape, so the bot's Message-IDs
/// (made from keys) are recognised as its own, and the same parts always give the same key.
pub fn outbox_key(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            hasher.update([0]);
        }
        hasher.update(part);
    }
    format!("rapporteur-{}", &hex::encode(hasher.finalize())[..32])
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxItem {
    /// Unique per effect; for Matrix it is the transaction ID of the send.
    pub idempotency_key: String,
    pub channel: String,
    /// The Matrix room ID or the mail recipients.
    pub destination: String,
    /// The effect as JSON, as the channel adapter reads it.
    pub payload: String,
    /// The record the message is about (`R-3`), so that a reply to it inherits the context.
    pub about: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub inbox_id: Option<i64>,
    pub idempotency_key: String,
    pub channel: String,
    pub destination: String,
    pub payload: String,
    pub attempts: i64,
    /// The external ID of the message this effect answers, if any.
    pub in_reply_to_external_id: Option<String>,
    /// The record the message is about (`R-3`), if any.
    pub about: Option<String>,
    /// Stored already claimed (`sending`) by the process that stored it, for its own
    /// dispatcher, which then sends it without claiming it again (see
    /// [`ClaimAtInsert`]).
    pub claimed: bool,
}

/// Effects of these channels are stored already claimed by this claimant, in the transaction
/// that decides them, instead of `pending` and claimed by the dispatcher in a transaction of
/// its own: one commit fewer between a command and its reply (issue 11). Only for channels
/// whose resend is recognised by the channel (Matrix: the same transaction ID from the same
/// device), since a process that dies before sending leaves the row `sending`, and the next
/// run on the same node puts it back to `pending` (`Store::settle_abandoned_claims`).
#[derive(Debug, Clone, Copy)]
pub struct ClaimAtInsert<'a> {
    pub claimant: &'a super::Claimant,
    pub channels: &'a [&'a str],
}

/// Stores one effect; returns it as the dispatcher reads it, or `None` if an effect with the
/// same idempotency key was already stored.
pub(super) async fn insert_outbox_item(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    answering: Option<&super::InboxItem>,
    item: &NewOutboxItem,
    now_ms: i64,
) -> Result<Option<OutboxItem>, StorageError> {
    insert_outbox_item_claimed(transaction, answering, item, now_ms, None).await
}

/// As [`insert_outbox_item`], stored `sending` under `claimed_by` when it is given.
pub(super) async fn insert_outbox_item_claimed(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    answering: Option<&super::InboxItem>,
    item: &NewOutboxItem,
    now_ms: i64,
    claimed_by: Option<&str>,
) -> Result<Option<OutboxItem>, StorageError> {
    let inbox_id = answering.map(|inbox| inbox.id);
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO outbox (inbox_id, idempotency_key, channel, destination, payload, next_attempt_ms, created_ms, about, group_id, \
         state, claimed_by, claimed_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(inbox_id)
    .bind(&item.idempotency_key)
    .bind(&item.channel)
    .bind(&item.destination)
    .bind(&item.payload)
    .bind(now_ms)
    .bind(&item.about)
    // The group of the input it answers: only the process that owns the group delivers it.
    .bind(answering.map(|inbox| inbox.group_id.clone()))
    .bind(if claimed_by.is_some() {
        "sending"
    } else {
        "pending"
    })
    .bind(claimed_by)
    .bind(claimed_by.map(|_| now_ms))
    .fetch_optional(&mut **transaction)
    .await?;
    Ok(inserted.map(|(id,)| OutboxItem {
        id,
        inbox_id,
        idempotency_key: item.idempotency_key.clone(),
        channel: item.channel.clone(),
        destination: item.destination.clone(),
        payload: item.payload.clone(),
        attempts: 0,
        in_reply_to_external_id: answering.map(|inbox| inbox.external_id.clone()),
        about: item.about.clone(),
        claimed: claimed_by.is_some(),
    }))
}

impl Store {
    /// Stores effects that answer no message, such as the mails of a reminder sent to every
    /// member, in one transaction. Items whose idempotency key is already stored are skipped, so
    /// a schedule that fires twice sends once. Returns the items stored.
    pub async fn enqueue(
        &self,
        items: &[NewOutboxItem],
        now_ms: i64,
    ) -> Result<Vec<OutboxItem>, StorageError> {
        let mut transaction = self.pool.begin().await?;
        let mut stored = Vec::with_capacity(items.len());
        for item in items {
            if let Some(item) = insert_outbox_item(&mut transaction, None, item, now_ms).await? {
                stored.push(item);
            }
        }
        transaction.commit().await?;
        Ok(stored)
    }

    /// The times (ms) at which the outbox items of a channel were sent, for measurements.
    pub async fn sent_times(&self, channel: &str) -> Result<Vec<i64>, StorageError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT sent_ms FROM outbox WHERE channel = $1 AND state = 'sent' ORDER BY sent_ms",
        )
        .bind(channel)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(sent,)| sent).collect())
    }

    /// Pending effects of one channel whose next attempt is due, oldest first, without claiming
    /// them (for operators and tests).
    pub async fn due_outbox(
        &self,
        channel: &str,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StorageError> {
        self.due_outbox_of(channel, GroupScope::Every, now_ms, limit)
            .await
    }

    /// As [`Store::due_outbox`], for the given groups only. The dispatcher claims each item
    /// with [`Store::claim_outbox_item`] just before its attempt, not the whole list at once,
    /// so a process that dies leaves only the attempts under way claimed.
    pub async fn due_outbox_of(
        &self,
        channel: &str,
        scope: GroupScope<'_>,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StorageError> {
        let sql = format!(
            "SELECT id FROM outbox WHERE state = 'pending' AND channel = $1 AND next_attempt_ms <= $2 \
             AND {} ORDER BY id LIMIT $3",
            scope.condition("group_id", 4)
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(channel)
            .bind(now_ms)
            .bind(limit);
        let rows = scope.bind(query).fetch_all(&self.pool).await?;
        let ids = rows
            .iter()
            .map(|row| row.try_get("id"))
            .collect::<Result<Vec<i64>, _>>()?;
        self.outbox_items(&ids).await
    }

    /// The outbox items with these IDs, in the order of their IDs.
    async fn outbox_items(&self, ids: &[i64]) -> Result<Vec<OutboxItem>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The text holds only placeholders; the IDs are bound.
        let sql = format!(
            "SELECT outbox.id, outbox.inbox_id, outbox.idempotency_key, outbox.channel, outbox.destination, \
             outbox.payload, outbox.attempts, outbox.about, inbox.external_id FROM outbox LEFT JOIN inbox ON inbox.id = outbox.inbox_id \
             WHERE outbox.id IN ({}) ORDER BY outbox.id",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|row| {
                Ok(OutboxItem {
                    id: row.try_get("id")?,
                    inbox_id: row.try_get("inbox_id")?,
                    idempotency_key: row.try_get("idempotency_key")?,
                    channel: row.try_get("channel")?,
                    destination: row.try_get("destination")?,
                    payload: row.try_get("payload")?,
                    attempts: row.try_get("attempts")?,
                    in_reply_to_external_id: row.try_get("external_id")?,
                    about: row.try_get("about")?,
                    claimed: false,
                })
            })
            .collect()
    }

    /// Claims one effect for an attempt: `pending` becomes `sending`, with the claimant and the
    /// time, by a conditional update that only one claimant can win (on PostgreSQL a second
    /// update of the row waits for the first to commit, then finds it no longer pending).
    /// Returns whether this claimant won; an effect already claimed (by a scan that got there
    /// first, or another process) is left to its claimant.
    pub async fn claim_outbox_item(
        &self,
        id: i64,
        claimant: &Claimant,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        let claimed = sqlx::query(
            "UPDATE outbox SET state = 'sending', claimed_by = $1, claimed_ms = $2 \
             WHERE id = $3 AND state = 'pending'",
        )
        .bind(claimant.name())
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// The earliest time a pending effect of the channel in the given groups is due, so its
    /// dispatcher can sleep until then.
    pub async fn next_outbox_due(
        &self,
        channel: &str,
        scope: GroupScope<'_>,
    ) -> Result<Option<i64>, StorageError> {
        let sql = format!(
            "SELECT MIN(next_attempt_ms) AS due FROM outbox WHERE state = 'pending' AND channel = $1 AND {}",
            scope.condition("group_id", 2)
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(channel);
        let row = scope.bind(query).fetch_one(&self.pool).await?;
        Ok(row.try_get::<Option<i64>, _>("due")?)
    }

    /// Records that the channel accepted the effect. Only the claimant may, and only from its
    /// claim (`sending`, or `uncertain` if another process settled the claim while the send was
    /// under way: the claimant knows what the other could not). Returns whether the row was
    /// marked; `false` means the claim was not this process's, and nothing changed.
    pub async fn mark_outbox_sent(
        &self,
        id: i64,
        claimant: &Claimant,
        remote_id: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        let updated = sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_ms = $1, remote_id = $2, attempts = attempts + 1 \
             WHERE id = $3 AND claimed_by = $4 AND state IN ('sending', 'uncertain')",
        )
        .bind(now_ms)
        .bind(remote_id)
        .bind(id)
        .bind(claimant.name())
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Records a failed attempt of the claimant: the item is pending again from
    /// `next_attempt_ms`. Returns whether the row was this claimant's to release.
    pub async fn mark_outbox_retry(
        &self,
        id: i64,
        claimant: &Claimant,
        next_attempt_ms: i64,
        error: &str,
    ) -> Result<bool, StorageError> {
        let updated = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = attempts + 1, next_attempt_ms = $1, last_error = $2 \
             WHERE id = $3 AND claimed_by = $4 AND state = 'sending'",
        )
        .bind(next_attempt_ms)
        .bind(stored_error(error).into_owned())
        .bind(id)
        .bind(claimant.name())
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Gives up on an item that can never be delivered (kept, with the reason, for operators).
    /// Returns whether the row was this claimant's to give up.
    pub async fn mark_outbox_failed(
        &self,
        id: i64,
        claimant: &Claimant,
        error: &str,
    ) -> Result<bool, StorageError> {
        let updated = sqlx::query(
            "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = $1 \
             WHERE id = $2 AND claimed_by = $3 AND state = 'sending'",
        )
        .bind(stored_error(error).into_owned())
        .bind(id)
        .bind(claimant.name())
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// How many effects are in each state, for `rapporteur status` and tests.
    pub async fn outbox_counts(&self) -> Result<Vec<(String, i64)>, StorageError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows)
    }
}

/// A channel's error as it is stored: the text comes from a remote server (an SMTP reply, a
/// homeserver's message), so it is cleaned and bounded like every other field; a NUL in it
/// would otherwise make PostgreSQL refuse the outcome again and again.
fn stored_error(error: &str) -> std::borrow::Cow<'_, str> {
    super::storable_text(error, super::SHORT_FIELD_BYTES)
}

/// `$first, $first+1, ...`: `count` numbered placeholders for an `IN` list.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|number| format!("${number}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::outbox_key;

    /// The keys are Matrix transaction IDs and the local parts of the bot's Message-IDs: a new
    /// version must make the same key from the same parts, or an item in flight during an
    /// upgrade would be sent again. The expected values were computed outside Rust (Python's
    /// hashlib over the same bytes).
    #[test]
    fn keys_keep_their_value() {
        let reply = outbox_key(&[b"matrix", b"$event:localhost", &0usize.to_le_bytes()]);
        assert_eq!(reply, "rapporteur-e6c5e1ecf3d3c3e70b19cdbd117a133d");
        let choice = outbox_key(&[b"group-choice", b"mail", b"<q@example.org>"]);
        assert_eq!(choice, "rapporteur-926bb107c7ddb9bfddbd6ba8a9dfe59b");
    }
}
