//! The database: reachable, its migrations current, writable. Opened without migrating, so
//! that a database a migration behind is reported rather than mended behind the operator's back.

use super::Check;
use crate::config::Settings;
use crate::storage::{Store, redact_database_url};

pub async fn checks(settings: &Settings) -> Vec<Check> {
    let shown = redact_database_url(&settings.database.url);
    let store = match Store::connect(&settings.database.url, 1).await {
        Ok(store) => store,
        Err(error) => {
            return vec![
                Check::failed(
                    "database: connection",
                    format!("cannot connect to {shown}: {error}"),
                    "check [database] url (or RAPPORTEUR_DATABASE_URL) and that the server runs",
                ),
                Check::skipped("database: migrations", "no connection"),
                Check::skipped("database: writable", "no connection"),
            ];
        }
    };
    let mut checks = vec![Check::passed(
        "database: connection",
        format!("connected to {shown}"),
    )];
    let known = Store::known_schema_version();
    checks.push(match store.schema_version().await {
        Ok(Some(version)) if version == known => Check::passed(
            "database: migrations",
            format!("schema version {version}, current"),
        ),
        Ok(Some(version)) if version < known => Check::failed(
            "database: migrations",
            format!(
                "schema version {version}, {} migration(s) behind this version's {known}",
                known - version
            ),
            "run `rapporteur migrate` (the bot also migrates when it starts)",
        ),
        Ok(Some(version)) => Check::failed(
            "database: migrations",
            format!("schema version {version}, made by a newer rapporteur (this one knows up to {known})"),
            "run the newer version, or restore a backup made with this one",
        ),
        Ok(None) => Check::failed(
            "database: migrations",
            "the database is empty (no migration applied)",
            "run `rapporteur migrate` (the bot also migrates when it starts)",
        ),
        Err(error) => Check::failed(
            "database: migrations",
            format!("cannot read the schema version: {error}"),
            "check that this is rapporteur's database",
        ),
    });
    checks.push(match store.write_and_take_back().await {
        Ok(()) => Check::passed("database: writable", "a write was accepted (and taken back)"),
        Err(error) => Check::failed(
            "database: writable",
            format!("a write was refused: {error}"),
            "check the database file's owner and mode (the bot's user must own the data folder) or the database user's rights",
        ),
    });
    store.close().await;
    checks
}
