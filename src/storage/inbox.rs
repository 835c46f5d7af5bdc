use super::{StorageError, Store, set_adapter_state_in};

/// The disposition of a message that was no command (`core::engine::Disposition::NotACommand`):
/// its text is removed when it is marked handled.
pub const NOT_A_COMMAND: &str = "not_a_command";

/// A message as received, before it is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboxItem {
    /// `matrix` or `mail`.
    pub channel: String,
    /// The Matrix event ID or the mail's Message-ID: the key that makes redelivery harmless.
    pub external_id: String,
    pub group_id: String,
    /// Where a reply goes: the Matrix room ID, or the mail thread.
    pub conversation: String,
    pub sender: String,
    pub body: String,
    pub origin_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    pub id: i64,
    pub channel: String,
    pub external_id: String,
    pub group_id: String,
    pub conversation: String,
    pub sender: String,
    pub body: String,
    pub origin_ms: i64,
    pub received_ms: i64,
}

impl Store {
    /// Records received messages and, in the same transaction, the adapter's position (such as
    /// the Matrix sync token) that follows them. Messages already recorded are left as they are.
    /// Returns the messages that were new, ready to be handled.
    pub async fn record_inbound(
        &self,
        items: &[NewInboxItem],
        position: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<Vec<InboxItem>, StorageError> {
        let mut transaction = self.pool.begin().await?;
        let new_items = insert_inbox_items_in(&mut transaction, items, now_ms).await?;
        if let Some((key, value)) = position {
            set_adapter_state_in(&mut transaction, key, value, now_ms).await?;
        }
        transaction.commit().await?;
        Ok(new_items)
    }

    /// Whether a message with this external ID was ever recorded.
    pub async fn inbox_contains(
        &self,
        channel: &str,
        external_id: &str,
    ) -> Result<bool, StorageError> {
        let row = sqlx::query("SELECT 1 FROM inbox WHERE channel = $1 AND external_id = $2")
            .bind(channel)
            .bind(super::clean::storable_external_id(external_id).as_ref())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// The oldest messages not yet handled, in the order they were recorded, of every group.
    pub async fn pending_inbox(&self, limit: i64) -> Result<Vec<InboxItem>, StorageError> {
        self.pending_inbox_of(super::GroupScope::Every, limit).await
    }

    /// Marks a message handled and stores the effects it produced, in one transaction. Returns
    /// the stored effects, ready to deliver, or `None`, storing nothing, if the message was
    /// already handled: that is what keeps a reply from being produced twice.
    pub async fn complete_inbox_item(
        &self,
        inbox: &InboxItem,
        disposition: &str,
        command: Option<&str>,
        effects: &[super::NewOutboxItem],
        now_ms: i64,
    ) -> Result<Option<Vec<super::OutboxItem>>, StorageError> {
        let completion = Completion {
            inbox,
            disposition,
            command,
            effects: effects.to_vec(),
            reply_limit_key: None,
            changes: Vec::new(),
            timers: Vec::new(),
            ballots: Vec::new(),
            forget_text: false,
        };
        let mut results = self.complete_inbox_items(&[completion], now_ms).await?;
        Ok(results.pop().flatten())
    }

    /// Completes several messages in one transaction (a group commit: one transaction per batch
    /// costs far less than one per message). Each message is marked handled only if it is still
    /// pending, and only then are its effects stored; the result has one entry per completion,
    /// `None` for a message that had already been handled.
    pub async fn complete_inbox_items(
        &self,
        completions: &[Completion<'_>],
        now_ms: i64,
    ) -> Result<Vec<Option<Vec<super::OutboxItem>>>, StorageError> {
        self.complete_inbox_items_claiming(completions, now_ms, None)
            .await
    }

    /// As [`Store::complete_inbox_items`], with the effects of the channels named in `claim`
    /// stored already claimed by its claimant (see [`super::ClaimAtInsert`]).
    pub async fn complete_inbox_items_claiming(
        &self,
        completions: &[Completion<'_>],
        now_ms: i64,
        claim: Option<super::ClaimAtInsert<'_>>,
    ) -> Result<Vec<Option<Vec<super::OutboxItem>>>, StorageError> {
        // The claimant's name, and the channels whose effects are stored under it.
        let claim = claim.map(|claim| (claim.claimant.name(), claim.channels));
        let mut transaction = self.pool.begin().await?;
        let mut results = Vec::with_capacity(completions.len());
        for completion in completions {
            // A reply limited to one per key is dropped when the key was already used; the
            // message still counts as handled.
            let mut disposition = completion.disposition;
            let mut within_limit = true;
            if let Some(limit_key) = &completion.reply_limit_key
                && !completion.effects.is_empty()
            {
                let claimed: Option<(String,)> = sqlx::query_as(
                    "INSERT INTO reply_limits (limit_key, created_ms) VALUES ($1, $2) \
                     ON CONFLICT (limit_key) DO NOTHING RETURNING limit_key",
                )
                .bind(limit_key)
                .bind(now_ms)
                .fetch_optional(&mut *transaction)
                .await?;
                within_limit = claimed.is_some();
                if !within_limit {
                    disposition = "reply_limited";
                }
            }
            // The text of a message that was not a command (talk in the room) is not kept once
            // it is handled: the record is of commands, and people's conversation is theirs.
            let updated = sqlx::query(
                "UPDATE inbox SET state = 'handled', disposition = $1, command = $2, handled_ms = $3, \
                 body = CASE WHEN $5 = 1 THEN '' ELSE body END \
                 WHERE id = $4 AND state = 'pending'",
            )
            .bind(disposition)
            .bind(completion.command)
            .bind(now_ms)
            .bind(completion.inbox.id)
            .bind(i64::from(
                disposition == NOT_A_COMMAND
                    || completion.forget_text
                    || !completion.ballots.is_empty(),
            ))
            .execute(&mut *transaction)
            .await?;
            if updated.rows_affected() == 0 {
                results.push(None);
                continue;
            }
            // The state changes and timers the decision made, with the input they came from.
            for change in &completion.changes {
                super::state::append_change(
                    &mut transaction,
                    &completion.inbox.group_id,
                    completion.inbox.id,
                    change,
                    now_ms,
                )
                .await?;
            }
            for operation in &completion.timers {
                super::state::apply_timer_operation(&mut transaction, operation, now_ms).await?;
            }
            super::surveys::insert_ballots(
                &mut transaction,
                &completion.inbox.group_id,
                &completion.ballots,
            )
            .await?;
            let mut stored = Vec::with_capacity(completion.effects.len());
            let effects = if within_limit {
                completion.effects.as_slice()
            } else {
                &[]
            };
            for effect in effects {
                let claimed_by = claim
                    .as_ref()
                    .filter(|(_, channels)| channels.contains(&effect.channel.as_str()))
                    .map(|(name, _)| name.as_str());
                if let Some(item) = super::outbox::insert_outbox_item_claimed(
                    &mut transaction,
                    Some(completion.inbox),
                    effect,
                    now_ms,
                    claimed_by,
                )
                .await?
                {
                    stored.push(item);
                }
            }
            results.push(Some(stored));
        }
        transaction.commit().await?;
        Ok(results)
    }
}

/// The message as it is stored: NUL replaced, every field bounded, a too long external ID
/// replaced by its stable hash.
fn storable_item(item: &NewInboxItem) -> NewInboxItem {
    use super::clean::{
        CONVERSATION_BYTES, SHORT_FIELD_BYTES, storable_body, storable_external_id, storable_text,
    };
    NewInboxItem {
        channel: storable_text(&item.channel, SHORT_FIELD_BYTES).into_owned(),
        external_id: storable_external_id(&item.external_id).into_owned(),
        group_id: storable_text(&item.group_id, SHORT_FIELD_BYTES).into_owned(),
        conversation: storable_text(&item.conversation, CONVERSATION_BYTES).into_owned(),
        sender: storable_text(&item.sender, SHORT_FIELD_BYTES).into_owned(),
        body: storable_body(&item.body).into_owned(),
        origin_ms: item.origin_ms,
    }
}

/// What handling one message produced, for [`Store::complete_inbox_items`].
#[derive(Debug, Clone)]
pub struct Completion<'a> {
    pub inbox: &'a InboxItem,
    pub disposition: &'a str,
    pub command: Option<&'a str>,
    pub effects: Vec<super::NewOutboxItem>,
    /// When set, the effects are stored only if no earlier message used the same key (see
    /// the `reply_limits` table); otherwise the message is handled without a reply.
    pub reply_limit_key: Option<String>,
    /// The changes to the group's state, as JSON, appended to its change log.
    pub changes: Vec<String>,
    /// Timers to schedule, move or cancel.
    pub timers: Vec<super::TimerOperation>,
    /// Survey ballots, as JSON, stored apart from the change log (see `storage::surveys`).
    pub ballots: Vec<String>,
    /// The message's text is not kept once handled: a survey answer, whether it became a
    /// ballot or was refused, is the answer with its author.
    pub forget_text: bool,
}

/// Inserts the messages not recorded yet, inside the caller's transaction; returns the new ones
/// as stored.
pub(crate) async fn insert_inbox_items_in(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    items: &[NewInboxItem],
    now_ms: i64,
) -> Result<Vec<InboxItem>, StorageError> {
    let mut new_items = Vec::new();
    for item in items {
        // What a database could refuse is cleaned here, for every channel alike, so no
        // message can fail its batch every time it is tried (see `clean.rs`).
        let item = &storable_item(item);
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO inbox (channel, external_id, group_id, conversation, sender, body, origin_ms, received_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (channel, external_id) DO NOTHING RETURNING id",
        )
        .bind(&item.channel)
        .bind(&item.external_id)
        .bind(&item.group_id)
        .bind(&item.conversation)
        .bind(&item.sender)
        .bind(&item.body)
        .bind(item.origin_ms)
        .bind(now_ms)
        .fetch_optional(&mut **transaction)
        .await?;
        if let Some((id,)) = inserted {
            new_items.push(InboxItem {
                id,
                channel: item.channel.clone(),
                external_id: item.external_id.clone(),
                group_id: item.group_id.clone(),
                conversation: item.conversation.clone(),
                sender: item.sender.clone(),
                body: item.body.clone(),
                origin_ms: item.origin_ms,
                received_ms: now_ms,
            });
        }
    }
    Ok(new_items)
}
