//! Helpers shared by the integration tests: fresh databases on both backends, and the rule for
//! tests that need real servers (they skip with a clear message in a plain `cargo test`, and fail
//! when `RAPPORTEUR_REQUIRE_SERVERS=1`, as the project's test command sets).
#![allow(dead_code)]

pub mod mail;
pub mod mail_only;
pub mod matrix;
pub mod measure;
pub mod proxy;
pub mod record_fixture;

use rapporteur::storage::Store;
use sqlx::Connection;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `scripts/stack.sh` with the given arguments (such as `stop-service smtp_relay`), on the
/// stack the tests use; fails the test if the script fails.
pub fn stack(arguments: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/stack.sh");
    let status = std::process::Command::new("bash")
        .arg(script)
        .args(arguments)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run scripts/stack.sh");
    assert!(status.success(), "scripts/stack.sh {arguments:?} failed");
}

pub fn servers_required() -> bool {
    std::env::var("RAPPORTEUR_REQUIRE_SERVERS").is_ok_and(|value| value == "1")
}

/// Whether the stack runs Mailman (`RAPPORTEUR_WITH_MAILMAN=1 scripts/stack.sh up`): a test
/// that needs it fails when servers are required, and is skipped, saying so, otherwise.
pub fn mailman_in_stack() -> bool {
    if std::env::var("RAPPORTEUR_MAILMAN").as_deref() == Ok("1") {
        return true;
    }
    if servers_required() && std::env::var("RAPPORTEUR_TEST_MAILMAN").as_deref() != Ok("0") {
        panic!("Mailman is not part of this stack (RAPPORTEUR_WITH_MAILMAN=1 scripts/stack.sh up)");
    }
    eprintln!("SKIPPED: Mailman is not part of this stack (RAPPORTEUR_TEST_MAILMAN=0)");
    false
}

/// Skips (returns `None`) or fails, depending on [`servers_required`].
pub fn unavailable<T>(what: &str, why: &str) -> Option<T> {
    if servers_required() {
        panic!("{what} is required (RAPPORTEUR_REQUIRE_SERVERS=1) but unavailable: {why}");
    }
    eprintln!("SKIPPED: {what} is unavailable ({why}); run scripts/test.sh to start the servers");
    None
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn postgres_admin_url() -> String {
    std::env::var("RAPPORTEUR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh, empty PostgreSQL database for one test, or `None` when PostgreSQL is not running.
pub async fn fresh_postgres_url() -> Option<String> {
    sqlx::any::install_default_drivers();
    let admin_url = postgres_admin_url();
    let mut admin = match sqlx::AnyConnection::connect(&admin_url).await {
        Ok(connection) => connection,
        Err(error) => return unavailable("PostgreSQL", &error.to_string()),
    };
    let name = format!(
        "rapporteur_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        jiff::Timestamp::now().as_millisecond()
    );
    // The name is made here from digits and a fixed prefix, never from outside input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(&admin_url).expect("valid admin URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// As [`fresh_postgres_url`], with the database in the given server encoding (such as `LATIN1`),
/// for tests of text a database refuses.
pub async fn fresh_postgres_url_in_encoding(encoding: &str) -> Option<String> {
    sqlx::any::install_default_drivers();
    let admin_url = postgres_admin_url();
    let mut admin = match sqlx::AnyConnection::connect(&admin_url).await {
        Ok(connection) => connection,
        Err(error) => return unavailable("PostgreSQL", &error.to_string()),
    };
    let name = format!(
        "rapporteur_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        jiff::Timestamp::now().as_millisecond()
    );
    assert!(
        encoding
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    );
    // The name is made here from digits and a fixed prefix, the encoding checked above.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} ENCODING '{encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
    )))
    .execute(&mut admin)
    .await
    .expect("create a test database");
    let mut url = url::Url::parse(&admin_url).expect("valid admin URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// A fresh PostgreSQL database for a benchmark, named with `prefix`, and its name (to drop it
/// again with [`drop_database`]), or why there is none. Unlike the tests' databases, a benchmark
/// without PostgreSQL reports it and goes on with SQLite.
pub async fn bench_postgres(prefix: &str) -> Result<(String, String), String> {
    sqlx::any::install_default_drivers();
    let admin_url = postgres_admin_url();
    let connect = sqlx::AnyConnection::connect(&admin_url);
    let mut admin = match tokio::time::timeout(std::time::Duration::from_secs(5), connect).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => return Err(format!("{error}")),
        Err(_) => return Err("connection timed out after 5 s".into()),
    };
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    );
    // The name is made here from digits and a fixed prefix, never from outside input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .map_err(|error| format!("cannot create a database: {error}"))?;
    let _ = admin.close().await;
    let mut url = url::Url::parse(&admin_url).map_err(|error| error.to_string())?;
    url.set_path(&format!("/{name}"));
    Ok((url.to_string(), name))
}

/// Drops a database made by [`bench_postgres`].
pub async fn drop_database(name: &str) {
    if let Ok(mut admin) = sqlx::AnyConnection::connect(&postgres_admin_url()).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .execute(&mut admin)
        .await;
        let _ = admin.close().await;
    }
}

/// The PostgreSQL server the tests and benchmarks use, for messages.
pub fn postgres_server_url() -> String {
    postgres_admin_url()
}

/// A fresh SQLite database in a temporary folder (kept alive by the returned guard).
pub fn fresh_sqlite_url() -> (String, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", folder.path().join("test.db").display());
    (url, folder)
}

pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store on the given backend with no migration applied (for the upgrade tests), or `None`
/// if that backend is unavailable.
pub async fn fresh_unmigrated_store(
    backend: Backend,
) -> Option<(Store, Option<tempfile::TempDir>)> {
    let (url, guard) = match backend {
        Backend::Sqlite => {
            let (url, guard) = fresh_sqlite_url();
            (url, Some(guard))
        }
        Backend::Postgres => (fresh_postgres_url().await?, None),
    };
    let store = Store::connect(&url, 5)
        .await
        .expect("connect to the test database");
    Some((store, guard))
}

/// A migrated store on the given backend, or `None` if that backend is unavailable.
pub async fn fresh_store(backend: Backend) -> Option<(Store, Option<tempfile::TempDir>)> {
    let (url, guard) = match backend {
        Backend::Sqlite => {
            let (url, guard) = fresh_sqlite_url();
            (url, Some(guard))
        }
        Backend::Postgres => (fresh_postgres_url().await?, None),
    };
    let store = Store::connect(&url, 5)
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate");
    Some((store, guard))
}

/// Declares a storage test that runs once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let (store, _guard) = support::fresh_store(support::Backend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                ($body)(store).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some((store, _guard)) = support::fresh_store(support::Backend::Postgres).await
                else {
                    return;
                };
                ($body)(store).await;
            }
        }
    };
}
