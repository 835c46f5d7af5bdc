//! Durable storage through sqlx: SQLite (the embedded default) or PostgreSQL, chosen by the URL.
//!
//! Queries are written once in SQL that both databases accept (`$1` placeholders, `ON CONFLICT`,
//! `RETURNING`) and run through sqlx's `Any` driver; only the migrations differ per database.
//! They are checked at run time by the storage test suite, which runs against both databases,
//! not by sqlx's compile-time macros, which can check against one database only.

pub mod backup;
mod clean;
mod figures;
mod files;
mod inbox;
mod lease;
mod list_archive;
mod mail;
mod mail_identity;
mod migrations;
mod outbox;
mod outbox_operator;
mod polls;
mod rate_limits;
mod record_chain;
mod redact;
mod state;
mod surveys;
mod undecryptable;

pub use clean::{
    BODY_BYTES, CONVERSATION_BYTES, EXTERNAL_ID_BYTES, SHORT_FIELD_BYTES, storable_body,
    storable_external_id, storable_text,
};
pub use figures::HealthFigures;
pub use files::{make_private_folder, tighten_private_tree};
pub use outbox_operator::FailedOutboxItem;
pub use polls::SentMatrixMessage;
pub use redact::{redact_database_url, redact_password_in};

pub use inbox::{Completion, InboxItem, NOT_A_COMMAND, NewInboxItem};
pub use lease::{Claimant, GroupScope, SettledClaim, UNGROUPED};
pub use mail::{AnsweredMail, NewQuarantinedMail, QuarantinedMail};
pub use mail_identity::IgnoredMail;
pub use outbox::{ClaimAtInsert, NewOutboxItem, OutboxItem, outbox_key};
pub use state::{CLOCK_CHANNEL, StoredTimer, TimerOperation, timer_external_id};
pub use undecryptable::{MatrixSyncCommit, NewUndecryptable, Undecryptable};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

use migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

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
    /// The database was migrated by a newer version of the bot.
    #[error(
        "the database has schema version {found}, made by a newer rapporteur; this version knows \
         versions up to {known} and will not run on it: run the newer version, or restore a backup \
         made with this one"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("cannot create the database folder {path}: {reason}")]
    Folder { path: String, reason: String },
    /// The operating system gave no randomness (for a survey ballot's key).
    #[error("no randomness available: {0}")]
    Randomness(String),
    /// A stored value that this version cannot read (such as a malformed mail identity secret).
    #[error("a stored value cannot be read: {0}")]
    Unreadable(String),
}

impl StorageError {
    /// Whether trying again later may succeed: the database could not be reached, was busy or
    /// locked, ran out of room or was shutting down. Everything else (text it refuses, a
    /// constraint, a value out of range) fails the same way every time, so a message that
    /// caused it must be set aside instead of being retried.
    pub fn is_transient(&self) -> bool {
        match self {
            StorageError::Connect { .. }
            | StorageError::Migrate(_)
            | StorageError::Folder { .. }
            | StorageError::Randomness(_) => true,
            StorageError::Query(error) => query_error_is_transient(error),
            StorageError::Unreadable(_) | StorageError::NewerSchema { .. } => false,
        }
    }
}

fn query_error_is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => {
            let code = database.code().unwrap_or_default().to_string();
            database_code_is_transient(&code)
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed
        | sqlx::Error::Protocol(_) => true,
        _ => false,
    }
}

