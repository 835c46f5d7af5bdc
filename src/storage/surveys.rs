//! Survey ballots, kept apart from the change log (see migration 0009): a ballot is stored with
//! a random key and nothing else that could place it in time or next to the "has answered"
//! mark stored in the same transaction. Ballots are read back in key order, which is random.

use super::{StorageError, Store};

/// A random key: 128 bits from the operating system, in hex.
pub(super) fn random_ballot_key() -> Result<String, StorageError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| StorageError::Randomness(error.to_string()))?;
    Ok(hex::encode(bytes))
}

/// Stores ballots inside the caller's transaction. Every ballot of the group is written again
/// with a fresh random key in the same transaction, so that no row keeps the transaction (in
/// PostgreSQL its `xmin`) or the place in the file that it was first written in: every live
/// ballot is as new as the latest answer, and none can be matched with the "has answered"
/// mark stored in its own transaction.
pub(super) async fn insert_ballots(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    group_id: &str,
    ballots: &[String],
) -> Result<(), StorageError> {
    if ballots.is_empty() {
        return Ok(());
    }
    let kept: Vec<(String,)> =
        sqlx::query_as("SELECT ballot FROM survey_ballots WHERE group_id = $1")
            .bind(group_id)
            .fetch_all(&mut **transaction)
            .await?;
    sqlx::query("DELETE FROM survey_ballots WHERE group_id = $1")
        .bind(group_id)
        .execute(&mut **transaction)
        .await?;
    let mut all: Vec<(String, &str)> = Vec::with_capacity(kept.len() + ballots.len());
    for ballot in kept
        .iter()
        .map(|(ballot,)| ballot.as_str())
        .chain(ballots.iter().map(String::as_str))
    {
        all.push((random_ballot_key()?, ballot));
    }
    // Written in key order, which is random: the new ballot's place says nothing either.
    all.sort();
    for (key, ballot) in all {
        sqlx::query(
            "INSERT INTO survey_ballots (ballot_key, group_id, ballot) VALUES ($1, $2, $3)",
        )
        .bind(key)
        .bind(group_id)
        .bind(ballot)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Every group's ballots, `(group_id, ballot as JSON)`, in the order of their random keys.
    pub async fn survey_ballots(&self) -> Result<Vec<(String, String)>, StorageError> {
        Ok(
            sqlx::query_as("SELECT group_id, ballot FROM survey_ballots ORDER BY ballot_key")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
