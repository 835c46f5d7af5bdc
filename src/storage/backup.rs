//! Backups of the embedded database and their restoration (`rapporteur backup`, `rapporteur
//! restore`).
//!
//! A backup is SQLite's `VACUUM INTO`: one read transaction copies the database as of its
//! start, so it is consistent while the bot runs and writes (every input either handled with
//! all its effects, or still pending: they commit together). It is written beside the target
//! and renamed, so a backup file is whole or absent.
//!
//! A restore replaces the database file of a stopped bot with a checked copy of the backup: the
//! backup must open, pass `PRAGMA integrity_check` and have a schema this version knows; the
//! old database's `-wal` and `-shm` files are removed first, because SQLite would otherwise
//! replay the old database's journal into the restored file.
//!
//! PostgreSQL has its own tools for both (`pg_dump` and `pg_restore`, see
//! `docs/operations.md`); these functions refuse it with that advice.

use super::{Backend, StorageError, Store, sqlite_path};
use sqlx::Connection;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "the database is PostgreSQL: back it up with `pg_dump --format=custom --file <file> <database>` \
         and restore it with `pg_restore --clean --if-exists --dbname <database> <file>` \
         (docs/operations.md)"
    )]
    Postgres,
    #[error("{0} exists already: choose a new file (a backup never overwrites one)")]
    Exists(String),
    #[error("{path} is not a rapporteur backup: {reason}")]
    NotABackup { path: String, reason: String },
    #[error(
        "the bot is running (pid {0} in the data folder's rapporteur.pid): stop it before restoring"
    )]
    Running(u32),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// `<file>` plus a suffix, beside it.
fn beside(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl Store {
    /// Writes a consistent copy of the running SQLite database to `file` (which must not
    /// exist); returns its size in bytes.
    pub async fn backup_to(&self, file: &Path) -> Result<u64, BackupError> {
        if self.backend != Backend::Sqlite {
            return Err(BackupError::Postgres);
        }
        if file.exists() {
            return Err(BackupError::Exists(file.display().to_string()));
        }
        let partial = beside(file, ".partial");
        let _ = std::fs::remove_file(&partial);
        sqlx::query("VACUUM INTO $1")
            .bind(partial.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await
            .map_err(StorageError::from)?;
        // The copy reaches the disk before its name says it is a backup.
        std::fs::File::open(&partial)
            .and_then(|copy| copy.sync_all())
            .map_err(write_error(&partial))?;
        std::fs::rename(&partial, file).map_err(write_error(file))?;
        super::files::tighten_file(file).map_err(write_error(file))?;
        Ok(std::fs::metadata(file).map_err(write_error(file))?.len())
    }
}

/// What a backup holds, as checked before it is restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedBackup {
    pub schema_version: i64,
    pub bytes: u64,
}

/// Opens a backup file read-only and checks it: SQLite's integrity check, and a schema this
/// version knows (an older one is migrated when the bot starts on it).
pub async fn check_backup(file: &Path) -> Result<CheckedBackup, BackupError> {
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: file.display().to_string(),
        reason,
    };
    if !file.is_file() {
        return Err(not_a_backup("no such file".to_string()));
    }
    // A plain read-only connection: the bot's own pool would switch the file to WAL mode.
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut connection = sqlx::AnyConnection::connect(&url)
        .await
        .map_err(|error| not_a_backup(format!("SQLite cannot open it ({error})")))?;
    let checked = async {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut connection)
            .await
            .map_err(|error| not_a_backup(format!("SQLite cannot read it ({error})")))?;
        if integrity != "ok" {
            return Err(not_a_backup(format!(
                "SQLite's integrity check failed: {integrity}"
            )));
        }
        let schema_version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut connection)
                .await
                .map_err(|_| not_a_backup("it has no schema version".to_string()))?;
        let schema_version =
            schema_version.ok_or_else(|| not_a_backup("it has no schema version".to_string()))?;
        let known = Store::known_schema_version();
        if schema_version > known {
            return Err(BackupError::Storage(StorageError::NewerSchema {
                found: schema_version,
                known,
            }));
        }
        Ok(schema_version)
    }
    .await;
    let _ = connection.close().await;
    Ok(CheckedBackup {
        schema_version: checked?,
        bytes: std::fs::metadata(file).map_err(write_error(file))?.len(),
    })
}

/// The pid in `<data_dir>/rapporteur.pid`, if that process is alive.
pub fn running_bot(data_dir: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(data_dir.join("rapporteur.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

/// Replaces the SQLite database at `database_url` with a checked copy of the backup `file`.
/// The bot must be stopped (`data_dir`'s pid file names no live process).
pub async fn restore(
    database_url: &str,
    data_dir: &Path,
    file: &Path,
) -> Result<CheckedBackup, BackupError> {
    if !database_url.starts_with("sqlite:") {
        return Err(BackupError::Postgres);
    }
    if let Some(pid) = running_bot(data_dir) {
        return Err(BackupError::Running(pid));
    }
    let checked = check_backup(file).await?;
    let Some(database) = sqlite_path(database_url) else {
        return Err(BackupError::NotABackup {
            path: database_url.to_string(),
            reason: "the configured database is not a file".to_string(),
        });
    };
    if let Some(folder) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(write_error(folder))?;
    }
    let incoming = beside(database, ".restoring");
    std::fs::copy(file, &incoming).map_err(write_error(&incoming))?;
    std::fs::File::open(&incoming)
        .and_then(|copy| copy.sync_all())
        .map_err(write_error(&incoming))?;
    super::files::tighten_file(&incoming).map_err(write_error(&incoming))?;
    for companion in ["-wal", "-shm", "-journal"] {
        let path = beside(database, companion);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(write_error(&path)(error)),
        }
    }
    std::fs::rename(&incoming, database).map_err(write_error(database))?;
    Ok(checked)
}