/// Whether a database error code means "try again later". PostgreSQL gives a five-character
/// SQLSTATE; SQLite an extended result code as a number, whose low byte is the primary code.
fn database_code_is_transient(code: &str) -> bool {
    // A SQLSTATE has exactly five characters (often all digits); SQLite's extended codes have
    // at most four digits.
    if code.len() < 5
        && let Ok(sqlite_code) = code.parse::<u32>()
    {
        // SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_NOMEM 7, SQLITE_IOERR 10, SQLITE_FULL 13,
        // SQLITE_CANTOPEN 14, SQLITE_PROTOCOL 15.
        return matches!(sqlite_code & 0xff, 5 | 6 | 7 | 10 | 13 | 14 | 15);
    }
    // Connection exceptions (08), transaction rollbacks such as serialization failures and
    // deadlocks (40), insufficient resources (53), operator intervention such as a shutdown
    // (57), system errors (58), and lock_not_available (55P03).
    matches!(code.get(..2), Some("08" | "40" | "53" | "57" | "58")) || code == "55P03"
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
        // The driver's message may repeat the URL or the password: both are hidden.
        let connect_error = |reason: String| StorageError::Connect {
            url: redact_database_url(url),
            reason: redact_password_in(&reason, url),
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
            // A local file needs no test before each use: that test (a ping, the pool's default)
            // was one more round trip to the connection's thread for every transaction.
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false),
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
                                 PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; \
                                 PRAGMA wal_autocheckpoint=10000;",
                            )
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        if backend == Backend::Sqlite
            && let Some(path) = sqlite_path(&url)
        {
            tighten_sqlite_companions(path);
        }
        Ok(Store { pool, backend })
    }

    pub async fn migrate(&self) -> Result<(), StorageError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        // A database a newer version migrated is refused before anything touches it: running
        // on a schema this version does not know could lose what the newer one keeps.
        let known = Store::known_schema_version();
        if let Some(found) = self.schema_version().await?
            && found > known
        {
            return Err(StorageError::NewerSchema { found, known });
        }
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StorageError::Migrate(e.to_string()))
    }

    /// Applies the migrations up to `version` only: how the upgrade tests make a database of
    /// an earlier version (`tests/upgrades.rs`).
    pub async fn migrate_to(&self, version: i64) -> Result<(), StorageError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run_to(version, &self.pool)
            .await
            .map_err(|e| StorageError::Migrate(e.to_string()))
    }

    /// The newest schema version (migration number) this version of the bot knows.
    pub fn known_schema_version() -> i64 {
        SQLITE_MIGRATIONS
            .iter()
            .map(|migration| migration.version)
            .max()
            .unwrap_or(0)
    }

    /// The newest migration applied to the database, `None` for a database never migrated.
    pub async fn schema_version(&self) -> Result<Option<i64>, StorageError> {
        let table_exists = match self.backend {
            Backend::Sqlite => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(&self.pool)
                .await?
            }
            Backend::Postgres => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'",
                )
                .fetch_one(&self.pool)
                .await?
            }
        };
        if table_exists == 0 {
            return Ok(None);
        }
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        Ok(newest)
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
    /// Records a direct-message room with one person, joined now: the messages sent in it from
    /// `first_joined_ms` on are read. Invited again later (after the bot left), the room starts
    /// afresh from the new time.
    pub async fn record_direct_room(
        &self,
        room_id: &str,
        group_id: &str,
        person_user_id: &str,
        first_joined_ms: i64,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO matrix_rooms (room_id, group_id, first_joined_ms, direct_with) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room_id) DO UPDATE SET group_id = excluded.group_id, \
             first_joined_ms = excluded.first_joined_ms, direct_with = excluded.direct_with",
        )
        .bind(room_id)
        .bind(group_id)
        .bind(first_joined_ms)
        .bind(person_user_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The direct-message rooms: room ID, group, the person the room is with.
    pub async fn direct_rooms(&self) -> Result<Vec<(String, String, String)>, StorageError> {
        Ok(sqlx::query_as(
            "SELECT room_id, group_id, direct_with FROM matrix_rooms \
             WHERE direct_with IS NOT NULL ORDER BY room_id",
        )
        .fetch_all(&self.pool)
        .await?)
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

    /// Copies the write-ahead log into the database file (SQLite; nothing on PostgreSQL). The
    /// bot calls it when it is idle: SQLite's own checkpoint, run by whichever commit finds the
    /// log over its limit, took a few milliseconds (two fsyncs) out of every hundredth command
    /// and was the p99 of a reply's time inside the bot (issue 11). The limit is raised to
    /// 10,000 pages (`connect`) as a safety net, for a bot that is never idle.
    /// Returns whether the whole log is now in the database file (always on PostgreSQL).
    pub async fn checkpoint(&self) -> Result<bool, StorageError> {
        if self.backend != Backend::Sqlite {
            return Ok(true);
        }
        // (busy, frames in the log, frames checkpointed)
        let (busy, in_log, copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&self.pool)
                .await?;
        Ok(busy == 0 && in_log == copied)
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

/// The path of a SQLite database file, or `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<&std::path::Path> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| std::path::Path::new(path))
}

/// Creates the database's folder and file owner-only before SQLite opens it, and tightens them
/// if they exist (SQLite gives its -wal and -shm files the database file's mode).
fn prepare_sqlite_folder(url: &str) -> Result<(), StorageError> {
    let Some(path) = sqlite_path(url) else {
        return Ok(());
    };
    let folder_error = |at: &std::path::Path, error: std::io::Error| StorageError::Folder {
        path: at.display().to_string(),
        reason: error.kind().to_string(),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        files::make_private_folder(parent).map_err(|error| folder_error(parent, error))?;
    }
    files::make_private_file(path).map_err(|error| folder_error(path, error))?;
    tighten_sqlite_companions(path);
    Ok(())
}

/// The -wal and -shm files: SQLite makes them with the database file's mode, but files from
/// before that file was tightened keep theirs.
fn tighten_sqlite_companions(path: &std::path::Path) {
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        if let Err(error) = files::tighten_file(std::path::Path::new(&companion)) {
            tracing::warn!(file = ?companion, %error, "cannot make a database file owner-only");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::database_code_is_transient;

    #[test]
    fn only_passing_database_errors_are_transient() {
        let cases = [
            ("5", true),      // SQLITE_BUSY
            ("517", true),    // SQLITE_BUSY_SNAPSHOT
            ("6", true),      // SQLITE_LOCKED
            ("13", true),     // SQLITE_FULL
            ("2067", false),  // SQLITE_CONSTRAINT_UNIQUE
            ("19", false),    // SQLITE_CONSTRAINT
            ("08006", true),  // connection_failure
            ("40001", true),  // serialization_failure
            ("40P01", true),  // deadlock_detected
            ("57P01", true),  // admin_shutdown
            ("53100", true),  // disk_full
            ("55P03", true),  // lock_not_available
            ("22021", false), // character_not_in_repertoire (a NUL in text)
            ("54000", false), // program_limit_exceeded (an index row too large)
            ("23505", false), // unique_violation
            ("", false),
        ];
        for (code, transient) in cases {
            assert_eq!(database_code_is_transient(code), transient, "{code:?}");
        }
    }
}
