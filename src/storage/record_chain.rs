//! The public record's hash chain (`core::record::chain`): links appended in order, one
//! transaction per group's batch, never changed.

use super::{StorageError, Store};
use crate::core::record::{ChainLink, GENESIS_HASH, RecordEntry, content_hash};
use std::collections::BTreeMap;

impl Store {
    /// Appends the group's entries that are new or changed since their key's latest link, and
    /// returns how many links were appended. Two processes publishing at once cannot both
    /// append the same sequence number (the primary key refuses the second, whose transaction
    /// then fails and is tried again by its caller).
    pub async fn append_record_entries(
        &self,
        group_id: &str,
        entries: &[RecordEntry],
        now: jiff::Timestamp,
    ) -> Result<usize, StorageError> {
        let mut transaction = self.pool.begin().await?;
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT record_key, seq, content_hash FROM record_chain WHERE group_id = $1 \
             ORDER BY seq",
        )
        .bind(group_id)
        .fetch_all(&mut *transaction)
        .await?;
        let mut latest: BTreeMap<String, (u64, String)> = BTreeMap::new();
        for (key, seq, hash) in rows {
            latest.insert(key, (seq as u64, hash));
        }
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM record_chain WHERE group_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(group_id)
        .fetch_optional(&mut *transaction)
        .await?;
        let (mut seq, mut prev) = last
            .map(|(seq, hash)| (seq as u64, hash))
            .unwrap_or((0, GENESIS_HASH.to_string()));
        let appended = crate::core::record::chain::entries_to_append(&latest, entries);
        let count = appended.len();
        for (entry, corrects) in appended {
            seq += 1;
            let link = ChainLink::new(seq, group_id, entry, corrects, &prev, now);
            sqlx::query(
                "INSERT INTO record_chain (group_id, seq, record_key, content_hash, hash, link) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(group_id)
            .bind(seq as i64)
            .bind(&entry.key)
            .bind(content_hash(entry))
            .bind(&link.hash)
            .bind(link.line())
            .execute(&mut *transaction)
            .await?;
            prev = link.hash;
        }
        transaction.commit().await?;
        Ok(count)
    }

    /// The group's chain, in order, as the lines of `record.jsonl`.
    pub async fn record_chain(&self, group_id: &str) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT link FROM record_chain WHERE group_id = $1 ORDER BY seq")
                .bind(group_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(link,)| link).collect())
    }
}
