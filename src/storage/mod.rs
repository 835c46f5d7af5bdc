//! Durable storage through sqlx: SQLite (the embedded default) or PostgreSQL, chosen by the URL.
//!
//! Queries are written once in SQL that both databases accept (`$1` placeholders, `ON CONFLICT`,
//! `RETURNING`) and run through sqlx's `Any` driver; only the migrations differ per database.
//! They are checked at run time by the storage test suite, which runs against both databases,
//! not by sqlx's compile-time macros, which can check against one database only.

mod inbox;
mod lease;
mod mail;
mod outbox;
mod state;

pub use inbox::{Completion, InboxItem, NewInboxItem};
pub use lease::{Claimant, GroupScope, SettledClaim, UNGROUPED};
pub use mail::{AnsweredMail, NewQuarantinedMail, QuarantinedMail};
pub use outbox::{NewOutboxItem, OutboxItem, outbox_key};
pub use state::{CLOCK_CHANNEL, StoredTimer, TimerOperation, timer_external_id};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Errors of the storage layer. Their text names the database (with any password hidden) but is
/// meant for logs and operators, never for chat replies.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot connect to the database {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("cannot create the database folder {path}: {reason}")]
    Folder { path: String, reason: String },
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn redact_database_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens the database (creating a SQLite file and its folder if needed). Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let connect_error = |reason: String| StorageError::Connect {
            url: redact_database_url(url),
            reason,
        };
        let mut url = url.to_string();
        if backend == Backend::Sqlite {
            prepare_sqlite_folder(&url)?;
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
        }
        let options =
            AnyConnectOptions::from_str(&url).map_err(|e| connect_error(e.to_string()))?;
        let pool_options = match backend {
            // One writer connection: SQLite serialises writers anyway, and a single connection
            // avoids lock upgrade failures between concurrent transactions.
            Backend::Sqlite => AnyPoolOptions::new().max_connections(1),
            Backend::Postgres => AnyPoolOptions::new().max_connections(max_connections.max(1)),
        };
        let pool = pool_options
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL with synchronous=NORMAL keeps every committed transaction across a
                        // crash of the process (the case the bot must survive); only a power
                        // loss can lose the last transactions, which the sources then redeliver.
                        connection
                            .execute(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; \
                                 PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;",
                            )
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        Ok(Store { pool, backend })
    }

    pub async fn migrate(&self) -> Result<(), StorageError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StorageError::Migrate(e.to_string()))
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn adapter_state(&self, key: &str) -> Result<Option<String>, StorageError> {
        let value: Option<(String,)> =
            sqlx::query_as("SELECT value FROM adapter_state WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(value.map(|(value,)| value))
    }

    /// When the bot first joined a room, recording `now_ms` if this is the first time.
    pub async fn first_joined(
        &self,
        room_id: &str,
        group_id: &str,
        now_ms: i64,
    ) -> Result<i64, StorageError> {
        sqlx::query(
            "INSERT INTO matrix_rooms (room_id, group_id, first_joined_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (room_id) DO NOTHING",
        )
        .bind(room_id)
        .bind(group_id)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        let (first,): (i64,) =
            sqlx::query_as("SELECT first_joined_ms FROM matrix_rooms WHERE room_id = $1")
                .bind(room_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(first)
    }
}

impl Store {
    /// Records an adapter's position (such as the last IMAP UID read) on its own.
    pub async fn set_adapter_state(
        &self,
        key: &str,
        value: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let mut transaction = self.pool.begin().await?;
        set_adapter_state_in(&mut transaction, key, value, now_ms).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Makes every later commit durable against power loss too, not only against a crash of
    /// the process: for `ingest-mail`, whose exit status tells the MTA it may delete its copy.
    pub async fn require_full_durability(&self) -> Result<(), StorageError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA synchronous=FULL")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

pub(crate) async fn set_adapter_state_in(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &str,
    value: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO adapter_state (key, value, updated_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
    )
    .bind(key)
    .bind(value)
    .bind(now_ms)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

fn prepare_sqlite_folder(url: &str) -> Result<(), StorageError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|error| StorageError::Folder {
            path: parent.display().to_string(),
            reason: error.kind().to_string(),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(
            redact_database_url("postgres://bot:s3cret@db.example.org/rapporteur"),
            "postgres://bot:***@db.example.org/rapporteur"
        );
        assert_eq!(
            redact_database_url("sqlite://var/data/r.db"),
            "sqlite://var/data/r.db"
        );
    }
}
