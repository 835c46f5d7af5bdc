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

/// Stores ballots inside the caller's transaction.
pub(super) async fn insert_ballots(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    group_id: &str,
    ballots: &[String],
) -> Result<(), StorageError> {
    for ballot in ballots {
        sqlx::query(
            "INSERT INTO survey_ballots (ballot_key, group_id, ballot) VALUES ($1, $2, $3)",
        )
        .bind(random_ballot_key()?)
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
