//! The schema migrations, embedded in the binary.
//!
//! sqlx's `migrate!` macro would read the `migrations/` folders at compile time, but it is the only
//! reason the build needed sqlx's `macros` feature, and that feature compiles sqlx's SQLite and
//! PostgreSQL drivers, SQLite's C source and tokio a second time, for the proc macro (about 85 s
//! of the cold debug build's 1,055 s of CPU, measured with `cargo build --timings`; figures in
//! docs/benchmarks.md). The same migrations are built here from `include_str!` with sqlx's own
//! `Migration::new`, which computes the checksum with the same function as the macro, so a
//! database migrated by an earlier binary opens unchanged.
//!
//! Invariant: `MIGRATION_FILES` names every file of `migrations/sqlite/` and
//! `migrations/postgres/`, in order; a unit test below compares it with the folders.

use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::borrow::Cow;
use std::sync::LazyLock;

/// The file names, the same in both folders: every migration exists for both backends.
macro_rules! embedded_migrations {
    ($folder:literal) => {
        embedded_migrations!(
            $folder:
            "0001_inbox_outbox.sql",
            "0002_mail.sql",
            "0003_state_and_clock.sql",
            "0004_group_ownership_and_claims.sql",
            "0005_limits.sql",
            "0006_matrix_undecryptable.sql",
            "0007_rate_limits.sql",
            "0008_matrix_polls.sql",
            "0009_survey_ballots.sql",
            "0010_matrix_direct_rooms.sql",
            "0011_mail_identity.sql",
            "0012_record_chain.sql",
            "0013_list_archive.sql",
        )
    };
    ($folder:literal: $($file:literal),* $(,)?) => {
        &[$((
            $file,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/", $folder, "/", $file)),
        )),*]
    };
}

/// (file name, SQL) of each SQLite migration.
pub(crate) const SQLITE_MIGRATION_FILES: &[(&str, &str)] = embedded_migrations!("sqlite");
/// (file name, SQL) of each PostgreSQL migration.
pub(crate) const POSTGRES_MIGRATION_FILES: &[(&str, &str)] = embedded_migrations!("postgres");

pub(crate) static SQLITE_MIGRATIONS: LazyLock<Migrator> =
    LazyLock::new(|| migrator_of(SQLITE_MIGRATION_FILES));
pub(crate) static POSTGRES_MIGRATIONS: LazyLock<Migrator> =
    LazyLock::new(|| migrator_of(POSTGRES_MIGRATION_FILES));

fn migrator_of(files: &'static [(&'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        files
            .iter()
            .map(|(file_name, sql)| migration_of(file_name, sql))
            .collect(),
    )
}

/// One migration from its file, read as sqlx reads a migrations folder: `<version>_<description>`
/// with underscores read as spaces, and `-- no-transaction` on the first line to run it outside
/// a transaction.
fn migration_of(file_name: &'static str, sql: &'static str) -> Migration {
    let (version, rest) = file_name
        .split_once('_')
        .expect("a migration's file name is <version>_<description>.sql (checked by a unit test)");
    let version: i64 = version
        .parse()
        .expect("a migration's version is a number (checked by a unit test)");
    let migration_type = MigrationType::from_filename(rest);
    let description = rest
        .trim_end_matches(migration_type.suffix())
        .replace('_', " ");
    Migration::new(
        version,
        Cow::Owned(description),
        migration_type,
        SqlStr::from_static(sql),
        sql.starts_with("-- no-transaction"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_in(folder: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(folder);
        let mut names: Vec<String> = std::fs::read_dir(path)
            .expect("the migrations folder is readable")
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_embedded_list_names_every_migration_file_in_order() {
        for (folder, embedded) in [
            ("sqlite", SQLITE_MIGRATION_FILES),
            ("postgres", POSTGRES_MIGRATION_FILES),
        ] {
            let listed: Vec<String> = embedded.iter().map(|(name, _)| name.to_string()).collect();
            assert_eq!(
                listed,
                files_in(folder),
                "src/storage/migrations.rs must list every file of migrations/{folder}/"
            );
        }
    }

    #[test]
    fn migrations_read_versions_and_descriptions_as_sqlx_reads_a_folder() {
        let migrator = &*SQLITE_MIGRATIONS;
        let versions: Vec<i64> = migrator.iter().map(|migration| migration.version).collect();
        assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>());
        let first = migrator.iter().next().unwrap();
        assert_eq!(first.description, "inbox outbox");
        assert_eq!(first.migration_type, MigrationType::Simple);
        assert!(!first.no_tx);
        assert_eq!(
            POSTGRES_MIGRATIONS.iter().count(),
            SQLITE_MIGRATIONS.iter().count()
        );
    }

    /// The checksum recorded by databases that earlier binaries migrated (with `migrate!`) is
    /// SHA-384 of the file's text; a different checksum would make every such database refuse to
    /// open. Computed here independently with the sha2 crate.
    #[test]
    fn checksums_are_the_ones_earlier_binaries_recorded() {
        use sha2::{Digest, Sha384};
        for (migration, (_, sql)) in SQLITE_MIGRATIONS.iter().zip(SQLITE_MIGRATION_FILES) {
            assert_eq!(
                migration.checksum.as_ref(),
                Sha384::digest(sql.as_bytes()).as_slice()
            );
        }
    }
}
