//! The storage side of group ownership: which rows a process may touch when it owns some groups
//! and not others, and what happens to the claims of a process that stopped owning a group.
//!
//! The leases themselves (a PostgreSQL advisory lock per group, a file lock on SQLite) are held by
//! `crate::ownership`; this module only reads and writes rows for the groups it is given.

use super::{InboxItem, StorageError, Store};
use sqlx::Row;
use sqlx::any::AnyArguments;

/// The group name of outbox rows that belong to no group (such as the question to a sender whose
/// group is unclear). It is leased like a group, so exactly one process delivers them too.
pub const UNGROUPED: &str = "";

/// The groups a query covers: every group (one process alone, tests, operators' tools) or only
/// those a process owns.
#[derive(Debug, Clone, Copy)]
pub enum GroupScope<'a> {
    Every,
    Only(&'a [String]),
}

impl GroupScope<'_> {
    /// An SQL condition on `column` (a group ID, NULL read as [`UNGROUPED`]), its placeholders
    /// numbered from `first`. The text is made only of the column name given by the caller and
    /// placeholders, never of values.
    pub(super) fn condition(&self, column: &str, first: usize) -> String {
        match self {
            GroupScope::Every => "1 = 1".to_string(),
            GroupScope::Only([]) => "1 = 0".to_string(),
            GroupScope::Only(groups) => {
                let placeholders: Vec<String> = (first..first + groups.len())
                    .map(|number| format!("${number}"))
                    .collect();
                format!("COALESCE({column}, '') IN ({})", placeholders.join(", "))
            }
        }
    }

    /// Binds the group IDs of [`GroupScope::condition`], in order.
    pub(super) fn bind<'q>(
        &self,
        mut query: sqlx::query::Query<'q, sqlx::Any, AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, AnyArguments> {
        if let GroupScope::Only(groups) = self {
            for group in groups.iter() {
                query = query.bind(group.clone());
            }
        }
        query
    }
}

/// Who holds a claim on an outbox row: the node (one data folder, hence one Matrix device) and
/// the running process on it, written `node/instance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    pub node: String,
    pub instance: String,
}

impl Claimant {
    pub fn name(&self) -> String {
        format!("{}/{}", self.node, self.instance)
    }
}

/// What became of an abandoned claim, for the log and the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledClaim {
    pub id: i64,
    pub channel: String,
    pub group_id: Option<String>,
    pub claimed_by: String,
    /// `pending` (sent again: the channel recognises the resend) or `uncertain` (held).
    pub state: String,
}

impl Store {
    /// The oldest messages of the given groups not yet handled, in the order they were recorded.
    pub async fn pending_inbox_of(
        &self,
        scope: GroupScope<'_>,
        limit: i64,
    ) -> Result<Vec<InboxItem>, StorageError> {
        let sql = format!(
            "SELECT id, channel, external_id, group_id, conversation, sender, body, origin_ms, received_ms \
             FROM inbox WHERE state = 'pending' AND {} ORDER BY id LIMIT $1",
            scope.condition("group_id", 2)
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit);
        let rows = scope.bind(query).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|row| {
                Ok(InboxItem {
                    id: row.try_get("id")?,
                    channel: row.try_get("channel")?,
                    external_id: row.try_get("external_id")?,
                    group_id: row.try_get("group_id")?,
                    conversation: row.try_get("conversation")?,
                    sender: row.try_get("sender")?,
                    body: row.try_get("body")?,
                    origin_ms: row.try_get("origin_ms")?,
                    received_ms: row.try_get("received_ms")?,
                })
            })
            .collect()
    }

    /// Settles the claims on the given groups' outbox rows that a process other than `claimant`
    /// left in `sending`: called when a process takes groups over (at start too), so the
    /// claimant is gone or no longer owns them. A row of a channel in `resendable_channels`
    /// claimed on the same node goes back to `pending`: the resend carries the same idempotency
    /// key from the same device, which the channel recognises. Every other row becomes
    /// `uncertain`: the attempt may have reached the server, and a blind resend could deliver it
    /// twice, so it waits for an operator.
    pub async fn settle_abandoned_claims(
        &self,
        scope: GroupScope<'_>,
        claimant: &Claimant,
        resendable_channels: &[&str],
    ) -> Result<Vec<SettledClaim>, StorageError> {
        let mut transaction = self.pool.begin().await?;
        let sql = format!(
            "SELECT id, channel, group_id, claimed_by FROM outbox \
             WHERE state = 'sending' AND (claimed_by IS NULL OR claimed_by <> $1) AND {} ORDER BY id",
            scope.condition("group_id", 2)
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(claimant.name());
        let rows = scope.bind(query).fetch_all(&mut *transaction).await?;
        let same_node = format!("{}/", claimant.node);
        let mut settled = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let channel: String = row.try_get("channel")?;
            let claimed_by: Option<String> = row.try_get("claimed_by")?;
            let claimed_by = claimed_by.unwrap_or_default();
            let resendable = resendable_channels.contains(&channel.as_str())
                && claimed_by.starts_with(&same_node);
            let state = if resendable { "pending" } else { "uncertain" };
            sqlx::query("UPDATE outbox SET state = $1 WHERE id = $2 AND state = 'sending'")
                .bind(state)
                .bind(id)
                .execute(&mut *transaction)
                .await?;
            settled.push(SettledClaim {
                id,
                channel,
                group_id: row.try_get("group_id")?,
                claimed_by,
                state: state.to_string(),
            });
        }
        transaction.commit().await?;
        Ok(settled)
    }
}

impl Store {
    /// How many outbox rows of the given groups are held as `uncertain`, for the log of a
    /// process that takes them over.
    pub async fn uncertain_outbox_count(&self, scope: GroupScope<'_>) -> Result<i64, StorageError> {
        let sql = format!(
            "SELECT COUNT(*) AS held FROM outbox WHERE state = 'uncertain' AND {}",
            scope.condition("group_id", 1)
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql));
        let row = scope.bind(query).fetch_one(&self.pool).await?;
        Ok(row.try_get::<i64, _>("held")?)
    }
}

#[cfg(test)]
mod tests {
    use super::GroupScope;

    #[test]
    fn scopes_become_conditions_with_numbered_placeholders() {
        let groups = ["a".to_string(), "b".to_string()];
        let cases = [
            (GroupScope::Every, "1 = 1"),
            (GroupScope::Only(&[]), "1 = 0"),
            (
                GroupScope::Only(&groups),
                "COALESCE(group_id, '') IN ($3, $4)",
            ),
        ];
        for (scope, expected) in cases {
            assert_eq!(scope.condition("group_id", 3), expected);
        }
    }
}
