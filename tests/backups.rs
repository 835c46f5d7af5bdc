//! A backup taken while commands are handled, restored, on SQLite (`Store::backup_to`, SQLite's
//! VACUUM INTO, and `storage::backup::restore`, which `rapporteur backup` and `restore` run)
//! and PostgreSQL (the `pg_dump` and `pg_restore` commands docs/operations.md gives): the
//! restored database holds every input it marks handled with its output (sent or pending), and
//! no output of an input it holds as pending.

mod support;

use rapporteur::config::load_group_file;
use rapporteur::core::catalog::Catalog;
use rapporteur::core::engine::Engine;
use rapporteur::handling::{Handler, Routes};
use rapporteur::storage::{NewInboxItem, Store};
use std::collections::HashMap;
use std::path::Path;

const ROOM: &str = "!cceg:localhost";
const INPUTS: usize = 300;

async fn handler(store: &Store) -> Handler {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups/cceg-ig.toml");
    let mut group = load_group_file(&path, "cceg-ig", "UTC").expect("valid example group");
    group.room = Some(ROOM.into());
    Handler::load(
        store,
        Engine::new(Catalog::builtin().expect("valid"), "!"),
        HashMap::from([("cceg-ig".to_string(), group)]),
        Routes {
            rooms: HashMap::from([("cceg-ig".to_string(), ROOM.to_string())]),
            mail_enabled: false,
        },
    )
    .await
    .expect("handler")
}

/// Records and handles `!ping` after `!ping` (each answered with one reply), and says when
/// `first` of them are handled, so that the backup is taken in the middle of the stream.
async fn handle_pings(store: Store, first: tokio::sync::oneshot::Sender<()>) {
    let mut handler = handler(&store).await;
    let mut first = Some(first);
    for index in 0..INPUTS {
        let now = jiff::Timestamp::now();
        let item = NewInboxItem {
            channel: "matrix".into(),
            external_id: format!("$ping-{index}"),
            group_id: "cceg-ig".into(),
            conversation: ROOM.into(),
            sender: "@ana.lima:example.org".into(),
            body: "!ping".into(),
            origin_ms: now.as_millisecond(),
        };
        let recorded = store
            .record_inbound(&[item], None, now.as_millisecond())
            .await
            .expect("record");
        handler
            .handle_items(&store, &recorded, now)
            .await
            .expect("handle");
        if index == 50
            && let Some(first) = first.take()
        {
            let _ = first.send(());
        }
    }
}

/// What a restored database holds: inputs handled, inputs pending, handled inputs without their
/// reply, outputs of pending inputs.
async fn consistency(store: &Store) -> (i64, i64, i64, i64) {
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(store.pool())
            .await
            .expect(sql)
    };
    (
        count("SELECT COUNT(*) FROM inbox WHERE state = 'handled'").await,
        count("SELECT COUNT(*) FROM inbox WHERE state = 'pending'").await,
        count(
            "SELECT COUNT(*) FROM inbox WHERE state = 'handled' AND NOT EXISTS \
             (SELECT 1 FROM outbox WHERE outbox.inbox_id = inbox.id)",
        )
        .await,
        count(
            "SELECT COUNT(*) FROM outbox JOIN inbox ON outbox.inbox_id = inbox.id \
             WHERE inbox.state = 'pending'",
        )
        .await,
    )
}

fn assert_consistent(restored: (i64, i64, i64, i64)) {
    let (handled, _pending, handled_without_reply, replies_of_pending) = restored;
    assert!(
        handled >= 50,
        "the backup was taken after 50 inputs: {restored:?}"
    );
    assert_eq!(
        (handled_without_reply, replies_of_pending),
        (0, 0),
        "every handled input has its output, no pending one has any: {restored:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_taken_while_commands_are_handled_restores_consistently() {
    let (store, _guard) = support::fresh_store(support::Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let (first, first_done) = tokio::sync::oneshot::channel();
    let writer = tokio::spawn(handle_pings(store.clone(), first));
    first_done.await.expect("50 inputs handled");
    let folder = tempfile::tempdir().expect("temp dir");
    let backup = folder.path().join("backup.db");
    let bytes = store.backup_to(&backup).await.expect("backup");
    assert!(bytes > 0);
    assert!(
        store.backup_to(&backup).await.is_err(),
        "a backup never overwrites a file"
    );
    writer.await.expect("the writer ends");

    let checked = rapporteur::storage::backup::check_backup(&backup)
        .await
        .expect("a good backup");
    assert_eq!(checked.schema_version, Store::known_schema_version());
    let restored_url = format!(
        "sqlite://{}",
        folder.path().join("data/restored.db").display()
    );
    rapporteur::storage::backup::restore(&restored_url, &folder.path().join("data"), &backup)
        .await
        .expect("restore");
    let restored = Store::connect(&restored_url, 1).await.expect("open");
    restored.migrate().await.expect("migrate");
    assert_consistent(consistency(&restored).await);
    let (handled, _, _, _) = consistency(&store).await;
    assert_eq!(handled, INPUTS as i64, "the live database went on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_dump_taken_while_commands_are_handled_restores_consistently() {
    let Some(url) = support::fresh_postgres_url().await else {
        return;
    };
    let store = Store::connect(&url, 5).await.expect("connect");
    store.migrate().await.expect("migrate");
    let (first, first_done) = tokio::sync::oneshot::channel();
    let writer = tokio::spawn(handle_pings(store.clone(), first));
    first_done.await.expect("50 inputs handled");
    let folder = tempfile::tempdir().expect("temp dir");
    let dump = folder.path().join("rapporteur.dump");
    // The commands of docs/operations.md.
    let dumped = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&url)
        .output()
        .expect("run pg_dump");
    assert!(dumped.status.success(), "{dumped:?}");
    writer.await.expect("the writer ends");

    let target = support::fresh_postgres_url()
        .await
        .expect("a second database");
    let restored_out = std::process::Command::new("pg_restore")
        .args(["--clean", "--if-exists", "--no-owner", "--dbname"])
        .arg(&target)
        .arg(&dump)
        .output()
        .expect("run pg_restore");
    assert!(restored_out.status.success(), "{restored_out:?}");
    let restored = Store::connect(&target, 2).await.expect("open");
    restored.migrate().await.expect("migrate");
    assert_consistent(consistency(&restored).await);
}
